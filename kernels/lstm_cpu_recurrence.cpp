// The two time loops of backend "bptt", in C++ for the CPU.
//
// lstmlab/backends/bptt.py writes both loops in PyTorch, one equation per line: that is the lesson
// and the reference. Each of its steps is ~7 small ATen calls, and at small sizes each call costs
// more in dispatch (2–5 µs) than in arithmetic. Here one step is one GEMM (ATen → MKL) plus ONE
// pass over the (B, H) elements that does all the pointwise math, the way cuDNN / oneDNN fuse it.
// The equations and the saved tensors are exactly those of bptt.py. The gate rows stay in torch's
// order (i, f, g, o): the Python loops reorder them to (i, f, o, g) only to make one sigmoid call
// out of three, which a fused pass does not need. The threads share the hidden units and meet at a
// barrier every step, or own blocks of batch rows and never meet (lstm_cpu_split.h). For small layers, where one GEMM call per step costs more
// in set-up than in arithmetic, the recurrent product instead runs on W_hh packed into tiles
// (lstm_cpu_tiles.h, the kernel of the closed-loop rollout): forward_on_tiles, backward_on_tiles.
//
// File order: the loops on tiles → the two loops → registration as torch.ops.lstmlab_cpu.*. The
// pointwise step (forward, backward) is in lstm_cpu_pointwise.h and the work split in lstm_cpu_split.h
// (both shared with the inference path, lstm_cpu_inference.cpp); the activations σ and tanh in
// lstm_cpu_activations.h (shared with the closed-loop rollout, lstm_cpu_rollout.cpp). Built on first
// use by lstmlab/kernels/lstm_cpu.py (torch.utils.cpp_extension, cached).
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <omp.h>
#include <torch/library.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <tuple>
#include <vector>

#include "lstm_cpu_activations.h"
#include "lstm_cpu_buffers.h"
#include "lstm_cpu_checks.h"
#include "lstm_cpu_pointwise.h"
#include "lstm_cpu_split.h"
#include "lstm_cpu_tiles.h"

