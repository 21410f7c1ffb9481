// Opening and reading inputs, the one atomic save, and the cleanup of its temporary files.
#include <stepgrad/io/files.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>
#include <system_error>
#include <utility>

#include <fmt/format.h>

namespace stepgrad {

namespace fs = std::filesystem;

std::string errno_text(int err) { return std::system_category().message(err); }

Fd& Fd::operator=(Fd&& other) noexcept {
  if (this != &other) {
    reset();
    fd_ = other.release();
  }
  return *this;
}

int Fd::release() { return std::exchange(fd_, -1); }

void Fd::reset() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

// ---- Inputs -------------------------------------------------------------------------------------

namespace {

[[noreturn]] void input_error(const std::string& name, const std::string& what) {
  throw FileError(name, what);
}

std::string_view kind_of(mode_t mode) {
  if (S_ISDIR(mode)) return "a folder";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  return "not a regular file";
}

}  // namespace

InputFile open_input(const fs::path& path) {
  InputFile f;
  f.name = path.string();
  // O_NONBLOCK: opening a FIFO with no writer would otherwise wait forever (R23 in
  // docs/reliability.md). It is taken off again once the file is known to be a regular file, where
  // it changes nothing anyway.
  f.fd = Fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (f.fd.get() < 0) {
    const int err = errno;
    input_error(f.name, err == EISDIR ? std::string("is a folder, not a file")
                                      : fmt::format("cannot open it: {}", errno_text(err)));
  }
  struct stat st {};
  if (::fstat(f.fd.get(), &st) != 0) {
    input_error(f.name, fmt::format("cannot stat it: {}", errno_text(errno)));
  }
  if (!S_ISREG(st.st_mode))
    input_error(f.name, fmt::format("is {}, not a file", kind_of(st.st_mode)));
  const int flags = ::fcntl(f.fd.get(), F_GETFL);
  if (flags < 0 || ::fcntl(f.fd.get(), F_SETFL, flags & ~O_NONBLOCK) != 0) {
    input_error(f.name, fmt::format("cannot set it to blocking reads: {}", errno_text(errno)));
  }
  f.size = static_cast<std::uint64_t>(st.st_size);
  return f;
}

void read_exact(InputFile& file, std::span<std::uint8_t> out) {
  std::size_t done = 0;
  while (done < out.size()) {
    const ssize_t n = ::read(file.fd.get(), out.data() + done, out.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) input_error(file.name, fmt::format("cannot read it: {}", errno_text(errno)));
    if (n == 0) {
      input_error(file.name,
                  fmt::format("the file ended after {} of the {} bytes expected (did it shrink "
                              "while being read?)",
                              done, out.size()));
    }
    done += static_cast<std::size_t>(n);
  }
}

std::vector<std::uint8_t> read_file(const fs::path& path, std::uint64_t max_bytes) {
  InputFile f = open_input(path);
  if (f.size > max_bytes) {
    input_error(f.name, fmt::format("{} bytes, more than the {} bytes such a file can hold", f.size,
                                    max_bytes));
  }
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(f.size));
  read_exact(f, bytes);
  return bytes;
}

// ---- Note [Interrupted saves] ------------------------------------------------------------------

namespace {

// The temporary files of the open AtomicFiles, as C strings a signal handler can unlink. A slot
// is claimed (in_use) under the mutex, its path written, then published (ready); the handler
// reads only published slots.
constexpr std::size_t kSlots = 64;
constexpr std::size_t kPathBytes = 4096;
struct Slot {
  std::atomic<bool> ready{false};
  bool in_use = false;
  char path[kPathBytes] = {};
};
std::array<Slot, kSlots> slots;
std::mutex slots_lock;

int claim_slot(const fs::path& temp) {
  const std::string s = temp.string();
  if (s.size() >= kPathBytes) return -1;  // too long to clean up on a signal: not registered
  const std::lock_guard<std::mutex> g(slots_lock);
  for (std::size_t i = 0; i < kSlots; ++i) {
    if (!slots[i].in_use) {
      slots[i].in_use = true;
      std::memcpy(slots[i].path, s.c_str(), s.size() + 1);
      slots[i].ready.store(true, std::memory_order_release);
      return static_cast<int>(i);
    }
  }
  return -1;  // more than 64 saves at once: the rest rely on remove_stale_temp_files
}

void release_slot(int i) {
  if (i < 0) return;
  const std::lock_guard<std::mutex> g(slots_lock);
  slots[static_cast<std::size_t>(i)].ready.store(false, std::memory_order_release);
  slots[static_cast<std::size_t>(i)].in_use = false;
}

extern "C" void unlink_temp_files_and_die(int sig) {
  for (Slot& s : slots) {
    if (s.ready.load(std::memory_order_acquire)) ::unlink(s.path);
  }
  ::signal(sig, SIG_DFL);  // die of the same signal: the parent sees how we ended
  ::raise(sig);
}

// The naming of Note [Atomic save]: ".NAME.tmp-" and six characters from mkostemp.
std::string temp_prefix(const fs::path& target) {
  return fmt::format(".{}.tmp-", target.filename().string());
}
bool is_temp_name(std::string_view name) {
  const std::size_t at = name.rfind(".tmp-");
  return name.size() > 1 && name[0] == '.' && at != std::string_view::npos && at > 1 &&
         name.size() - at == 5 + 6;
}

}  // namespace

