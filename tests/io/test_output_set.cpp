// io/output_set.hpp: an output folder replaced as one set (R22), other programs' files kept, a
// failed run leaving the old set whole, and the leftovers of killed runs removed (R24).
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

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
void write(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }
}  // namespace

BOOST_AUTO_TEST_SUITE(output_set)

BOOST_AUTO_TEST_CASE(a_new_folder_gets_the_whole_set_and_nothing_else) {
  TempDir dir("outset");
  const fs::path out = dir.path() / "out";
  OutputSet set(out, {"metrics.csv", "model.npz"});
  BOOST_TEST(fs::is_directory(out));  // created at once: a bad --out fails before the work
  write(set.path("metrics.csv"), "new metrics");
  write(set.path("model.npz"), "new model");
  BOOST_TEST(!fs::exists(out / "model.npz"));  // nothing lands before commit
  set.commit();
  BOOST_TEST(text_of(out / "metrics.csv") == "new metrics");
  BOOST_TEST(text_of(out / "model.npz") == "new model");
  BOOST_TEST(dir.names() == std::vector<std::string>{"out"}, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(the_set_replaces_its_own_files_keeps_others_and_drops_what_it_skipped) {
  TempDir dir("outset");
  const fs::path out = dir.path() / "out";
  fs::create_directory(out);
  write(out / "metrics.csv", "old metrics");
  write(out / "model.npz", "old model");
  write(out / "curves.png", "old picture");        // owned, not written this time: dropped
  write(out / "confusion.png", "another tool's");  // not owned: kept
  fs::create_directory(out / "notes");
  write(out / "notes" / "a.txt", "kept too");
  OutputSet set(out, {"metrics.csv", "model.npz", "curves.png"});
  write(set.path("metrics.csv"), "new metrics");
  write(set.path("model.npz"), "new model");
  set.commit();
  BOOST_TEST(text_of(out / "metrics.csv") == "new metrics");
  BOOST_TEST(text_of(out / "model.npz") == "new model");
  BOOST_TEST(!fs::exists(out / "curves.png"));  // an old picture never sits beside a new model
  BOOST_TEST(text_of(out / "confusion.png") == "another tool's");
  BOOST_TEST(text_of(out / "notes" / "a.txt") == "kept too");
  BOOST_TEST(dir.names() == std::vector<std::string>{"out"}, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_run_that_fails_before_commit_leaves_the_old_set_whole) {
  TempDir dir("outset");
  const fs::path out = dir.path() / "out";
  fs::create_directory(out);
  write(out / "metrics.csv", "old metrics");
  write(out / "model.npz", "old model");
  {
    OutputSet set(out, {"metrics.csv", "model.npz"});
    write(set.path("metrics.csv"), "new metrics");
    // the model's save fails here: the set goes away without commit
  }
  BOOST_TEST(text_of(out / "metrics.csv") == "old metrics");
  BOOST_TEST(text_of(out / "model.npz") == "old model");
  BOOST_TEST(dir.names() == std::vector<std::string>{"out"}, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_folder_that_cannot_hold_a_set_fails_before_the_work) {
  TempDir dir("outset");
  write(dir.path() / "a-file", "");
  BOOST_CHECK_THROW(OutputSet(dir.path() / "a-file" / "out", {"x"}), FileError);
  BOOST_CHECK_THROW(OutputSet("/", {"x"}), FileError);
  // The folder a program runs in, or one that holds it, is never swapped whole.
  const fs::path here = fs::current_path();
  fs::create_directory(dir.path() / "work");
  fs::current_path(dir.path() / "work");
  BOOST_CHECK_THROW(OutputSet(".", {"x"}), FileError);
  BOOST_CHECK_THROW(OutputSet(dir.path(), {"x"}), FileError);
  fs::current_path(here);
  BOOST_TEST(dir.names() == (std::vector<std::string>{"a-file", "work"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_killed_runs_staging_folder_is_removed_a_live_ones_is_not) {
  TempDir dir("outset");
  const fs::path out = dir.path() / "out";
  fs::create_directory(out);
  const fs::path dead = dir.path() / ".out.stage-DEAD00";  // what SIGKILL leaves
  fs::create_directory(dead);
  write(dead / "model.npz", "half");
  const fs::path live = dir.path() / ".out.stage-LIVE00";  // another program, still running
  fs::create_directory(live);
  const int fd = ::open(live.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  BOOST_REQUIRE(fd >= 0);
  BOOST_REQUIRE(::flock(fd, LOCK_EX) == 0);
  {
    const OutputSet set(out, {"model.npz"});
    BOOST_TEST(!fs::exists(dead));
    BOOST_TEST(fs::exists(live));
  }
  ::close(fd);
  fs::remove_all(live);
  BOOST_TEST(dir.names() == std::vector<std::string>{"out"}, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_SUITE_END()