namespace {

using lstmlab_cpu::backward_units;
using lstmlab_cpu::block;
using lstmlab_cpu::forward_units;
using lstmlab_cpu::run_split;
using lstmlab_cpu::Share;
using lstmlab_cpu::sigmoid;
using lstmlab_cpu::tanh_;
using lstmlab_cpu::threads_wanted;
using lstmlab_cpu::wait_for_all_threads;

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

// The forward loop with the recurrent product on packed tiles (lstm_cpu_tiles.h) instead of one GEMM
// call per step: each thread owns whole tiles of U hidden units (or, by_rows, whole groups of 4 batch
// rows on every tile), W_hh packed once per call; the 4·U gate sums of up to 4 batch rows stay in
// registers while the tile is walked, then the same pointwise step (forward_units) finishes the tile. No dispatcher call and no GEMM set-up per step:
// what a step of a small layer costs in MKL's call overhead, this spends on arithmetic.
template <typename scalar_t>
void forward_on_tiles(at::Tensor& gates, const at::Tensor& bias, const at::Tensor& w_hh, const at::Tensor& h0,
                      const at::Tensor& c0, at::Tensor& outputs, at::Tensor& cell_states, bool by_rows) {
  using namespace lstmlab_cpu;
  constexpr int U = lanes<scalar_t>();
  const int64_t steps = gates.size(0), batch = gates.size(1), hidden = gates.size(2) / 4, out_size = w_hh.size(1);
  const int64_t tiles = (hidden + U - 1) / U;
  at::Tensor packed = at::empty({tiles, out_size, 4, U}, gates.options());          // W_hh, packed once
  pack_tiles(w_hh.data_ptr<scalar_t>(), out_size, 4, hidden, hidden, out_size, packed.data_ptr<scalar_t>());
  const scalar_t* packed_data = packed.data_ptr<scalar_t>();
  scalar_t* gates_data = gates.data_ptr<scalar_t>();
  const scalar_t* bias_data = bias.data_ptr<scalar_t>();
  scalar_t* out_data = outputs.data_ptr<scalar_t>();
  scalar_t* c_data = cell_states.data_ptr<scalar_t>();
  const scalar_t* h0_data = h0.data_ptr<scalar_t>();
  const scalar_t* c0_data = c0.data_ptr<scalar_t>();
  const scalar_t zero_bias[4 * U] = {};
  const int64_t team_wanted = std::min<int64_t>(threads_wanted(), by_rows ? row_groups_of(batch) : tiles);
  auto body = [&](int64_t thread, int64_t team) {
    const auto [a, b] = by_rows ? std::pair<int64_t, int64_t>{0, tiles} : block(tiles, team, thread);
    const auto [first_row, last_row] = lstmlab_cpu::rows_of_thread(by_rows, batch, team, thread);
    for (int64_t t = 0; t < steps; ++t) {
      const scalar_t* h_prev = t == 0 ? h0_data : out_data + (t - 1) * batch * out_size;   // (B, P)
      const scalar_t* c_prev = t == 0 ? c0_data : c_data + (t - 1) * batch * hidden;       // (B, H)
      scalar_t* gates_t = gates_data + t * batch * 4 * hidden;
      scalar_t* c_t = c_data + t * batch * hidden;
      scalar_t* h_t = out_data + t * batch * out_size;
      const bool backwards = walk_backwards(t, (b - a) * out_size * 4 * U * sizeof(scalar_t));
      for (int64_t i = 0; i < b - a; ++i) {
        const int64_t tile = tile_in_order(backwards, a, b, i);
        const int64_t j0 = tile * U, units = std::min<int64_t>(U, hidden - j0);
        for (int64_t r0 = first_row; r0 < last_row; r0 += MAX_ROWS) {
          const int rows = static_cast<int>(std::min<int64_t>(MAX_ROWS, last_row - r0));
          vec_t<scalar_t> acc[MAX_ROWS][4];
          affine_rows<scalar_t, 4>(rows, h_prev + r0 * out_size, out_size, out_size,
                                   packed_data + tile * out_size * 4 * U, zero_bias, acc);   // W_hh h_{t−1}
          for (int r = 0; r < rows; ++r) {
            scalar_t recurrent[4 * U];
            for (int g = 0; g < 4; ++g) store(recurrent + g * U, acc[r][g]);
            const int64_t row = r0 + r;
            forward_units(recurrent, U, gates_t + row * 4 * hidden + j0, bias_data + j0, hidden, c_prev + row * hidden + j0,
                          c_t + row * hidden + j0, h_t + row * out_size + j0, units);
          }
        }
      }
      if (!by_rows && team > 1) wait_for_all_threads();                    // (rows of a batch never meet)
    }
  };
  run_team(team_wanted, body);
}

// The backward loop on packed tiles, the mirror of forward_on_tiles: each thread owns whole tiles of
// hidden units for the pointwise step (backward_units) and whole wide tiles (4·U) of h's features for
// dh_{t−1} = grad_out_{t−1} + W_hhᵀ d_gates_t (or, by_rows, its own groups of 4 rows for both), with
// W_hhᵀ packed once per call. No projection (P = H).
template <typename scalar_t>
void backward_on_tiles(const at::Tensor& acts, const at::Tensor& cell_states, const at::Tensor& c0,
                       const at::Tensor& w_hh, const at::Tensor& grad_outputs, const scalar_t* grad_cells,
                       at::Tensor& grad_gates, at::Tensor& dh, at::Tensor& grad_h0, at::Tensor& dc, bool by_rows) {
  using namespace lstmlab_cpu;
  constexpr int U = lanes<scalar_t>();
  const int64_t steps = acts.size(0), batch = acts.size(1), hidden = acts.size(2) / 4, out_size = w_hh.size(1);
  const int64_t tiles = (hidden + U - 1) / U, out_tiles = (out_size + 4 * U - 1) / (4 * U);
  at::Tensor packed = at::empty({out_tiles, 4 * hidden, 4, U}, acts.options());      // W_hhᵀ, packed once
  pack_wide_tiles_transposed(w_hh.data_ptr<scalar_t>(), 4 * hidden, out_size, packed.data_ptr<scalar_t>());
  const scalar_t* packed_data = packed.data_ptr<scalar_t>();
  const scalar_t* acts_data = acts.data_ptr<scalar_t>();
  const scalar_t* c_data = cell_states.data_ptr<scalar_t>();
  const scalar_t* c0_data = c0.data_ptr<scalar_t>();
  const scalar_t* grad_out_data = grad_outputs.data_ptr<scalar_t>();
  scalar_t* grad_gates_data = grad_gates.data_ptr<scalar_t>();
  scalar_t* dh_data = dh.data_ptr<scalar_t>();
  scalar_t* grad_h0_data = grad_h0.data_ptr<scalar_t>();
  scalar_t* dc_data = dc.data_ptr<scalar_t>();
  const scalar_t zero_bias[4 * U] = {};
  const int64_t team_wanted =
      std::min<int64_t>(threads_wanted(), by_rows ? row_groups_of(batch) : std::max(tiles, out_tiles));
  auto body = [&](int64_t thread, int64_t team) {
    const auto [a, b] = by_rows ? std::pair<int64_t, int64_t>{0, tiles} : block(tiles, team, thread);
    const auto [pa, pb] = by_rows ? std::pair<int64_t, int64_t>{0, out_tiles} : block(out_tiles, team, thread);
    const auto [first_row, last_row] = lstmlab_cpu::rows_of_thread(by_rows, batch, team, thread);
    for (int64_t t = steps - 1; t >= 0; --t) {
      const scalar_t* acts_t = acts_data + t * batch * 4 * hidden;
      const scalar_t* c_t = c_data + t * batch * hidden;
      const scalar_t* c_prev = t > 0 ? c_data + (t - 1) * batch * hidden : c0_data;
      const scalar_t* grad_c_prev = grad_cells != nullptr && t > 0 ? grad_cells + (t - 1) * batch * hidden : nullptr;
      scalar_t* grad_gates_t = grad_gates_data + t * batch * 4 * hidden;
      for (int64_t tile = a; tile < b; ++tile) {                       // gate gradients of my units
        const int64_t j0 = tile * U, n = std::min<int64_t>(U, hidden - j0);
        for (int64_t row = first_row; row < last_row; ++row) {
          backward_units(acts_t + row * 4 * hidden + j0, hidden, dh_data + row * out_size + j0,
                         c_t + row * hidden + j0, c_prev + row * hidden + j0, dc_data + row * hidden + j0,
                         grad_c_prev ? grad_c_prev + row * hidden + j0 : nullptr,
                         grad_gates_t + row * 4 * hidden + j0, n);
        }
      }
      if (!by_rows && team > 1) wait_for_all_threads();
      // dh_{t−1} = grad_out_{t−1} + W_hhᵀ d_gates_t, my feature tiles   (the last one: grad_h0)
      scalar_t* target = t > 0 ? dh_data : grad_h0_data;
      const scalar_t* grad_out = t > 0 ? grad_out_data + (t - 1) * batch * out_size : nullptr;
      const bool feature_tiles_backwards = walk_backwards(t, (pb - pa) * 4 * hidden * 4 * U * sizeof(scalar_t));
      for (int64_t i = 0; i < pb - pa; ++i) {
        const int64_t tile = tile_in_order(feature_tiles_backwards, pa, pb, i);
        const int64_t p0 = tile * 4 * U, n = std::min<int64_t>(4 * U, out_size - p0);
        for (int64_t r0 = first_row; r0 < last_row; r0 += MAX_ROWS) {
          const int rows = static_cast<int>(std::min<int64_t>(MAX_ROWS, last_row - r0));
          vec_t<scalar_t> acc[MAX_ROWS][4];
          affine_rows<scalar_t, 4>(rows, grad_gates_t + r0 * 4 * hidden, 4 * hidden, 4 * hidden,
                                   packed_data + tile * 4 * hidden * 4 * U, zero_bias, acc);
          for (int r = 0; r < rows; ++r) {
            scalar_t sum[4 * U];
            for (int g = 0; g < 4; ++g) store(sum + g * U, acc[r][g]);
            scalar_t* row = target + (r0 + r) * out_size + p0;
            const scalar_t* own = grad_out ? grad_out + (r0 + r) * out_size + p0 : nullptr;
            for (int64_t q = 0; q < n; ++q) row[q] = sum[q] + (own ? own[q] : scalar_t(0));
          }
        }
      }
      if (!by_rows && team > 1) wait_for_all_threads();
    }
  };
  run_team(team_wanted, body);
}

// The split to run: the caller's (checked), or for CHOOSE the one measured to pay (auto_partition).
int64_t chosen_partition(const char* op, int64_t partition, bool backward, int64_t batch, int64_t hidden,
                         int64_t out_size, bool projected, int64_t element_size) {
  TORCH_CHECK(partition >= lstmlab_cpu::CHOOSE && partition <= lstmlab_cpu::TILE_ROWS, op,
              ": partition must be 0-4, got ", partition);
  return partition != lstmlab_cpu::CHOOSE ? partition
      : lstmlab_cpu::auto_partition(backward, batch, hidden, out_size, projected, element_size, threads_wanted());
}

}  // namespace

