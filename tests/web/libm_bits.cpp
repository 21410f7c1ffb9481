// Prints f(x) for many arguments x as the bits of x and f(x), so that two builds (glibc's libm
// natively, musl's in the explorer's WebAssembly) can be compared bit for bit by libm_bits.py:
//   libm_bits N   one line "FUNCTION X Y RESULT" (hex bits) per function and argument
// The arguments come from integer arithmetic and ldexp (exact), so both builds draw the same ones.
// Besides the C++ library's functions, fn::tanh: stepgrad's own (Note [One tanh for the page and
// the programs] in autodiff/functions.cpp).
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <stepgrad/autodiff/functions.hpp>

namespace {

std::uint64_t state = 0;
std::uint64_t next() {  // splitmix64
  std::uint64_t z = (state += 0x9e3779b97f4a7c15u);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
  return z ^ (z >> 31);
}
double unit() { return static_cast<double>(next() >> 11) * 0x1p-53; }  // [0, 1)
double uniform(double a, double b) { return a + (b - a) * unit(); }
double sign() { return (next() & 1) != 0 ? 1.0 : -1.0; }
// spread over magnitudes: m 2^k, m in [1, 2), k in [lo, hi)
double magnitude(int lo, int hi) {
  const int k = lo + static_cast<int>(static_cast<double>(hi - lo) * unit());
  return std::ldexp(1.0 + unit(), k);
}

unsigned long long bits(double x) {
  std::uint64_t u;
  std::memcpy(&u, &x, sizeof u);
  return u;
}

void print(const char* f, double x, double y, double r) {
  std::printf("%s %016llx %016llx %016llx\n", f, bits(x), bits(y), bits(r));
}

}  // namespace

int main(int argc, char** argv) {
  const long n = argc > 1 ? std::atol(argv[1]) : 100000;
  for (long i = 0; i < n; ++i) {
    // tanh and expm1: a third in [-20, 20], a third in [-3, 3] (a network's pre-activations),
    // a third of every magnitude from 2^-60 to 2^5
    const double x = i % 3 == 0   ? uniform(-20, 20)
                     : i % 3 == 1 ? uniform(-3, 3)
                                  : sign() * magnitude(-60, 5);
    print("tanh", x, 0, std::tanh(x));
    print("fn::tanh", x, 0, stepgrad::fn::tanh(x));
    print("expm1", x, 0, std::expm1(x));
    // exp: where a sigmoid's and softmax's arguments live, and its whole finite range
    const double e = i % 2 != 0 ? uniform(-745, 709) : uniform(-40, 40);
    print("exp", e, 0, std::exp(e));
    // log and sqrt: every positive magnitude, and [0, 4] (probabilities, Box-Muller's r^2)
    const double l = i % 2 != 0 ? magnitude(-1074, 1023) : uniform(0, 4);
    print("log", l, 0, std::log(l));
    print("sqrt", l, 0, std::sqrt(l));
    const double p = i % 2 != 0 ? uniform(-1, 3) : magnitude(-60, 0);
    print("log1p", p, 0, std::log1p(p));
    const double b = magnitude(-20, 20), y = uniform(-20, 20);
    print("pow", b, y, std::pow(b, y));
    const double t = uniform(-10, 10);
    print("sin", t, 0, std::sin(t));
    print("cos", t, 0, std::cos(t));
  }
  return 0;
}
