// Temp file, fsync, rename, fsync the folder: the sequence every atomic save follows.
#include <stepgrad/io/files.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

#include <fmt/format.h>

namespace stepgrad {

namespace {
[[noreturn]] void fail(const std::filesystem::path& path, std::string_view what, int err) {
  throw std::runtime_error(fmt::format("{}: {}: {}", path.string(), what, std::strerror(err)));
}
}  // namespace

void write_file_atomic(const std::filesystem::path& path, std::string_view content) {
  const std::filesystem::path folder = path.parent_path().empty() ? "." : path.parent_path();
  std::string temp = (folder / fmt::format(".{}.tmp-XXXXXX", path.filename().string())).string();
  const int fd = mkstemp(temp.data());
  if (fd < 0) fail(path, "cannot create a temporary file", errno);
  const auto cleanup = [&](std::string_view what, int err) {
    ::close(fd);
    ::unlink(temp.c_str());
    fail(path, what, err);
  };
  for (std::size_t done = 0; done < content.size();) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) cleanup("cannot write", n < 0 ? errno : EIO);
    done += static_cast<std::size_t>(n);
  }
  if (::fchmod(fd, 0644) != 0) cleanup("cannot set permissions", errno);
  if (::fsync(fd) != 0) cleanup("cannot sync", errno);
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlink(temp.c_str());
    fail(path, "cannot close", err);
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(temp.c_str());
    fail(path, "cannot rename into place", err);
  }
  const int dir = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY);
  if (dir >= 0) {  // the rename itself survives a crash only once the folder is synced
    ::fsync(dir);
    ::close(dir);
  }
}

}  // namespace stepgrad
