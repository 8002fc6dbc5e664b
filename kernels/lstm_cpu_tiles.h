// One tile of an affine map on packed weights: the register-blocked kernel shared by the closed-loop
// rollout (lstm_cpu_rollout.cpp) and the time loops of backend "bptt" (lstm_cpu_recurrence.cpp).
//
// Packed layout (lstmlab/rollout.py's pack_affine, or pack_tiles below): an affine map out = W z + b
// with G groups of N outputs (G = 4: the gates i, f, g, o of N = H units; G = 1: plain features) is
// cut into tiles of U outputs per group, U = one 64-byte vector (16 floats, 8 doubles):
//     packed (tiles, K, G, U):  packed[t][k][g][u] = W[g·N + t·U + u][k]   (0 past N)
//     bias   (tiles, G, U)
// (pack_affine, for the rollout, puts the groups of a short last tile side by side instead: fewer
// vectors per k for the same outputs — see there and lstm_cpu_rollout.cpp's layer_tile.)
// A tile is one contiguous block, walked once, front to back, for up to 4 batch rows at a time: its
// G·U sums for those rows live in (up to 16) vector registers for the whole walk over k, each weight
// vector is loaded once into a register and feeds one FMA per row, and the lines a few steps of k
// ahead are prefetched (weights too big for L1 stream from L2 at every call).
#pragma once

#include <ATen/ATen.h>

#include "lstm_cpu_activations.h"   // LSTMLAB_INLINE

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <utility>