void remove_temp_files_on_signal() {
  static std::once_flag once;
  std::call_once(once, [] {
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
      struct sigaction old {};
      ::sigaction(sig, nullptr, &old);
      if (old.sa_handler == SIG_IGN) continue;  // started with it ignored (nohup): keep that
      struct sigaction sa {};
      sa.sa_handler = unlink_temp_files_and_die;
      sigemptyset(&sa.sa_mask);
      ::sigaction(sig, &sa, nullptr);
    }
  });
}

std::size_t remove_stale_temp_files(const fs::path& folder) {
  std::error_code ec;
  std::size_t removed = 0;
  for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!is_temp_name(name) || !it->is_regular_file(ec)) continue;
    // A live writer holds a lock on its temporary file; a file nobody holds is a leftover. (The
    // age spares a file so new that its writer may not have taken the lock yet.)
    const auto age = fs::file_time_type::clock::now() - it->last_write_time(ec);
    if (ec || age < std::chrono::seconds(10)) continue;
    const Fd fd(::open(it->path().c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW));
    if (fd.get() < 0 || ::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) continue;
    if (::unlink(it->path().c_str()) == 0) ++removed;
  }
  return removed;
}

// ---- Note [Atomic save]
// --------------------------------------------------------------------------

AtomicFile::AtomicFile(const fs::path& target) : target_(target) {
  folder_ = target.parent_path().empty() ? fs::path(".") : target.parent_path();
  const std::string name = target.filename().string();
  if (name.empty() || name == "." || name == "..") {
    throw FileError(target.string(), "the path names no file");
  }
  std::string pattern = (folder_ / (temp_prefix(target) + "XXXXXX")).string();
  fd_ = Fd(::mkostemp(pattern.data(), O_CLOEXEC));
  if (fd_.get() < 0) {
    const int err = errno;
    throw FileError(target.string(), fmt::format("cannot create a temporary file in '{}': {}",
                                                 folder_.string(), errno_text(err)));
  }
  temp_ = pattern;
  slot_ = claim_slot(temp_);
  ::flock(fd_.get(), LOCK_EX | LOCK_NB);  // "a live writer": see remove_stale_temp_files
  // mkostemp makes the file 0600: keep the mode of the file we replace, else the usual 0644.
  struct stat st {};
  const mode_t mode = ::stat(target.c_str(), &st) == 0 ? (st.st_mode & 07777) : 0644;
  if (::fchmod(fd_.get(), mode) != 0) fail("cannot set the temporary file's mode", errno);
}

AtomicFile::~AtomicFile() {
  if (!temp_.empty()) ::unlink(temp_.c_str());
  release_slot(slot_);
}

void AtomicFile::fail(std::string_view what, int err) const {
  throw FileError(target_.string(), fmt::format("{}: {}", what, errno_text(err)));
}

void AtomicFile::write(std::span<const std::uint8_t> bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd_.get(), bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail("cannot write the temporary file", errno);
    if (n == 0) fail("cannot write the temporary file", EIO);
    bytes = bytes.subspan(static_cast<std::size_t>(n));
  }
}

void AtomicFile::write(std::string_view text) {
  write(std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

void AtomicFile::commit() {
  if (::fsync(fd_.get()) != 0) fail("cannot fsync the temporary file", errno);
  if (::rename(temp_.c_str(), target_.c_str()) != 0) {
    fail(fmt::format("cannot rename the temporary file over '{}'", target_.string()), errno);
  }
  temp_.clear();
  release_slot(std::exchange(slot_, -1));
  fd_.reset();
  // The rename is only durable once the folder's entry is on disk.
  const Fd dir(::open(folder_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() < 0) fail("saved, but cannot open the folder to fsync it", errno);
  // Some file systems cannot fsync a folder (EINVAL); there is nothing more to do there.
  if (::fsync(dir.get()) != 0 && errno != EINVAL) fail("saved, but cannot fsync the folder", errno);
}

void write_file_atomic(const fs::path& path, std::span<const std::uint8_t> content) {
  AtomicFile file(path);
  file.write(content);
  file.commit();
}

void write_file_atomic(const fs::path& path, std::string_view content) {
  write_file_atomic(
      path, std::span(reinterpret_cast<const std::uint8_t*>(content.data()), content.size()));
}

}  // namespace stepgrad