// Forward: gates (T, B, 4H) holds W_ih x_t for every step (i, f, g, o rows) and is overwritten
// with the activations; w_hh (4H, P); w_hr
// (P, H) or undefined; h0 (B, P); c0 (B, H); bias (4H) = b_ih + b_hh, or undefined (no bias).
// Returns outputs (T, B, P), cell_states (T, B, H) and, with a projection, the unprojected m (T, B, H).
std::tuple<at::Tensor, at::Tensor, c10::optional<at::Tensor>> lstm_forward_recurrence(
    at::Tensor gates, const at::Tensor& w_hh, const c10::optional<at::Tensor>& w_hr,
    const at::Tensor& h0, const at::Tensor& c0, int64_t partition, const c10::optional<at::Tensor>& bias_in) {
  for (const auto& [tensor, name] : {std::pair<const at::Tensor&, const char*>{gates, "gates"},
                                     {h0, "h0"}, {c0, "c0"}}) {
    lstmlab_cpu::check_cpu_contiguous("lstm_cpu_recurrence", tensor, name, gates);
  }
  lstmlab_cpu::check_cpu_contiguous("lstm_cpu_recurrence", w_hh, "w_hh", gates);
  const at::Tensor bias = bias_in.has_value() && bias_in->defined() ? *bias_in : at::zeros({gates.size(-1)}, gates.options());
  lstmlab_cpu::check_cpu_contiguous("lstm_cpu_recurrence", bias, "bias", gates);
  TORCH_CHECK(bias.dim() == 1 && bias.size(0) == gates.size(-1), "lstm_cpu_recurrence: bias must be (4H,) = (",
              gates.size(-1), ",), got ", bias.sizes());
  const bool projected = w_hr.has_value() && w_hr->defined();
  if (projected) lstmlab_cpu::check_cpu_contiguous("lstm_cpu_recurrence", *w_hr, "w_hr", gates);
  TORCH_CHECK(gates.dim() == 3 && gates.size(0) > 0, "lstm_cpu_recurrence: gates must be (T, B, 4H) with T ≥ 1, got ",
              gates.sizes());
  const int64_t steps = gates.size(0), batch = gates.size(1), hidden = gates.size(2) / 4;
  const int64_t out_size = w_hh.size(1);
  at::Tensor outputs = at::empty({steps, batch, out_size}, gates.options());
  at::Tensor cell_states = at::empty({steps, batch, hidden}, gates.options());
  at::Tensor unprojected = projected ? at::empty({steps, batch, hidden}, gates.options()) : outputs;
  if (batch == 0) return {outputs, cell_states, projected ? c10::optional<at::Tensor>(unprojected) : c10::nullopt};

  at::AutoDispatchBelowADInplaceOrView below_autograd;            // inner ATen calls skip autograd's layers
  const int64_t chosen = chosen_partition("lstm_forward_recurrence", partition, false, batch, hidden, out_size, projected,
                                          gates.element_size());
  if (!projected && (chosen == lstmlab_cpu::TILES || chosen == lstmlab_cpu::TILE_ROWS)) {
    AT_DISPATCH_FLOATING_TYPES(gates.scalar_type(), "lstm_forward_on_tiles", [&] {
      forward_on_tiles<scalar_t>(gates, bias, w_hh, h0, c0, outputs, cell_states, chosen == lstmlab_cpu::TILE_ROWS);
    });
    return {outputs, cell_states, c10::nullopt};
  }
  AT_DISPATCH_FLOATING_TYPES(gates.scalar_type(), "lstm_forward_recurrence", [&] {
    run_split(batch, hidden, out_size, lstmlab_cpu::split_as(partition, chosen), [&](const Share& share) {
      const auto [r0, r1, j0, j1, p0, p1, _] = share;                       // this thread's part
      const int64_t rows = r1 - r0, n = j1 - j0;
      // This thread's rows of W_hh (gates i, f, g, o of units j0..j1), stored transposed: MKL then
      // streams its rows as they lie (NN), where the transposed view (NT) made it copy all of W_hh
      // into its own layout at every step (measured B=32 H=512: 1.06 ms → 0.81 ms per step). Copied
      // once per call.
      const at::Tensor w_units_t = lstmlab_cpu::gate_rows_transposed(w_hh, hidden, j0, n);   // (P, 4n)
      at::Tensor recurrent = at::empty({rows, 4 * n}, gates.options());            // (b, 4n) W_hh h_{t−1}
      const at::Tensor w_hr_t = projected ? w_hr->narrow(0, p0, p1 - p0).t().contiguous() : at::Tensor();  // (H, p)
      at::Tensor h_part = projected ? at::empty({rows, p1 - p0}, gates.options()) : at::Tensor();
      const scalar_t* c_prev = c0.data_ptr<scalar_t>() + r0 * hidden;
      const scalar_t* bias_data = bias.data_ptr<scalar_t>();
      for (int64_t t = 0; t < steps; ++t) {
        const at::Tensor h_prev = t == 0 ? h0.narrow(0, r0, rows) : rows_of_step(outputs, t - 1, r0, r1);
        at::mm_out(recurrent, h_prev, w_units_t);                                  // W_hh h_{t−1}   (b, 4n)
        scalar_t* gates_t = rows_of_step_data<scalar_t>(gates, t, r0);
        scalar_t* c_t = rows_of_step_data<scalar_t>(cell_states, t, r0);
        scalar_t* m_t = rows_of_step_data<scalar_t>(unprojected, t, r0);
        const scalar_t* recurrent_data = recurrent.data_ptr<scalar_t>();
        for (int64_t b = 0; b < rows; ++b) {
          forward_units(recurrent_data + b * 4 * n, n, gates_t + b * 4 * hidden + j0, bias_data + j0, hidden,
                        c_prev + b * hidden + j0, c_t + b * hidden + j0, m_t + b * hidden + j0, n);
        }
        if (!share.rows_alone) wait_for_all_threads();
        if (projected) {                                                            // h_t = W_hr m_t
          at::mm_out(h_part, rows_of_step(unprojected, t, r0, r1), w_hr_t);       // (b, p)
          scalar_t* h_t = rows_of_step_data<scalar_t>(outputs, t, r0);
          const scalar_t* h_part_data = h_part.data_ptr<scalar_t>();
          for (int64_t b = 0; b < rows; ++b) {
            std::memcpy(h_t + b * out_size + p0, h_part_data + b * (p1 - p0), (p1 - p0) * sizeof(scalar_t));
          }
          if (!share.rows_alone) wait_for_all_threads();
        }
        c_prev = c_t;
      }
    });
  });
  return {outputs, cell_states, projected ? c10::optional<at::Tensor>(unprojected) : c10::nullopt};
}

