// The tape's DOT file, and its PNG through graphviz's `dot`.
#include <stepgrad/cli/dot.hpp>

#include <fcntl.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>

#include <fmt/format.h>

#include <stepgrad/autodiff/graphviz.hpp>
#include <stepgrad/cli/output_folder.hpp>
#include <stepgrad/io/files.hpp>
#include <stepgrad/io/process.hpp>

namespace stepgrad::cli {

namespace {
// Runs `dot -Tpng -o png dot_file`; returns one line saying what came of it.
std::string render_png(const std::filesystem::path& dot_file, const std::filesystem::path& png) {
  const std::string dot_path = dot_file.string(), png_path = png.string();
  const Fd null(::open("/dev/null", O_RDWR | O_CLOEXEC));
  ChildProcess dot("dot", {"-Tpng", "-o", png_path, dot_path}, null.get(), null.get());
  if (dot.error() == ENOENT)
    return fmt::format("{} not drawn: graphviz is not installed (apt-get install graphviz)",
                       png_path);
  if (dot.error() != 0)
    return fmt::format("{} not drawn: cannot run dot: {}", png_path, errno_text(dot.error()));
  const int status = dot.wait();
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !std::filesystem::exists(png))
    return fmt::format("{} not drawn: dot failed ({})", png_path, describe_status(status));
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
