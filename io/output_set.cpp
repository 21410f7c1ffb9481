// Note [One set of outputs]: the files saved in place, the manifest written last, its readers.
#include <stepgrad/io/output_set.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <ctime>
#include <stdexcept>
#include <system_error>
#include <utility>

#include <fmt/format.h>

namespace stepgrad {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kHeader = "stepgrad manifest 1";
constexpr std::uint64_t kMaxManifestBytes = std::uint64_t{1} << 20;

// A manifest's free text on one line: a backslash and control characters as escapes.
std::string escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\\') {
      out += "\\\\";
    } else if (u < 0x20 || u == 0x7f) {
      out += fmt::format("\\x{:02x}", u);
    } else {
      out += c;
    }
  }
  return out;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

std::string unescape(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\') {
      out += s[i];
    } else if (i + 1 < s.size() && s[i + 1] == '\\') {
      out += '\\';
      ++i;
    } else if (i + 3 < s.size() && s[i + 1] == 'x' && hex_digit(s[i + 2]) >= 0 &&
               hex_digit(s[i + 3]) >= 0) {
      out += static_cast<char>(hex_digit(s[i + 2]) * 16 + hex_digit(s[i + 3]));
      i += 3;
    } else {
      throw std::invalid_argument(fmt::format("a bad escape at byte {} of '{}'", i, escape(s)));
    }
  }
  return out;
}

bool is_sha256(std::string_view s) {
  return s.size() == 64 &&
         std::all_of(s.begin(), s.end(), [](char c) { return hex_digit(c) >= 0; });
}

bool valid_name(std::string_view name) {
  return !name.empty() && name != "." && name != ".." && name != kManifestName &&
         std::none_of(name.begin(), name.end(), [](char c) {
           return c == '/' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
         });
}

// The program's name and its arguments, as the kernel has them (/proc/self/cmdline), quoted as
// a shell would need them.
std::pair<std::string, std::string> command_line() {
  std::string all;
  try {
    const std::vector<std::uint8_t> bytes = [] {
      // /proc files report size 0: read them by hand, with a bound.
      std::vector<std::uint8_t> b;
      const Fd fd(::open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC));
      if (fd.get() < 0) return b;
      std::uint8_t buf[4096];
      for (ssize_t n; (n = ::read(fd.get(), buf, sizeof buf)) > 0 && b.size() < (1u << 16);) {
        b.insert(b.end(), buf, buf + n);
      }
      return b;
    }();
    all.assign(bytes.begin(), bytes.end());
  } catch (const std::exception&) {
    return {};
  }
  std::vector<std::string> args;
  for (std::size_t at = 0; at < all.size();) {
    const std::size_t end = std::min(all.find('\0', at), all.size());
    args.push_back(all.substr(at, end - at));
    at = end + 1;
  }
  if (args.empty()) return {};
  std::string options;
  for (std::size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    const bool plain = !a.empty() && std::all_of(a.begin(), a.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
             std::string_view("-_=./,:+@%").find(c) != std::string_view::npos;
    });
    if (!options.empty()) options += ' ';
    if (plain) {
      options += a;
    } else {
      options += '\'';
      for (char c : a) options += c == '\'' ? std::string("'\\''") : std::string(1, c);
      options += '\'';
    }
  }
  return {fs::path(args[0]).filename().string(), options};
}

std::string new_run_id() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  ::gmtime_r(&now, &utc);
  std::uint64_t r = 0;
  if (::getrandom(&r, sizeof r, 0) != static_cast<ssize_t>(sizeof r)) {
    r = static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^
        (static_cast<std::uint64_t>(::getpid()) << 32);
  }
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &utc);
  return fmt::format("{}-{:016x}", stamp, r);
}

// The folder's lock for the manifest's update: flock on the folder itself, no lock file. None
// where the file system has no flock (the update then runs unserialised, Note [One set of
// outputs]).
Fd lock_folder(const fs::path& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return fd;
  while (::flock(fd.get(), LOCK_EX) != 0) {
    if (errno != EINTR) break;
  }
  return fd;
}

}  // namespace

// ---- The manifest -------------------------------------------------------------------------------

const Manifest::Run* Manifest::run_of(std::string_view name, const File** file) const {
  for (const Run& r : runs) {
    for (const File& f : r.files) {
      if (f.name == name) {
        if (file != nullptr) *file = &f;
        return &r;
      }
    }
  }
  return nullptr;
}

std::string Manifest::text() const {
  std::string s = fmt::format(
      "{}\n# The files of the runs in this folder, written last by each run (Note [One set of "
      "outputs]).\n",
      kHeader);
  for (const Run& r : runs) {
    s +=
        fmt::format("run {}\nprogram {}\noptions {}\n", r.id, escape(r.program), escape(r.options));
    for (const File& f : r.files) s += fmt::format("file {} {}\n", f.sha256, f.name);
  }
  return s;
}

