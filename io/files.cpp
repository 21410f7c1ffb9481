// Opening and reading inputs, the one atomic save, and the cleanup of its temporary files.
#include <stepgrad/io/files.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
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

std::string what_is_at(const fs::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0)
    return S_ISREG(st.st_mode) ? "a file" : std::string(kind_of(st.st_mode));
  const int err = errno;
  if (err == ELOOP) return "a loop of symbolic links";
  if (::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) return "a link to nothing";
  if (err == ENOENT || err == ENOTDIR) return "nothing";
  return fmt::format("what cannot be looked at ({})", errno_text(err));
}

InputFile open_input(const fs::path& path) {
  InputFile f;
  f.name = path.string();
  // O_NONBLOCK: opening a FIFO with no writer would otherwise wait forever (R23 in
  // docs/reliability.md). It is taken off again once the file is known to be a regular file, where
  // it changes nothing anyway.
  f.fd = Fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (f.fd.get() < 0) {
    const int err = errno;
    // What is there rather than the errno's text: a socket (ENXIO), a loop of links (ELOOP).
    struct stat st {};
    if (err == ELOOP) input_error(f.name, "is a loop of symbolic links");
    if (err != ENOENT && err != EACCES && ::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
      input_error(f.name, fmt::format("is {}, not a file", kind_of(st.st_mode)));
    input_error(f.name, fmt::format("cannot open it: {}", errno_text(err)));
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
// The target NAME of a temporary file's name.
std::string_view target_of_temp(std::string_view name) {
  return name.substr(1, name.size() - 1 - 5 - 6);
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

std::size_t remove_stale_temp_files(const fs::path& folder, std::span<const std::string> names) {
  const Fd dir(::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  struct stat dir_st {};
  if (dir.get() < 0 || ::fstat(dir.get(), &dir_st) != 0) return 0;
  std::error_code ec;
  std::size_t removed = 0;
  for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!is_temp_name(name)) continue;
    const std::string_view target = target_of_temp(name);
    if (std::none_of(names.begin(), names.end(), [&](const std::string& n) { return n == target; }))
      continue;
    // Never through a link, never into another file system (a file mounted over the name).
    struct stat st {};
    if (::fstatat(dir.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (!S_ISREG(st.st_mode) || st.st_dev != dir_st.st_dev) continue;
    // A live writer holds a lock on its temporary file; a file nobody holds is a leftover (a
    // writer that has not locked its new file yet checks after locking that it is still there,
    // and makes another: AtomicFile's constructor).
    const Fd fd(::openat(dir.get(), name.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW));
    struct stat held {};
    if (fd.get() < 0 || ::fstat(fd.get(), &held) != 0 || held.st_ino != st.st_ino) continue;
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) continue;
    if (::unlinkat(dir.get(), name.c_str(), 0) == 0) ++removed;
  }
  return removed;
}

// ---- SHA-256 ------------------------------------------------------------------------------------

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  if (ctx_ == nullptr ||
      EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(ctx_), EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("SHA-256: cannot start a digest (libcrypto)");
}

Sha256::~Sha256() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_)); }

void Sha256::update(std::span<const std::uint8_t> bytes) {
  if (EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), bytes.data(), bytes.size()) != 1)
    throw std::runtime_error("SHA-256: cannot digest (libcrypto)");
}

std::string Sha256::hex_digest() {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int n = 0;
  if (EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(ctx_), md.data(), &n) != 1)
    throw std::runtime_error("SHA-256: cannot finish the digest (libcrypto)");
  std::string hex;
  for (unsigned int i = 0; i < n; ++i) hex += fmt::format("{:02x}", md[i]);
  return hex;
}

std::string sha256_hex(std::span<const std::uint8_t> bytes) {
  Sha256 h;
  h.update(bytes);
  return h.hex_digest();
}

namespace {
// The SHA-256 of what `fd` holds from offset 0 to its end; errno in `err` on failure.
std::optional<std::string> sha256_of_fd(int fd, int& err) {
  Sha256 h;
  std::vector<std::uint8_t> buf(std::size_t{1} << 16);
  for (off_t at = 0;;) {
    const ssize_t n = ::pread(fd, buf.data(), buf.size(), at);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      err = errno;
      return std::nullopt;
    }
    if (n == 0) break;
    h.update(std::span(buf.data(), static_cast<std::size_t>(n)));
    at += n;
  }
  return h.hex_digest();
}
}  // namespace

std::string sha256_of_file(const fs::path& path) {
  InputFile f = open_input(path);
  int err = 0;
  std::optional<std::string> hex = sha256_of_fd(f.fd.get(), err);
  if (!hex) throw FileError(f.name, fmt::format("cannot read it: {}", errno_text(err)));
  return *hex;
}

// ---- Note [Watched saves] -----------------------------------------------------------------------

namespace {
std::mutex watches_lock;
std::vector<SaveWatch*> watches;  // the live ones

bool stat_ids(const fs::path& p, std::uint64_t& dev, std::uint64_t& ino) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) return false;
  dev = st.st_dev;
  ino = st.st_ino;
  return true;
}
}  // namespace

