// The backward's big matrix products, on the tile kernel of lstm_cpu_tiles.h instead of MKL.
//
// After the backward time loop has made every step's gate gradients d_gates (T·B, 4H), three products
// over all T·B rows give the input and weight gradients (lstmlab/backends/bptt.py, gemm_gradients):
//
//     dx    = d_gates W_ih                       out = A B    A (T·B, 4H)        B = W_ih (4H, I)
//     dW_ih = Σ_t d_gates_tᵀ x_t                 out = Aᵀ B   A (T·B, 4H)        B = x (T·B, I)
//     dW_hh = Σ_t d_gates_tᵀ h_{t−1}             out = Aᵀ B   A (T·B, 4H)        B = [h_init; outputs 0 … T−2]
//
// (B of dW_hh comes in two parts, the initial state and the outputs of steps 0 … T−2: no (T·B, P) copy
// to join them.) Products where padding B's width to whole tiles would add over half of it stay with
// MKL (float32: widths up to 42 and 65–85, so I = 32 or I = 1): lstm_cpu.py's matmul decides, MAX_PADDING.
// They are a training step's largest share of arithmetic at batched shapes. On this project's 2-core
// AMD VM (T = 100, B = 16, H = I = 256, 2 threads, scratch timings, 2026-12-07) MKL ran them at 111–181
// GFLOP/s and this kernel at 163–206 (README, "Training's products on the tiles").
//
// How, the way a GEMM library does it (BLIS's loops, say), with the tile kernel as its inner loop:
// - B's columns are taken a block at a time, and K, the summed index, a chunk at a time, so that the
//   block's chunk of B packed into wide tiles — 4·U columns each, (tiles, chunk, 4, U), the layout
//   affine_tile walks front to back — stays in a core's cache (PACKED_BYTES) while every row of the
//   output passes over it. Chunks of up to 512 rows: each chunk reads and writes the output block once
//   more, and an output bigger than the caches (the forward's (T·B, 4H)) would go to memory and back
//   at every chunk (K = 512 in chunks of 64, as a first version cut it for 4H = 2048 columns at once:
//   8 round trips of 52 MB, a third of the product's time).
// - For each chunk and column block the team packs B's rows of it (each thread a share), meets at a barrier, then each
//   thread runs its own groups of 4 output rows over every tile of the block: 16 vector sums in
//   registers for 4 rows × 64 columns, started from what the chunks before left in out, walked over the
//   chunk, stored back. A second barrier, and the next chunk's packing may overwrite the buffer.
// - Aᵀ is packed too, per chunk, by each thread for its own rows: a group's 4 output rows are 4
//   neighbouring columns of A, and walked where they lie, every k would read 16 bytes from another row of
//   A — another page, rows 4H values apart — for every tile; packed, a group's chunk is (chunk, 4)
//   values in a row, read with affine_tile's Z_TRANSPOSED at stride 4. (Walked in place, the weight
//   gradients of T = 100, B = 64, H = I = 512 ran at 160–184 GFLOP/s against 202 for dx, whose A needs no
//   packing.)
//
// The forward's input projection, W_ih x_t for every step (gates = x Wᵢₕᵀ: A = x (T·B, I), B = W_ihᵀ), runs
// here too, written straight into the (T, B, 4H) buffer the loops then activate in place.
//
// File order: the product → registration as torch.ops.lstmlab_cpu.matmul_on_tiles.
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <torch/library.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "lstm_cpu_checks.h"
#include "lstm_cpu_split.h"
#include "lstm_cpu_team.h"
#include "lstm_cpu_tiles.h"