Manifest parse_manifest(std::string_view text) {
  Manifest m;
  std::size_t line_no = 0;
  const auto bad = [&](std::string_view why) -> std::invalid_argument {
    return std::invalid_argument(fmt::format("line {}: {}", line_no, why));
  };
  if (text.empty() || text.back() != '\n') {
    line_no = 1;
    throw bad("the file does not end with a newline (cut short?)");
  }
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t end = text.find('\n', pos);
    const std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (line_no == 1) {
      if (line != kHeader) throw bad(fmt::format("expected '{}'", kHeader));
      continue;
    }
    if (line.starts_with('#')) continue;
    const std::size_t sp = line.find(' ');
    const std::string_view key = line.substr(0, sp);
    const std::string_view value = sp == std::string_view::npos ? "" : line.substr(sp + 1);
    if (key == "run") {
      if (value.empty() || value.find(' ') != std::string_view::npos) throw bad("a bad run id");
      for (const Manifest::Run& r : m.runs) {
        if (r.id == value) throw bad(fmt::format("run {} appears twice", value));
      }
      m.runs.push_back({std::string(value), "", "", {}});
      continue;
    }
    if (m.runs.empty()) throw bad(fmt::format("'{}' before any run", escape(key)));
    Manifest::Run& r = m.runs.back();
    if (key == "program") {
      r.program = unescape(value);
    } else if (key == "options") {
      r.options = unescape(value);
    } else if (key == "file") {
      const std::size_t sp2 = value.find(' ');
      const std::string_view sha = value.substr(0, sp2);
      const std::string_view name = sp2 == std::string_view::npos ? "" : value.substr(sp2 + 1);
      if (!is_sha256(sha)) throw bad("a file's SHA-256 is not 64 hex digits");
      if (!valid_name(name)) throw bad(fmt::format("a bad file name '{}'", escape(name)));
      if (m.run_of(name) != nullptr) throw bad(fmt::format("{} is listed twice", name));
      r.files.push_back({std::string(name), std::string(sha)});
    } else {
      throw bad(fmt::format("unknown line '{}'", escape(line.substr(0, 40))));
    }
  }
  return m;
}

std::optional<Manifest> read_manifest(const fs::path& dir) {
  const fs::path path = dir / kManifestName;
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(path, ec))) return std::nullopt;
  const std::vector<std::uint8_t> bytes = read_file(path, kMaxManifestBytes);
  try {
    return parse_manifest(
        std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  } catch (const std::invalid_argument& e) {
    throw FileError(path.string(), fmt::format("not a stepgrad manifest: {}", e.what()));
  }
}

namespace {
std::string run_text(const Manifest::Run& r) {
  return fmt::format("run {} of {}", r.id, r.program.empty() ? "?" : r.program);
}
}  // namespace

bool check_outputs(const fs::path& dir, std::span<const std::string> names) {
  const std::optional<Manifest> m = read_manifest(dir);
  if (!m) return false;
  const fs::path manifest = dir / kManifestName;
  const Manifest::Run* first = nullptr;
  std::string first_name;
  for (const std::string& name : names) {
    const fs::path path = dir / name;
    const Manifest::File* f = nullptr;
    const Manifest::Run* r = m->run_of(name, &f);
    if (r == nullptr) {
      throw FileError(path.string(),
                      fmt::format("not listed in {}: no finished run wrote it", manifest.string()));
    }
    std::error_code ec;
    if (!fs::exists(path, ec)) {
      throw FileError(path.string(), fmt::format("missing ({} lists it, from {})",
                                                 manifest.string(), run_text(*r)));
    }
    if (sha256_of_file(path) != f->sha256) {
      throw FileError(path.string(),
                      fmt::format("not the file {} wrote ({}): a later run did not finish, or it "
                                  "was changed since",
                                  run_text(*r), manifest.string()));
    }
    if (first == nullptr) {
      first = r;
      first_name = name;
    } else if (first != r) {
      throw FileError(dir.string(), fmt::format("{} and {} come from different runs ({}; {})",
                                                first_name, name, run_text(*first), run_text(*r)));
    }
  }
  return true;
}

