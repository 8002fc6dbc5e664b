// The pointwise part of one LSTM step, forward and backward, for one batch row and a slice of hidden
// units: everything in a step but its matrix product. Shared by backend "bptt"'s time loops
// (lstm_cpu_recurrence.cpp), its inference path (lstm_cpu_inference.cpp) and the fused rollout
// (lstm_cpu_rollout.cpp: cell_units); the activations σ and
// tanh are in lstm_cpu_activations.h.
#pragma once

#include <cstdint>

#include "lstm_cpu_activations.h"

namespace lstmlab_cpu {

// One forward step, pointwise part, for one batch row and a slice of n hidden units. gates: the
// input part W_ih x_t of the pre-activations in torch's order (i, f, g, o), blocks H apart, replaced
// by the activations; bias: b = b_ih + b_hh for the same units, blocks H apart (added here, where
// the three parts meet anyway: adding it to all T·B rows of gates first was a pass of its own);
// recurrent: W_hh h_{t−1}, blocks `stride` apart; c_prev, c, m: n values.
template <typename scalar_t>
LSTMLAB_INLINE void forward_units(const scalar_t* __restrict recurrent, int64_t stride, scalar_t* __restrict gates,
                          const scalar_t* __restrict bias, int64_t H, const scalar_t* __restrict c_prev,
                          scalar_t* __restrict c, scalar_t* __restrict m, int64_t n) {
  scalar_t* __restrict gi = gates;
  scalar_t* __restrict gf = gates + H;
  scalar_t* __restrict gg = gates + 2 * H;
  scalar_t* __restrict go = gates + 3 * H;
#pragma omp simd
  for (int64_t j = 0; j < n; ++j) {
    const scalar_t i = sigmoid(gi[j] + bias[j] + recurrent[j]);                   // i = σ(W_ii x + b_i + W_hi h)  input gate
    const scalar_t f = sigmoid(gf[j] + bias[H + j] + recurrent[stride + j]);      // f = σ(·)                      forget gate
    const scalar_t g = tanh_(gg[j] + bias[2 * H + j] + recurrent[2 * stride + j]);    // g = tanh(·)               input node
    const scalar_t o = sigmoid(go[j] + bias[3 * H + j] + recurrent[3 * stride + j]);  // o = σ(·)                  output gate
    gi[j] = i; gf[j] = f; gg[j] = g; go[j] = o;                // saved for backward
    const scalar_t c_new = f * c_prev[j] + i * g;              // c_t = f ⊙ c_{t−1} + i ⊙ g
    c[j] = c_new;
    m[j] = o * tanh_(c_new);                                   // m_t = o ⊙ tanh c_t  (= h_t without projection)
  }
}

// One forward step, pointwise part, when nothing is kept for backward (the inference path on tiles):
// pre holds the complete pre-activations — bias, W_ih x_t and W_hh h_{t−1} summed in one tile walk —
// gates blocks `stride` apart; c: the n cell states, c_{t−1} in, c_t out (each lane reads its own value
// before it writes it); m: n values.
template <typename scalar_t>
LSTMLAB_INLINE void cell_units(const scalar_t* __restrict pre, int64_t stride, scalar_t* __restrict c,
                               scalar_t* __restrict m, int64_t n) {
#pragma omp simd
  for (int64_t j = 0; j < n; ++j) {
    const scalar_t i = sigmoid(pre[j]);                        // i = σ(W_ii x + b_i + W_hi h)
    const scalar_t f = sigmoid(pre[stride + j]);               // f = σ(·)
    const scalar_t g = tanh_(pre[2 * stride + j]);             // g = tanh(·)
    const scalar_t o = sigmoid(pre[3 * stride + j]);           // o = σ(·)
    const scalar_t c_new = f * c[j] + i * g;                   // c_t = f ⊙ c_{t−1} + i ⊙ g
    c[j] = c_new;
    m[j] = o * tanh_(c_new);                                   // m_t = o ⊙ tanh c_t
  }
}

// One backward step, pointwise part, for one batch row and a slice of n hidden units. acts: i, f,
// g, o of step t, blocks H apart; dm, c, c_prev: n values; dc: the gradient reaching c_t from step
// t+1, replaced by the one reaching c_{t−1}; grad_c_prev: the loss's own gradient on c_{t−1}
// (nullptr: none); grad_gates: the pre-activation gradients, blocks H apart, written — over acts
// itself in the backward loops below (no __restrict on the two: each unit's four activations are read
// into registers before its four gradients are stored in their place).
template <typename scalar_t>
LSTMLAB_INLINE void backward_units(const scalar_t* acts, int64_t H, const scalar_t* __restrict dm,
                           const scalar_t* __restrict c, const scalar_t* __restrict c_prev,
                           scalar_t* __restrict dc, const scalar_t* __restrict grad_c_prev,
                           scalar_t* grad_gates, int64_t n) {
  const scalar_t* ai = acts;
  const scalar_t* af = acts + H;
  const scalar_t* ag = acts + 2 * H;
  const scalar_t* ao = acts + 3 * H;
#pragma omp simd
  for (int64_t j = 0; j < n; ++j) {
    const scalar_t i = ai[j], f = af[j], o = ao[j], g = ag[j];        // read first: grad_gates may be acts
    const scalar_t tanh_c = tanh_(c[j]);
    const scalar_t dc_t = dc[j] + dm[j] * o * (scalar_t(1) - tanh_c * tanh_c);  // dc_t += dm ⊙ o ⊙ (1 − tanh² c_t)
    grad_gates[j] = dc_t * g * i * (scalar_t(1) - i);                  // d_i = dc_t ⊙ g ⊙ i(1 − i)
    grad_gates[H + j] = dc_t * c_prev[j] * f * (scalar_t(1) - f);      // d_f = dc_t ⊙ c_{t−1} ⊙ f(1 − f)
    grad_gates[2 * H + j] = dc_t * i * (scalar_t(1) - g * g);          // d_g = dc_t ⊙ i ⊙ (1 − g²)
    grad_gates[3 * H + j] = dm[j] * tanh_c * o * (scalar_t(1) - o);    // d_o = dm ⊙ tanh c_t ⊙ o(1 − o)
    dc[j] = dc_t * f;                                                  // dc_{t−1} = dc_t ⊙ f
  }
  if (grad_c_prev != nullptr) {                    // (a loop of its own: a maybe-null load would stop vectorisation)
#pragma omp simd
    for (int64_t j = 0; j < n; ++j) dc[j] += grad_c_prev[j];           //         + the loss's own gradient on c_{t−1}
  }
}

}  // namespace lstmlab_cpu