// Backward: walks time in reverse. acts (T, B, 4H): the activations from forward; cell_states
// (T, B, H); c0 (B, H); w_hh (4H, P); weight_hr (P, H) or undefined; grad_outputs (T, B, P);
// grad_cell_states (T, B, H) or undefined. Returns grad_gates (T, B, 4H), grad_h0 (B, P), grad_c0 (B, H).
// grad_gates IS acts, overwritten step by step: step t's activations are last read by the pointwise
// pass that writes step t's gate gradients, so one (T, B, 4H) buffer serves both, as oneDNN's
// workspace does. A training step then holds one such buffer instead of two (the largest of backward's
// allocations); the caller must not read acts afterwards (LSTMDirectionFunction.backward keeps count).
std::tuple<at::Tensor, at::Tensor, at::Tensor> lstm_backward_recurrence(
    at::Tensor& acts, const at::Tensor& cell_states, const at::Tensor& c0, const at::Tensor& w_hh,
    const c10::optional<at::Tensor>& weight_hr, const at::Tensor& grad_outputs,
    const c10::optional<at::Tensor>& grad_cell_states, int64_t partition) {
  for (const auto& [tensor, name] : {std::pair<const at::Tensor&, const char*>{acts, "acts"},
                                     {cell_states, "cell_states"}, {c0, "c0"}, {w_hh, "w_hh"},
                                     {grad_outputs, "grad_outputs"}}) {
    lstmlab_cpu::check_cpu_contiguous("lstm_cpu_recurrence", tensor, name, acts);
  }
  const bool projected = weight_hr.has_value() && weight_hr->defined();
  const bool has_grad_c = grad_cell_states.has_value() && grad_cell_states->defined();
  if (has_grad_c) lstmlab_cpu::check_cpu_contiguous("lstm_cpu_recurrence", *grad_cell_states, "grad_cell_states", acts);
  if (projected) lstmlab_cpu::check_cpu_contiguous("lstm_cpu_recurrence", *weight_hr, "weight_hr", acts);
  TORCH_CHECK(acts.dim() == 3 && acts.size(0) > 0, "lstm_cpu_recurrence: acts must be (T, B, 4H) with T ≥ 1, got ",
              acts.sizes());
  const int64_t steps = acts.size(0), batch = acts.size(1), hidden = acts.size(2) / 4;
  const int64_t out_size = w_hh.size(1);
  at::Tensor grad_gates = acts;                                   // (T, B, 4H), written over the activations
  at::Tensor dc = has_grad_c ? (*grad_cell_states)[steps - 1].clone() : at::zeros_like(c0);  // (B, H)
  at::Tensor dh = grad_outputs[steps - 1].clone();               // (B, P) total gradient reaching h_{T−1}
  at::Tensor grad_h0 = at::empty({batch, out_size}, acts.options());              // (B, P)
  if (batch == 0) return {grad_gates, grad_h0, dc};

  at::AutoDispatchBelowADInplaceOrView below_autograd;            // inner ATen calls skip autograd's layers
  const int64_t chosen = chosen_partition("lstm_backward_recurrence", partition, true, batch, hidden, out_size, projected,
                                          acts.element_size());
  if (!projected && (chosen == lstmlab_cpu::TILES || chosen == lstmlab_cpu::TILE_ROWS)) {
    AT_DISPATCH_FLOATING_TYPES(acts.scalar_type(), "lstm_backward_on_tiles", [&] {
      backward_on_tiles<scalar_t>(acts, cell_states, c0, w_hh, grad_outputs,
                                  has_grad_c ? grad_cell_states->data_ptr<scalar_t>() : nullptr,
                                  grad_gates, dh, grad_h0, dc, chosen == lstmlab_cpu::TILE_ROWS);
    });
    return {grad_gates, grad_h0, dc};
  }
  AT_DISPATCH_FLOATING_TYPES(acts.scalar_type(), "lstm_backward_recurrence", [&] {
    run_split(batch, hidden, out_size, lstmlab_cpu::split_as(partition, chosen), [&](const Share& share) {
      const auto [r0, r1, j0, j1, p0, p1, _] = share;                       // this thread's part
      const int64_t rows = r1 - r0, n = j1 - j0, p = p1 - p0;
      const at::Tensor w_hh_part = w_hh.narrow(1, p0, p).contiguous();            // (4H, p)
      const at::Tensor w_hr_part = projected ? weight_hr->narrow(1, j0, n).contiguous() : at::Tensor();  // (P, n)
      at::Tensor dm = projected ? at::empty({rows, n}, acts.options()) : at::Tensor();   // (b, n)
      at::Tensor dh_part = at::empty({rows, p}, acts.options());                   // (b, p)
      scalar_t* dc_data = dc.data_ptr<scalar_t>() + r0 * hidden + j0;
      for (int64_t t = steps - 1; t >= 0; --t) {
        // dm = W_hrᵀ dh for this thread's units (without a projection, dm is dh itself)
        const scalar_t* dm_data = dh.data_ptr<scalar_t>() + r0 * out_size + j0;
        int64_t dm_stride = out_size;
        if (projected) {
          at::mm_out(dm, dh.narrow(0, r0, rows), w_hr_part);
          dm_data = dm.data_ptr<scalar_t>();
          dm_stride = n;
        }
        const scalar_t* acts_t = rows_of_step_data<scalar_t>(acts, t, r0) + j0;
        const scalar_t* c_t = rows_of_step_data<scalar_t>(cell_states, t, r0) + j0;
        const scalar_t* c_prev = (t > 0 ? rows_of_step_data<scalar_t>(cell_states, t - 1, r0)
                                        : c0.data_ptr<scalar_t>() + r0 * hidden) + j0;
        const scalar_t* grad_c_prev =
            has_grad_c && t > 0 ? rows_of_step_data<scalar_t>(*grad_cell_states, t - 1, r0) + j0 : nullptr;
        scalar_t* grad_gates_t = rows_of_step_data<scalar_t>(grad_gates, t, r0) + j0;
        for (int64_t b = 0; b < rows; ++b) {
          backward_units(acts_t + b * 4 * hidden, hidden, dm_data + b * dm_stride, c_t + b * hidden,
                         c_prev + b * hidden, dc_data + b * hidden,
                         grad_c_prev ? grad_c_prev + b * hidden : nullptr, grad_gates_t + b * 4 * hidden, n);
        }
        if (!share.rows_alone) wait_for_all_threads();
        // dh_{t−1} = grad_out_{t−1} + W_hhᵀ d_gates_t, this thread's features   (b, p)
        at::mm_out(dh_part, rows_of_step(grad_gates, t, r0, r1), w_hh_part);
        const scalar_t* dh_part_data = dh_part.data_ptr<scalar_t>();
        scalar_t* target = t > 0 ? dh.data_ptr<scalar_t>() : grad_h0.data_ptr<scalar_t>();
        const scalar_t* grad_out = t > 0 ? rows_of_step_data<scalar_t>(grad_outputs, t - 1, r0) : nullptr;
        for (int64_t b = 0; b < rows; ++b) {
          scalar_t* row = target + (r0 + b) * out_size + p0;
          _Pragma("omp simd")                                       // (#pragma is not allowed inside a macro)
          for (int64_t q = 0; q < p; ++q) {
            row[q] = dh_part_data[b * p + q] + (grad_out ? grad_out[b * out_size + p0 + q] : scalar_t(0));
          }
        }
        if (!share.rows_alone) wait_for_all_threads();
      }
    });
  });
  return {grad_gates, grad_h0, dc};                                // dc now reaches c_0
}

