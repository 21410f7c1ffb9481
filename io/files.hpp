// Files, once for every layer above: opening an input without blocking and reading it with a
// bound, and saving atomically so that a failure never leaves a half-written file (R16, R21-R24
// in docs/reliability.md).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace stepgrad {

/// A file that cannot be read or written. The one-line message is "PATH: why".
class FileError : public std::runtime_error {
 public:
  FileError(const std::string& path, const std::string& why, int error = 0)
      : std::runtime_error(path + ": " + why), why_(why), error_(error) {}
  /// The message without the path.
  const std::string& why() const { return why_; }
  /// The errno of the system call that failed (ENOSPC: the disk is full), or 0 when none did.
  int error() const { return error_; }

 private:
  std::string why_;
  int error_;
};

/// The text of an errno value: "No such file or directory".
std::string errno_text(int err);

/// An open file descriptor, closed when it goes away.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(other.release()) {}
  Fd& operator=(Fd&& other) noexcept;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }
  int get() const { return fd_; }
  int release();
  void reset();

 private:
  int fd_;
};

/// A regular file open for reading.
struct InputFile {
  std::string name;        ///< its path, for messages
  Fd fd;                   ///< positioned at the start
  std::uint64_t size = 0;  ///< its size when it was opened
};

/// What is at `path`, in words for a message: "a file", "a folder", "a FIFO (named pipe)",
/// "a socket", "a character device", "a block device", "a loop of symbolic links", "a link to
/// nothing" or "nothing". Follows links; never opens anything.
std::string what_is_at(const std::filesystem::path& path);

/// Opens `path` for reading without ever blocking, and checks that it is a regular file: a
/// folder, a FIFO, a socket, a device or a loop of symbolic links is a FileError at once ("PATH: is
/// a FIFO (named pipe), not a file").
InputFile open_input(const std::filesystem::path& path);

/// Reads out.size() bytes at the file's current offset; a FileError when the file ends first.
void read_exact(InputFile& file, std::span<std::uint8_t> out);

/// The whole file, when it holds at most max_bytes: its size is checked before anything is
/// read or allocated (R21), so memory is bounded by max_bytes whatever the file's size.
std::vector<std::uint8_t> read_file(const std::filesystem::path& path, std::uint64_t max_bytes);

/// SHA-256 over bytes given in pieces (OpenSSL's libcrypto, EVP).
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(std::span<const std::uint8_t> bytes);
  /// The digest as 64 lowercase hex digits; the object is spent.
  std::string hex_digest();

 private:
  void* ctx_;  // EVP_MD_CTX
};

// Note [Atomic save]
// Every file stepgrad writes is saved the same way: written to a temporary file in the target's
// folder (".NAME.tmp-XXXXXX", never a name of the program's outputs), flushed to disk (fsync),
// renamed over the target, and the folder flushed, so that readers and a crash see the old file or
// the new one, never a mix (R16). The temporary file takes the mode, and where allowed the owner,
// of the file it replaces, else 0644. Until the rename, any failure removes the temporary file and
// leaves the old file as it was; so does SIGINT or SIGTERM (Note [Interrupted saves]). A file lock
// on the temporary file tells a later run whether its writer is still alive: each save removes
// the leftovers of its own name that no live process holds (remove_stale_temp_files), in its own
// folder only, and nothing else.
//
// Note [Special targets]
// Only a regular file (or a missing one) is replaced. What else a path can name is decided once,
// when the AtomicFile opens:
//   - /dev/stdout, /dev/stderr, /dev/fd/N, /proc/self/fd/N (as given or reached through links):
//     written through to this process's descriptor N, where the shell pointed it;
//   - a character device (/dev/null, a terminal) or a FIFO: written through, opened without
//     blocking (a FIFO nobody reads is a one-line error at once, never a hang);
//   - a symbolic link to a regular file: the link is kept and the file it points to is saved
//     atomically, beside itself; a link to nothing or a loop of links is a one-line error;
//   - a folder, a socket or a block device: a one-line error saying what it is.
// Written through, there is no temporary file: the bytes go out as write() is called, and a
// failure part-way cannot be undone (a pipe has no "old content" to keep).
class AtomicFile {
 public:
  /// Opens the save of `target` (Note [Special targets]): creates the temporary file beside it, or
  /// opens a special target for writing; FileError (one line) when it cannot.
  explicit AtomicFile(const std::filesystem::path& target);
  /// Removes the temporary file unless commit() renamed it into place.
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  const std::filesystem::path& target() const { return target_; }
  /// Where the content goes; another program may write it (gnuplot writes a PNG there). For a
  /// target written through (Note [Special targets]) it is the target itself.
  const std::filesystem::path& temp_path() const { return temp_.empty() ? target_ : temp_; }
  /// True when the target is written through rather than replaced (Note [Special targets]).
  bool writes_through() const { return through_; }

