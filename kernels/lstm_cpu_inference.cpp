// The inference path of backend "bptt" on the CPU: one layer direction's whole forward, keeping
// nothing for backward, in ONE call.
//
//     for each chunk of steps [s, e):
//         gates_t = W_ih x_t                       for t in [s, e): one GEMM, this thread's part only
//         for t in [s, e):
//             gates_t += b + W_hh h_{t−1}
//             i, f, o = σ(·), g = tanh(·);  c_t = f ⊙ c_{t−1} + i ⊙ g;  m_t = o ⊙ tanh c_t
//             h_t = W_hr m_t                        (with a projection; else h_t = m_t)
//
// Same equations, same pointwise math (lstm_cpu_pointwise.h) and the same work split
// (lstm_cpu_split.h) as the training loop in lstm_cpu_recurrence.cpp. What differs is what a step
// leaves behind: training keeps every step's activations and cell states for backward (T·B·5H
// values); here only h_t survives a step — it is the output — and c_t is overwritten in place (on
// tiles) or lives in two (B, n) buffers used in turn.
//
// Each thread owns a part of the layer for the whole call — a slice of the hidden units, or a block
// of batch rows (which never meet, so those threads never wait for each other) — and every weight is
// laid out once per call, by the thread that uses it: its rows of W_ih and W_hh, transposed for MKL or
// packed into tiles (lstm_cpu_tiles.h). Two ways to run a step:
// - On tiles (every layer without a projection): for each tile of U units and 4 batch rows at a time,
//   the 16 gate sums start from the bias, walk the tile of W_ih over x_t, then the tile of W_hh over
//   h_{t−1}, all in registers, and the gate math runs on them straight away. No input GEMM at all: a
//   GEMM call is MKL's, which on this project's AMD VM ran a (1600, 512) × (512, 1024) product at 82–86
//   GFLOP/s on one core where the tile walk ran at 108–116 (scratch timings, 2026-12-07) — and
//   there is no (T, B, 4H) buffer to write and read back. A thread with fewer rows than
//   fuse_input_from_rows (lstm_cpu.py's FUSE_INPUT_FROM_ROWS, 4) would feed each weight it reads from
//   memory to too few rows: there one GEMM per chunk of steps makes W_ih x_t + b, its output laid out as
//   the tiles' sums (pack_tiles_side_by_side), and the walk starts from it.
// - One GEMM call per step (with a projection, or when forced): W_ih x_t for a chunk of steps in one
//   GEMM into a buffer of the thread's own (written, read and dropped in its cache; no thread waits for
//   another's input GEMM), then per step W_hh h_{t−1} as one GEMM, then the gate math.
// (Before this file, Python called the training loop once per chunk: W_hh was packed again, and a team
// of threads started again, at every chunk — measured 10–20 % of the forward at T=100, B=64.)
//
// File order: a thread's weights → the loop → registration as torch.ops.lstmlab_cpu.lstm_inference.
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <torch/library.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <tuple>
#include <utility>

#include "lstm_cpu_checks.h"
#include "lstm_cpu_pointwise.h"
#include "lstm_cpu_split.h"
#include "lstm_cpu_tiles.h"

