// How a program ends: its output checked.
#include <stepgrad/cli/program.hpp>

#include <algorithm>
#include <cerrno>
#include <string>
#include <thread>

namespace stepgrad::cli {

std::size_t evaluation_threads() {
  return std::clamp<std::size_t>(std::thread::hardware_concurrency(), 1, 2);
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
