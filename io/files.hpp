// Writing output files so that a failure never leaves a half-written one (RELIABILITY R16).
#pragma once

#include <filesystem>
#include <string_view>

namespace stepgrad {

/// Writes `content` to a temporary file in the same folder, fsyncs it, renames it over `path`
/// and fsyncs the folder. On any failure the previous file is untouched, no temporary file is
/// left, and std::runtime_error says which file and why, in one line.
void write_file_atomic(const std::filesystem::path& path, std::string_view content);

}  // namespace stepgrad
