// How the threads of backend "bptt"'s C++ loops share a layer (lstm_cpu_recurrence.cpp, and the
// inference path, lstm_cpu_inference.cpp), and the barrier where they meet.
#pragma once

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <omp.h>

#include <algorithm>
#include <cstdint>

#include "lstm_cpu_tiles.h"   // block

namespace lstmlab_cpu {

// ---- Work split -------------------------------------------------------------------------------
// Each thread owns a slice of the hidden units (and the matching slice of the output features P)
// for the whole call, and its rows of W_hh stay in its own cache; step t+1's GEMM needs all of h_t,
// so the threads meet at a barrier once or twice per step (~0.3 µs each). Measured on 2 cores
// against one 2-thread GEMM per step: 0.4–0.9× the GEMM time; and faster than giving each thread a
// block of batch rows instead in 24 of 26 shapes/modes (B 1–64, H 32–512; the rows won two
// forward+backward cases at B = 64). Rows still split when there are too few units to share
// (fewer than 8 per thread) and spare threads.
struct Split {
  int64_t row_blocks, unit_blocks;
};

// partition: 0 = choose, 1 = rows only, 2 = units only (the tests force each). `threads`: how many
// there are to share the work — asked for before the parallel region, granted inside it.
inline Split choose_split(int64_t batch, int64_t hidden, int64_t out_size, int64_t partition, int64_t threads) {
  threads = std::max<int64_t>(1, threads);
  batch = std::max<int64_t>(1, batch);
  if (partition == 1) return {std::min(batch, threads), 1};
  const int64_t min_units = partition == 2 ? 1 : 8;          // per thread, unless forced
  const int64_t unit_blocks = std::min(threads, std::max<int64_t>(1, std::min(hidden, out_size) / min_units));
  return {std::max<int64_t>(1, std::min(batch, threads / unit_blocks)), unit_blocks};
}

// The threads to ask OpenMP for (none when already inside a parallel region).
inline int64_t threads_wanted() {
  return omp_in_parallel() ? 1 : std::max<int64_t>(1, at::get_num_threads());
}

// Every thread of the team waits here until all have arrived (nothing to wait for on one thread).
inline void wait_for_all_threads() {
#pragma omp barrier
}

// One thread's share of the work: batch rows [r0, r1), hidden units [j0, j1), output features [p0, p1).
struct Share {
  int64_t r0, r1, j0, j1, p0, p1;
};

// Runs body(share) on the threads OpenMP grants (or inline on this one). OpenMP may grant fewer
// threads than asked for (OMP_THREAD_LIMIT, OMP_DYNAMIC, nested regions), so the split is made
// again inside the region from omp_get_num_threads(), the number actually granted; a thread left
// without a share (when the split uses fewer threads than granted) runs the body on an empty share,
// so every thread of the team still meets every barrier.
template <typename Body>
void run_split(int64_t batch, int64_t hidden, int64_t out_size, int64_t partition, const Body& body) {
  auto share = [&](const Split& split, int64_t k) {
    if (k >= split.row_blocks * split.unit_blocks) return Share{0, 0, 0, 0, 0, 0};   // nothing to do
    const auto [r0, r1] = block(batch, split.row_blocks, k / split.unit_blocks);
    const auto [j0, j1] = block(hidden, split.unit_blocks, k % split.unit_blocks);
    const auto [p0, p1] = block(out_size, split.unit_blocks, k % split.unit_blocks);
    return Share{r0, r1, j0, j1, p0, p1};
  };
  const Split wanted = choose_split(batch, hidden, out_size, partition, threads_wanted());
  const int64_t threads = wanted.row_blocks * wanted.unit_blocks;
  if (threads == 1) {
    body(share(wanted, 0));
    return;
  }
#pragma omp parallel num_threads(threads)
  {
    at::AutoDispatchBelowADInplaceOrView below_autograd;      // thread-local: set on every thread
    const Split granted = choose_split(batch, hidden, out_size, partition, omp_get_num_threads());
    body(share(granted, omp_get_thread_num()));
  }
}

}  // namespace lstmlab_cpu