  void write(std::span<const std::uint8_t> bytes);
  void write(std::string_view text);
  /// fsync, rename over the target, fsync the folder. FileError on failure, the target untouched
  /// (unless only the folder's fsync failed, which the message says).
  void commit();

 private:
  [[noreturn]] void fail(std::string_view what, int err) const;
  void open_through(const std::filesystem::path& real, int dup_of);

  std::filesystem::path target_;
  std::filesystem::path real_;    // what is replaced: target_, or the file its links lead to
  std::filesystem::path folder_;  // real_'s folder
  std::filesystem::path temp_;    // empty once renamed, or when written through
  Fd fd_;
  bool through_ = false;
  bool watched_ = false;            // an OutputSet wants its SHA-256 (SaveWatch)
  std::unique_ptr<Sha256> hasher_;  // of what write() wrote through, when watched
  int slot_ = -1;                   // in the table of Note [Interrupted saves]
};

/// Saves `content` as `path` through an AtomicFile.
void write_file_atomic(const std::filesystem::path& path, std::string_view content);
void write_file_atomic(const std::filesystem::path& path, std::span<const std::uint8_t> content);

/// Checks that `target` can be saved, before the work, by the save's own operations: an
/// AtomicFile opened and dropped (its temporary file created beside the target and removed), so
/// the same FileError, in one line, as the save would give. A FIFO or a character device is not
/// opened (Note [Special targets]: opening a FIFO's writing end and closing it would end its
/// reader's input). Creates nothing that stays.
void check_can_save(const std::filesystem::path& target);

/// Removes the temporary files of Note [Atomic save] for the targets named `names` in `folder`
/// (".NAME.tmp-XXXXXX" and nothing else) that no live process holds: a killed run's leftovers.
/// Never follows a link, never removes anything on another file system than `folder`'s (a mount
/// inside it). Returns how many; a missing or unreadable folder gives 0.
std::size_t remove_stale_temp_files(const std::filesystem::path& folder,
                                    std::span<const std::string> names);

/// SHA-256 (OpenSSL's libcrypto) as 64 lowercase hex digits.
std::string sha256_hex(std::span<const std::uint8_t> bytes);
/// SHA-256 of a file's content, read in pieces (memory bounded): FileError when it cannot be read.
std::string sha256_of_file(const std::filesystem::path& path);

// Note [Watched saves]
// An OutputSet must know which of its files this run saved, and their SHA-256, to write its
// manifest. A SaveWatch registers a folder (by device and inode, whatever path names it) and the
// names of the files in it; while it lives, every AtomicFile committed to one of them records the
// SHA-256 of the bytes it put in place (read back from the temporary file just before the rename,
// so also what gnuplot wrote) and the device and inode of the file it left.
class SaveWatch {
 public:
  struct Saved {
    std::string sha256;
    std::uint64_t dev = 0, ino = 0;  ///< the saved file's, right after the save
  };
  /// FileError when `folder` cannot be stat'ed.
  SaveWatch(const std::filesystem::path& folder, std::vector<std::string> names);
  ~SaveWatch();
  SaveWatch(const SaveWatch&) = delete;
  SaveWatch& operator=(const SaveWatch&) = delete;

  /// The last save of `name` while this watch lived, if any.
  std::optional<Saved> saved(std::string_view name) const;

 private:
  friend class AtomicFile;
  std::uint64_t dev_ = 0, ino_ = 0;
  std::vector<std::string> names_;
  std::vector<std::pair<std::string, Saved>> saved_;  // guarded by the registry's mutex
};

// Note [Interrupted saves]
// A program that is interrupted (Ctrl-C: SIGINT; kill: SIGTERM) while an AtomicFile is open must
// not leave its temporary file behind. remove_temp_files_on_signal() installs handlers that
// unlink every open AtomicFile's temporary file (a fixed table of their paths, filled as they are
// created: unlink is async-signal-safe) and then die of the same signal, so the shell reports
// 130 or 143 as for any interrupted program. SIGKILL cannot be caught: remove_stale_temp_files
// at the next start cleans up after it.

/// Installs the handlers of Note [Interrupted saves] (once; later calls do nothing).
void remove_temp_files_on_signal();

}  // namespace stepgrad