namespace {

using namespace lstmlab_cpu;

// The whole forward of one direction. x (T, B, I); w_ih (4H, I); w_hh (4H, P); bias (4H) = b_ih + b_hh;
// w_hr (P, H) or undefined; h0 (B, P); c0 (B, H); chunk: steps per input GEMM (where there is one);
// fuse_input_from_rows: on tiles, a thread with at least this many rows sums W_ih x_t in the walk. Writes outputs
// (T, B, P) and c_last (B, H).
template <typename scalar_t>
void forward_inference(const at::Tensor& x, const at::Tensor& w_ih, const at::Tensor& w_hh, const at::Tensor& bias,
                       const at::Tensor& w_hr, const at::Tensor& h0, const at::Tensor& c0, int64_t chunk,
                       int64_t chosen, int64_t partition, int64_t fuse_input_from_rows, at::Tensor& outputs,
                       at::Tensor& c_last) {
  const bool on_tiles = chosen == TILES || chosen == TILE_ROWS;
  constexpr int U = lanes<scalar_t>();
  const int64_t steps = x.size(0), batch = x.size(1), input_size = x.size(2);
  const int64_t hidden = w_hh.size(0) / 4, out_size = w_hh.size(1);
  const bool projected = w_hr.defined();
  // With a projection every thread needs all of m_t for its features of h_t = W_hr m_t: one (B, H)
  // buffer, written by the pointwise pass and read by the projection, a barrier between the two.
  at::Tensor m_all = projected ? at::empty({batch, hidden}, x.options()) : at::Tensor();
  scalar_t* out_data = outputs.data_ptr<scalar_t>();
  const scalar_t* h0_data = h0.data_ptr<scalar_t>();

  auto body = [&](const Share& share) {
    const int64_t r0 = share.r0, j0 = share.j0, p0 = share.p0;          // this thread's part
    const int64_t rows = share.r1 - r0, n = share.j1 - j0, p = share.p1 - p0;
    const bool has_units = rows > 0 && n > 0, has_features = projected && rows > 0 && p > 0;
    // Laid out once per call, by the thread that uses it (so it starts in that thread's cache).
    at::Tensor w_in, b_mine, w_rec, packed, packed_in, bias_tiles, recurrent, gates, x_rows, c_prev, c_next, w_hr_t,
        h_part;
    const int64_t my_tiles = (n + U - 1) / U;
    const bool fuse_input = on_tiles && rows >= fuse_input_from_rows;   // W_ih x_t in the walk, not a chunk's GEMM
    if (has_units) {
      b_mine = bias.view({4, hidden}).narrow(1, j0, n).contiguous().view({4 * n});   // (4n)
      if (on_tiles) {                  // this thread's units of W_ih and of W_hh, and of the bias, in tiles
        if (fuse_input) {
          packed_in = at::empty({my_tiles, input_size, 4, U}, x.options());
          pack_tiles(w_ih.data_ptr<scalar_t>() + j0 * input_size, input_size, 4, n, hidden, input_size,
                     packed_in.data_ptr<scalar_t>());
        } else {                       // (I, tiles·4·U): the input GEMM's sums come out in the tile layout
          w_in = at::empty({input_size, my_tiles * 4 * U}, x.options());
          pack_tiles_side_by_side(w_ih.data_ptr<scalar_t>() + j0 * input_size, input_size, 4, n, hidden, input_size,
                                  w_in.data_ptr<scalar_t>());
          gates = at::empty({std::min(chunk, steps) * rows, my_tiles * 4 * U}, x.options());   // (t·b, tiles·4·U)
        }
        packed = at::empty({my_tiles, out_size, 4, U}, x.options());
        pack_tiles(w_hh.data_ptr<scalar_t>() + j0 * out_size, out_size, 4, n, hidden, out_size,
                   packed.data_ptr<scalar_t>());
        bias_tiles = at::empty({my_tiles, 4, U}, x.options());       // the bias as a W of one column, K = 1
        pack_tiles(b_mine.data_ptr<scalar_t>(), 1, 4, n, n, 1, bias_tiles.data_ptr<scalar_t>());
      } else {
        w_in = gate_rows_transposed(w_ih, hidden, j0, n);                           // (I, 4n)
        w_rec = gate_rows_transposed(w_hh, hidden, j0, n);                          // (P, 4n)
        recurrent = at::empty({rows, 4 * n}, x.options());                          // W_hh h_{t−1} (b, 4n)
        gates = at::empty({std::min(chunk, steps) * rows, 4 * n}, x.options());     // (t·b, 4n)
      }
      if (rows != batch && !fuse_input) {
        x_rows = at::empty({std::min(chunk, steps) * rows, input_size}, x.options());   // (t·b, I)
      }
      c_prev = at::empty({rows, n}, x.options());                                   // (b, n), a copy: c0 is the caller's
      c_prev.copy_(c0.narrow(0, r0, rows).narrow(1, j0, n));
      if (!on_tiles) c_next = at::empty_like(c_prev);                              // on tiles c_t replaces c_{t−1}
    }
    if (has_features) {
      w_hr_t = w_hr.narrow(0, p0, p).t().contiguous();                             // (H, p)
      h_part = at::empty({rows, p}, x.options());
    }
    for (int64_t s = 0; s < steps; s += chunk) {
      const int64_t e = std::min(steps, s + chunk);
      if (has_units && !fuse_input) {                     // gates_t = W_ih x_t, t in [s, e)
        at::Tensor x_chunk = x.narrow(0, s, e - s).reshape({(e - s) * batch, input_size});   // (t·B, I)
        if (rows != batch) {                                            // this thread's rows, gathered first
          for (int64_t t = s; t < e; ++t) {
            std::memcpy(x_rows.data_ptr<scalar_t>() + (t - s) * rows * input_size,
                        x.data_ptr<scalar_t>() + (t * batch + r0) * input_size, rows * input_size * sizeof(scalar_t));
          }
          x_chunk = x_rows.narrow(0, 0, (e - s) * rows);                                // (t·b, I)
        }
        at::Tensor chunk_gates = gates.narrow(0, 0, (e - s) * rows);
        if (on_tiles) {
          at::addmm_out(chunk_gates, bias_tiles.view({-1}), x_chunk, w_in);             // b + W_ih x_t, tile layout
        } else {
          at::mm_out(chunk_gates, x_chunk, w_in);                                       // (t·b, 4n); b added later
        }
      }
      for (int64_t t = s; t < e; ++t) {
        if (has_units) {
          const scalar_t* h_prev = t == 0 ? h0_data : out_data + (t - 1) * batch * out_size;   // (B, P)
          // m_t of row r (r counted from 0 in this thread), at unit j0: into the outputs, or the projection's input
          auto m_row = [&](int64_t r) {
            return projected ? m_all.data_ptr<scalar_t>() + (r0 + r) * hidden + j0
                             : out_data + (t * batch + r0 + r) * out_size + j0;
          };
          if (on_tiles) {             // b + W_ih x_t + W_hh h_{t−1}, summed in registers, tile by tile
            const scalar_t* x_t = x.data_ptr<scalar_t>() + t * batch * input_size;          // (B, I)
            const int64_t walked = fuse_input ? input_size + out_size : out_size;           // k per step
            const bool backwards = walk_backwards(t, my_tiles * walked * 4 * U * sizeof(scalar_t));
            for (int64_t i = 0; i < my_tiles; ++i) {
              const int64_t tile = tile_in_order(backwards, 0, my_tiles, i), u0 = tile * U;
              const int64_t units = std::min<int64_t>(U, n - u0);
              for (int64_t rb = 0; rb < rows; rb += MAX_ROWS) {
                const int count = static_cast<int>(std::min<int64_t>(MAX_ROWS, rows - rb));
                vec_t<scalar_t> acc[MAX_ROWS][4];
                if (fuse_input) {                                       // b + W_ih x_t: a walk of its own
                  affine_rows<scalar_t, 4>(count, x_t + (r0 + rb) * input_size, input_size, input_size,
                                           packed_in.data_ptr<scalar_t>() + tile * input_size * 4 * U,
                                           bias_tiles.data_ptr<scalar_t>() + tile * 4 * U, acc);
                } else {                                                // b + W_ih x_t: from the chunk's GEMM
                  const scalar_t* gates_t = gates.data_ptr<scalar_t>() + ((t - s) * rows + rb) * my_tiles * 4 * U;
                  for (int r = 0; r < count; ++r)
                    for (int g = 0; g < 4; ++g) acc[r][g] = load(gates_t + (r * my_tiles + tile) * 4 * U + g * U);
                }
                affine_rows<scalar_t, 4>(count, h_prev + (r0 + rb) * out_size, out_size, out_size,
                                         packed.data_ptr<scalar_t>() + tile * out_size * 4 * U, nullptr, acc);
                for (int r = 0; r < count; ++r) {
                  scalar_t sums[4 * U];
                  for (int g = 0; g < 4; ++g) store(sums + g * U, acc[r][g]);
                  const int64_t row = rb + r;
                  cell_units(sums, U, c_prev.data_ptr<scalar_t>() + row * n + u0, m_row(row) + u0, units);
                }
              }
            }
          } else {                                                      // W_hh h_{t−1}: one GEMM (b, 4n)
            scalar_t* gates_t = gates.data_ptr<scalar_t>() + (t - s) * rows * 4 * n;       // (b, 4n)
            const scalar_t* c_in = c_prev.data_ptr<scalar_t>();
            scalar_t* c_out = c_next.data_ptr<scalar_t>();
            const at::Tensor h_rows = at::from_blob(const_cast<scalar_t*>(h_prev) + r0 * out_size, {rows, out_size},
                                                    x.options());
            at::mm_out(recurrent, h_rows, w_rec);
            for (int64_t row = 0; row < rows; ++row) {
              forward_units(recurrent.data_ptr<scalar_t>() + row * 4 * n, n, gates_t + row * 4 * n,
                            b_mine.data_ptr<scalar_t>(), n, c_in + row * n, c_out + row * n, m_row(row), n);
            }
            std::swap(c_prev, c_next);                                  // c_t is c_{t−1} of the next step
          }
        }
        if (!share.rows_alone) wait_for_all_threads();                  // h_t (or m_t) complete
        if (projected) {                                                // h_t = W_hr m_t, this thread's features
          if (has_features) {
            at::mm_out(h_part, m_all.narrow(0, r0, rows), w_hr_t);
            for (int64_t r = 0; r < rows; ++r) {
              std::memcpy(out_data + (t * batch + r0 + r) * out_size + p0, h_part.data_ptr<scalar_t>() + r * p,
                          p * sizeof(scalar_t));
            }
          }
          if (!share.rows_alone) wait_for_all_threads();
        }
      }
    }
    if (has_units) c_last.narrow(0, r0, rows).narrow(1, j0, n).copy_(c_prev);
  };

  if (chosen == TILE_ROWS) {           // threads own whole groups of 4 rows, every tile: they never meet
    run_team(std::min<int64_t>(threads_wanted(), row_groups_of(batch)), [&](int64_t thread, int64_t team) {
      const auto [first_row, last_row] = rows_of_thread(true, batch, team, thread);
      body(Share{first_row, last_row, 0, hidden, 0, hidden, true});
    });
  } else if (on_tiles) {               // threads own whole tiles of units (no projection: P = H)
    const int64_t tiles = (hidden + U - 1) / U;
    run_team(std::min<int64_t>(threads_wanted(), tiles), [&](int64_t thread, int64_t team) {
      const auto [a, b] = block(tiles, team, thread);
      const int64_t j0 = std::min(a * U, hidden), j1 = std::min(b * U, hidden);
      // a team of one (inside someone else's parallel region, run_team runs it inline) meets nobody
      body(Share{0, batch, j0, j1, j0, j1, team == 1});
    });
  } else {
    run_split(batch, hidden, out_size, split_as(partition, chosen), body);
  }
}

// The split for partition CHOOSE (see auto_partition in lstm_cpu_split.h for training's): without a
// projection, the tiles — by groups of 4 rows when W_hh fits a core's cache (≤ 256 KiB) and there is a group
// per thread, else by tiles of units; with one, one GEMM call per step, by rows where W_hh fits with 16+
// rows per thread, else by units. Since the tiles sum W_ih x_t in the same walk (lstm_cpu.py's
// FUSE_INPUT_FROM_ROWS) they won every shape measured, forward time / oneDNN's, 2 threads, T = 100, medians
// of 5-15 interleaved rounds (AMD VM, 2026-12-07), tiles / tile-rows / units: B=16 H=128 0.86 / 0.80 / 1.03;
// B=32 H=64 0.71 / 0.77 / 1.06; B=64 H=128 0.96 / 0.99 / 1.15; B=128 H=128 1.00 / 1.01 / 1.37; B=16 H=256
// 0.95 / 0.98 / 1.30; B=256 H=256 0.93 / 0.90 / 1.16; B=16 H=512 0.98 / 1.14 / 1.60; B=64 H=512 0.94 / 1.05 /
// 1.30; B=256 H=512 0.94 / 0.96 / 1.21 (I = H); B=8 H=51 I=1 0.66 / 0.58. (Before, W_ih x_t always came from
// a GEMM per chunk and the tiles lost above B·4H·P = 2^20: B=16 H=512 1.09 on tiles, 1.49 units.)

}  // namespace

