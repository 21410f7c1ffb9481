// The sigmoid of a tensor, softmax and log-softmax with the max shift (eq. 6; R6 in
// docs/reliability.md), and tanh with the same bits natively and in the page (R54).
#include <stepgrad/autodiff/functions.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include <stepgrad/autodiff/kernels.hpp>

namespace stepgrad::fn {

// Note [One tanh for the page and the programs]
// The explorer (web/) is this engine compiled with Emscripten, whose libm is musl's; the native
// programs use glibc's. For exp, log and pow the two agree bit for bit with glibc's plain build
// (Note [Bit for bit with glibc's libm] in tests/web/check_web.py), and sqrt is exact in both.
// Their tanh is not the same algorithm: glibc's (fdlibm's s_tanh.c) takes expm1(-2|x|) below
// |x| = 1, musl's switches at 0.2554 and 0.5493, and the two differ in the last bit for 5,441 of
// 100,000 arguments in [-20, 20] and near 0 (5,458 with glibc's FMA build; tests/web/
// libm_bits.py, which also finds expm1, log1p, sin and cos differing: the page computes none of
// them). So XOR's graph in the page (tanh in its hidden layer) differed from 13_your_network at
// 17 digits, in 10 of its 113 numbers for seed 7.
// fn::tanh below is musl's tanh (src/math/tanh.c, MIT licence) over fdlibm's expm1 as musl has
// it (src/math/expm1.c, notice below), written in +, -, *, / and bit operations only: with
// -ffp-contract=off (meson.build; WebAssembly has no fused multiply-add) every platform rounds
// each of them the same way, so native and page compute the same bits whatever their libm, and
// the page's numbers are the ones it always showed (equal to musl's tanh: libm_bits.py checks
// it in the wasm build). Its error is that of musl's and glibc's own tanh: at most 1.94 ulps
// against mpmath at 160 bits on 20,000 of those arguments (libm_bits.py --ulps), 2.003 against
// long double's tanhl on 200,000 (tests/autodiff/test_ops.cpp; musl's comment: up to 2 ulps in
// [0.1, 0.2554]); 12.2% of results are not the correctly rounded double (glibc's tanh: 14.4%). The
// native programs' tanh moved in the last bit; what they print at their default 4 digits did not
// (the golden output is unchanged).
//
// fdlibm's expm1: Copyright (C) 1993 by Sun Microsystems, Inc. All rights reserved. Developed at
// SunPro, a Sun Microsystems, Inc. business. Permission to use, copy, modify, and distribute this
// software is freely granted, provided that this notice is preserved.
namespace {

// The bits of a double and back (std::bit_cast is missing from Emscripten 3.1.6's libc++).
std::uint64_t bits_of(double x) {
  std::uint64_t u;
  std::memcpy(&u, &x, sizeof u);
  return u;
}
double double_of(std::uint64_t u) {
  double x;
  std::memcpy(&x, &u, sizeof x);
  return x;
}
std::uint32_t high_word(double x) { return static_cast<std::uint32_t>(bits_of(x) >> 32); }

/// e^x - 1 without cancellation near 0: fdlibm's method, less than 1 ulp of error. x = k ln2 + r
/// with |r| <= ln2 / 2, expm1(r) from a rational approximation, then scaled back by 2^k.
double expm1(double x) {
  constexpr double kOverflow = 7.09782712893383973096e+02;  // past it, e^x overflows
  constexpr double kLn2Hi = 6.93147180369123816490e-01;     // ln 2 = kLn2Hi + kLn2Lo, and
  constexpr double kLn2Lo = 1.90821492927058770002e-10;     // k * kLn2Hi is exact
  constexpr double kInvLn2 = 1.44269504088896338700e+00;
  // the rational approximation's coefficients, scaled for z = x^2 / 2
  constexpr double kQ1 = -3.33333333333331316428e-02, kQ2 = 1.58730158725481460165e-03,
                   kQ3 = -7.93650757867487942473e-05, kQ4 = 4.00821782732936239552e-06,
                   kQ5 = -2.01099218183624371326e-07;
  const std::uint32_t hx = high_word(x) & 0x7fffffffu;
  const bool negative = std::signbit(x);

  if (hx >= 0x4043687Au) {  // |x| >= 56 ln2: e^x - 1 is -1, or e^x
    if (std::isnan(x)) return x;
    if (negative) return -1.0;
    if (x > kOverflow) return x * 0x1p1023;  // inf
  }
  int k = 0;
  double c = 0.0;          // the rounding error of r = x - k ln2
  if (hx > 0x3fd62e42u) {  // |x| > ln2 / 2: reduce
    double hi, lo;
    if (hx < 0x3FF0A2B2u) {  // and |x| < 1.5 ln2: k = +-1
      hi = negative ? x + kLn2Hi : x - kLn2Hi;
      lo = negative ? -kLn2Lo : kLn2Lo;
      k = negative ? -1 : 1;
    } else {
      k = static_cast<int>(kInvLn2 * x + (negative ? -0.5 : 0.5));  // truncated: rounded
      const double t = k;
      hi = x - t * kLn2Hi;
      lo = t * kLn2Lo;
    }
    x = hi - lo;
    c = (hi - x) - lo;
  } else if (hx < 0x3c900000u) {  // |x| < 2^-54: e^x - 1 = x to the last bit
    return x;
  }

  const double hfx = 0.5 * x;
  const double hxs = x * hfx;
  const double r1 = 1.0 + hxs * (kQ1 + hxs * (kQ2 + hxs * (kQ3 + hxs * (kQ4 + hxs * kQ5))));
  const double t = 3.0 - r1 * hfx;
  double e = hxs * ((r1 - t) / (6.0 - x * t));
  if (k == 0) return x - (x * e - hxs);  // c is 0
  e = x * (e - c) - c;
  e -= hxs;
  // e^x = 2^k (x_reduced - e + 1)
  if (k == -1) return 0.5 * (x - e) - 0.5;
  if (k == 1) return x < -0.25 ? -2.0 * (e - (x + 0.5)) : 1.0 + 2.0 * (x - e);
  const double two_k = double_of(static_cast<std::uint64_t>(0x3ff + k) << 52);
  if (k < 0 || k > 56) {
    const double y = x - e + 1.0;
    return (k == 1024 ? y * 2.0 * 0x1p1023 : y * two_k) - 1.0;
  }
  const double two_minus_k = double_of(static_cast<std::uint64_t>(0x3ff - k) << 52);
  return k < 20 ? (x - e + (1.0 - two_minus_k)) * two_k : (x - (e + two_minus_k) + 1.0) * two_k;
}

}  // namespace

double tanh(double x) {
  // tanh x = (e^2x - 1) / (e^2x + 1), from expm1 of 2|x| (or of -2|x| near 0, where that is more
  // accurate), the sign put back at the end
  const bool negative = std::signbit(x);
  const double a = std::fabs(x);
  const std::uint32_t w = high_word(a);
  double t;
  if (w > 0x3fe193eau) {    // |x| > log(3) / 2 ~= 0.5493, or NaN
    if (w > 0x40340000u) {  // |x| > 20 (tanh is 1 to the last bit), or NaN
      t = 1.0 - 0.0 / a;
    } else {
      t = expm1(2.0 * a);
      t = 1.0 - 2.0 / (t + 2.0);
    }
  } else if (w > 0x3fd058aeu) {  // |x| > log(5/3) / 2 ~= 0.2554
    t = expm1(2.0 * a);
    t = t / (t + 2.0);
  } else if (w >= 0x00100000u) {  // |x| >= 2^-1022
    t = expm1(-2.0 * a);
    t = -t / (t + 2.0);
  } else {  // subnormal: tanh x = x
    t = a;
  }
  return negative ? -t : t;
}

void sigmoid(const Tensor& z, Tensor& out) {
  out.resize(z.shape());
  kernels::sigmoid(z.size(), z.data(), out.data());
}

bool sigmoid_vectorised() {
#if STEPGRAD_FAST_KERNELS
  return kernels::fast::sigmoid_vectorised();
#else
  return false;
#endif
}

void softmax(const Tensor& z, Tensor& out) {
  out.resize(z.shape());
  for_each_column(z.shape(), [&](std::size_t first, std::size_t stride, std::size_t n) {
    double max = z[first];
    for (std::size_t k = 1; k < n; ++k) max = std::max(max, z[first + k * stride]);
    double total = 0.0;
    for (std::size_t k = 0; k < n; ++k) {
      const std::size_t i = first + k * stride;
      out[i] = std::exp(z[i] - max);
      total += out[i];
    }
    for (std::size_t k = 0; k < n; ++k) out[first + k * stride] /= total;
  });
}

Tensor softmax(const Tensor& z) {
  Tensor out(z.shape());
  softmax(z, out);
  return out;
}

void log_softmax(const Tensor& z, Tensor& out) {
  out.resize(z.shape());
  for_each_column(z.shape(), [&](std::size_t first, std::size_t stride, std::size_t n) {
    double max = z[first];
    for (std::size_t k = 1; k < n; ++k) max = std::max(max, z[first + k * stride]);
    double total = 0.0;
    for (std::size_t k = 0; k < n; ++k) total += std::exp(z[first + k * stride] - max);
    const double log_total = std::log(total);
    for (std::size_t k = 0; k < n; ++k) {
      const std::size_t i = first + k * stride;
      out[i] = (z[i] - max) - log_total;
    }
  });
}

Tensor log_softmax(const Tensor& z) {
  Tensor out(z.shape());
  log_softmax(z, out);
  return out;
}

}  // namespace stepgrad::fn
