// The output folder's checks, in the user's terms.
#include <stepgrad/cli/output_folder.hpp>

#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>
#include <system_error>
#include <utility>

#include <fmt/format.h>

#include <stepgrad/io/files.hpp>

namespace stepgrad::cli {

namespace {

// What is wrong with `dir` as the path of a folder to write in, in the user's terms: the first
// part of it that is not a folder ("a is a file, not a folder"), or "" when none is.
std::string folder_path_problem(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  fs::path prefix;
  for (const fs::path& part : dir) {
    prefix /= part;
    std::error_code ec;
    const fs::file_status st = fs::symlink_status(prefix, ec);
    if (fs::is_symlink(st)) {
      std::error_code target_ec;
      const bool target = fs::exists(prefix, target_ec);
      if (target_ec.value() == ELOOP) {
        return fmt::format("{} is a loop of symbolic links", prefix.string());
      }
      if (!target)
        return fmt::format("{} is a link to nothing (a dangling symlink)", prefix.string());
    }
    if (fs::exists(prefix, ec) && !fs::is_directory(prefix, ec)) {
      return fmt::format("{} is a file, not a folder", prefix.string());
    }
  }
  return "";
}

// The checks of an output folder's path, in the user's terms (create_output_folder).
void check_output_path(const std::filesystem::path& dir, std::string_view option) {
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
  if (const std::string why = folder_path_problem(dir); !why.empty()) fail(why);
}

}  // namespace

std::string output_file_problem(const std::filesystem::path& file, bool folder_made) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!file.has_filename() || fs::is_directory(file, ec)) return "names a folder, not a file";
  const fs::path folder = file.parent_path().empty() ? fs::path(".") : file.parent_path();
  if (const std::string why = folder_path_problem(folder); !why.empty()) return why;
  if (!fs::is_directory(folder, ec)) {
    if (!folder_made) return fmt::format("its folder {} does not exist", folder.string());
    // The save makes it: the part of its path that exists must take a new folder. Tried the
    // way the save will do it, a folder made there (and removed), so also as root.
    fs::path existing = folder, missing;
    while (!existing.empty() && !fs::exists(existing, ec)) {
      missing = existing.filename();
      existing = existing.parent_path();
    }
    std::string probe = fmt::format("{}/.{}.tmp-XXXXXX", existing.empty() ? "." : existing.string(),
                                    missing.string());
    if (::mkdtemp(probe.data()) == nullptr) {
      return fmt::format("cannot make its folder {}: {}", folder.string(), errno_text(errno));
    }
    ::rmdir(probe.c_str());
    return "";
  }
  try {
    check_can_save(file);  // the save's own operations (R36)
  } catch (const FileError& e) {
    return e.why();
  }
  return "";
}

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
