// io/files.hpp: inputs opened without blocking and read with a bound (R21, R23), the atomic save
// (R16), and its temporary files removed on SIGTERM and when a killed run left them (R24).
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
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
  // What SIGKILL leaves: a temporary file nobody holds, however new. A live writer's is locked.
  TempDir dir("files");
  const auto file = [&](const std::string& name) {
    const fs::path p = dir.path() / name;
    { std::ofstream(p) << "partial"; }
    return p;
  };
  file(".model.npz.tmp-AbC123");
  const fs::path held = file(".metrics.csv.tmp-XyZ789");
  file("model.npz");              // an output, not a temporary file
  file(".hidden.tmp-1234");       // not our naming (the suffix is 6 characters)
  file(".other.png.tmp-QwE456");  // another program's name: not ours to remove
  const int fd = ::open(held.c_str(), O_RDONLY | O_CLOEXEC);
  BOOST_REQUIRE(fd >= 0);
  BOOST_REQUIRE(::flock(fd, LOCK_EX) == 0);
  const std::vector<std::string> ours{"model.npz", "metrics.csv"};
  // The lock of another open file description of this process counts as another writer's.
  BOOST_TEST(remove_stale_temp_files(dir.path(), ours) == 1u);
  BOOST_TEST(dir.names() == (std::vector<std::string>{".hidden.tmp-1234", ".metrics.csv.tmp-XyZ789",
                                                      ".other.png.tmp-QwE456", "model.npz"}),
             boost::test_tools::per_element());
  ::close(fd);
  BOOST_TEST(remove_stale_temp_files(dir.path(), ours) == 1u);
  BOOST_TEST(remove_stale_temp_files(dir.path() / "missing", ours) == 0u);
  // A save cleans up after its own name, and only its own.
  file(".model.npz.tmp-DeF456");
  write_file_atomic(dir.path() / "model.npz", std::string_view("new"));
  BOOST_TEST(dir.names() == (std::vector<std::string>{".hidden.tmp-1234", ".other.png.tmp-QwE456",
                                                      "model.npz"}),
             boost::test_tools::per_element());
}

namespace {
std::string save_error(const fs::path& p, std::string_view text = "x") {
  try {
    write_file_atomic(p, text);
  } catch (const FileError& e) {
    return e.what();
  }
  return "";
}
std::string read_all(int fd) {
  std::string s;
  char buf[256];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;)
    s.append(buf, static_cast<std::size_t>(n));
  return s;
}
}  // namespace