SaveWatch::SaveWatch(const fs::path& folder, std::vector<std::string> names)
    : names_(std::move(names)) {
  if (!stat_ids(folder, dev_, ino_)) {
    throw FileError(folder.string(), fmt::format("cannot stat the folder: {}", errno_text(errno)));
  }
  const std::lock_guard<std::mutex> g(watches_lock);
  watches.push_back(this);
}

SaveWatch::~SaveWatch() {
  const std::lock_guard<std::mutex> g(watches_lock);
  watches.erase(std::remove(watches.begin(), watches.end(), this), watches.end());
}

std::optional<SaveWatch::Saved> SaveWatch::saved(std::string_view name) const {
  const std::lock_guard<std::mutex> g(watches_lock);
  for (const auto& [n, s] : saved_) {
    if (n == name) return s;
  }
  return std::nullopt;
}

// ---- Note [Atomic save], Note [Special targets] ------------------------------------------------

namespace {

// N for /dev/stdout (1), /dev/stderr (2), /dev/fd/N, /proc/self/fd/N and /proc/PID/fd/N of this
// process; -1 for any other path.
int descriptor_of(const fs::path& p) {
  const std::string s = p.lexically_normal().string();
  if (s == "/dev/stdout") return 1;
  if (s == "/dev/stderr") return 2;
  if (s == "/dev/stdin") return 0;
  std::string_view rest;
  const std::string self = fmt::format("/proc/{}/fd/", ::getpid());
  for (std::string_view prefix :
       {std::string_view("/dev/fd/"), std::string_view("/proc/self/fd/"), std::string_view(self)}) {
    if (s.starts_with(prefix)) rest = std::string_view(s).substr(prefix.size());
  }
  if (rest.empty() || rest.size() > 9) return -1;
  int n = 0;
  for (char c : rest) {
    if (c < '0' || c > '9') return -1;
    n = n * 10 + (c - '0');
  }
  return n;
}

}  // namespace

AtomicFile::AtomicFile(const fs::path& target) : target_(target) {
  const std::string name = target.filename().string();
  if (name.empty() || name == "." || name == "..") {
    throw FileError(target.string(), "the path names no file");
  }
  const auto refuse = [&](const std::string& why) { throw FileError(target.string(), why); };
  // Is an OutputSet watching this name in this folder (Note [Watched saves])?
  {
    std::uint64_t dev = 0, ino = 0;
    const fs::path given_folder =
        target.parent_path().empty() ? fs::path(".") : target.parent_path();
    if (stat_ids(given_folder, dev, ino)) {
      const std::lock_guard<std::mutex> g(watches_lock);
      for (const SaveWatch* w : watches) {
        watched_ =
            watched_ || (w->dev_ == dev && w->ino_ == ino &&
                         std::find(w->names_.begin(), w->names_.end(), name) != w->names_.end());
      }
    }
  }
  // Where the links lead (Note [Special targets]), one link at a time.
  real_ = target;
  struct stat st {};
  bool exists = false;
  for (int hops = 0;; ++hops) {
    if (const int n = descriptor_of(real_); n >= 0) {
      open_through(real_, n);
      return;
    }
    if (::lstat(real_.c_str(), &st) != 0) {
      const int err = errno;
      if (err != ENOENT) refuse(fmt::format("cannot stat {}: {}", real_.string(), errno_text(err)));
      if (hops > 0) refuse(fmt::format("is a link to nothing ({} does not exist)", real_.string()));
      break;
    }
    if (!S_ISLNK(st.st_mode)) {
      exists = true;
      break;
    }
    if (hops == 40) refuse("is a loop of symbolic links");
    std::error_code ec;
    const fs::path next = fs::read_symlink(real_, ec);
    if (ec) refuse(fmt::format("cannot read the link {}: {}", real_.string(), ec.message()));
    real_ = next.is_absolute() ? next : real_.parent_path() / next;
  }
  if (exists) {
    if (S_ISDIR(st.st_mode)) refuse("is a folder, not a file");
    if (S_ISSOCK(st.st_mode)) refuse("is a socket, not a file");
    if (S_ISBLK(st.st_mode)) refuse("is a block device, not a file");
    if (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode)) {
      open_through(real_, -1);
      return;
    }
  }
  folder_ = real_.parent_path().empty() ? fs::path(".") : real_.parent_path();
  // The leftovers of this name that killed runs left (Note [Atomic save]): its own, no other's.
  const std::string real_name = real_.filename().string();
  remove_stale_temp_files(folder_, std::span(&real_name, 1));
  std::string pattern;
  for (;;) {
    pattern = (folder_ / (temp_prefix(real_) + "XXXXXX")).string();
    fd_ = Fd(::mkostemp(pattern.data(), O_CLOEXEC));
    if (fd_.get() < 0) {
      const int err = errno;
      throw FileError(target.string(),
                      fmt::format("cannot create a temporary file in '{}': {}", folder_.string(),
                                  errno_text(err)),
                      err);
    }
    // "A live writer" (remove_stale_temp_files). A cleaner may have taken the file between its
    // creation and the lock, and removed it: then it has no name any more, and we make another.
    while (::flock(fd_.get(), LOCK_EX) != 0 && errno == EINTR) {
    }
    struct stat mine {};
    if (::fstat(fd_.get(), &mine) == 0 && mine.st_nlink == 0) continue;
    break;
  }
  temp_ = pattern;
  slot_ = claim_slot(temp_);
  // mkostemp makes the file 0600: keep the mode of the file we replace, else the usual 0644; and
  // its owner and group where we may (root saving over a user's file).
  const mode_t mode = exists ? (st.st_mode & 07777) : 0644;
  if (exists) (void)::fchown(fd_.get(), st.st_uid, st.st_gid);  // EPERM: ours, as for any file
  if (::fchmod(fd_.get(), mode) != 0) fail("cannot set the temporary file's mode", errno);
}

