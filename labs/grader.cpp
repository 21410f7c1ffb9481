#include "grader.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <exception>
#include <iostream>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include <stepgrad/autodiff/gradcheck.hpp>
#include <stepgrad/autodiff/print.hpp>

#include "labs.hpp"

namespace stepgrad::labs {
namespace {

constexpr double kPassRel = 1e-8;   // against the tape: the same formula, summed in another order
constexpr double kPassFd = 1e-5;    // against finite differences (Note [Five-point stencil])
constexpr double kMatchRel = 1e-6;  // a candidate mistake's result, computed another way
constexpr std::size_t kFdElements = 24;
constexpr double kStep = 1e-3;  // of the five-point stencil

double max_abs(const Tensor& t) {
  double m = 0.0;
  for (const double v : t.values()) m = std::max(m, std::abs(v));
  return m;
}

// Note [Relative error]'s floor: elements smaller than 1e-6 of the answer's largest, or than its
// rounding, are held to an absolute error instead of a relative one.
double floor_of(const Check& c) {
  return std::max({1e-6 * max_abs(c.tape), c.rounding / kPassRel, 1e-300});
}

bool matches(const Tensor& a, const Tensor& b, double floor) {
  if (a.shape() != b.shape()) return false;
  const Comparison cmp = compare(a, b, floor);
  return cmp.finite && cmp.max_rel <= kMatchRel;
}

// The words of `lang`: English or Chinese.
const char* pick(Lang lang, const char* en, const char* zh) { return lang == Lang::zh ? zh : en; }

// The words of `lang`: two format strings of the same arguments, English and Chinese (which may
// leave one out: the English plural's "s").
template <typename... T>
std::string say(Lang lang, fmt::format_string<T...> en, fmt::format_string<T...> zh, T&&... args) {
  return lang == Lang::zh ? fmt::format(zh, std::forward<T>(args)...)
                          : fmt::format(en, std::forward<T>(args)...);
}

// An equation's name in `lang`: "eq. (9)", or "式 (9)" (the explorer's word).
std::string equation_in(const std::string& equation, Lang lang) {
  const std::string_view eq = "eq. ";
  if (lang == Lang::zh && equation.rfind(eq, 0) == 0) return "式 " + equation.substr(eq.size());
  return equation;
}

bool is_transposed(const Shape& got, const Shape& want) {
  const bool both_2d = got.rank == 2 && want.rank == 2;
  return both_2d && got.rows == want.cols && got.cols == want.rows && got != want;
}

}  // namespace

std::string diagnose(const Check& c, const Tensor& yours, Lang lang) {
  const Tensor& want = c.tape;
  const std::string eq = equation_in(c.equation, lang);
  if (yours.shape() != want.shape()) {
    if (is_transposed(yours.shape(), want.shape()) &&
        matches(yours, transpose(want), floor_of(c))) {
      if (c.outer) {
        return say(lang,
                   "[outer_order] an outer product in the wrong order: yours is {}, the transpose "
                   "of the answer; {} is {}",
                   "[outer_order] 外积的顺序反了：你的结果是 {}，即答案的转置；{} 是 {}",
                   yours.shape(), eq, c.formula);
      }
      return say(
          lang, "[transpose] a transpose too many or too few: yours is {}, the answer {}; {} is {}",
          "[transpose] 多了或少了一次转置：你的结果是 {}，答案是 {}；{} 是 {}", yours.shape(),
          want.shape(), eq, c.formula);
    }
    return say(lang, "[shape] yours is {}, the answer {}; {} is {}",
               "[shape] 你的结果是 {}，答案是 {}；{} 是 {}", yours.shape(), want.shape(), eq,
               c.formula);
  }
  if (max_abs(yours) == 0.0 && max_abs(want) != 0.0) {
    return say(lang,
               "[zero] yours is all zeros: nothing computed, or an update not applied; {} is {}",
               "[zero] 你的结果全是零：什么都没有算，或者更新没有应用上；{} 是 {}", eq, c.formula);
  }
  for (const Candidate& m : c.mistakes) {
    if (matches(yours, m.value, floor_of(c))) {
      const bool zh = lang == Lang::zh && !m.diagnosis_zh.empty();
      return fmt::format("[{}] {}", m.id, zh ? m.diagnosis_zh : m.diagnosis);
    }
  }
  // yours = k · answer? k by least squares, then check every element.
  double yw = 0.0, ww = 0.0;
  for (std::size_t i = 0; i < want.size(); ++i) {
    yw += yours[i] * want[i];
    ww += want[i] * want[i];
  }
  if (ww > 0.0) {
    const double k = yw / ww;
    if (k != 0.0 && matches(yours, k * want, floor_of(c))) {
      if (std::abs(k + 1.0) <= kMatchRel) {
        return say(lang,
                   "[sign] a flipped sign: yours is exactly -1 times the answer (a subtraction the "
                   "other way round, or + where {} has -)",
                   "[sign] 符号反了：你的结果恰好是答案的 -1 倍（减法的两边颠倒了，或者在{} 中用 - "
                   "的地方用了 +）",
                   eq);
      }
      const bool flipped = k < 0.0;
      return say(lang, "[factor] off by a factor of {:.2f}: yours is {:.2f} times the answer{}",
                 "[factor] 相差一个系数 {:.2f}：你的结果是答案的 {:.2f} 倍{}", k, k,
                 flipped ? pick(lang, ", and of the other sign", "，而且符号相反") : "");
    }
  }
  return say(lang, "[unknown] no catalogued mistake gives this; compare yours with {}: {}",
             "[unknown] 这不是目录中任何一个错误的结果；请把你的结果与{} 对照：{}", eq, c.formula);
}

Result grade(const Check& c, const std::function<Tensor()>& yours_fn, Lang lang) {
  Result r;
  r.name = c.name;
  r.equation = c.equation;
  r.shape = c.tape.shape();
  Tensor yours;
  try {
    yours = yours_fn();
  } catch (const NotWritten& e) {
    r.written = false;
    r.diagnosis = e.what();
    return r;
  } catch (const ShapeError& e) {
    r.diagnosis =
        say(lang, "[transpose] your code threw \"{}\": a transpose too many or too few? {} is {}",
            "[transpose] 你的代码抛出了“{}”：是不是多了或少了一次转置？{} 是 {}", e.what(),
            equation_in(c.equation, lang), c.formula);
    return r;
  } catch (const std::exception& e) {
    r.diagnosis =
        say(lang, "[threw] your code threw \"{}\"", "[threw] 你的代码抛出了“{}”", e.what());
    return r;
  }
  if (yours.shape() != c.tape.shape()) {
    r.diagnosis = diagnose(c, yours, lang);
    return r;
  }
  const double fl = floor_of(c);
  const Comparison vs_tape = compare(yours, c.tape, fl);
  r.rel_tape = vs_tape.finite ? vs_tape.max_rel : std::numeric_limits<double>::infinity();
  for (std::size_t i = 0; i < yours.size(); ++i) {
    const double d = std::abs(yours[i] - c.tape[i]);
    if (!(d <= kPassRel * std::max({std::abs(yours[i]), std::abs(c.tape[i]), fl}))) {
      r.first_wrong = i;
      r.yours = yours[i];
      r.tapes = c.tape[i];
      break;
    }
  }
  bool fd_ok = true;
  if (c.loss) {
    // A spread of elements, and the first wrong one.
    std::vector<std::size_t> idx;
    const std::size_t n = c.at.size();
    const std::size_t k = std::min(n, kFdElements);
    for (std::size_t j = 0; j < k; ++j) idx.push_back(j * n / k);
    if (r.first_wrong && std::find(idx.begin(), idx.end(), *r.first_wrong) == idx.end())
      idx.push_back(*r.first_wrong);
    Tensor x = c.at;
    const auto& loss = c.loss;
    double max_loss = 0.0;
    const Tensor fd = numerical_gradient([&] { return loss(x); }, x, kStep, idx, &max_loss);
    // Note [Finite-difference resolution]: below this, no digit of fd is right.
    const double resolution = 16 * std::numeric_limits<double>::epsilon() * max_loss / kStep;
    Tensor a(Shape::vector(idx.size())), b(Shape::vector(idx.size()));
    for (std::size_t j = 0; j < idx.size(); ++j) {
      a[j] = yours[idx[j]];
      b[j] = fd[idx[j]];
    }
    const Comparison vs_fd =
        compare(a, b, std::max({1e-6 * max_abs(b), resolution / kPassFd, 1e-300}));
    r.rel_fd = vs_fd.finite ? vs_fd.max_rel : std::numeric_limits<double>::infinity();
    r.fd_elements = idx.size();
    fd_ok = r.rel_fd <= kPassFd;
  }
  r.passed = !r.first_wrong && fd_ok && vs_tape.finite;
  if (!r.passed) r.diagnosis = diagnose(c, yours, lang);
  return r;
}

std::string format_result(const Result& r, Lang lang) {
  const std::string head = fmt::format("{} {}  {}", r.name, r.shape, equation_in(r.equation, lang));
  if (!r.written)
    return say(lang, "{}  not written yet: {}\n", "{}  还没有写：{}\n", head, r.diagnosis);
  std::string out = fmt::format(
      "{}  {}\n", head, r.passed ? pick(lang, "pass", "通过") : pick(lang, "FAIL", "未通过"));
  if (r.rel_tape != 0.0 || r.fd_elements > 0 || r.passed) {
    out += say(lang, "  max relative error: {:.1e} against the tape",
               "  最大相对误差：与磁带相比 {:.1e}", r.rel_tape);
    if (r.fd_elements > 0) {
      out += say(lang, ", {:.1e} against finite differences ({} element{})",
                 "，与有限差分相比 {:.1e}（{} 个元素）", r.rel_fd, r.fd_elements,
                 r.fd_elements == 1 ? "" : "s");
    }
    out += "\n";
  }
  if (r.first_wrong) {
    out += say(lang, "  first wrong element {}: yours {:.6g}, the tape's {:.6g}\n",
               "  第一个不对的元素 {}：你的是 {:.6g}，磁带的是 {:.6g}\n",
               format_index(r.shape, *r.first_wrong), r.yours, r.tapes);
  }
  if (!r.passed) out += say(lang, "  diagnosis: {}\n", "  诊断：{}\n", r.diagnosis);
  return out;
}

namespace {

void print_help(const Lab& lab) {
  fmt::print(
      "{}: {}\n"
      "Edit {}, then: ninja -C build labs/{} && build/labs/{}\n\n"
      "Options:\n"
      "  --trace           print every tape node as it is computed and differentiated\n"
      "  --step            stop after each node (Enter: next, c: continue, q: quit); implies "
      "--trace\n"
      "  --mistake ID      grade a catalogued mistake's code instead of yours\n"
      "  --list-mistakes   the mistakes --mistake knows\n"
      "  --help            this text\n",
      lab.name, lab.about, lab.file, lab.name, lab.name);
}

struct Quit {};

// --trace and --step, as the tutorials have them: each node as it is computed, and as its
// gradient is complete, with its backward rule's numbers.
std::function<void(Tape&)> make_tracer(const Options& o) {
  if (!o.trace && !o.step) return [](Tape&) {};
  return [o](Tape& tape) {
    auto stepping = std::make_shared<bool>(o.step);
    tape.set_observer([stepping](Tape& t, std::size_t i, Sweep s) {
      if (s == Sweep::Forward) {
        fmt::print("[trace] forward  {}  {}\n", t.label(i), describe(t.node(i).value()));
      } else {
        fmt::print("[trace] backward grad {} = {}\n", t.name_of(i), describe(t.node(i).grad()));
        const std::string rule = explain_backward(t, i);
        if (!rule.empty()) {
          std::string_view rest = rule;
          while (!rest.empty()) {
            const std::size_t nl = rest.find('\n');
            fmt::print("[trace]   {}\n", rest.substr(0, nl));
            rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
          }
        }
      }
      if (*stepping) {
        fmt::print("[step] Enter: next node, c: continue, q: quit > ");
        std::fflush(stdout);
        std::string line;
        if (!std::getline(std::cin, line) || line == "c") *stepping = false;
        fmt::print("\n");
        if (line == "q") throw Quit{};
      }
    });
  };
}

}  // namespace

int lab_main(const Lab& lab, int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--trace") {
      o.trace = true;
    } else if (a == "--step") {
      o.step = o.trace = true;
    } else if (a == "--mistake" && i + 1 < argc) {
      o.mistake = argv[++i];
    } else if (a == "--list-mistakes") {
      for (const Planted& p : lab.planted)
        fmt::print("{:<16} in {}: {}\n", p.id, p.quantity, p.code);
      return 0;
    } else if (a == "--help" || a == "-h") {
      print_help(lab);
      return 0;
    } else {
      fmt::print(stderr, "{}: error: unknown option '{}' (see --help)\n", lab.name, a);
      return 2;
    }
  }
  const Planted* planted = nullptr;
  if (!o.mistake.empty()) {
    for (const Planted& p : lab.planted)
      if (p.id == o.mistake) planted = &p;
    if (planted == nullptr) {
      fmt::print(stderr, "{}: error: no mistake '{}' in this lab (see --list-mistakes)\n", lab.name,
                 o.mistake);
      return 2;
    }
  }
  std::vector<Result> results;
  try {
    results = lab.run(o, make_tracer(o));
  } catch (const Quit&) {
    return 0;
  } catch (const std::exception& e) {
    std::fflush(stdout);
    fmt::print(stderr, "{}: error: {}\n", lab.name, e.what());
    return 1;
  }
  std::size_t wrong = 0, unwritten = 0;
  const Result* first = nullptr;
  for (const Result& r : results) {
    if (r.passed) continue;
    ++wrong;
    if (!r.written) ++unwritten;
    if (first == nullptr) first = &r;
  }
  if (planted != nullptr) {
    fmt::print("{}: the mistake {} planted in {}: {}\n", lab.name, planted->id, planted->quantity,
               planted->code);
  } else if (first == nullptr) {
    fmt::print("{}: all {} pass. Well done.\n", lab.name, results.size());
  } else if (!first->written) {
    fmt::print(
        "{}: {} of {} not written yet: write {} ({}) in {}, then run ninja -C build "
        "labs/{} && build/labs/{}\n",
        lab.name, unwritten, results.size(), first->diagnosis.substr(0, first->diagnosis.find(':')),
        first->equation, lab.file, lab.name, lab.name);
  } else {
    fmt::print("{}: {} of {} wrong; the first, {}: {}\n", lab.name, wrong, results.size(),
               first->name, first->diagnosis);
  }
  for (const Result& r : results) fmt::print("{}", format_result(r));
  if (planted != nullptr) {
    // The grader must name the planted mistake in every quantity it makes wrong.
    const std::string tag = "[" + planted->id + "]";
    bool named = wrong > 0;
    for (const Result& r : results)
      if (!r.passed && r.diagnosis.rfind(tag, 0) != 0) named = false;
    fmt::print("{}: {}\n", lab.name,
               named ? "the grader named the mistake" : "the grader did NOT name the mistake");
    return named ? 0 : 1;
  }
  return wrong == 0 ? 0 : 1;
}

}  // namespace stepgrad::labs
