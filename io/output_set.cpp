// Note [One set of outputs]: staging, carrying the other files over, the exchange, the cleanup.
#include <stepgrad/io/output_set.hpp>

#include <fcntl.h>
#include <stdio.h>  // renameat2 (glibc 2.28)
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>
#include <utility>

#include <fmt/format.h>

namespace stepgrad {

namespace fs = std::filesystem;

namespace {

std::string stage_prefix(const fs::path& real) {
  return fmt::format(".{}.stage-", real.filename().string());
}

// Removes the staging folders of `real` that no live program holds (a killed run's, or the old
// set a killed run had just swapped out).
void remove_stale_stages(const fs::path& real) {
  std::error_code ec;
  const std::string prefix = stage_prefix(real);
  for (fs::directory_iterator it(real.parent_path(), ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!name.starts_with(prefix) || !it->is_directory(ec)) continue;
    const Fd fd(::open(it->path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
    if (fd.get() < 0 || ::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) continue;  // alive
    fs::remove_all(it->path(), ec);
  }
}

// Puts `e` at `target` without copying data: a file as a hard link, a symbolic link as a link to
// the same place, a folder recreated with its contents linked the same way.
void link_entry(const fs::directory_entry& e, const fs::path& target) {
  if (e.is_symlink()) {
    fs::create_symlink(fs::read_symlink(e.path()), target);
  } else if (e.is_directory()) {
    fs::create_directory(target);
    for (const fs::directory_entry& inner : fs::directory_iterator(e.path())) {
      link_entry(inner, target / inner.path().filename());
    }
  } else {
    fs::create_hard_link(e.path(), target);
  }
}

void fsync_folder(const fs::path& dir) {
  const Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() >= 0) ::fsync(fd.get());
}

}  // namespace

OutputSet::OutputSet(const fs::path& dir, std::vector<std::string> owned)
    : dir_(dir), owned_(std::move(owned)) {
  const auto fail = [&](const std::string& why) { throw FileError(dir_.string(), why); };
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) fail(fmt::format("cannot create the folder: {}", ec.message()));
  real_ = fs::canonical(dir_, ec);
  if (ec) fail(fmt::format("cannot resolve the folder's path: {}", ec.message()));
  if (real_ == real_.root_path()) fail("the root folder cannot be replaced as a whole");
  // The whole folder is swapped: never the one we run in, or one that holds it.
  const fs::path cwd = fs::current_path(ec);
  const fs::path inside = ec ? fs::path() : cwd.lexically_relative(real_);
  if (!inside.empty() && *inside.begin() != "..") {
    fail("holds the current folder; name a folder of its own for the outputs");
  }
  remove_stale_stages(real_);
  remove_stale_temp_files(real_);
  std::string pattern = (real_.parent_path() / (stage_prefix(real_) + "XXXXXX")).string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    fail(fmt::format("cannot create a staging folder beside it, in {}: {}",
                     real_.parent_path().string(), errno_text(errno)));
  }
  stage_ = pattern;
  lock_ = Fd(::open(stage_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (lock_.get() < 0 || ::flock(lock_.get(), LOCK_EX | LOCK_NB) != 0) {
    fail(fmt::format("cannot lock the staging folder {}: {}", stage_.string(), errno_text(errno)));
  }
  try {
    const AtomicFile probe(stage_ / "write-check");  // created, then removed unused
  } catch (const FileError& e) {
    fail(e.why());
  }
}

OutputSet::OutputSet(OutputSet&& other) noexcept
    : dir_(std::move(other.dir_)),
      real_(std::move(other.real_)),
      stage_(std::exchange(other.stage_, fs::path())),
      owned_(std::move(other.owned_)),
      lock_(std::move(other.lock_)) {}

OutputSet::~OutputSet() {
  if (stage_.empty()) return;
  std::error_code ec;
  fs::remove_all(stage_, ec);
}

fs::path OutputSet::path(std::string_view name) const { return stage_ / name; }

void OutputSet::commit() {
  const auto fail = [&](const std::string& why) { throw FileError(dir_.string(), why); };
  std::error_code ec;
  // The folder's other files, as they are now: links, so nothing is copied.
  for (fs::directory_iterator it(real_, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (std::find(owned_.begin(), owned_.end(), name) != owned_.end()) continue;
    if (fs::exists(fs::symlink_status(stage_ / name))) continue;
    try {
      link_entry(*it, stage_ / name);
    } catch (const fs::filesystem_error& e) {
      fail(fmt::format("cannot keep its file {} in the new set: {}", name, e.code().message()));
    }
  }
  if (ec) fail(fmt::format("cannot list the folder: {}", ec.message()));
  fsync_folder(stage_);
  // One rename puts the whole new set in place (Note [One set of outputs]).
  if (::renameat2(AT_FDCWD, stage_.c_str(), AT_FDCWD, real_.c_str(), RENAME_EXCHANGE) != 0) {
    fail(fmt::format("cannot put the new set in place (renameat2): {}", errno_text(errno)));
  }
  fsync_folder(real_.parent_path());
  const fs::path old = std::exchange(stage_, fs::path());  // now holds the old set
  fs::remove_all(old, ec);  // a leftover is removed by the next run (remove_stale_stages)
}

}  // namespace stepgrad
