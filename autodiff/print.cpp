// numpy-style printing, statistics and comparisons.
#include <stepgrad/autodiff/print.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include <fmt/args.h>

namespace stepgrad {

PrintOptions& default_print_options() {
  static PrintOptions options;
  return options;
}

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// The indices shown along one axis of length n: all, or the edge items with a gap marker.
struct Axis {
  std::vector<std::size_t> shown;
  static constexpr std::size_t kNoGap = static_cast<std::size_t>(-1);
  std::size_t gap_after = kNoGap;  // "..." after shown[gap_after]
};

Axis axis(std::size_t n, bool summarise, std::size_t edge) {
  Axis ax;
  if (summarise && n > 2 * edge) {
    for (std::size_t i = 0; i < edge; ++i) ax.shown.push_back(i);
    for (std::size_t i = n - edge; i < n; ++i) ax.shown.push_back(i);
    ax.gap_after = edge - 1;
  } else {
    for (std::size_t i = 0; i < n; ++i) ax.shown.push_back(i);
  }
  return ax;
}

// numpy's rule for scientific notation, applied to the shown elements.
bool wants_scientific(const std::vector<double>& shown) {
  double max_abs = 0.0;
  double min_abs = kInf;
  for (double v : shown) {
    if (!std::isfinite(v) || v == 0.0) continue;
    max_abs = std::max(max_abs, std::abs(v));
    min_abs = std::min(min_abs, std::abs(v));
  }
  if (max_abs == 0.0) return false;
  return max_abs >= 1e8 || min_abs < 1e-4 || max_abs / min_abs > 1e3;
}

std::string format_number(double v, bool scientific, int precision) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (v == 0.0) v = 0.0;  // print -0 as 0
  return scientific ? fmt::format("{:.{}e}", v, precision) : fmt::format("{:.{}f}", v, precision);
}

constexpr std::size_t kLineWidth = 100;

}  // namespace

std::string format_values(const Tensor& t, const PrintOptions& opts) {
  const bool summarise = opts.summarise && t.size() > opts.threshold;
  const std::size_t rows = t.rank() == 2 ? t.rows() : 1;
  const std::size_t cols = t.rank() == 2 ? t.cols() : t.size();
  const Axis ra = axis(rows, summarise, opts.edgeitems);
  const Axis ca = axis(cols, summarise, opts.edgeitems);

  std::vector<double> shown;
  for (std::size_t r : ra.shown)
    for (std::size_t c : ca.shown) shown.push_back(t[r * cols + c]);
  const bool sci = wants_scientific(shown);
  std::vector<std::string> cells;
  std::size_t width = 0;
  for (double v : shown) {
    cells.push_back(format_number(v, sci, opts.precision));
    width = std::max(width, cells.back().size());
  }
  if (t.rank() == 0) return cells[0];

  std::string out;
  const std::string indent = t.rank() == 2 ? "  " : " ";
  for (std::size_t ri = 0; ri < ra.shown.size(); ++ri) {
    if (t.rank() == 2)
      out += ri == 0 ? "[[" : " [";
    else
      out += "[";
    std::size_t line =
        out.size() - (out.rfind('\n') == std::string::npos ? 0 : out.rfind('\n') + 1);
    for (std::size_t ci = 0; ci < ca.shown.size(); ++ci) {
      const std::string_view gap =
          ca.gap_after != Axis::kNoGap && ci == ca.gap_after + 1 ? " ..." : "";
      const std::string_view sep = ci > 0 ? " " : "";
      std::string piece =
          fmt::format("{}{}{:>{}}", gap, sep, cells[ri * ca.shown.size() + ci], width);
      if (line + piece.size() > kLineWidth && ci > 0) {
        out += "\n" + indent;
        line = indent.size();
        piece = piece.substr(1);
      }
      out += piece;
      line += piece.size();
    }
    out += "]";
    if (t.rank() == 2) {
      out += ri + 1 == ra.shown.size() ? "]" : "\n";
      if (ri == ra.gap_after) out += " ...\n";
    }
  }
  return out;
}

std::string inline_values(const Tensor& t, const PrintOptions& opts) {
  if (t.size() > kSmallTensor) return to_string(t.shape());
  PrintOptions whole = opts;
  whole.summarise = false;
  if (t.size() == 1) return format_number(t[0], false, opts.precision);
  const std::string text = format_values(t, whole);
  // One line: the rows of a matrix side by side, each line's indentation replaced by one space.
  std::string out;
  for (std::size_t at = 0; at < text.size(); ++at) {
    if (text[at] != '\n') {
      out += text[at];
      continue;
    }
    while (at + 1 < text.size() && text[at + 1] == ' ') ++at;
    out += ' ';
  }
  return out;
}

std::string describe(const Tensor& t, const PrintOptions& opts) {
  return t.size() <= kSmallTensor ? inline_values(t, opts) : summary(t, opts);
}