// An empty (T, B, 4H) buffer for the gates, on huge pages when big (lstm_cpu_buffers.h): forward
// fills it with the input GEMM, then activates it in place, and backward reads it.
at::Tensor empty_gates(at::IntArrayRef sizes, const at::Tensor& like) {
  return lstmlab_cpu::empty_on_huge_pages(sizes, like.options());
}

// The two activations alone, for the accuracy test: x -> (σ(x), tanh(x)).
std::tuple<at::Tensor, at::Tensor> activations(const at::Tensor& x) {
  lstmlab_cpu::check_cpu_contiguous("lstm_cpu_recurrence", x, "x", x);
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
  m.def("empty_gates(int[] sizes, Tensor like) -> Tensor");
  m.def("lstm_forward_recurrence(Tensor(a!) gates, Tensor w_hh, Tensor? w_hr, Tensor h0, Tensor c0,"
        " int partition, Tensor? bias=None)"
        " -> (Tensor, Tensor, Tensor?)");
  m.def("lstm_backward_recurrence(Tensor(a!) acts, Tensor cell_states, Tensor c0, Tensor w_hh, Tensor? weight_hr,"
        " Tensor grad_outputs, Tensor? grad_cell_states, int partition) -> (Tensor(a!), Tensor, Tensor)");
}

TORCH_LIBRARY_IMPL(lstmlab_cpu, CPU, m) {
  m.impl("lstm_forward_recurrence", &lstm_forward_recurrence);
  m.impl("lstm_backward_recurrence", &lstm_backward_recurrence);
  m.impl("activations", &activations);
  m.impl("empty_gates", &empty_gates);
}
