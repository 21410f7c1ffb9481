// io/output_set.hpp: a run's files saved in place and tied by a MANIFEST written last (R22), the
// folder and everything the run does not own left as they are (R30), mixes named by the readers,
// and only the run's own leftovers removed (R24).
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>

#include <boost/test/unit_test.hpp>

#include <stepgrad/io/output_set.hpp>
#include "common/temp_dir.hpp"

using namespace stepgrad;
using testing::TempDir;
namespace fs = std::filesystem;

namespace {
std::string text_of(const fs::path& p) {  // the files here hold one line
  std::ifstream in(p);
  std::string line;
  std::getline(in, line);
  return line;
}
// What a program does: a save through an AtomicFile.
void save(const fs::path& p, const std::string& text) { write_file_atomic(p, text); }
std::string message_of_check(const fs::path& dir, std::vector<std::string> names) {
  try {
    check_outputs(dir, names);
  } catch (const FileError& e) {
    return e.what();
  }
  return "";
}
mode_t mode_of(const fs::path& p) {
  struct stat st {};
  BOOST_REQUIRE(::lstat(p.c_str(), &st) == 0);
  return st.st_mode & 07777;
}
ino_t inode_of(const fs::path& p) {
  struct stat st {};
  BOOST_REQUIRE(::lstat(p.c_str(), &st) == 0);
  return st.st_ino;
}
// A tmpfs mounted at `at` for a test run as root; false (and one line) where it cannot be.
bool mount_tmpfs(const fs::path& at, const char* options = nullptr, unsigned long flags = 0) {
  if (::mount("stepgrad-test", at.c_str(), "tmpfs", flags, options) == 0) return true;
  std::cerr << "SKIP part: cannot mount a tmpfs (needs root and CAP_SYS_ADMIN): "
            << errno_text(errno) << "\n";
  return false;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(output_set)

BOOST_AUTO_TEST_CASE(the_files_are_saved_in_place_and_the_manifest_ties_them) {
  TempDir dir("outset");
  const fs::path out = dir.path() / "out";
  OutputSet set(out, {"metrics.csv", "model.npz"});
  BOOST_TEST(fs::is_directory(out));  // created at once: a bad --out fails before the work
  BOOST_TEST(set.path("model.npz") == out / "model.npz");
  save(set.path("metrics.csv"), "new metrics");
  save(set.path("model.npz"), "new model");
  BOOST_TEST(!fs::exists(out / "MANIFEST"));  // written last
  set.commit();
  BOOST_TEST(text_of(out / "metrics.csv") == "new metrics");
  const std::optional<Manifest> m = read_manifest(out);
  BOOST_REQUIRE(m.has_value());
  BOOST_REQUIRE(m->runs.size() == 1u);
  BOOST_TEST(m->runs[0].id == set.run_id());
  BOOST_TEST(m->runs[0].program == "test_io");
  BOOST_REQUIRE(m->runs[0].files.size() == 2u);
  BOOST_TEST(m->runs[0].files[1].name == "model.npz");
  BOOST_TEST(m->runs[0].files[1].sha256 == sha256_of_file(out / "model.npz"));
  BOOST_TEST(check_outputs(out, std::vector<std::string>{"metrics.csv", "model.npz"}));
  BOOST_TEST(parse_manifest(m->text()).text() == m->text());
  BOOST_TEST(dir.names() == std::vector<std::string>{"out"}, boost::test_tools::per_element());
  const std::vector<std::string> names{"MANIFEST", "metrics.csv", "model.npz"};
  std::vector<std::string> listed;  // and no temporary file
  for (const auto& e : fs::directory_iterator(out)) listed.push_back(e.path().filename().string());
  std::sort(listed.begin(), listed.end());
  BOOST_TEST(listed == names, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(the_folder_its_subfolders_and_a_replaced_files_mode_stay_as_they_were) {
  // The repro of issue 23: u became root:root 0700 with a new inode, its subfolders 0755.
  TempDir dir("outset");
  const fs::path out = dir.path() / "u";
  fs::create_directories(out / "private");
  fs::create_directories(out / "locked");
  ::chmod((out / "private").c_str(), 0700);
  ::chmod((out / "locked").c_str(), 0);
  ::chmod(out.c_str(), 02775);
  const bool root = ::geteuid() == 0;
  if (root) BOOST_REQUIRE(::chown(out.c_str(), 65534, 100) == 0);
  const bool xattr = ::setxattr(out.c_str(), "user.note", "mine", 4, 0) == 0;
  if (!xattr) std::cerr << "SKIP part: no user xattrs here: " << errno_text(errno) << "\n";
  save(out / "model.npz", "old model");
  ::chmod((out / "model.npz").c_str(), 0600);
  const ino_t inode = inode_of(out);
  OutputSet set(out, {"model.npz", "curves.png"});
  save(set.path("model.npz"), "new model");
  set.commit();
  BOOST_TEST(inode_of(out) == inode);
  BOOST_TEST(mode_of(out) == 02775u);
  BOOST_TEST(mode_of(out / "private") == 0700u);
  BOOST_TEST(mode_of(out / "locked") == 0u);
  BOOST_TEST(mode_of(out / "model.npz") == 0600u);  // came back 0644
  BOOST_TEST(text_of(out / "model.npz") == "new model");
  struct stat st {};
  BOOST_REQUIRE(::stat(out.c_str(), &st) == 0);
  if (root) BOOST_TEST((st.st_uid == 65534u && st.st_gid == 100u));
  if (xattr) {
    char value[8] = {};
    BOOST_TEST(::getxattr(out.c_str(), "user.note", value, sizeof value) == 4);
    BOOST_TEST(std::string(value) == "mine");
  }
  ::chmod((out / "locked").c_str(), 0700);
}

BOOST_AUTO_TEST_CASE(files_others_write_during_the_run_all_stay) {
  // A writer creating a file every millisecond while the run saves and commits: none is lost.
  TempDir dir("outset");
  const fs::path out = dir.path() / "out";
  fs::create_directory(out);
  std::atomic<bool> stop{false};
  std::atomic<int> made{0};
  std::thread writer([&] {
    while (!stop) {
      std::ofstream(out / ("other-" + std::to_string(made.load()))) << "x";
      ++made;
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  });
  for (int run = 0; run < 20; ++run) {
    OutputSet set(out, {"metrics.csv", "model.npz"});
    save(set.path("metrics.csv"), "metrics " + std::to_string(run));
    save(set.path("model.npz"), "model " + std::to_string(run));
    set.commit();
  }
  stop = true;
  writer.join();
  int kept = 0;
  for (const auto& e : fs::directory_iterator(out)) {
    kept += e.path().filename().string().starts_with("other-") ? 1 : 0;
  }
  BOOST_TEST(kept == made.load());
  BOOST_TEST(check_outputs(out, std::vector<std::string>{"metrics.csv", "model.npz"}));
}

BOOST_AUTO_TEST_CASE(an_owned_file_not_written_goes_only_when_the_manifest_lists_it) {
  TempDir dir("outset");
  const fs::path out = dir.path() / "out";
  fs::create_directories(out / "notes");
  save(out / "notes" / "a.txt", "kept too");
  save(out / "layers.png", "a picture no manifest lists");  // owned, not ours to remove
  {
    OutputSet set(out, {"metrics.csv", "curves.png"});
    save(set.path("metrics.csv"), "old metrics");
    save(set.path("curves.png"), "old picture");
    set.commit();
  }
  {
    OutputSet other(out, {"confusion.png"});  // another program's file and manifest entry
    save(other.path("confusion.png"), "another program's");
    other.commit();
  }
  OutputSet set(out, {"metrics.csv", "curves.png", "layers.png"});
  save(set.path("metrics.csv"), "new metrics");  // curves.png skipped this time
  set.commit();
  BOOST_TEST(!fs::exists(out / "curves.png"));  // an old picture never poses as the new one
  BOOST_TEST(text_of(out / "layers.png") == "a picture no manifest lists");
  BOOST_TEST(text_of(out / "confusion.png") == "another program's");
  BOOST_TEST(text_of(out / "notes" / "a.txt") == "kept too");
  const std::optional<Manifest> m = read_manifest(out);
  BOOST_REQUIRE(m.has_value());
  BOOST_TEST(m->runs.size() == 2u);  // the other program's run and this one
  BOOST_TEST(m->run_of("confusion.png") != nullptr);
  BOOST_TEST(m->run_of("curves.png") == nullptr);
  BOOST_TEST(check_outputs(out, std::vector<std::string>{"metrics.csv"}));
  BOOST_TEST(message_of_check(out, {"metrics.csv", "confusion.png"}) ==
             out.string() + ": metrics.csv and confusion.png come from different runs (run " +
                 m->run_of("metrics.csv")->id + " of test_io; run " +
                 m->run_of("confusion.png")->id + " of test_io)");
}

BOOST_AUTO_TEST_CASE(a_run_that_stops_before_its_manifest_is_named_a_mix_by_the_readers) {
  TempDir dir("outset");
  const fs::path out = dir.path() / "out";
  std::string first;
  {
    OutputSet set(out, {"metrics.csv", "model.npz"});
    save(set.path("metrics.csv"), "old metrics");
    save(set.path("model.npz"), "old model");
    set.commit();
    first = set.run_id();
  }
  {
    OutputSet set(out, {"metrics.csv", "model.npz"});
    save(set.path("model.npz"), "new model");
    // killed here: no commit
  }
  BOOST_TEST(text_of(out / "metrics.csv") == "old metrics");
  BOOST_TEST(message_of_check(out, {"metrics.csv", "model.npz"}) ==
             (out / "model.npz").string() + ": not the file run " + first + " of test_io wrote (" +
                 (out / "MANIFEST").string() +
                 "): a later run did not finish, or it was changed since");
  const std::string model = "new model\n";
  BOOST_CHECK_THROW(
      check_output_bytes(out / "model.npz",
                         std::span(reinterpret_cast<const std::uint8_t*>(model.data()), 10)),
      FileError);
  fs::remove(out / "metrics.csv");
  BOOST_TEST(message_of_check(out, {"metrics.csv"}) ==
             (out / "metrics.csv").string() + ": missing (" + (out / "MANIFEST").string() +
                 " lists it, from run " + first + " of test_io)");
  BOOST_TEST(!check_outputs(dir.path(), std::vector<std::string>{"x"}));  // no manifest
}

BOOST_AUTO_TEST_CASE(a_file_replaced_by_another_program_after_the_save_is_not_listed) {
  TempDir dir("outset");
  const fs::path out = dir.path() / "out";
  OutputSet set(out, {"model.npz"});
  save(set.path("model.npz"), "this run's model");
  fs::remove(out / "model.npz");
  std::ofstream(out / "model.npz") << "another program's model";
  BOOST_CHECK_EXCEPTION(set.commit(), FileError, [&](const FileError& e) {
    return std::string(e.what()) ==
           (out / "model.npz").string() +
               ": was replaced by another program after this run saved it; MANIFEST not written";
  });
  BOOST_TEST(!fs::exists(out / "MANIFEST"));
}

BOOST_AUTO_TEST_CASE(a_folder_that_cannot_hold_the_files_fails_before_the_work) {
  TempDir dir("outset");
  save(dir.path() / "a-file", "");
  BOOST_CHECK_THROW(OutputSet(dir.path() / "a-file" / "out", {"x"}), FileError);
  BOOST_CHECK_THROW(OutputSet(dir.path(), {"../x"}), FileError);
  BOOST_CHECK_THROW(OutputSet(dir.path(), {"MANIFEST"}), FileError);
  // The folder a program runs in is fine now: nothing is swapped.
  const fs::path here = fs::current_path();
  fs::current_path(dir.path());
  {
    OutputSet set(".", {"x"});
    save(set.path("x"), "here");
    set.commit();
  }
  fs::current_path(here);
  BOOST_TEST(text_of(dir.path() / "x") == "here");
  // A folder where a file cannot be created: found by the same operation the save uses.
  const fs::path ro = dir.path() / "ro";
  fs::create_directory(ro);
  if (mount_tmpfs(ro, nullptr, MS_RDONLY)) {
    BOOST_CHECK_EXCEPTION(OutputSet(ro, {"model.npz"}), FileError, [&](const FileError& e) {
      return std::string(e.what()).find(ro.string() + ": cannot save model.npz there:") == 0 &&
             std::string(e.what()).find("Read-only file system") != std::string::npos;
    });
    ::umount(ro.c_str());
  }
}

BOOST_AUTO_TEST_CASE(a_mount_point_and_a_mount_inside_the_folder_work_and_stay) {
  TempDir dir("outset");
  const fs::path out = dir.path() / "out";
  fs::create_directory(out);
  if (!mount_tmpfs(out)) return;
  fs::create_directory(out / "inner");
  const bool inner = mount_tmpfs(out / "inner");
  if (inner) save(out / "inner" / "data", "on another file system");
  {
    OutputSet set(out, {"model.npz"});  // was: "Device or resource busy", after all the work
    save(set.path("model.npz"), "model");
    set.commit();
  }
  BOOST_TEST(check_outputs(out, std::vector<std::string>{"model.npz"}));
  if (inner) {
    BOOST_TEST(text_of(out / "inner" / "data") == "on another file system");
    ::umount((out / "inner").c_str());
  }
  ::umount(out.c_str());
}

BOOST_AUTO_TEST_CASE(only_the_runs_own_leftovers_are_removed) {
  TempDir dir("outset");
  const fs::path out = dir.path() / "out";
  fs::create_directory(out);
  save(out / "elsewhere.txt", "a file a link points to");
  std::ofstream(out / ".model.npz.tmp-AbC123") << "what SIGKILL left";       // ours: removed
  std::ofstream(out / ".notes.txt.tmp-XyZ789") << "another program's";       // not ours
  fs::create_symlink(out / "elsewhere.txt", out / ".model.npz.tmp-LINK00");  // never followed
  {
    OutputSet set(out, {"model.npz"});
    BOOST_TEST(!fs::exists(out / ".model.npz.tmp-AbC123"));
    BOOST_TEST(fs::exists(out / ".notes.txt.tmp-XyZ789"));
    BOOST_TEST(fs::is_symlink(out / ".model.npz.tmp-LINK00"));
    BOOST_TEST(text_of(out / "elsewhere.txt") == "a file a link points to");
  }
  // A file of another file system mounted over one of our temporary names is never removed.
  const fs::path other = dir.path() / "other";
  fs::create_directory(other);
  if (mount_tmpfs(other)) {
    save(other / "data", "another file system's");
    const fs::path over = out / ".model.npz.tmp-MOUNT0";
    std::ofstream(over) << "";
    BOOST_REQUIRE(::mount((other / "data").c_str(), over.c_str(), nullptr, MS_BIND, nullptr) == 0);
    BOOST_TEST(remove_stale_temp_files(out, std::vector<std::string>{"model.npz"}) == 0u);
    BOOST_TEST(text_of(over) == "another file system's");
    ::umount(over.c_str());
    ::umount(other.c_str());
  }
}

BOOST_AUTO_TEST_CASE(a_manifest_is_parsed_strictly) {
  const std::string sha(64, 'a');
  BOOST_CHECK_NO_THROW(
      parse_manifest("stepgrad manifest 1\nrun A\nprogram p\noptions --x 'a b'\\x1b\n"
                     "file " +
                     sha + " m.npz\n"));
  const std::vector<std::string> bads{
      std::string(""),
      std::string("stepgrad manifest 2\n"),
      "stepgrad manifest 1\nfile " + sha + " m.npz\n",                   // before any run
      "stepgrad manifest 1\nrun A\nfile " + sha.substr(1) + " m.npz\n",  // short hash
      "stepgrad manifest 1\nrun A\nfile " + sha + " ../m.npz\n",         // a path
      "stepgrad manifest 1\nrun A\nfile " + sha + " m.npz\nrun B\nfile " + sha + " m.npz\n",
      "stepgrad manifest 1\nrun A\nrun A\n",
      "stepgrad manifest 1\nrun A\nwhat\n",
      "stepgrad manifest 1\nrun A\noptions \\q\n",
      "stepgrad manifest 1\nrun A",  // cut short
  };
  for (const std::string& bad : bads) {
    BOOST_CHECK_THROW(parse_manifest(bad), std::invalid_argument);
  }
}

BOOST_AUTO_TEST_SUITE_END()
