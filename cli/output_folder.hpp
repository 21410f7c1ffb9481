// A program's output folder: its path checked in the user's terms before any work ("--out a/b:
// a is a file, not a folder"), and the OutputSet its files land in together (R24-R26 in
// docs/reliability.md).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <stepgrad/io/output_set.hpp>

namespace stepgrad::cli {

/// Creates the folder `dir` (given as option `option`) before any work, after checking its path
/// in the user's terms ("--out a/b: a is a file, not a folder"), and removes the temporary files
/// a killed run left there (R24). Throws std::runtime_error with one line.
void create_output_folder(const std::filesystem::path& dir, std::string_view option);

/// What keeps `file`, an option's output file (--dot, --dump, --predictions), from being saved,
/// checked before any work and creating nothing (R36): "" when it can be saved, else one line
/// in the user's terms: it names a folder; a part of its folder's path is a file, a link to
/// nothing or a loop of links; its folder does not exist (unless `folder_made`: the save makes
/// it, as --dot's, and the part that exists must be writable); or the save's own operations
/// fail there (check_can_save in io/files.hpp: a temporary file created beside it and removed).
std::string output_file_problem(const std::filesystem::path& file, bool folder_made);

/// Gets the output folder `dir` (given as option `option`) ready before any long work (R26): an
/// OutputSet for the files named `owned` (Note [One set of outputs] in io/output_set.hpp), which
/// creates the folder, checks that it can be written and removes what killed runs left (R24).
/// Throws std::runtime_error with one line in the user's terms ("--out a/b: a is a file, not a
/// folder").
OutputSet open_output_set(const std::filesystem::path& dir, std::string_view option,
                          std::vector<std::string> owned);

/// The line to print for a file of `set` once it is committed: `message` (a plot's result) with
/// the staging path of `name` replaced by its final path in the output folder.
std::string final_message(const OutputSet& set, std::string_view name, std::string message);

}  // namespace stepgrad::cli