std::string explain_backward(Tape& tape, std::size_t i, const PrintOptions& opts) {
  Node& n = tape.node(i);
  if (n.is_leaf() || n.op->numbers == nullptr) return "";
  std::string out;
  for (int k = 0; k < 2; ++k) {
    const std::uint32_t input = k == 0 ? n.a : n.b;
    if (input == Node::kNone || !tape.node(input).requires_grad) continue;
    const RuleNumbers r = n.op->numbers(tape, n, k);
    // The pattern with each operand's numbers in place of {0}, {1}, and the op's {attrs}.
    fmt::dynamic_format_arg_store<fmt::format_context> args;
    for (const Tensor& operand : r.operands) args.push_back(inline_values(operand, opts));
    args.push_back(fmt::arg("attrs", n.op->attrs_text != nullptr ? n.op->attrs_text(n) : ""));
    const std::string numbers = fmt::vformat(r.pattern, args);
    if (!out.empty()) out += '\n';
    // A rule that only passes a gradient on (grad p += grad s) has no arithmetic to show:
    // its numbers are its result, written once.
    const std::string result = describe(r.result, opts);
    out += numbers == result ? fmt::format("{} = {}", tape.rule(i, k), result)
                             : fmt::format("{} = {} = {}", tape.rule(i, k), numbers, result);
  }
  return out;
}

std::ostream& operator<<(std::ostream& os, const Tensor& t) { return os << fmt::format("{}", t); }

std::string show(std::string_view name, const Tensor& t, const PrintOptions& opts) {
  return fmt::format("{} {}\n{}", name, t.shape(), format_values(t, opts));
}

TensorStats stats(const Tensor& t) {
  TensorStats s;
  s.min = kInf;
  s.max = -kInf;
  double total = 0.0;
  double squares = 0.0;
  std::size_t finite = 0;
  for (double v : t.values()) {
    if (std::isnan(v)) {
      ++s.nan;
    } else if (std::isinf(v)) {
      ++s.inf;
    } else {
      s.min = std::min(s.min, v);
      s.max = std::max(s.max, v);
      total += v;
      squares += v * v;
      ++finite;
    }
  }
  if (finite == 0) {
    s.min = s.max = 0.0;
  } else {
    s.mean = total / static_cast<double>(finite);
  }
  s.norm = std::sqrt(squares);
  return s;
}

std::string summary(const Tensor& t, const PrintOptions& opts) {
  const TensorStats s = stats(t);
  const int p = opts.digits;
  std::string out = fmt::format("{} min {:.{}g} max {:.{}g} mean {:.{}g} norm {:.{}g}", t.shape(),
                                s.min, p, s.max, p, s.mean, p, s.norm, p);
  if (s.nan > 0 || s.inf > 0) out += fmt::format(" NaN {} Inf {}", s.nan, s.inf);
  return out;
}

Comparison compare(const Tensor& a, const Tensor& b, double floor) {
  if (a.shape() != b.shape())
    throw_shape_error("compare", a.shape(), b.shape(), "need equal shapes");
  Comparison c;
  c.shape = a.shape();
  c.floor = floor;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!std::isfinite(a[i]) || !std::isfinite(b[i])) {
      if (c.finite) c.worst_abs = c.worst_rel = i;
      c.finite = false;
      continue;
    }
    const double diff = std::abs(a[i] - b[i]);
    const double denom = std::max({std::abs(a[i]), std::abs(b[i]), floor});
    const double rel = denom == 0.0 ? 0.0 : diff / denom;
    if (diff > c.max_abs) {
      c.max_abs = diff;
      if (c.finite) c.worst_abs = i;
    }
    if (rel > c.max_rel) {
      c.max_rel = rel;
      if (c.finite) c.worst_rel = i;
    }
  }
  if (!c.finite) c.max_abs = c.max_rel = kInf;
  return c;
}

bool allclose(const Tensor& a, const Tensor& b, double atol, double rtol) {
  if (a.shape() != b.shape()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!std::isfinite(a[i]) || !std::isfinite(b[i])) return false;
    if (std::abs(a[i] - b[i]) > atol + rtol * std::abs(b[i])) return false;
  }
  return true;
}

std::string format_comparison(std::string_view name_a, const Tensor& a, std::string_view name_b,
                              const Tensor& b, double floor) {
  const Comparison c = compare(a, b, floor);
  std::string out =
      fmt::format("{} vs {} {}: max |a-b| {:.3e} at {}, max rel {:.3e} at {}{}\n", name_a, name_b,
                  c.shape, c.max_abs, format_index(c.shape, c.worst_abs), c.max_rel,
                  format_index(c.shape, c.worst_rel), c.finite ? "" : " (NaN or Inf present)");
  std::vector<std::size_t> rows;
  // a small tensor whole; a larger one's first three elements, then its worst
  const std::size_t first = a.size() <= 5 ? a.size() : 3;
  for (std::size_t i = 0; i < first; ++i) rows.push_back(i);
  for (std::size_t i : {c.worst_abs, c.worst_rel})
    if (std::find(rows.begin(), rows.end(), i) == rows.end()) rows.push_back(i);
  out += fmt::format("  {:>12} {:>17} {:>17} {:>10} {:>10}\n", "index", name_a, name_b, "|a-b|",
                     "rel");
  for (std::size_t i : rows) {
    const double diff = std::abs(a[i] - b[i]);
    const double denom = std::max({std::abs(a[i]), std::abs(b[i]), floor});
    out +=
        fmt::format("  {:>12} {:>17.9e} {:>17.9e} {:>10.2e} {:>10.2e}\n", format_index(c.shape, i),
                    a[i], b[i], diff, denom == 0.0 ? 0.0 : diff / denom);
  }
  // which rows, when not all: the table is a sample, and says of what
  if (rows.size() < a.size()) {
    out +=
        fmt::format("  (rows: the first {} of the {} elements, then the largest |a-b| and rel)\n",
                    first, a.size());
  }
  out.pop_back();
  return out;
}

}  // namespace stepgrad
