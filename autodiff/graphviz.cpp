// The DOT writer. Labels are Graphviz HTML-like labels, so that each line can have its own
// font and colour; every piece of text from the tape goes through html_escape.
#include <stepgrad/autodiff/graphviz.hpp>

#include <algorithm>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include <stepgrad/autodiff/print.hpp>

namespace stepgrad {

namespace {

// Text for an HTML-like label: the markup characters as entities, control characters (a newline
// in a node's name) as spaces. UTF-8 ("·", "⊙") passes through: DOT files are UTF-8.
std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (const char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += static_cast<unsigned char>(c) < 0x20 ? ' ' : c;
    }
  }
  return out;
}

// Fill colour and style of a node: what kind of value it holds decides how it looks.
std::string_view node_style(const Node& n) {
  if (!n.is_leaf()) return R"(style="filled", fillcolor="#ffffff", color="#404040")";
  if (n.param != nullptr)  // what training changes: highlighted
    return R"(style="rounded,filled,bold", fillcolor="#ffd966", color="#b8860b", penwidth=2)";
  if (n.requires_grad) return R"(style="rounded,filled", fillcolor="#dbe8f8", color="#4a6fa5")";
  return R"(style="rounded,filled", fillcolor="#e8e8e8", color="#808080")";  // data: an image
}

}  // namespace

std::string to_dot(Tape& tape) {
  std::string out =
      "// stepgrad tape: nodes in recording order (a Wengert list); edges go from input to op.\n"
      "digraph tape {\n"
      "  rankdir=TB;  // data flows top to bottom, the loss at the bottom\n"
      "  node [shape=box, fontname=\"Helvetica\", fontsize=11, margin=\"0.15,0.06\"];\n"
      "  edge [color=\"#606060\", arrowsize=0.7];\n";
  out += fmt::format(
      "  labelloc=t; fontname=\"Helvetica\"; label=<<B>stepgrad tape: {} nodes</B><BR/>"
      "<FONT POINT-SIZE=\"10\">grey: data, gold: parameters, white: ops; "
      "<FONT COLOR=\"#b03030\">gradients and backward rules in red</FONT>, "
      "backward step n: the n-th node backward() reached</FONT>>;\n",
      tape.size());
  // The order the backward sweep visits the nodes that hold a gradient: from the last one
  // (the loss) down (Tape::sweep). gradient().empty(): Node::grad() would create a zero gradient
  // where none flowed.
  std::vector<std::size_t> backward_step(tape.size(), 0);
  std::size_t steps = 0;
  for (std::size_t i = tape.size(); i-- > 0;) {
    Node& n = tape.node(i);
    if (n.requires_grad && !n.gradient().empty()) backward_step[i] = ++steps;
  }
  for (std::size_t i = 0; i < tape.size(); ++i) {
    Node& n = tape.node(i);
    const std::string step =
        backward_step[i] > 0 ? fmt::format(", backward step {}", backward_step[i]) : "";
    std::string label = fmt::format(
        "<B>{}</B><BR/><FONT POINT-SIZE=\"9\" COLOR=\"#707070\">#{} {}{}</FONT><BR/>{}",
        html_escape(tape.label(i)), i, n.op->name, step, html_escape(describe(n.value())));
    if (backward_step[i] > 0) {
      label += fmt::format("<BR/><FONT COLOR=\"#b03030\">grad {}</FONT>",
                           html_escape(describe(n.grad())));
      // The op's backward rule with its numbers: what this node passed to its inputs.
      const std::string rules = explain_backward(tape, i);
      for (std::size_t at = 0; at < rules.size();) {
        const std::size_t end = std::min(rules.find('\n', at), rules.size());
        label += fmt::format("<BR/><FONT POINT-SIZE=\"9\" COLOR=\"#b03030\">{}</FONT>",
                             html_escape(std::string_view(rules).substr(at, end - at)));
        at = end + 1;
      }
    }
    out += fmt::format("  n{} [label=<{}>, {}];\n", i, label, node_style(n));
  }
  for (std::size_t i = 0; i < tape.size(); ++i) {
    const Node& n = tape.node(i);
    for (const std::uint32_t input : {n.a, n.b}) {
      if (input != Node::kNone) out += fmt::format("  n{} -> n{};\n", input, i);
    }
  }
  out += "}\n";
  return out;
}

}  // namespace stepgrad