namespace lstmlab_cpu {

constexpr int VECTOR_BYTES = 64;              // one AVX-512 register (two AVX2 ones)
constexpr int MAX_ROWS = 4;                   // batch rows per pass: 4 rows × 4 gates = 16 accumulators
constexpr int PREFETCH_AHEAD = 8;             // steps of k ahead (G = 4: 8 · 4 lines = 2 KB of weights)

template <typename scalar_t>
constexpr int lanes() { return VECTOR_BYTES / sizeof(scalar_t); }   // U: 16 floats, 8 doubles

// GCC/Clang vector extension: arithmetic on a whole register at once, portable to any vector ISA.
template <typename scalar_t> struct Vector;
template <> struct Vector<float> { typedef float type __attribute__((vector_size(VECTOR_BYTES))); };
template <> struct Vector<double> { typedef double type __attribute__((vector_size(VECTOR_BYTES))); };
template <typename scalar_t>
using vec_t = typename Vector<scalar_t>::type;

template <typename scalar_t>
LSTMLAB_INLINE vec_t<scalar_t> load(const scalar_t* p) {
  vec_t<scalar_t> v;
  std::memcpy(&v, p, sizeof v);               // compiles to one (unaligned) vector load
  return v;
}

template <typename scalar_t>
LSTMLAB_INLINE void store(scalar_t* p, const vec_t<scalar_t>& v) { std::memcpy(p, &v, sizeof v); }

// An empty asm that claims to change v: v must then sit in a register at this point. Without it GCC
// folds a weight's load into each of its FMAs (a memory operand), R loads per weight instead of one:
// with B = 3 that is 12 weight loads + 3 broadcasts + 4 prefetches per k for 12 FMAs, and the load
// ports, not the FMA units, set the pace. (x86 with AVX-512 only; elsewhere nothing.)
template <typename V>
LSTMLAB_INLINE void keep_in_register(V& v) {
#if defined(__AVX512F__)
  asm("" : "+v"(v));
#endif
}

// out[r][g] = bias[g] + Σ_k z[r][k] · packed[k][g]  for R rows of z (row stride ldz) and G groups of U
// outputs (G = 4: the four gates of U hidden units; G = 1: U features of a projection or the feedback).
// packed: (K, G, U) — one tile of the packed weights, walked once, front to back.
// Compiled (GCC 12, -O3 -march=native, AVX-512; objdump of a scratch instantiation, 2026-12-07), the walk
// over k is 32–33 instructions — 16 FMAs, 4 weight loads, 4 broadcasts, 4 prefetches, the loop's own —
// with no stack access: nothing spills, in float and double, z given either way. (Starting from acc or
// from the bias, and storing acc, go through the stack once per walk, outside that loop.)
// bias = nullptr: the sums start from acc instead — a second walk adds a second product to the first's
// (the inference path: W_ih x_t, then + W_hh h_{t−1}, two inputs that lie in different places).
// Z_TRANSPOSED: z is given as its transpose, value k of row r at z[k · ldz + r] (the backward's weight
// gradients, Σ_t d_gates_tᵀ x_t: rows of the result are columns of d_gates; lstm_cpu_matmul.cpp).
template <typename scalar_t, int G, int R, bool Z_TRANSPOSED = false>
LSTMLAB_INLINE void affine_tile(const scalar_t* __restrict z, int64_t ldz, int64_t K, const scalar_t* __restrict packed,
                        const scalar_t* __restrict bias, vec_t<scalar_t> (&acc)[MAX_ROWS][G]) {
  constexpr int U = lanes<scalar_t>();
  vec_t<scalar_t> sums[R][G];                 // local: GCC keeps it in registers for the whole walk
  for (int r = 0; r < R; ++r)
    for (int g = 0; g < G; ++g) sums[r][g] = bias != nullptr ? load(bias + g * U) : acc[r][g];
  for (int64_t k = 0; k < K; ++k) {
    vec_t<scalar_t> w[G];
    for (int g = 0; g < G; ++g) {
      // The weights stream from L2 (a sine model's 2 layers hold ~126 KB, L1 is 48 KB): ask for the
      // line PREFETCH_AHEAD steps of k ahead now, so it is in L1 when the loop gets there.
      __builtin_prefetch(packed + ((k + PREFETCH_AHEAD) * G + g) * U);
      vec_t<scalar_t> weight = load(packed + (k * G + g) * U);
      keep_in_register(weight);                  // on a plain variable: on w[g], GCC stores w to the stack every k
      w[g] = weight;
    }
    for (int r = 0; r < R; ++r) {
      const scalar_t zk = Z_TRANSPOSED ? z[k * ldz + r] : z[r * ldz + k];
      for (int g = 0; g < G; ++g) sums[r][g] += w[g] * zk;          // one FMA per register
    }
  }
  for (int r = 0; r < R; ++r)
    for (int g = 0; g < G; ++g) acc[r][g] = sums[r][g];
}

// The same for `rows` ≤ MAX_ROWS rows, chosen at run time (the last block of a batch may be short).
template <typename scalar_t, int G, bool Z_TRANSPOSED = false>
LSTMLAB_INLINE void affine_rows(int rows, const scalar_t* z, int64_t ldz, int64_t K, const scalar_t* packed,
                        const scalar_t* bias, vec_t<scalar_t> (&acc)[MAX_ROWS][G]) {
  switch (rows) {
    case 1: affine_tile<scalar_t, G, 1, Z_TRANSPOSED>(z, ldz, K, packed, bias, acc); break;
    case 2: affine_tile<scalar_t, G, 2, Z_TRANSPOSED>(z, ldz, K, packed, bias, acc); break;
    case 3: affine_tile<scalar_t, G, 3, Z_TRANSPOSED>(z, ldz, K, packed, bias, acc); break;
    default: affine_tile<scalar_t, G, 4, Z_TRANSPOSED>(z, ldz, K, packed, bias, acc); break;
  }
}

// ---- Laying weights out: a U × U block transposed in registers ------------------------------------
// Copying W value by value into a transposed layout writes one value per cache line, to lines 4 or
// 8 KiB apart (the same L1 set): a thread's half of a (2048, 512) float W, 256 units of each gate, took
// 3.5 ms value by value and 0.95 ms with torch's strided copy_ — at H = I = 512 and B = 1, each call's
// layout cost as much as ~25 steps. So U rows of U values are loaded into U registers, transposed there,
// and stored as U whole vectors: 0.32 ms, against 0.18 ms for a plain memcpy of the same bytes (one
// thread, medians of 50, 2026-12-02).

#if defined(__GNUC__) && !defined(__clang__)
template <typename scalar_t> struct ShuffleIndex;     // the index vector __builtin_shuffle takes for vec_t
template <> struct ShuffleIndex<float> { typedef int32_t type __attribute__((vector_size(VECTOR_BYTES))); };
template <> struct ShuffleIndex<double> { typedef int64_t type __attribute__((vector_size(VECTOR_BYTES))); };

// Rows i and i + D (i & D = 0) swap their off-diagonal D-wide blocks. After D = U/2, …, 2, 1, row k
// holds what was column k: the transpose, in log2(U) rounds of U two-register shuffles.
template <typename scalar_t, int D>
LSTMLAB_INLINE void swap_blocks(vec_t<scalar_t>* rows) {
  constexpr int U = lanes<scalar_t>();
  typename ShuffleIndex<scalar_t>::type upper, lower;                     // indices: 0..U−1 row i, U..2U−1 row i+D
  for (int c = 0; c < U; ++c) {
    upper[c] = (c & D) ? U + c - D : c;                              // row i:     its left, then row i+D's left
    lower[c] = (c & D) ? U + c : c + D;                              // row i + D: row i's right, then its right
  }
  for (int i = 0; i < U; ++i) {
    if (i & D) continue;
    const vec_t<scalar_t> a = rows[i], b = rows[i + D];
    rows[i] = __builtin_shuffle(a, b, upper);
    rows[i + D] = __builtin_shuffle(a, b, lower);
  }
}
#endif

// dst[k · dst_stride + u] = src[u · src_stride + k] for u < rows, k < cols (rows, cols ≤ U); rows past
// `rows` are written as 0 when zero_rows (a tile's padding).
template <typename scalar_t>
LSTMLAB_INLINE void transpose_block(const scalar_t* __restrict src, int64_t src_stride, int64_t rows, int64_t cols,
                                    scalar_t* __restrict dst, int64_t dst_stride, bool zero_rows) {
  constexpr int U = lanes<scalar_t>();
#if defined(__GNUC__) && !defined(__clang__)
  if (rows == U && cols == U) {                                      // a whole block: in registers
    vec_t<scalar_t> block[U];
    for (int u = 0; u < U; ++u) block[u] = load(src + u * src_stride);
    if constexpr (U >= 16) swap_blocks<scalar_t, 8>(block);
    swap_blocks<scalar_t, 4>(block);
    swap_blocks<scalar_t, 2>(block);
    swap_blocks<scalar_t, 1>(block);
    for (int k = 0; k < U; ++k) store(dst + k * dst_stride, block[k]);
    return;
  }
#endif
  for (int64_t k = 0; k < cols; ++k) {                               // an edge block, value by value
    for (int64_t u = 0; u < rows; ++u) dst[k * dst_stride + u] = src[u * src_stride + k];
    if (zero_rows) for (int64_t u = rows; u < U; ++u) dst[k * dst_stride + u] = scalar_t(0);
  }
}

// W's rows in G groups of N outputs, row-major (row r at w + r · row_stride) — output n of group g is
// row g · group_stride + n (group_stride is N for a whole W; a thread's units [j0, j0 + N) of the 4
// gates are w + j0 · row_stride with group_stride H) -> tiles of U outputs per group, zero-padded, U rows
// × U values of k at a time, transposed in registers: value k of output u of group g in tile `tile` at
// packed[tile · tile_stride + k · k_stride + g · U + u]. pack_tiles below: the tile layout (tiles, K, G, U).
// pack_tiles_side_by_side: the tiles side by side along a row, (K, tiles, G, U) — a (K, tiles·G·U) matrix
// whose product with rows of z gives each row's sums already in the tile layout.
template <typename scalar_t>
void pack_tiles_strided(const scalar_t* __restrict w, int64_t row_stride, int64_t groups, int64_t per_group,
                        int64_t group_stride, int64_t K, scalar_t* __restrict packed, int64_t tile_stride,
                        int64_t k_stride) {
  constexpr int U = lanes<scalar_t>();
  const int64_t tiles = (per_group + U - 1) / U;
  for (int64_t tile = 0; tile < tiles; ++tile) {
    const int64_t units = std::min<int64_t>(U, per_group - tile * U);
    for (int64_t g = 0; g < groups; ++g) {
      const scalar_t* rows = w + (g * group_stride + tile * U) * row_stride;
      for (int64_t k0 = 0; k0 < K; k0 += U) {
        transpose_block(rows + k0, row_stride, units, std::min<int64_t>(U, K - k0),
                        packed + tile * tile_stride + k0 * k_stride + g * U, k_stride, true);
      }
    }
  }
}

template <typename scalar_t>
void pack_tiles(const scalar_t* __restrict w, int64_t row_stride, int64_t groups, int64_t per_group,
                int64_t group_stride, int64_t K, scalar_t* __restrict packed) {
  pack_tiles_strided(w, row_stride, groups, per_group, group_stride, K, packed, K * groups * lanes<scalar_t>(),
                     groups * lanes<scalar_t>());
}

template <typename scalar_t>
void pack_tiles_side_by_side(const scalar_t* __restrict w, int64_t row_stride, int64_t groups, int64_t per_group,
                             int64_t group_stride, int64_t K, scalar_t* __restrict packed) {
  const int64_t width = (per_group + lanes<scalar_t>() - 1) / lanes<scalar_t>() * groups * lanes<scalar_t>();
  pack_tiles_strided(w, row_stride, groups, per_group, group_stride, K, packed, groups * lanes<scalar_t>(), width);
}

// W (K, N) row-major, read as its transpose (N outputs over K inputs), in wide tiles of 4·U outputs
// (4 vectors side by side play the part of the 4 gates: 16 accumulators for 4 rows, as in the gate
// tiles, so a weight load and a broadcast feed 4 FMAs each) -> packed (wide tiles, K, 4, U).
template <typename scalar_t>
void pack_wide_tiles_transposed(const scalar_t* __restrict w, int64_t K, int64_t N, scalar_t* __restrict packed) {
  constexpr int U = lanes<scalar_t>();
  const int64_t tiles = (N + 4 * U - 1) / (4 * U);
  std::memset(packed, 0, tiles * K * 4 * U * sizeof(scalar_t));
  for (int64_t k = 0; k < K; ++k)
    for (int64_t n = 0; n < N; ++n) packed[((n / (4 * U)) * K + k) * 4 * U + n % (4 * U)] = w[k * N + n];
}

// [first, last) of block k when `size` items are cut into `blocks` nearly equal blocks (one per thread).
LSTMLAB_INLINE std::pair<int64_t, int64_t> block(int64_t size, int64_t blocks, int64_t k) {
  return {k * size / blocks, (k + 1) * size / blocks};
}

// The order a thread walks its tiles in at step t. When they outgrow its cache (B = 1, H = 512: 2 MiB
// of W_hh per thread against a 2 MiB L2), walked always front to back every tile comes from L3: the
// ones walked last, still cached, are the last to be needed again. So then odd steps walk back to
// front, and start on what the step before ended on. T = 100, B = 1, H = I = 512, in ms, always front to
// back → alternating (medians of 15 (forward) and 9 (forward+backward) rounds interleaved in one process,
// 2 threads, 2026-12-02): forward 1 layer 10.60 → 9.33, 2 layers 20.16 → 16.74; forward+backward 25.72 →
// 21.69, 54.04 → 45.51. H = 384 (1.2 MiB a thread): 2% faster. Where the tiles fit (H = 256, 0.5 MiB a
// thread) it cost: forward, 2 layers, 3.32 → 3.49 ms — hence only above ZIGZAG_ABOVE_BYTES.
constexpr int64_t ZIGZAG_ABOVE_BYTES = int64_t(1) << 20;        // half a 2 MiB L2: leaves room for the rest

LSTMLAB_INLINE bool walk_backwards(int64_t t, int64_t tile_bytes) { return (t & 1) && tile_bytes > ZIGZAG_ABOVE_BYTES; }

// The i-th of tiles [first, last), front to back or back to front.
LSTMLAB_INLINE int64_t tile_in_order(bool backwards, int64_t first, int64_t last, int64_t i) {
  return backwards ? last - 1 - i : first + i;
}

}  // namespace lstmlab_cpu