void AtomicFile::open_through(const fs::path& real, int dup_of) {
  through_ = true;
  if (dup_of >= 0) {
    std::fflush(nullptr);  // what stdio holds for that descriptor goes first
    fd_ = Fd(::fcntl(dup_of, F_DUPFD_CLOEXEC, 3));
    if (fd_.get() < 0) fail(fmt::format("cannot use descriptor {}", dup_of), errno);
  } else {
    // O_NONBLOCK: a FIFO with no reader is ENXIO at once instead of a wait forever.
    fd_ = Fd(::open(real.c_str(), O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
    if (fd_.get() < 0) {
      const int err = errno;
      if (err == ENXIO) {
        throw FileError(target_.string(),
                        "is a FIFO (named pipe) that nothing reads; start its reader first");
      }
      fail("cannot open it for writing", err);
    }
    const int flags = ::fcntl(fd_.get(), F_GETFL);
    if (flags < 0 || ::fcntl(fd_.get(), F_SETFL, flags & ~O_NONBLOCK) != 0)
      fail("cannot set it to blocking writes", errno);
  }
  if (watched_) hasher_ = std::make_unique<Sha256>();
}

AtomicFile::~AtomicFile() {
  if (!temp_.empty()) ::unlink(temp_.c_str());
  release_slot(slot_);
}

void AtomicFile::fail(std::string_view what, int err) const {
  throw FileError(target_.string(), fmt::format("{}: {}", what, errno_text(err)), err);
}

void AtomicFile::write(std::span<const std::uint8_t> bytes) {
  if (hasher_) hasher_->update(bytes);
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd_.get(), bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail(through_ ? "cannot write it" : "cannot write the temporary file", errno);
    if (n == 0) fail(through_ ? "cannot write it" : "cannot write the temporary file", EIO);
    bytes = bytes.subspan(static_cast<std::size_t>(n));
  }
}

void AtomicFile::write(std::string_view text) {
  write(std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

void AtomicFile::commit() {
  SaveWatch::Saved saved;
  if (through_) {
    if (hasher_) saved.sha256 = hasher_->hex_digest();
  } else {
    if (::fsync(fd_.get()) != 0) fail("cannot fsync the temporary file", errno);
    if (watched_) {  // what is in the file, whoever wrote it (gnuplot writes PNGs)
      int err = 0;
      std::optional<std::string> hex = sha256_of_fd(fd_.get(), err);
      if (!hex) fail("cannot read the temporary file back", err);
      saved.sha256 = *hex;
    }
    if (::rename(temp_.c_str(), real_.c_str()) != 0) {
      fail(fmt::format("cannot rename the temporary file over '{}'", real_.string()), errno);
    }
    temp_.clear();
    release_slot(std::exchange(slot_, -1));
  }
  struct stat st {};
  if (watched_ && ::fstat(fd_.get(), &st) == 0) {
    saved.dev = st.st_dev;
    saved.ino = st.st_ino;
    std::uint64_t dev = 0, ino = 0;
    const fs::path given_folder =
        target_.parent_path().empty() ? fs::path(".") : target_.parent_path();
    const std::string name = target_.filename().string();
    if (stat_ids(given_folder, dev, ino)) {
      const std::lock_guard<std::mutex> g(watches_lock);
      for (SaveWatch* w : watches) {
        if (w->dev_ != dev || w->ino_ != ino ||
            std::find(w->names_.begin(), w->names_.end(), name) == w->names_.end())
          continue;
        std::erase_if(w->saved_, [&](const auto& e) { return e.first == name; });
        w->saved_.emplace_back(name, saved);
      }
    }
  }
  fd_.reset();
  if (through_) return;
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

void check_can_save(const fs::path& target) {
  // A FIFO or a character device (also through links) is written through later and not opened
  // now: opening a FIFO's writing end and closing it would end its reader's input.
  struct stat st {};
  if (::stat(target.c_str(), &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode))) return;
  const AtomicFile probe(target);  // the temporary file, removed again
}

}  // namespace stepgrad
