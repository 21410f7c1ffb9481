// Files, once for every layer above: opening an input without blocking and reading it with a
// bound, and saving atomically so that a failure never leaves a half-written file (R16, R21-R24
// in docs/reliability.md).
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace stepgrad {

/// A file that cannot be read or written. The one-line message is "PATH: why".
class FileError : public std::runtime_error {
 public:
  FileError(const std::string& path, const std::string& why)
      : std::runtime_error(path + ": " + why), why_(why) {}
  /// The message without the path.
  const std::string& why() const { return why_; }

 private:
  std::string why_;
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

/// Opens `path` for reading without ever blocking, and checks that it is a regular file: a
/// folder, a FIFO, a socket or a device is a FileError at once ("PATH: is a FIFO, not a file").
InputFile open_input(const std::filesystem::path& path);

/// Reads out.size() bytes at the file's current offset; a FileError when the file ends first.
void read_exact(InputFile& file, std::span<std::uint8_t> out);

/// The whole file, when it holds at most max_bytes: its size is checked before anything is
/// read or allocated (R21), so memory is bounded by max_bytes whatever the file's size.
std::vector<std::uint8_t> read_file(const std::filesystem::path& path, std::uint64_t max_bytes);

// Note [Atomic save]
// Every file stepgrad writes is saved the same way: written to a temporary file in the target's
// folder (".NAME.tmp-XXXXXX", never a name of the program's outputs), flushed to disk (fsync),
// renamed over the target, and the folder flushed, so that readers and a crash see the old file or
// the new one, never a mix (R16). The temporary file takes the mode of the file it replaces, else
// 0644. Until the rename, any failure removes the temporary file and leaves the old file as it
// was; so does SIGINT or SIGTERM (Note [Interrupted saves]). A file lock on the temporary file
// tells a later run whether its writer is still alive (remove_stale_temp_files).
class AtomicFile {
 public:
  /// Creates the temporary file beside `target`; FileError when it cannot.
  explicit AtomicFile(const std::filesystem::path& target);
  /// Removes the temporary file unless commit() renamed it into place.
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  const std::filesystem::path& target() const { return target_; }
  /// Where the content goes; another program may write it (gnuplot writes a PNG there).
  const std::filesystem::path& temp_path() const { return temp_; }

  void write(std::span<const std::uint8_t> bytes);
  void write(std::string_view text);
  /// fsync, rename over the target, fsync the folder. FileError on failure, the target untouched
  /// (unless only the folder's fsync failed, which the message says).
  void commit();

 private:
  [[noreturn]] void fail(std::string_view what, int err) const;

  std::filesystem::path target_;
  std::filesystem::path folder_;
  std::filesystem::path temp_;  // empty once renamed
  Fd fd_;
  int slot_ = -1;  // in the table of Note [Interrupted saves]
};

/// Saves `content` as `path` through an AtomicFile.
void write_file_atomic(const std::filesystem::path& path, std::string_view content);
void write_file_atomic(const std::filesystem::path& path, std::span<const std::uint8_t> content);

/// Removes the temporary files of Note [Atomic save] in `folder` that no live process holds
/// (a killed run's leftovers); returns how many. Missing or unreadable folders: 0.
std::size_t remove_stale_temp_files(const std::filesystem::path& folder);

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
