// The two time loops of backend "bptt", in C++ for the CPU.
//
// lstmlab/backends/bptt.py writes both loops in PyTorch, one equation per line: that is the lesson
// and the reference. Each of its steps is ~7 small ATen calls, and at small sizes each call costs
// more in dispatch (2–5 µs) than in arithmetic. Here one step is one GEMM (ATen → MKL) plus ONE
// pass over the (B, H) elements that does all the pointwise math, the way cuDNN / oneDNN fuse it.
// The equations and the saved tensors are exactly those of bptt.py. The gate rows stay in torch's
// order (i, f, g, o): the Python loops reorder them to (i, f, o, g) only to make one sigmoid call
// out of three, which a fused pass does not need.
//
// Built on first use by lstmlab/kernels/lstm_cpu.py (torch.utils.cpp_extension, cached).
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <tuple>
#include <vector>

namespace {

// ---- Activations -----------------------------------------------------------------------------
// float: written out here, inline, so that GCC vectorises the whole step loop (8 lanes with AVX2)
// instead of calling the library's exp/tanh one element at a time. Classic Cephes-style formulas,
// within a few ulp of float64 (checked by tests/test_cpu_loops.py). double: the C library's.

template <typename scalar_t>
inline scalar_t exp_of_nonpositive(scalar_t x) { return std::exp(x); }

template <>
inline float exp_of_nonpositive<float>(float x) {
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

template <typename scalar_t>
inline scalar_t sigmoid(scalar_t x) {
  // σ(x) = 1 / (1 + e^{−x}) for x ≥ 0,  e^{x} / (1 + e^{x}) for x < 0: e^{−|x|} never overflows
  const scalar_t e = exp_of_nonpositive(-std::fabs(x));
  const scalar_t s = scalar_t(1) / (scalar_t(1) + e);
  return x >= scalar_t(0) ? s : e * s;
}

template <typename scalar_t>
inline scalar_t tanh_(scalar_t x) { return std::tanh(x); }

template <>
inline float tanh_<float>(float x) {
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

// One forward step, pointwise part, for one batch row. gates: 4H pre-activations in (i, f, g, o)
// order, replaced by the activations; c_prev, c, m: H values.
template <typename scalar_t>
inline void forward_row(scalar_t* __restrict gates, const scalar_t* __restrict c_prev,
                        scalar_t* __restrict c, scalar_t* __restrict m, int64_t H) {
  scalar_t* __restrict gi = gates;
  scalar_t* __restrict gf = gates + H;
  scalar_t* __restrict gg = gates + 2 * H;
  scalar_t* __restrict go = gates + 3 * H;
#pragma omp simd
  for (int64_t j = 0; j < H; ++j) {
    const scalar_t i = sigmoid(gi[j]);                 // i = σ(·)   input gate
    const scalar_t f = sigmoid(gf[j]);                 // f = σ(·)   forget gate
    const scalar_t o = sigmoid(go[j]);                 // o = σ(·)   output gate
    const scalar_t g = tanh_(gg[j]);               // g = tanh(·) input node
    gi[j] = i; gf[j] = f; go[j] = o; gg[j] = g;        // saved for backward
    const scalar_t c_new = f * c_prev[j] + i * g;      // c_t = f ⊙ c_{t−1} + i ⊙ g
    c[j] = c_new;
    m[j] = o * tanh_(c_new);                       // m_t = o ⊙ tanh c_t  (= h_t without projection)
  }
}

// One backward step, pointwise part, for one batch row. acts: i, f, g, o of step t; dm, c, c_prev: H
// values; dc: the gradient reaching c_t from step t+1, replaced by the one reaching c_{t−1};
// grad_c_prev: the loss's own gradient on c_{t−1} (nullptr: none); grad_gates: 4H, written.
template <typename scalar_t>
inline void backward_row(const scalar_t* __restrict acts, const scalar_t* __restrict dm,
                         const scalar_t* __restrict c, const scalar_t* __restrict c_prev,
                         scalar_t* __restrict dc, const scalar_t* __restrict grad_c_prev,
                         scalar_t* __restrict grad_gates, int64_t H) {
  const scalar_t* __restrict ai = acts;
  const scalar_t* __restrict af = acts + H;
  const scalar_t* __restrict ag = acts + 2 * H;
  const scalar_t* __restrict ao = acts + 3 * H;
#pragma omp simd
  for (int64_t j = 0; j < H; ++j) {
    const scalar_t i = ai[j], f = af[j], o = ao[j], g = ag[j];
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
    for (int64_t j = 0; j < H; ++j) dc[j] += grad_c_prev[j];           //         + the loss's own gradient on c_{t−1}
  }
}

// Rows [first, last) of step t of a contiguous (T, B, ...) tensor, as a tensor for the GEMMs: made
// with at::from_blob over the same memory, which costs no dispatcher call (indexing would, every step).
at::Tensor rows_of_step(const at::Tensor& tensor, int64_t t, int64_t first, int64_t last) {
  auto* start = static_cast<char*>(tensor.data_ptr()) +
                (t * tensor.stride(0) + first * tensor.stride(1)) * tensor.element_size();
  std::vector<int64_t> sizes(tensor.sizes().begin() + 1, tensor.sizes().end());
  sizes[0] = last - first;
  return at::from_blob(start, sizes, tensor.options());
}

// The same rows as a pointer, for the pointwise pass.
template <typename scalar_t>
scalar_t* rows_of_step_data(const at::Tensor& tensor, int64_t t, int64_t first) {
  return tensor.data_ptr<scalar_t>() + t * tensor.stride(0) + first * tensor.stride(1);
}


void check_cpu_contiguous(const at::Tensor& tensor, const char* name, const at::Tensor& like) {
  TORCH_CHECK(tensor.device().is_cpu(), "lstm_cpu_recurrence: ", name, " must be a CPU tensor, got ", tensor.device());
  TORCH_CHECK(tensor.is_contiguous(), "lstm_cpu_recurrence: ", name, " must be contiguous");
  TORCH_CHECK(tensor.scalar_type() == like.scalar_type(), "lstm_cpu_recurrence: ", name, " has dtype ",
              tensor.scalar_type(), ", expected ", like.scalar_type());
}

}  // namespace

// Forward: gates (T, B, 4H) holds W_ih x_t + b for every step (i, f, g, o rows) and is overwritten
// with the activations; w_hh_t (P, 4H); w_hr_t (H, P) or undefined; h0 (B, P); c0 (B, H).
// Returns outputs (T, B, P), cell_states (T, B, H) and, with a projection, the unprojected m (T, B, H).
// Batch rows never interact: at::parallel_for gives each thread the whole time loop for its own
// block of (at least min_rows_per_thread) rows, so threads never wait for each other.
std::tuple<at::Tensor, at::Tensor, c10::optional<at::Tensor>> lstm_forward_recurrence(
    at::Tensor gates, const at::Tensor& w_hh_t, const c10::optional<at::Tensor>& w_hr_t,
    const at::Tensor& h0, const at::Tensor& c0, int64_t min_rows_per_thread) {
  check_cpu_contiguous(gates, "gates", gates);
  check_cpu_contiguous(h0, "h0", gates);
  check_cpu_contiguous(c0, "c0", gates);
  const int64_t steps = gates.size(0), batch = gates.size(1), hidden = gates.size(2) / 4;
  const bool projected = w_hr_t.has_value() && w_hr_t->defined();
  const int64_t out_size = projected ? w_hr_t->size(1) : hidden;
  at::Tensor outputs = at::empty({steps, batch, out_size}, gates.options());
  at::Tensor cell_states = at::empty({steps, batch, hidden}, gates.options());
  at::Tensor unprojected = projected ? at::empty({steps, batch, hidden}, gates.options()) : outputs;

  AT_DISPATCH_FLOATING_TYPES(gates.scalar_type(), "lstm_forward_recurrence", [&] {
    at::parallel_for(0, batch, min_rows_per_thread, [&](int64_t first, int64_t last) {
      at::AutoDispatchBelowADInplaceOrView below_autograd;        // inner ATen calls skip autograd's layers
      at::Tensor h = h0.narrow(0, first, last - first);           // (b, P): this thread's rows
      const scalar_t* c_prev = c0.data_ptr<scalar_t>() + first * hidden;
      for (int64_t t = 0; t < steps; ++t) {
        rows_of_step(gates, t, first, last).addmm_(h, w_hh_t);     // gates_t += W_hh h_{t−1}   (b, 4H)
        scalar_t* gates_t = rows_of_step_data<scalar_t>(gates, t, first);
        scalar_t* c_t = rows_of_step_data<scalar_t>(cell_states, t, first);
        scalar_t* m_t = rows_of_step_data<scalar_t>(unprojected, t, first);
        for (int64_t b = 0; b < last - first; ++b) {
          forward_row(gates_t + b * 4 * hidden, c_prev + b * hidden, c_t + b * hidden, m_t + b * hidden, hidden);
        }
        h = rows_of_step(outputs, t, first, last);
        if (projected) at::mm_out(h, rows_of_step(unprojected, t, first, last), *w_hr_t);  // h_t = W_hr m_t
        c_prev = c_t;                                              // (else h_t = m_t)
      }
    });
  });
  return {outputs, cell_states, projected ? c10::optional<at::Tensor>(unprojected) : c10::nullopt};
}

// Backward: walks time in reverse. acts (T, B, 4H): the activations from forward; cell_states
// (T, B, H); c0 (B, H); w_hh (4H, P); weight_hr (P, H) or undefined; grad_outputs (T, B, P);
// grad_cell_states (T, B, H) or undefined. Returns grad_gates (T, B, 4H), grad_h0 (B, P), grad_c0 (B, H).
std::tuple<at::Tensor, at::Tensor, at::Tensor> lstm_backward_recurrence(
    const at::Tensor& acts, const at::Tensor& cell_states, const at::Tensor& c0, const at::Tensor& w_hh,
    const c10::optional<at::Tensor>& weight_hr, const at::Tensor& grad_outputs,
    const c10::optional<at::Tensor>& grad_cell_states, int64_t min_rows_per_thread) {
  for (const auto& [tensor, name] : {std::pair<const at::Tensor&, const char*>{acts, "acts"},
                                     {cell_states, "cell_states"}, {c0, "c0"}, {grad_outputs, "grad_outputs"}}) {
    check_cpu_contiguous(tensor, name, acts);
  }
  const bool projected = weight_hr.has_value() && weight_hr->defined();
  const bool has_grad_c = grad_cell_states.has_value() && grad_cell_states->defined();
  if (has_grad_c) check_cpu_contiguous(*grad_cell_states, "grad_cell_states", acts);
  const int64_t steps = acts.size(0), batch = acts.size(1), hidden = acts.size(2) / 4;
  at::Tensor grad_gates = at::empty_like(acts);                    // (T, B, 4H)
  at::Tensor dc = has_grad_c ? (*grad_cell_states)[steps - 1].clone() : at::zeros_like(c0);  // (B, H)
  at::Tensor grad_h0 = at::empty({batch, w_hh.size(1)}, acts.options());                     // (B, P)

  AT_DISPATCH_FLOATING_TYPES(acts.scalar_type(), "lstm_backward_recurrence", [&] {
    at::parallel_for(0, batch, min_rows_per_thread, [&](int64_t first, int64_t last) {
      at::AutoDispatchBelowADInplaceOrView below_autograd;        // inner ATen calls skip autograd's layers
      const int64_t rows = last - first;
      at::Tensor dh = rows_of_step(grad_outputs, steps - 1, first, last);  // (b, P) gradient reaching h_{T−1}
      at::Tensor dm = projected ? at::empty({rows, hidden}, acts.options()) : at::Tensor();  // (b, H) scratch
      scalar_t* dc_data = dc.data_ptr<scalar_t>() + first * hidden;
      for (int64_t t = steps - 1; t >= 0; --t) {
        const at::Tensor dm_t = projected ? at::mm_out(dm, dh, *weight_hr) : dh;   // dm = W_hrᵀ dh  (b, H)
        const scalar_t* dm_data = dm_t.data_ptr<scalar_t>();
        const scalar_t* acts_t = rows_of_step_data<scalar_t>(acts, t, first);
        const scalar_t* c_t = rows_of_step_data<scalar_t>(cell_states, t, first);
        const scalar_t* c_prev = t > 0 ? rows_of_step_data<scalar_t>(cell_states, t - 1, first)
                                       : c0.data_ptr<scalar_t>() + first * hidden;
        const scalar_t* grad_c_prev =
            has_grad_c && t > 0 ? rows_of_step_data<scalar_t>(*grad_cell_states, t - 1, first) : nullptr;
        scalar_t* grad_gates_t = rows_of_step_data<scalar_t>(grad_gates, t, first);
        for (int64_t b = 0; b < rows; ++b) {
          backward_row(acts_t + b * 4 * hidden, dm_data + b * hidden, c_t + b * hidden, c_prev + b * hidden,
                       dc_data + b * hidden, grad_c_prev ? grad_c_prev + b * hidden : nullptr,
                       grad_gates_t + b * 4 * hidden, hidden);
        }
        const at::Tensor grad_gates_rows = rows_of_step(grad_gates, t, first, last);  // (b, 4H)
        if (t > 0) {
          dh = at::addmm(rows_of_step(grad_outputs, t - 1, first, last), grad_gates_rows, w_hh);
        } else {                                                   // dh_{t−1} = grad_out + W_hhᵀ d_gates_t
          at::Tensor grad_h0_rows = grad_h0.narrow(0, first, rows);
          at::mm_out(grad_h0_rows, grad_gates_rows, w_hh);
        }
      }
    });
  });
  return {grad_gates, grad_h0, dc};                                // dc now reaches c_0
}

// The two activations alone, for the accuracy test: x -> (σ(x), tanh(x)).
std::tuple<at::Tensor, at::Tensor> activations(const at::Tensor& x) {
  check_cpu_contiguous(x, "x", x);
  at::Tensor sig = at::empty_like(x), tanh = at::empty_like(x);
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "activations", [&] {
    const scalar_t* in = x.data_ptr<scalar_t>();
    scalar_t* sig_out = sig.data_ptr<scalar_t>();
    scalar_t* tanh_out = tanh.data_ptr<scalar_t>();
    for (int64_t k = 0; k < x.numel(); ++k) {
      sig_out[k] = sigmoid(in[k]);
      tanh_out[k] = tanh_(in[k]);
    }
  });
  return {sig, tanh};
}

TORCH_LIBRARY(lstmlab_cpu, m) {
  m.def("activations(Tensor x) -> (Tensor, Tensor)");
  m.def("lstm_forward_recurrence(Tensor(a!) gates, Tensor w_hh_t, Tensor? w_hr_t, Tensor h0, Tensor c0,"
        " int min_rows_per_thread)"
        " -> (Tensor, Tensor, Tensor?)");
  m.def("lstm_backward_recurrence(Tensor acts, Tensor cell_states, Tensor c0, Tensor w_hh, Tensor? weight_hr,"
        " Tensor grad_outputs, Tensor? grad_cell_states, int min_rows_per_thread) -> (Tensor, Tensor, Tensor)");
}

TORCH_LIBRARY_IMPL(lstmlab_cpu, CPU, m) {
  m.impl("lstm_forward_recurrence", &lstm_forward_recurrence);
  m.impl("lstm_backward_recurrence", &lstm_backward_recurrence);
  m.impl("activations", &activations);
}
