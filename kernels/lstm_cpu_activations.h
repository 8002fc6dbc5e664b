// The activations σ and tanh shared by the C++ loops of backend "bptt" (lstm_cpu_recurrence.cpp)
// and the closed-loop rollout (lstm_cpu_rollout.cpp).
//
// Written out here, inline and branch-free, so that GCC vectorises every loop that calls them (8 or
// 16 lanes with AVX2 / AVX-512) instead of calling the C library's exp/tanh one element at a time —
// at the sizes of a sine model that call would cost more than the matrix products. Classic
// Cephes-style formulas: float within 2 ulp of float64, double within a few ulp of the C library
// (both checked by tests/test_cpu_loops.py).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace lstmlab_cpu {

// Forced inline: inside a `#pragma omp simd` loop an out-of-line call cannot be vectorised (GCC does not
// inline these by itself once they have external linkage, and the loop then runs 3–4× slower).
#define LSTMLAB_INLINE inline __attribute__((always_inline))

template <typename scalar_t>
LSTMLAB_INLINE scalar_t exp_of_nonpositive(scalar_t x);

template <>
LSTMLAB_INLINE float exp_of_nonpositive<float>(float x) {
  // e^x = 2^n · e^r with x = n·ln2 + r, |r| ≤ ln2/2; e^r from a degree-7 polynomial.
  const bool underflows = x < -87.0f;                        // e^x < 2^−125: returned as 0
  x = std::max(x, -87.0f);                                   // keeps 2^n a normal float
  const float n = std::floor(x * 1.44269504088896341f + 0.5f);   // n = round(x / ln2)
  float r = std::fma(n, -0.693359375f, x);                   // r = x − n·ln2, ln2 split in two
  r = std::fma(n, 2.12194440e-4f, r);                        //   parts so n·ln2 loses nothing
  float p = 1.9875691500e-4f;
  p = std::fma(p, r, 1.3981999507e-3f);
  p = std::fma(p, r, 8.3334519073e-3f);
  p = std::fma(p, r, 4.1665795894e-2f);
  p = std::fma(p, r, 1.6666665459e-1f);
  p = std::fma(p, r, 5.0000001201e-1f);
  const float e_r = std::fma(p, r * r, r + 1.0f);            // e^r ≈ 1 + r + r²·p(r)
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;   // 2^n: n goes straight into the exponent
  float two_to_n;
  std::memcpy(&two_to_n, &bits, sizeof(float));
  return underflows ? 0.0f : e_r * two_to_n;
}

// double: Cephes' exp is a rational function, e^r = (Q(r²) + r·P(r²)) / (Q(r²) − r·P(r²)). A vector
// division costs as much as a dozen FMAs, so the double σ and tanh below keep e^x as a fraction
// num / den · 2^n and fold it into their own division: one division each instead of two or three.
struct ExpFraction {
  double num, den, two_to_n;                                 // e^x = num / den · two_to_n
};

LSTMLAB_INLINE ExpFraction exp_of_nonpositive_fraction(double x) {
  // e^x = 2^n · e^r with x = n·ln2 + r, |r| ≤ ln2/2
  const bool underflows = x < -708.0;                        // e^x < 2^−1021: returned as 0
  x = std::max(x, -708.0);                                   // keeps 2^n a normal double
  const double n = std::floor(x * 1.4426950408889634074 + 0.5);   // n = round(x / ln2)
  double r = std::fma(n, -6.93145751953125e-1, x);           // r = x − n·ln2, ln2 split in two
  r = std::fma(n, -1.42860682030941723212e-6, r);
  const double rr = r * r;
  const double p = r * std::fma(std::fma(1.26177193074810590878e-4, rr, 3.02994407707441961300e-2), rr,
                                9.99999999999999999910e-1);
  const double q = std::fma(std::fma(std::fma(3.00198505138664455042e-6, rr, 2.52448340349684104192e-3), rr,
                                     2.27265548208155028766e-1), rr, 2.00000000000000000009e0);
  const int64_t bits = (static_cast<int64_t>(n) + 1023) << 52;   // 2^n: n goes straight into the exponent
  double two_to_n;
  std::memcpy(&two_to_n, &bits, sizeof(double));
  return {q + p, q - p, underflows ? 0.0 : two_to_n};
}

template <typename scalar_t>
LSTMLAB_INLINE scalar_t sigmoid(scalar_t x) {
  // σ(x) = 1 / (1 + e^{−x}) for x ≥ 0,  e^{x} / (1 + e^{x}) for x < 0: e^{−|x|} never overflows
  const scalar_t e = exp_of_nonpositive(-std::fabs(x));
  const scalar_t s = scalar_t(1) / (scalar_t(1) + e);
  return x >= scalar_t(0) ? s : e * s;
}

template <>
LSTMLAB_INLINE double sigmoid<double>(double x) {
  // e = e^{−|x|} = num/den · 2^n:  σ(|x|) = den / (den + num·2^n),  σ(−|x|) = num·2^n / (den + num·2^n)
  const ExpFraction e = exp_of_nonpositive_fraction(-std::fabs(x));
  const double scaled = e.num * e.two_to_n;
  return (x >= 0.0 ? e.den : scaled) / (e.den + scaled);
}

template <typename scalar_t>
LSTMLAB_INLINE scalar_t tanh_(scalar_t x);

template <>
LSTMLAB_INLINE float tanh_<float>(float x) {
  const float a = std::fabs(x);
  // |x| < 0.625: tanh x = x + x³·q(x²)  (no cancellation near 0)
  const float s = x * x;
  float q = -5.70498872745e-3f;
  q = std::fma(q, s, 2.06390887954e-2f);
  q = std::fma(q, s, -5.37397155531e-2f);
  q = std::fma(q, s, 1.33314422036e-1f);
  q = std::fma(q, s, -3.33332819422e-1f);
  const float small = std::fma(q * s, x, x);
  // otherwise: tanh |x| = (1 − e^{−2|x|}) / (1 + e^{−2|x|}), then the sign of x
  const float e = exp_of_nonpositive(-2.0f * a);
  const float large = std::copysign((1.0f - e) / (1.0f + e), x);
  return a < 0.625f ? small : large;
}

template <>
LSTMLAB_INLINE double tanh_<double>(double x) {
  const double a = std::fabs(x);
  // |x| < 0.625: tanh x = x + x³·P(x²)/Q(x²) = x·(Q + x²P) / Q  (Cephes tanh; no cancellation near 0)
  const double s = x * x;
  const double p = std::fma(std::fma(-9.64399179425052238628e-1, s, -9.92877231001918586564e1), s,
                            -1.61468768441708447952e3);
  const double q = std::fma(std::fma(s + 1.12811678491632931402e2, s, 2.23548839060100448583e3), s,
                            4.84406305325125486048e3);                  // Q monic, degree 3
  // otherwise, with e = e^{−2|x|} = num/den · 2^n:  tanh |x| = (1 − e)/(1 + e) = (den − num·2^n)/(den + num·2^n)
  const ExpFraction e = exp_of_nonpositive_fraction(-2.0 * a);
  const double scaled = e.num * e.two_to_n;
  const bool small = a < 0.625;                              // one division for whichever branch holds
  const double numerator = small ? x * std::fma(s, p, q) : std::copysign(e.den - scaled, x);
  const double denominator = small ? q : e.den + scaled;
  return numerator / denominator;
}

}  // namespace lstmlab_cpu