// x (T, B, I), w_ih (4H, I), w_hh (4H, P), bias (4H) or undefined (no bias), w_hr (P, H) or undefined,
// h0 (B, P), c0 (B, H); chunk_steps ≥ 1: steps per input GEMM (where there is one); partition as in
// lstm_cpu_split.h (0 choose, 1 rows, 2 units, 3 tiles, 4 tile-rows; a projection never runs on tiles);
// fuse_input_from_rows: on tiles, threads with at least this many rows sum W_ih x_t in the walk.
// -> outputs (T, B, P), c_T (B, H).
std::tuple<at::Tensor, at::Tensor> lstm_inference(const at::Tensor& x, const at::Tensor& w_ih, const at::Tensor& w_hh,
                                                  const c10::optional<at::Tensor>& bias_in,
                                                  const c10::optional<at::Tensor>& w_hr_in, const at::Tensor& h0,
                                                  const at::Tensor& c0, int64_t chunk_steps, int64_t partition,
                                                  int64_t fuse_input_from_rows) {
  for (const auto& [tensor, name] : {std::pair<const at::Tensor&, const char*>{x, "x"}, {w_ih, "w_ih"},
                                     {w_hh, "w_hh"}, {h0, "h0"}, {c0, "c0"}}) {
    lstmlab_cpu::check_cpu_contiguous("lstm_inference", tensor, name, x);
  }
  TORCH_CHECK(x.dim() == 3 && x.size(0) > 0, "lstm_inference: x must be (T, B, I) with T ≥ 1, got ", x.sizes());
  TORCH_CHECK(chunk_steps > 0, "lstm_inference: chunk_steps must be ≥ 1, got ", chunk_steps);
  TORCH_CHECK(w_hh.dim() == 2 && w_hh.size(0) % 4 == 0, "lstm_inference: w_hh must be (4H, P), got ", w_hh.sizes());
  const int64_t steps = x.size(0), batch = x.size(1), hidden = w_hh.size(0) / 4, out_size = w_hh.size(1);
  TORCH_CHECK(w_ih.dim() == 2 && w_ih.size(0) == 4 * hidden && w_ih.size(1) == x.size(2),
              "lstm_inference: w_ih must be (4H, I) = (", 4 * hidden, ", ", x.size(2), "), got ", w_ih.sizes());
  const at::Tensor bias = bias_in.has_value() && bias_in->defined() ? *bias_in : at::zeros({4 * hidden}, x.options());
  lstmlab_cpu::check_cpu_contiguous("lstm_inference", bias, "bias", x);
  TORCH_CHECK(bias.dim() == 1 && bias.size(0) == 4 * hidden, "lstm_inference: bias must be (4H,) = (", 4 * hidden,
              ",), got ", bias.sizes());
  const at::Tensor w_hr = w_hr_in.has_value() && w_hr_in->defined() ? *w_hr_in : at::Tensor();
  if (w_hr.defined()) lstmlab_cpu::check_cpu_contiguous("lstm_inference", w_hr, "w_hr", x);
  TORCH_CHECK(w_hr.defined() ? w_hr.dim() == 2 && w_hr.size(0) == out_size && w_hr.size(1) == hidden
                             : out_size == hidden,
              "lstm_inference: w_hr must be (P, H) = (", out_size, ", ", hidden, ") (none when P = H), got ",
              w_hr.defined() ? w_hr.sizes() : at::IntArrayRef{});
  TORCH_CHECK(h0.dim() == 2 && h0.size(0) == batch && h0.size(1) == out_size, "lstm_inference: h0 must be (B, P) = (",
              batch, ", ", out_size, "), got ", h0.sizes());
  TORCH_CHECK(c0.dim() == 2 && c0.size(0) == batch && c0.size(1) == hidden, "lstm_inference: c0 must be (B, H) = (",
              batch, ", ", hidden, "), got ", c0.sizes());
  TORCH_CHECK(partition >= CHOOSE && partition <= TILE_ROWS, "lstm_inference: partition must be 0-4, got ", partition);
  at::Tensor outputs = at::empty({steps, batch, out_size}, x.options());
  at::Tensor c_last = at::empty({batch, hidden}, x.options());
  if (batch == 0) return {outputs, c_last};

  at::AutoDispatchBelowADInplaceOrView below_autograd;            // inner ATen calls skip autograd's layers
  int64_t chosen = partition;
  if (partition == CHOOSE) {
    const int64_t threads = threads_wanted(), row_groups = row_groups_of(batch);
    const bool w_hh_fits = w_hh_fits_cache(4 * hidden * out_size * x.element_size());
    if (!w_hr.defined()) {
      chosen = threads > 1 && w_hh_fits && row_groups >= threads ? TILE_ROWS : TILES;
    } else {
      chosen = threads > 1 && w_hh_fits && batch / threads >= 16 ? ROWS : UNITS;
    }
  }
  if (w_hr.defined() && (chosen == TILES || chosen == TILE_ROWS)) chosen = UNITS;   // a projection: GEMMs
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "lstm_inference", [&] {
    forward_inference<scalar_t>(x, w_ih, w_hh, bias, w_hr, h0, c0, chunk_steps, chosen, partition,
                                fuse_input_from_rows, outputs, c_last);
  });
  return {outputs, c_last};
}

TORCH_LIBRARY_FRAGMENT(lstmlab_cpu, m) {
  m.def("lstm_inference(Tensor x, Tensor w_ih, Tensor w_hh, Tensor? bias, Tensor? w_hr, Tensor h0, Tensor c0,"
        " int chunk_steps, int partition, int fuse_input_from_rows) -> (Tensor, Tensor)");
}

TORCH_LIBRARY_IMPL(lstmlab_cpu, CPU, m) {
  m.impl("lstm_inference", &lstm_inference);
}
