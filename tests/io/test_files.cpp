// io/files.hpp: inputs opened without blocking and read with a bound (R21, R23), the atomic save
// (R16), and its temporary files removed on SIGTERM and when a killed run left them (R24).
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

#include <boost/test/unit_test.hpp>

#include <stepgrad/io/files.hpp>
#include "common/temp_dir.hpp"

using namespace stepgrad;
using testing::TempDir;
namespace fs = std::filesystem;

namespace {
std::string message_of(const fs::path& p) {
  try {
    (void)read_file(p, 1 << 20);
  } catch (const FileError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

BOOST_AUTO_TEST_SUITE(files)

BOOST_AUTO_TEST_CASE(special_files_are_refused_at_once_in_plain_words) {
  TempDir dir("files");
  const fs::path fifo = dir.path() / "fifo";
  BOOST_REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  const auto start = std::chrono::steady_clock::now();
  BOOST_TEST(message_of(fifo) == fifo.string() + ": is a FIFO (named pipe), not a file");
  BOOST_TEST((std::chrono::steady_clock::now() - start < std::chrono::seconds(2)));  // no writer
  BOOST_TEST(message_of(dir.path()) == dir.path().string() + ": is a folder, not a file");
  BOOST_TEST(message_of("/dev/null") == "/dev/null: is a character device, not a file");
  BOOST_TEST(message_of(dir.path() / "none") ==
             (dir.path() / "none").string() + ": cannot open it: No such file or directory");
}

BOOST_AUTO_TEST_CASE(a_file_larger_than_the_bound_is_refused_before_it_is_read) {
  TempDir dir("files");
  const fs::path big = dir.path() / "big";
  { std::ofstream(big) << "x"; }
  fs::resize_file(big, std::uintmax_t{8} << 30);  // sparse: 8 GiB of nothing
  const auto start = std::chrono::steady_clock::now();
  BOOST_CHECK_EXCEPTION((void)read_file(big, 1000), FileError, [&](const FileError& e) {
    return std::string(e.what()) ==
           big.string() + ": 8589934592 bytes, more than the 1000 bytes such a file can hold";
  });
  BOOST_TEST((std::chrono::steady_clock::now() - start < std::chrono::seconds(1)));
  fs::resize_file(big, 3);
  BOOST_TEST(read_file(big, 1000).size() == 3u);
}

BOOST_AUTO_TEST_CASE(a_save_replaces_the_file_whole_and_keeps_its_mode) {
  TempDir dir("files");
  const fs::path file = dir.path() / "metrics.csv";
  write_file_atomic(file, std::string_view("old\n"));
  fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
  write_file_atomic(file, std::string_view("new\n"));
  std::string text;
  std::getline(std::ifstream(file), text);
  BOOST_TEST(text == "new");
  const auto mode = fs::status(file).permissions() & fs::perms::all;
  BOOST_TEST((mode == (fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read)));
  BOOST_TEST(dir.names() == std::vector<std::string>{"metrics.csv"},
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(sigterm_during_a_save_leaves_no_temporary_file_and_kills_by_the_signal) {
  // Note [Interrupted saves]: a child opens a save, then is terminated before it commits.
  TempDir dir("files");
  const fs::path file = dir.path() / "model.npz";
  write_file_atomic(file, std::string_view("previous"));
  const pid_t pid = ::fork();
  BOOST_REQUIRE(pid >= 0);
  if (pid == 0) {
    remove_temp_files_on_signal();
    AtomicFile save(file);
    save.write(std::string_view("half a model"));
    ::raise(SIGTERM);
    ::_exit(0);  // not reached: SIGTERM ends the process
  }
  int status = 0;
  BOOST_REQUIRE(::waitpid(pid, &status, 0) == pid);
  BOOST_TEST(WIFSIGNALED(status));
  BOOST_TEST(WTERMSIG(status) == SIGTERM);  // the shell says 143
  BOOST_TEST(dir.names() == std::vector<std::string>{"model.npz"},
             boost::test_tools::per_element());
  std::string text;
  std::getline(std::ifstream(file), text);
  BOOST_TEST(text == "previous");
}

BOOST_AUTO_TEST_CASE(stale_temporary_files_are_removed_unless_a_live_writer_holds_them) {
  // What SIGKILL leaves: a temporary file nobody holds. A live writer's file is locked.
  TempDir dir("files");
  const auto old_file = [&](const std::string& name) {
    const fs::path p = dir.path() / name;
    { std::ofstream(p) << "partial"; }
    fs::last_write_time(p, fs::file_time_type::clock::now() - std::chrono::minutes(5));
    return p;
  };
  old_file(".model.npz.tmp-AbC123");
  const fs::path held = old_file(".metrics.csv.tmp-XyZ789");
  old_file("model.npz");         // an output, not a temporary file
  old_file(".hidden.tmp-1234");  // not our naming (the suffix is 6 characters)
  const int fd = ::open(held.c_str(), O_RDONLY | O_CLOEXEC);
  BOOST_REQUIRE(fd >= 0);
  BOOST_REQUIRE(::flock(fd, LOCK_EX) == 0);
  // The lock of another open file description of this process counts as another writer's.
  BOOST_TEST(remove_stale_temp_files(dir.path()) == 1u);
  BOOST_TEST(dir.names() == (std::vector<std::string>{".hidden.tmp-1234", ".metrics.csv.tmp-XyZ789",
                                                      "model.npz"}),
             boost::test_tools::per_element());
  ::close(fd);
  BOOST_TEST(remove_stale_temp_files(dir.path()) == 1u);
  BOOST_TEST(remove_stale_temp_files(dir.path() / "missing") == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
