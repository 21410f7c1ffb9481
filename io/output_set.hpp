// A program's output files, tied together by a manifest written last (R22 in docs/reliability.md):
// each file is saved atomically in place, and the manifest says which run wrote which bytes, so a
// reader can tell a whole set from a mix.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <stepgrad/io/files.hpp>

namespace stepgrad {

// Note [One set of outputs]
// 10_train writes metrics.csv, layers.csv, model.npz and three pictures into --out; each is saved
// atomically (Note [Atomic save]), but one after another, so a failure or a kill between two saves
// leaves a new model beside old metrics. The folder itself is never swapped, moved or recreated:
// its owner, mode, extended attributes, inode, subfolders, mounts and every file the program does
// not own stay as they are, and it works the same on a mount point, a bind mount, overlayfs, NFS
// or any file system without renameat2's flags or hard links. Instead, once its files are saved,
// the run writes the folder's MANIFEST, last, atomically (the pattern of TensorFlow's `checkpoint`
// index and of git's ref update): for each run whose files are in the folder, its id, its program
// and options, and each file's name and SHA-256. A reader (read_manifest, check_outputs) then
// knows whether files belong together: a file whose bytes are not the ones its run's entry
// lists was written by a run that did not finish (or changed since), and says so in one line.
//
// One MANIFEST serves every program writing into the folder: a run replaces the entries of the
// names it owns and keeps the others'. A name the run owns that the previous MANIFEST lists but
// this run did not write (a picture it skipped) is removed, if it still holds the bytes listed,
// so that it cannot pose as part of the new set. The MANIFEST's update is serialised by a lock
// on the folder itself (flock; no lock file); where the file system has no flock, runs that
// finish at the same instant may lose each other's entries, never their files.
inline constexpr std::string_view kManifestName = "MANIFEST";

class OutputSet {
 public:
  /// Gets `dir` ready for the files named `owned`: creates it if missing (a folder that exists
  /// is left as it is), and checks that each file can be saved there by the same operations the
  /// save uses (a temporary file created and removed). FileError (one line naming `dir`) when
  /// any of it fails, before the long work.
  OutputSet(const std::filesystem::path& dir, std::vector<std::string> owned);
  /// Without commit(), the files already saved stay, but no manifest names them: readers see
  /// they are not a finished run's.
  ~OutputSet();
  OutputSet(OutputSet&& other) noexcept;
  OutputSet(const OutputSet&) = delete;
  OutputSet& operator=(const OutputSet&) = delete;

  /// Where file `name` (one of `owned`) is saved: `dir`/`name`, saved atomically in place.
  std::filesystem::path path(std::string_view name) const;
  /// The output folder, as given.
  const std::filesystem::path& dir() const { return dir_; }
  /// The options line recorded in the manifest (by default, the command line the program got).
  void set_options(std::string options) { options_ = std::move(options); }
  /// This run's id in the manifest: the UTC time and 64 random bits, "20261206T194500Z-3f9a...".
  const std::string& run_id() const { return run_id_; }

  /// Writes the manifest, last: the files of `owned` this run saved, with their SHA-256, and
  /// removes the owned files it did not write that the previous manifest listed. FileError when
  /// a file this run saved was replaced since by another program (the manifest is then not
  /// written), or when the manifest cannot be saved.
  void commit();

 private:
  std::filesystem::path dir_;       // as given, for messages
  std::vector<std::string> owned_;  // names this program writes
  std::string program_, options_, run_id_;
  std::unique_ptr<SaveWatch> watch_;  // Note [Watched saves]
};

/// A folder's MANIFEST, parsed (Note [One set of outputs]).
struct Manifest {
  struct File {
    std::string name, sha256;
  };
  struct Run {
    std::string id, program, options;
    std::vector<File> files;
  };
  std::vector<Run> runs;

  /// The run that lists `name`, and its entry; nullptr when none does.
  const Run* run_of(std::string_view name, const File** file = nullptr) const;
  /// The text of the file.
  std::string text() const;
};

/// Parses a manifest strictly; std::invalid_argument (one line) on anything unexpected.
Manifest parse_manifest(std::string_view text);

/// The MANIFEST of `dir`, or nullopt when it has none. FileError when it cannot be read or parsed.
std::optional<Manifest> read_manifest(const std::filesystem::path& dir);

/// Checks the files `names` of folder `dir` against its MANIFEST: FileError, in one line, when one
/// is missing, is not listed, holds other bytes than its run wrote, or when they come from
/// different runs. Returns false when the folder has no MANIFEST (nothing to check), else true.
bool check_outputs(const std::filesystem::path& dir, std::span<const std::string> names);

/// Checks one file already read (`bytes`, a model) against the MANIFEST of its folder: FileError in
/// one line when the manifest lists the file with other bytes. A folder without a MANIFEST, or
/// one that does not list the file: nothing to check (false).
bool check_output_bytes(const std::filesystem::path& file, std::span<const std::uint8_t> bytes);

}  // namespace stepgrad
