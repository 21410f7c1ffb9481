// The output folder's checks, in the user's terms.
#include <stepgrad/cli/output_folder.hpp>

#include <stdexcept>
#include <system_error>
#include <utility>

#include <fmt/format.h>

#include <stepgrad/io/files.hpp>

namespace stepgrad::cli {

namespace {

// The checks of an output folder's path, in the user's terms (create_output_folder).
void check_output_path(const std::filesystem::path& dir, std::string_view option) {
  namespace fs = std::filesystem;
  // The path as a message may show it: on one line, a control character written as \n or \xNN.
  std::string shown;
  for (const char c : dir.string()) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20) {
      shown += c;
    } else {
      shown += c == '\n' ? std::string("\\n") : fmt::format("\\x{:02x}", u);
    }
  }
  const auto fail = [&](std::string_view why) {
    throw std::runtime_error(fmt::format("{} {}: {}", option, shown, why));
  };
  if (shown.empty()) fail("names no folder");
  if (shown != dir.string()) fail("holds a control character; name the folder without one");
  // The first part of the path that is not a folder says what is wrong, in plain words.
  fs::path prefix;
  for (const fs::path& part : dir) {
    prefix /= part;
    std::error_code ec;
    const fs::file_status st = fs::symlink_status(prefix, ec);
    if (fs::is_symlink(st) && !fs::exists(prefix, ec)) {
      fail(fmt::format("{} is a link to nothing (a dangling symlink)", prefix.string()));
    }
    if (fs::exists(prefix, ec) && !fs::is_directory(prefix, ec)) {
      fail(fmt::format("{} is a file, not a folder", prefix.string()));
    }
  }
}

}  // namespace

void create_output_folder(const std::filesystem::path& dir, std::string_view option) {
  check_output_path(dir, option);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    throw std::runtime_error(
        fmt::format("{} {}: cannot create the folder: {}", option, dir.string(), ec.message()));
  }
  // No sweep of the folder: each save cleans up after its own name (Note [Atomic save]), and
  // another program's temporary files are not ours to remove.
}

OutputSet open_output_set(const std::filesystem::path& dir, std::string_view option,
                          std::vector<std::string> owned) {
  check_output_path(dir, option);  // OutputSet creates the folder and cleans up after killed runs
  try {
    return OutputSet(dir, std::move(owned));
  } catch (const FileError& e) {
    throw std::runtime_error(fmt::format("{} {}: {}", option, dir.string(), e.why()));
  }
}

std::string final_message(const OutputSet& set, std::string_view name, std::string message) {
  const std::string staged = set.path(name).string();
  const std::string final_path = (set.dir() / name).string();
  for (std::size_t at = message.find(staged); at != std::string::npos;
       at = message.find(staged, at + final_path.size())) {
    message.replace(at, staged.size(), final_path);
  }
  return message;
}

}  // namespace stepgrad::cli
