// How the threads of backend "bptt"'s C++ loops share a layer (lstm_cpu_recurrence.cpp, and the
// inference path, lstm_cpu_inference.cpp). The team and its barrier: lstm_cpu_team.h.
#pragma once

#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <omp.h>

#include <algorithm>
#include <cstdint>

#include "lstm_cpu_team.h"    // run_team, wait_for_all_threads
#include "lstm_cpu_tiles.h"   // block, MAX_ROWS

namespace lstmlab_cpu {

// partition codes, shared with kernels/lstm_cpu.py's PARTITIONS
constexpr int64_t CHOOSE = 0, ROWS = 1, UNITS = 2, TILES = 3, TILE_ROWS = 4;

// The groups of up to MAX_ROWS batch rows that the loops on tiles walk one at a time.
inline int64_t row_groups_of(int64_t batch) { return (batch + MAX_ROWS - 1) / MAX_ROWS; }

// A W_hh that stays in a core's cache while the steps run: at most 256 KiB (H ≤ 128 in float32), the
// bound the splits below were measured against.
inline bool w_hh_fits_cache(int64_t w_hh_bytes) { return w_hh_bytes <= (int64_t(256) << 10); }

// ---- Work split -------------------------------------------------------------------------------
// Two ways to share a layer, each thread keeping its part for the whole call:
// - units: each thread owns a slice of the hidden units (and the matching slice of the output
//   features P), and its rows of W_hh stay in its own cache; step t+1's GEMM needs all of h_t, so the
//   threads meet at a barrier once or twice per step (lstm_cpu_team.h: ~80 ns each, ~300 ns with OpenMP's).
// - rows: each thread owns a block of batch rows and all units. Rows of a batch never meet, so the
//   threads run their own recurrences side by side and never wait for each other; but each reads all
//   of W_hh at every step, and its GEMMs have fewer rows.
// Either way the product W_hh h_{t−1} runs as one GEMM call per step, or on W_hh packed into tiles
// (lstm_cpu_tiles.h; the loops on tiles split by tiles of units, or by rows: TILE_ROWS). Which pays
// depends on the sizes (auto_partition below, measured); units also falls back to rows when there are
// too few units to share (fewer than 8 per thread) and spare threads.
struct Split {
  int64_t row_blocks, unit_blocks;
};

// partition: ROWS (rows only), UNITS (units, rows when few units), or FORCED_UNITS (units only: the
// tests force each). `threads`: how many there are to share the work — asked for before the parallel
// region, granted inside it.
constexpr int64_t FORCED_UNITS = -UNITS;
inline Split choose_split(int64_t batch, int64_t hidden, int64_t out_size, int64_t partition, int64_t threads) {
  threads = std::max<int64_t>(1, threads);
  batch = std::max<int64_t>(1, batch);
  if (partition == ROWS) return {std::min(batch, threads), 1};
  const int64_t min_units = partition == FORCED_UNITS ? 1 : 8;   // per thread, unless forced
  const int64_t unit_blocks = std::min(threads, std::max<int64_t>(1, std::min(hidden, out_size) / min_units));
  return {std::max<int64_t>(1, std::min(batch, threads / unit_blocks)), unit_blocks};
}

// The threads to ask OpenMP for (none when already inside a parallel region).
inline int64_t threads_wanted() {
  return omp_in_parallel() ? 1 : std::max<int64_t>(1, at::get_num_threads());
}

// One thread's share of the work: batch rows [r0, r1), hidden units [j0, j1), output features [p0, p1).
// rows_alone: every thread owns whole rows (all units), so none ever reads what another wrote and the
// per-step barriers can be left out (the same for every thread of the team: they all skip, or all wait).
struct Share {
  int64_t r0, r1, j0, j1, p0, p1;
  bool rows_alone = false;
};

// The split for partition CHOOSE, from the sizes: measured on this project's 2-core machine, T = 50-300,
// B 1-128 × H 32-512, each loop's time for every split (medians of 9-15 interleaved runs).
// - TILE_ROWS (the loops on tiles, each thread its own rows, no barrier) won every small layer: W_hh
//   within 256 KiB (H ≤ 128 in float32), forward and backward, at every B (B=8 H=51 forward 0.44 ms vs
//   0.66 on tiles split by units; B=32 H=64 backward 0.58 vs 0.68 rows, 1.28 units; B=1 H=64 backward, one
//   thread, 0.41 vs 0.86 two on tiles), and backward up to 1 MiB (H=256) with a 4-row group per thread.
// - Otherwise rows (one GEMM per step each) where W_hh fits or 64+ rows per thread (backward: B=128 H=512
//   63.0 vs 70.1 units); the tiles split by units for small steps (forward B·4H·P ≤ 2^21, backward ≤ 2^25:
//   B=16 H=512 12.0 vs 15.1); units the rest (forward H=256 B=16 3.54 vs 4.07 tile-rows).
// One thread has nothing to split: the tiles up to the sizes measured for it (2^23 forward, 2^20
// backward: see PARTITIONS in kernels/lstm_cpu.py), else one GEMM call per step. A projection never
// runs on tiles.
inline int64_t auto_partition(bool backward, int64_t batch, int64_t hidden, int64_t out_size, bool projected,
                              int64_t element_size, int64_t threads) {
  const int64_t step_multiply_adds = batch * 4 * hidden * out_size;
  if (threads <= 1) {
    const int64_t tiles_up_to = backward ? int64_t(1) << 20 : int64_t(1) << 23;
    return !projected && step_multiply_adds <= tiles_up_to ? TILES : UNITS;
  }
  const int64_t w_hh_bytes = 4 * hidden * out_size * element_size;
  const bool w_hh_fits = w_hh_fits_cache(w_hh_bytes);
  const int64_t rows_each = batch / threads, row_groups = row_groups_of(batch);
  if (!projected && (w_hh_fits || (backward && w_hh_bytes <= (int64_t(1) << 20) && row_groups >= threads))) {
    return TILE_ROWS;
  }
  if (backward ? rows_each >= 2 && (w_hh_fits || rows_each >= 64) : w_hh_fits && rows_each >= 16) return ROWS;
  const int64_t tiles_up_to = backward ? int64_t(1) << 25 : int64_t(1) << 21;
  if (!projected && step_multiply_adds <= tiles_up_to) return TILES;
  return UNITS;
}

// Runs body(share) on the threads OpenMP grants (or inline on this one). OpenMP may grant fewer
// threads than asked for (OMP_THREAD_LIMIT, OMP_DYNAMIC, nested regions), so the split is made
// again inside the region from omp_get_num_threads(), the number actually granted; a thread left
// without a share (when the split uses fewer threads than granted) runs the body on an empty share,
// so every thread of the team still meets every barrier.
template <typename Body>
void run_split(int64_t batch, int64_t hidden, int64_t out_size, int64_t partition, const Body& body) {
  auto share = [&](const Split& split, int64_t k) {
    const bool rows_alone = split.unit_blocks == 1;
    if (k >= split.row_blocks * split.unit_blocks) return Share{0, 0, 0, 0, 0, 0, rows_alone};   // nothing to do
    const auto [r0, r1] = block(batch, split.row_blocks, k / split.unit_blocks);
    const auto [j0, j1] = block(hidden, split.unit_blocks, k % split.unit_blocks);
    const auto [p0, p1] = block(out_size, split.unit_blocks, k % split.unit_blocks);
    return Share{r0, r1, j0, j1, p0, p1, rows_alone};
  };
  const Split wanted = choose_split(batch, hidden, out_size, partition, threads_wanted());
  run_team(wanted.row_blocks * wanted.unit_blocks, [&](int64_t thread, int64_t team) {   // one: inline
    const Split granted = choose_split(batch, hidden, out_size, partition, team);
    body(share(granted, thread));
  });
}

// ---- A thread's share of the weights and of the rows ------------------------------------------
// This thread's rows of a (4H, K) gate weight — gates i, f, g, o of units [j0, j0 + n) — stored
// transposed, (K, 4n): the layout MKL streams as it lies when it multiplies (rows, K) by it. Made block
// by block in registers (transpose_block in lstm_cpu_tiles.h: torch's strided copy_ took 3× as long).
inline at::Tensor gate_rows_transposed(const at::Tensor& weight, int64_t hidden, int64_t j0, int64_t n) {
  const int64_t K = weight.size(1);
  at::Tensor mine = at::empty({K, 4 * n}, weight.options());
  AT_DISPATCH_FLOATING_TYPES(weight.scalar_type(), "gate_rows_transposed", [&] {
    constexpr int U = lanes<scalar_t>();
    const scalar_t* w = weight.data_ptr<scalar_t>();
    scalar_t* out = mine.data_ptr<scalar_t>();
    for (int64_t g = 0; g < 4; ++g)
      for (int64_t u0 = 0; u0 < n; u0 += U)
        for (int64_t k0 = 0; k0 < K; k0 += U)             // out[k][g·n + u] = W[g·H + j0 + u][k]
          transpose_block(w + (g * hidden + j0 + u0) * K + k0, K, std::min<int64_t>(U, n - u0),
                          std::min<int64_t>(U, K - k0), out + k0 * 4 * n + g * n + u0, 4 * n, false);
  });
  return mine;
}

// The batch rows a thread steps through in the loops on tiles: all of them (threads split the tiles),
// or (by_rows) its own block of whole 4-row groups, every tile — then no thread reads what another
// wrote, and the per-step barriers are left out.
inline std::pair<int64_t, int64_t> rows_of_thread(bool by_rows, int64_t batch, int64_t team, int64_t thread) {
  if (!by_rows) return {0, batch};
  const auto [first, last] = block(row_groups_of(batch), team, thread);
  return {std::min(batch, first * MAX_ROWS), std::min(batch, last * MAX_ROWS)};
}

// What run_split is asked for: the partition chosen — but "units" forced by the caller (the tests)
// means units only, with no fallback to rows for few units.
inline int64_t split_as(int64_t partition, int64_t chosen) {
  return partition == UNITS ? FORCED_UNITS : chosen;
}

}  // namespace lstmlab_cpu