bool check_output_bytes(const fs::path& file, std::span<const std::uint8_t> bytes) {
  const fs::path dir = file.parent_path().empty() ? fs::path(".") : file.parent_path();
  const std::optional<Manifest> m = read_manifest(dir);
  if (!m) return false;
  const Manifest::File* f = nullptr;
  const Manifest::Run* r = m->run_of(file.filename().string(), &f);
  if (r == nullptr) return false;
  if (sha256_hex(bytes) != f->sha256) {
    throw FileError(file.string(),
                    fmt::format("not the file {} wrote ({} lists other bytes): a later run did not "
                                "finish, or it was changed since",
                                run_text(*r), (dir / kManifestName).string()));
  }
  return true;
}

// ---- OutputSet ----------------------------------------------------------------------------------

OutputSet::OutputSet(const fs::path& dir, std::vector<std::string> owned)
    : dir_(dir), owned_(std::move(owned)) {
  const auto fail = [&](const std::string& why) { throw FileError(dir_.string(), why); };
  if (dir_.empty()) fail("names no folder");
  for (const std::string& name : owned_) {
    if (!valid_name(name)) fail(fmt::format("'{}' cannot be an output file's name", escape(name)));
  }
  std::error_code ec;
  fs::create_directories(dir_, ec);  // only what is missing: a folder that exists stays as it is
  if (ec) fail(fmt::format("cannot create the folder: {}", ec.message()));
  if (!fs::is_directory(dir_, ec)) fail("is not a folder");
  // Can each file be saved there? The same operations as the save (check_can_save).
  std::vector<std::string> probes = owned_;
  probes.emplace_back(kManifestName);
  for (const std::string& name : probes) {
    try {
      check_can_save(dir_ / name);
    } catch (const FileError& e) {
      fail(fmt::format("cannot save {} there: {}", name, e.why()));
    }
  }
  std::tie(program_, options_) = command_line();
  run_id_ = new_run_id();
  watch_ = std::make_unique<SaveWatch>(dir_, owned_);
}

OutputSet::OutputSet(OutputSet&& other) noexcept = default;

OutputSet::~OutputSet() = default;

fs::path OutputSet::path(std::string_view name) const { return dir_ / name; }

void OutputSet::commit() {
  const auto fail = [&](const fs::path& p, const std::string& why) {
    throw FileError(p.string(), why);
  };
  if (!watch_) fail(dir_, "this set is committed already");
  const Fd lock = lock_folder(dir_);  // until the manifest is in place
  std::optional<Manifest> old;
  try {
    old = read_manifest(dir_);
  } catch (const FileError&) {
    old.reset();  // unreadable or not ours: replaced, and no file removed on its word
  }
  struct stat dir_st {};
  if (::stat(dir_.c_str(), &dir_st) != 0) fail(dir_, "cannot stat the folder");
  Manifest::Run run{run_id_, program_, options_, {}};
  std::vector<std::string> drop;  // owned files of an earlier run, not written this time
  for (const std::string& name : owned_) {
    const fs::path path = dir_ / name;
    if (const std::optional<SaveWatch::Saved> saved = watch_->saved(name)) {
      // The same file (an inode number can be reused at once: the bytes are compared too; a
      // FIFO or a device written through is not read back).
      struct stat st {};
      bool same =
          ::stat(path.c_str(), &st) == 0 && st.st_dev == saved->dev && st.st_ino == saved->ino;
      if (same && S_ISREG(st.st_mode)) {
        try {
          same = sha256_of_file(path) == saved->sha256;
        } catch (const FileError&) {
          same = false;
        }
      }
      if (!same) {
        fail(path, fmt::format("was replaced by another program after this run saved it; {} not "
                               "written",
                               kManifestName));
      }
      run.files.push_back({name, saved->sha256});
      continue;
    }
    const Manifest::File* f = nullptr;
    if (!old || old->run_of(name, &f) == nullptr) continue;  // not ours to remove
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_dev != dir_st.st_dev)
      continue;
    try {
      if (sha256_of_file(path) == f->sha256) drop.push_back(name);  // still the old run's bytes
    } catch (const FileError&) {
    }
  }
  Manifest next;
  if (old) {
    for (Manifest::Run& r : old->runs) {
      std::erase_if(r.files, [&](const Manifest::File& f) {
        return std::find(owned_.begin(), owned_.end(), f.name) != owned_.end();
      });
      if (!r.files.empty()) next.runs.push_back(std::move(r));
    }
  }
  if (!run.files.empty()) next.runs.push_back(std::move(run));
  // First the files that would pose as new go, then the manifest that names the new set.
  for (const std::string& name : drop) {
    if (::unlink((dir_ / name).c_str()) != 0 && errno != ENOENT) {
      fail(dir_ / name, fmt::format("cannot remove it (an earlier run's file this run did not "
                                    "write): {}",
                                    errno_text(errno)));
    }
  }
  write_file_atomic(dir_ / kManifestName, next.text());
  watch_.reset();
}

}  // namespace stepgrad