namespace {

using namespace lstmlab_cpu;

// A block's chunk of B, packed, takes at most this many bytes: about half of a core's 1-2 MiB L2, the
// rest left for the rows of A the walk reads.
constexpr int64_t PACKED_BYTES = int64_t(512) << 10;
constexpr int64_t CHUNK = 512, MAX_CHUNK = 1024;          // rows of B per chunk: CHUNK, or up to MAX_CHUNK
                                                          // when B is so narrow that a whole row fits

template <typename scalar_t>
void matmul_on_tiles_impl(const at::Tensor& a, bool a_transposed, const std::vector<at::Tensor>& b_parts,
                          at::Tensor& out) {
  constexpr int U = lanes<scalar_t>(), WIDE = 4 * U;     // a wide tile: 4 vectors of columns
  const int64_t M = out.size(0), N = out.size(1), K = a_transposed ? a.size(0) : a.size(1);
  const int64_t lda = a.size(1);
  const int64_t tiles = (N + WIDE - 1) / WIDE, tile_row_bytes = WIDE * int64_t(sizeof(scalar_t));
  const int64_t block_tiles = std::clamp<int64_t>(PACKED_BYTES / (CHUNK * tile_row_bytes), 1, tiles);
  const int64_t chunk = std::clamp<int64_t>(PACKED_BYTES / (block_tiles * tile_row_bytes), 1, MAX_CHUNK);
  at::Tensor packed = at::empty({block_tiles, std::min(chunk, K), WIDE}, out.options());
  scalar_t* packed_data = packed.data_ptr<scalar_t>();
  const int64_t packed_rows = packed.size(1);
  const scalar_t* a_data = a.data_ptr<scalar_t>();
  scalar_t* out_data = out.data_ptr<scalar_t>();
  // Row k of B: in the part that holds it.
  std::vector<const scalar_t*> part_data;
  std::vector<int64_t> part_end;                        // one past each part's last k
  for (const at::Tensor& part : b_parts) {
    part_data.push_back(part.data_ptr<scalar_t>());
    part_end.push_back((part_end.empty() ? 0 : part_end.back()) + part.size(0));
  }
  auto b_row = [&](int64_t k) {
    size_t p = 0;
    while (k >= part_end[p]) ++p;
    return part_data[p] + (k - (p == 0 ? 0 : part_end[p - 1])) * N;
  };
  const scalar_t zero[WIDE] = {};

  run_team(std::min<int64_t>(threads_wanted(), row_groups_of(M)), [&](int64_t thread, int64_t team) {
    const auto [first_group, last_group] = block(row_groups_of(M), team, thread);
    const int64_t m_first = first_group * MAX_ROWS, m_last = std::min(M, last_group * MAX_ROWS);
    // Aᵀ's chunk for this thread's groups: (groups, chunk, 4), group by group
    at::Tensor a_panel = a_transposed ? at::empty({last_group - first_group, std::min(chunk, K), MAX_ROWS},
                                                  out.options())
                                      : at::Tensor();
    for (int64_t k0 = 0; k0 < K; k0 += chunk) {                         // a chunk of B's rows
      const int64_t rows_k = std::min(chunk, K - k0);
      if (a_transposed) {
        for (int64_t m = m_first; m < m_last; m += MAX_ROWS) {
          const int64_t count = std::min<int64_t>(MAX_ROWS, m_last - m);
          scalar_t* dst = a_panel.data_ptr<scalar_t>() + (m - m_first) * a_panel.size(1);
          for (int64_t k = 0; k < rows_k; ++k) std::memcpy(dst + k * MAX_ROWS, a_data + (k0 + k) * lda + m,
                                                           count * sizeof(scalar_t));
        }
      }
      const auto [q0, q1] = block(rows_k, team, thread);     // this thread's share of the packing
      for (int64_t t0 = 0; t0 < tiles; t0 += block_tiles) {             // a block of B's columns
        const int64_t t1 = std::min(tiles, t0 + block_tiles);
        for (int64_t k = q0; k < q1; ++k) {
          const scalar_t* row = b_row(k0 + k);
          for (int64_t tile = t0; tile < t1; ++tile) {
            const int64_t cols = std::min<int64_t>(WIDE, N - tile * WIDE);
            scalar_t* dst = packed_data + ((tile - t0) * packed_rows + k) * WIDE;
            std::memcpy(dst, row + tile * WIDE, cols * sizeof(scalar_t));
            std::fill(dst + cols, dst + WIDE, scalar_t(0));       // past N: zeros, summed and never stored
          }
        }
        wait_for_all_threads();                                   // the chunk is packed
        for (int64_t m = m_first; m < m_last; m += MAX_ROWS) {
          const int count = static_cast<int>(std::min<int64_t>(MAX_ROWS, m_last - m));
          // A's values for rows m … m+3 over this chunk's k: packed (Aᵀ given), or a[m · lda + k]
          const scalar_t* z = a_transposed ? a_panel.data_ptr<scalar_t>() + (m - m_first) * a_panel.size(1)
                                           : a_data + m * lda + k0;
          const int64_t ldz = a_transposed ? MAX_ROWS : lda;
          for (int64_t tile = t0; tile < t1; ++tile) {
            const int64_t cols = std::min<int64_t>(WIDE, N - tile * WIDE);
            scalar_t* o = out_data + m * N + tile * WIDE;
            vec_t<scalar_t> acc[MAX_ROWS][4];
            if (k0 > 0) {                                         // the sums so far, from out
              for (int r = 0; r < count; ++r) {
                scalar_t row[WIDE] = {};
                std::memcpy(row, o + r * N, cols * sizeof(scalar_t));
                for (int g = 0; g < 4; ++g) acc[r][g] = load(row + g * U);
              }
            }
            const scalar_t* start = k0 > 0 ? nullptr : zero;      // nullptr: start from acc
            const scalar_t* tile_data = packed_data + (tile - t0) * packed_rows * WIDE;
            if (a_transposed) {
              affine_rows<scalar_t, 4, true>(count, z, ldz, rows_k, tile_data, start, acc);
            } else {
              affine_rows<scalar_t, 4, false>(count, z, ldz, rows_k, tile_data, start, acc);
            }
            for (int r = 0; r < count; ++r) {
              scalar_t row[WIDE];
              for (int g = 0; g < 4; ++g) store(row + g * U, acc[r][g]);
              std::memcpy(o + r * N, row, cols * sizeof(scalar_t));
            }
          }
        }
        wait_for_all_threads();                                   // all done with this chunk's packing
      }
    }
  });
}

}  // namespace

