// How a program ends: its output checked.
#include <stepgrad/cli/program.hpp>

#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <fstream>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

namespace stepgrad::cli {

std::size_t evaluation_threads() {
  return std::clamp<std::size_t>(std::thread::hardware_concurrency(), 1, 2);
}

namespace {

// The number after `key` in a "key: 123 kB" line of a /proc file, in bytes; nullopt if absent.
std::optional<std::uint64_t> proc_kb(const char* file, std::string_view key) {
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) != 0) continue;
    std::uint64_t kb = 0;
    const std::size_t at = line.find_first_of("0123456789");
    if (at == std::string::npos) return std::nullopt;
    const auto [end, ec] = std::from_chars(line.data() + at, line.data() + line.size(), kb);
    if (ec != std::errc()) return std::nullopt;
    return kb * 1024;
  }
  return std::nullopt;
}

// A whole number held alone in a file (cgroup's memory.max, memory.current); nullopt for "max".
std::optional<std::uint64_t> number_in(const std::string& file) {
  std::ifstream in(file);
  std::string text;
  if (!(in >> text)) return std::nullopt;
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}

}  // namespace

MemoryRoom memory_room() {
  MemoryRoom room{std::numeric_limits<std::uint64_t>::max(), "that can be had"};
  const auto bound = [&](std::optional<std::uint64_t> bytes, std::string_view limit) {
    if (bytes && *bytes < room.bytes) room = {*bytes, std::string(limit)};
  };
  bound(proc_kb("/proc/meminfo", "MemAvailable:"), "available on this machine");
  // cgroup v2: "0::/path" in /proc/self/cgroup names the group's folder.
  std::ifstream groups("/proc/self/cgroup");
  for (std::string line; std::getline(groups, line);) {
    if (line.rfind("0::", 0) != 0) continue;
    const std::string dir = "/sys/fs/cgroup" + line.substr(3);
    const auto max = number_in(dir + "/memory.max"), used = number_in(dir + "/memory.current");
    if (max && used) bound(*max > *used ? *max - *used : 0, "left in its cgroup (memory.max)");
  }
  // The limits count what the process has mapped already (VmSize, VmData).
  const auto left_under = [&](int resource, const char* key, std::string_view limit) {
    rlimit r{};
    if (::getrlimit(resource, &r) != 0 || r.rlim_cur == RLIM_INFINITY) return;
    const std::uint64_t used = proc_kb("/proc/self/status", key).value_or(0);
    bound(r.rlim_cur > used ? r.rlim_cur - used : 0, limit);
  };
  left_under(RLIMIT_AS, "VmSize:", "left under its address-space limit (ulimit -v)");
  left_under(RLIMIT_DATA, "VmData:", "left under its data limit (ulimit -d)");
  return room;
}

void check_memory(std::uint64_t bytes, std::string_view sizes) {
  const MemoryRoom room = memory_room();
  if (bytes <= room.bytes) return;
  const auto gb = [](std::uint64_t b) { return static_cast<double>(b) / 1e9; };
  throw std::runtime_error(fmt::format(
      "{} need about {:.1f} GB of memory, more than the {:.1f} GB {}; choose smaller sizes", sizes,
      gb(bytes), gb(room.bytes), room.limit));
}

std::string conversion_message(const CLI::App& app, const CLI::ConversionError& e) {
  // CLI11 2.x words it "Could not convert: --full = abc" (CLI::ConversionError).
  const std::string what = e.what();
  constexpr std::string_view kPrefix = "Could not convert: ";
  const std::size_t equals = what.find(" = ");
  if (what.rfind(kPrefix, 0) != 0 || equals == std::string::npos) return what;
  const std::string name = what.substr(kPrefix.size(), equals - kPrefix.size());
  const std::string value = what.substr(equals + 3);
  const CLI::Option* option = app.get_option_no_throw(name);
  std::string expected = "another value";
  if (option != nullptr && option->get_expected_max() == 0) {
    expected = "no value, true or false";  // a flag: --full, --full=true
  } else if (option != nullptr && !option->get_type_name().empty()) {
    expected = option->get_type_name();
  }
  return fmt::format("{}: expected {}, found '{}'", name, expected, value);
}

int finish_output(std::string_view program, int status) {
  errno = 0;
  if (std::fflush(stdout) != 0 || std::ferror(stdout) != 0) {
    const int err = errno;
    fmt::print(stderr, "{}: error: cannot write the output: {}\n", program,
               err != 0 ? errno_text(err) : std::string("write error"));
    return 1;
  }
  return status;
}

}  // namespace stepgrad::cli
