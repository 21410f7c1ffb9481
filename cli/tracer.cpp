// The tracer and the step debugger of --trace and --step.
#include <stepgrad/cli/tracer.hpp>

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include <stepgrad/autodiff/print.hpp>
#include <stepgrad/cli/program.hpp>

namespace stepgrad::cli {

namespace {

// The step debugger of --step: where it stops next, and its commands (attach_tracer).
class Stepper {
 public:
  explicit Stepper(bool on) : mode_(on ? Mode::each_node : Mode::off) {}

  // Called after node i was traced; reads commands until one moves on.
  void stop(Tape& t, std::size_t i, Sweep sweep) {
    if (mode_ == Mode::off) return;
    if (mode_ == Mode::to_backward && sweep == Sweep::Forward) return;
    mode_ = Mode::each_node;
    const bool terminal = isatty(STDIN_FILENO) != 0;
    for (;;) {
      fmt::print("[step] Enter next, p print, b to backward, c continue, q quit> ");
      std::fflush(stdout);
      std::string line;
      if (!std::getline(std::cin, line)) {  // end of input: continue to the end
        fmt::print("(end of input: continue)\n");
        mode_ = Mode::off;
        return;
      }
      if (!terminal) fmt::print("{}\n", line);  // a transcript shows what was typed
      const std::string command = trim(line);
      if (command.empty()) return;
      if (command == "p") {
        print_whole(t, i, sweep);
      } else if (command == "b") {
        if (sweep == Sweep::Forward) {
          mode_ = Mode::to_backward;
          return;
        }
        fmt::print("[step] already in the backward sweep\n");
        return;
      } else if (command == "c") {
        mode_ = Mode::off;
        return;
      } else if (command == "q") {
        fmt::print("[step] quit\n");
        throw QuitRequested{};
      } else {
        fmt::print("[step] unknown command '{}': Enter, p, b, c or q\n", command);
      }
    }
  }

 private:
  enum class Mode : std::uint8_t { off, each_node, to_backward };

  static std::string trim(const std::string& s) {
    const std::size_t first = s.find_first_not_of(" \t\r");
    if (first == std::string::npos) return "";
    return s.substr(first, s.find_last_not_of(" \t\r") - first + 1);
  }

  static void print_whole(Tape& t, std::size_t i, Sweep sweep) {
    PrintOptions whole = default_print_options();
    whole.summarise = false;
    Node& n = t.node(i);
    fmt::print("{}\n", show(t.name_of(i), n.value(), whole));
    if (sweep == Sweep::Backward) fmt::print("{}\n", show("grad " + t.name_of(i), n.grad(), whole));
  }

  Mode mode_;
};

}  // namespace

std::string indented(std::string_view text, std::string_view by) {
  std::string out{by};
  for (char c : text) {
    out += c;
    if (c == '\n') out += by;
  }
  return out;
}

void attach_tracer(Tape& tape, const CommonOptions& o) {
  if (!o.trace && !o.step) return;
  auto stepper = std::make_shared<Stepper>(o.step);
  tape.set_observer([stepper](Tape& t, std::size_t i, Sweep sweep) {
    Node& n = t.node(i);
    if (sweep == Sweep::Forward) {
      fmt::print("[trace] forward  {:>3}  {:<36} {}\n", i, t.label(i), describe(n.value()));
    } else {
      fmt::print("[trace] backward {:>3}  {:<36} grad {}\n", i, t.label(i), describe(n.grad()));
      const std::string rules = explain_backward(t, i);  // one line per input
      if (!rules.empty()) fmt::print("{}\n", indented(rules, "[trace]              "));
    }
    stepper->stop(t, i, sweep);
  });
}

}  // namespace stepgrad::cli