BOOST_AUTO_TEST_CASE(a_fifo_is_written_through_and_one_nobody_reads_is_an_error_at_once) {
  // Note [Special targets]: was replaced by a regular file.
  TempDir dir("files");
  const fs::path fifo = dir.path() / "predictions.csv";
  BOOST_REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  const auto start = std::chrono::steady_clock::now();
  BOOST_TEST(save_error(fifo) ==
             fifo.string() + ": is a FIFO (named pipe) that nothing reads; start its reader first");
  BOOST_TEST((std::chrono::steady_clock::now() - start < std::chrono::seconds(2)));
  const int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  BOOST_REQUIRE(reader >= 0);
  BOOST_TEST(save_error(fifo, "index,label,predicted\n") == "");
  ::fcntl(reader, F_SETFL, 0);
  BOOST_TEST(read_all(reader) == "index,label,predicted\n");
  ::close(reader);
  struct stat st {};
  BOOST_REQUIRE(::lstat(fifo.c_str(), &st) == 0);
  BOOST_TEST(S_ISFIFO(st.st_mode));
  BOOST_TEST(dir.names() == std::vector<std::string>{"predictions.csv"},
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_character_device_is_written_through_never_replaced) {
  TempDir dir("files");
  const fs::path null = dir.path() / "null";  // a node of our own: /dev/null itself is not risked
  if (::mknod(null.c_str(), S_IFCHR | 0666, ::makedev(1, 3)) != 0) {
    std::cerr << "SKIP: cannot make a device node (needs root): " << errno_text(errno) << "\n";
    return;
  }
  BOOST_TEST(save_error(null, "into the void") == "");
  struct stat st {};
  BOOST_REQUIRE(::lstat(null.c_str(), &st) == 0);
  BOOST_TEST(S_ISCHR(st.st_mode));
  BOOST_TEST(dir.names() == std::vector<std::string>{"null"}, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(dev_stdout_and_proc_self_fd_write_to_the_descriptor) {
  // "--predictions /dev/stdout prints nothing"; a link to /proc/self/fd/1 was replaced.
  TempDir dir("files");
  int pipe_fds[2];
  BOOST_REQUIRE(::pipe2(pipe_fds, O_CLOEXEC) == 0);
  const std::string n = std::to_string(pipe_fds[1]);
  BOOST_TEST(save_error("/proc/self/fd/" + n, "one ") == "");
  BOOST_TEST(save_error("/dev/fd/" + n, "two ") == "");
  fs::create_symlink("/proc/self/fd/" + n, dir.path() / "out.csv");
  BOOST_TEST(save_error(dir.path() / "out.csv", "three") == "");
  BOOST_TEST(fs::is_symlink(dir.path() / "out.csv"));
  ::close(pipe_fds[1]);
  BOOST_TEST(read_all(pipe_fds[0]) == "one two three");
  ::close(pipe_fds[0]);
  // /dev/stdout itself, in a child whose stdout is a file: written at the shell's offset.
  const fs::path log = dir.path() / "log";
  const pid_t pid = ::fork();
  BOOST_REQUIRE(pid >= 0);
  if (pid == 0) {
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, 1);
    std::printf("before\n");
    try {
      write_file_atomic("/dev/stdout", std::string_view("the file\n"));
    } catch (...) {
      ::_exit(1);
    }
    std::printf("after\n");
    std::fflush(stdout);
    ::_exit(0);
  }
  int status = 0;
  BOOST_REQUIRE(::waitpid(pid, &status, 0) == pid);
  BOOST_TEST(WIFEXITED(status));
  BOOST_TEST(WEXITSTATUS(status) == 0);
  const std::vector<std::uint8_t> bytes = read_file(log, 1 << 20);
  const std::string text(bytes.begin(), bytes.end());
  BOOST_TEST(text == "before\nthe file\nafter\n");
  BOOST_TEST(fs::is_regular_file(fs::symlink_status(log)));
}

BOOST_AUTO_TEST_CASE(a_link_to_a_file_keeps_the_link_and_saves_its_target_atomically) {
  TempDir dir("files");
  fs::create_directory(dir.path() / "real");
  const fs::path target = dir.path() / "real" / "model.npz";
  write_file_atomic(target, std::string_view("old"));
  ::chmod(target.c_str(), 0600);
  fs::create_symlink("real/model.npz", dir.path() / "model.npz");  // relative, as ln -s makes
  BOOST_TEST(save_error(dir.path() / "model.npz", "new") == "");
  BOOST_TEST(fs::is_symlink(dir.path() / "model.npz"));  // was replaced, the target untouched
  std::string text;
  std::getline(std::ifstream(target), text);
  BOOST_TEST(text == "new");
  struct stat st {};
  BOOST_REQUIRE(::stat(target.c_str(), &st) == 0);
  BOOST_TEST((st.st_mode & 07777) == 0600u);
  BOOST_TEST(dir.names() == (std::vector<std::string>{"model.npz", "real"}),
             boost::test_tools::per_element());
  // A link to nothing, a loop, a folder, a socket: one line each, nothing created.
  fs::create_symlink("missing/file", dir.path() / "dangling");
  BOOST_TEST(save_error(dir.path() / "dangling") ==
             (dir.path() / "dangling").string() + ": is a link to nothing (" +
                 (dir.path() / "missing/file").string() + " does not exist)");
  fs::create_symlink("loop", dir.path() / "loop");
  BOOST_TEST(save_error(dir.path() / "loop") ==
             (dir.path() / "loop").string() + ": is a loop of symbolic links");
  BOOST_TEST(save_error(dir.path() / "real") ==
             (dir.path() / "real").string() + ": is a folder, not a file");
  const int sock = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::string sock_path = (dir.path() / "sock").string();
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", sock_path.c_str());
  BOOST_REQUIRE(::bind(sock, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  BOOST_TEST(save_error(dir.path() / "sock") == sock_path + ": is a socket, not a file");
  ::close(sock);
}

BOOST_AUTO_TEST_SUITE_END()