// out (M, N) = A B, A (M, K) — or, a_transposed, Aᵀ B with A given as (K, M) — and B (K, N) given as
// parts stacked along K (each (k_i, N), Σ k_i = K). All contiguous CPU tensors of one floating dtype.
void matmul_on_tiles(const at::Tensor& a, bool a_transposed, at::TensorList b_parts, at::Tensor& out) {
  TORCH_CHECK(a.dim() == 2, "matmul_on_tiles: a must be 2-D, got ", a.sizes());
  TORCH_CHECK(!b_parts.empty(), "matmul_on_tiles: b_parts must hold at least one tensor");
  check_cpu_contiguous("matmul_on_tiles", a, "a", a);
  TORCH_CHECK(a.scalar_type() == at::kFloat || a.scalar_type() == at::kDouble,
              "matmul_on_tiles: a must be float32 or float64, got ", a.scalar_type());
  const int64_t M = a_transposed ? a.size(1) : a.size(0), K = a_transposed ? a.size(0) : a.size(1);
  const int64_t N = b_parts[0].dim() == 2 ? b_parts[0].size(1) : -1;
  int64_t rows = 0;
  std::vector<at::Tensor> parts;
  for (const at::Tensor& part : b_parts) {
    check_cpu_contiguous("matmul_on_tiles", part, "each of b_parts", a);
    TORCH_CHECK(part.dim() == 2 && part.size(1) == N, "matmul_on_tiles: each of b_parts must be (k, ", N, "), got ",
                part.sizes());
    rows += part.size(0);
    if (part.size(0) > 0) parts.push_back(part);
  }
  TORCH_CHECK(rows == K, "matmul_on_tiles: b_parts hold ", rows, " rows, a's product needs K = ", K);
  check_cpu_contiguous("matmul_on_tiles", out, "out", a);
  TORCH_CHECK(out.dim() == 2 && out.size(0) == M && out.size(1) == N, "matmul_on_tiles: out must be (M, N) = (",
              M, ", ", N, "), got ", out.sizes());
  if (K == 0) {
    out.zero_();
    return;
  }
  if (M == 0 || N == 0) return;
  at::AutoDispatchBelowADInplaceOrView below_autograd;
  AT_DISPATCH_FLOATING_TYPES(a.scalar_type(), "matmul_on_tiles", [&] {
    matmul_on_tiles_impl<scalar_t>(a, a_transposed, parts, out);
  });
}

TORCH_LIBRARY_FRAGMENT(lstmlab_cpu, m) {
  m.def("matmul_on_tiles(Tensor a, bool a_transposed, Tensor[] b_parts, Tensor(a!) out) -> ()");
}

TORCH_LIBRARY_IMPL(lstmlab_cpu, CPU, m) {
  m.impl("matmul_on_tiles", &matmul_on_tiles);
}
