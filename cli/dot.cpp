// The tape's DOT file, and its PNG through graphviz's `dot`.
#include <stepgrad/cli/dot.hpp>

#include <fcntl.h>
#include <sys/wait.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <stdexcept>

#include <fmt/format.h>

#include <stepgrad/autodiff/graphviz.hpp>
#include <stepgrad/cli/output_folder.hpp>
#include <stepgrad/cli/plots.hpp>
#include <stepgrad/io/files.hpp>
#include <stepgrad/io/process.hpp>

namespace stepgrad::cli {

namespace {
// Runs `dot -Tpng -o TEMP dot_file` with the time limit and saves TEMP as `png` atomically;
// returns one line saying what came of it. A dot past the limit and a full disk end the run
// (std::runtime_error, FileError): Note [Plots never stop a run] in plots.cpp.
std::string render_png(const std::filesystem::path& dot_file, const std::filesystem::path& png) {
  const std::string dot_path = dot_file.string(), png_path = png.string();
  std::optional<AtomicFile> out;  // dot writes its temporary file (Note [Atomic save])
  try {
    out.emplace(png);
  } catch (const FileError& e) {
    if (no_room(e.error())) throw;
    return fmt::format("{} not drawn: {}", png_path, e.why());
  }
  const Fd null(::open("/dev/null", O_RDWR | O_CLOEXEC));
  const std::chrono::milliseconds limit = picture_time_limit();
  ChildProcess dot("dot", {"-Tpng", "-o", out->temp_path().string(), dot_path}, null.get(),
                   null.get(), limit);
  if (dot.error() == ENOENT)
    return fmt::format("{} not drawn: graphviz is not installed (apt-get install graphviz)",
                       png_path);
  if (dot.error() != 0)
    return fmt::format("{} not drawn: cannot run dot: {}", png_path, errno_text(dot.error()));
  const int status = dot.wait();
  if (dot.timed_out()) {
    throw std::runtime_error(fmt::format(
        "{}: dot did not finish within {} and was stopped (STEPGRAD_PLOT_TIMEOUT sets the limit)",
        png_path, describe_limit(limit)));
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    // dot exits 1 when the disk fills under it: that is the run's failure (check_png throws).
    if (!out->writes_through()) (void)check_png(out->temp_path(), png, "dot");
    return fmt::format("{} not drawn: dot failed ({})", png_path, describe_status(status));
  }
  if (!out->writes_through()) {
    if (std::string why = check_png(out->temp_path(), png, "dot"); !why.empty())
      return fmt::format("{} not drawn: {}", png_path, why);
    try {
      out->commit();
    } catch (const FileError& e) {
      if (no_room(e.error())) throw;
      return fmt::format("{} not drawn: {}", png_path, e.why());
    }
  }
  return fmt::format("wrote {} (dot -Tpng {} -o {})", png_path, dot_path, png_path);
}
}  // namespace

void write_dot(Tape& tape, const std::string& file) {
  const std::filesystem::path dot_path(file);
  if (dot_path.has_parent_path()) create_output_folder(dot_path.parent_path(), "--dot's folder");
  write_file_atomic(dot_path, to_dot(tape));  // never a half-written file (R16)
  std::size_t edges = 0;
  bool gradients = false;  // a tape that never ran backward() has values only
  for (std::size_t i = 0; i < tape.size(); ++i) {
    Node& n = tape.node(i);  // gradient(): a parameter's lives in the Parameter
    edges += (n.a != Node::kNone ? 1u : 0u) + (n.b != Node::kNone ? 1u : 0u);
    gradients = gradients || (n.requires_grad && !n.gradient().empty());
  }
  fmt::print("  wrote {}: {} nodes, {} edges, each node with its value{}\n", file, tape.size(),
             edges, gradients ? " and gradient" : "");
  // Whether graphviz is installed depends on the machine: that line goes to stderr, so the
  // lesson on stdout is the same everywhere (tests/golden/).
  std::fflush(stdout);
  fmt::print(stderr, "  {}\n",
             render_png(dot_path, std::filesystem::path(dot_path).replace_extension(".png")));
}

}  // namespace stepgrad::cli
