// A program's output folder, replaced as one set (R22 in docs/reliability.md): the new files are
// written into a staging folder beside it, which then takes the folder's place in one rename.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <stepgrad/io/files.hpp>

namespace stepgrad {

// Note [One set of outputs]
// 10_train writes metrics.csv, model.npz and two pictures; each is saved atomically (Note [Atomic
// save]), but one after another, so a failure or a kill between two saves would leave a new
// model beside old metrics. An OutputSet writes them into a staging folder beside the output
// folder (".NAME.stage-XXXXXX", same file system), hard-links into it every file of the folder
// that the program does not own (other programs' outputs stay), and then swaps the two folders
// with one renameat2(RENAME_EXCHANGE): readers and a crash see the old set or the new one, never
// a mix. A file the program owns but did not write this time (a picture it skipped) is not taken
// from the old set: it would not belong with the new files. The staging folder is locked
// (flock) while its program lives, so a later run removes only the leftovers of dead ones.
class OutputSet {
 public:
  /// Gets `dir` ready for a new set of the files named `owned`: creates it if missing, creates
  /// the staging folder beside it and checks that it can be written, and removes what killed
  /// runs left. FileError (one line naming `dir`) when any of it fails, before the long work:
  /// also for the current folder or one that holds it, which are never swapped whole.
  OutputSet(const std::filesystem::path& dir, std::vector<std::string> owned);
  /// Removes the staging folder unless commit() put it in place.
  ~OutputSet();
  OutputSet(OutputSet&& other) noexcept;
  OutputSet(const OutputSet&) = delete;
  OutputSet& operator=(const OutputSet&) = delete;

  /// Where file `name` (one of `owned`) is written before commit().
  std::filesystem::path path(std::string_view name) const;
  /// The output folder, as given.
  const std::filesystem::path& dir() const { return dir_; }

  /// Carries the folder's other files over, then puts the new set in the folder's place in one
  /// rename and removes the old set. FileError on failure, the old set untouched.
  void commit();

 private:
  std::filesystem::path dir_;       // as given, for messages
  std::filesystem::path real_;      // dir_ with links resolved: the folder that is swapped
  std::filesystem::path stage_;     // empty once committed
  std::vector<std::string> owned_;  // names this program writes
  Fd lock_;                         // the staging folder, flock'ed
};

}  // namespace stepgrad
