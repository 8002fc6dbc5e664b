// The closed-loop rollout on the CPU: a stacked LSTM that feeds its own prediction back as its next
// input, every generated step of every layer and the feedback map inside ONE C++ call.
//
//     for t = 0 .. steps−1:
//         z⁰ = x_t;   for layer l:  (h^l, c^l) = cell(z^l, h^l, c^l);   z^{l+1} = h^l
//         y_t = W_out h^{L−1} + b_out;   x_{t+1} = y_t              (the feedback: a matrix + bias)
//
// except that the first T_in inputs are given (an observed sequence read teacher-forced, as the sine
// model does before it predicts its own future): x_{t+1} = inputs_{t+1} while t + 1 < T_in.
//
// Why a kernel of its own: in generation there is no sequence to hoist a big GEMM out of — each
// step is a handful of tiny matrix-vector products (the sine model: 2 layers of H = 51, B = 3, about
// 10⁵ multiply-adds), and a Python loop pays 2–5 µs of dispatch per op, a dozen ops a step, for what
// the arithmetic does in a few µs. Here a step costs only its arithmetic:
//
// - Packed weights (lstmlab/rollout.py packs them once per call): for each tile of U hidden units
//   (U = one 64-byte vector: 16 floats or 8 doubles), the rows of all four gates for those units and
//   every input column k, laid out (tiles, K, 4, U). Input and recurrent weights are one matrix
//   [W_ih | W_hh] over z = [x_t, h_{t−1}], so a layer step is one pass over one block per tile.
//   A short last tile (H = 51: 3 float units) puts its 4 gates' rows side by side, 4·3 = 12 lanes of
//   one vector per k instead of 4 vectors of 3: a quarter of the FMAs and bytes of that tile.
// - The tile's 4·U gate sums for up to 4 batch rows live in 16 vector registers (affine_tile) while
//   the pass walks k, each weight loaded once and prefetched ahead (the sine model's weights, 126 KB
//   in float32, stream from L2 at every step); then the gate math runs on the real units of all rows
//   in one vectorised loop (σ, tanh from lstm_cpu_activations.h) and writes c, h.
// - Threads only when a step has enough arithmetic to pay for meeting at a barrier after every layer
//   (Python decides: lstmlab/rollout.py); they split the tiles, each thread keeping its own weights
//   in its own cache for the whole call.
//
// File order: one layer step → the rollout → registration. One tile of an affine map (the packed
// layout's kernel, shared with the bptt loops) is in lstm_cpu_tiles.h.
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <torch/library.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <tuple>
#include <vector>

#include "lstm_cpu_pointwise.h"
#include "lstm_cpu_team.h"
#include "lstm_cpu_tiles.h"

namespace {

using lstmlab_cpu::affine_rows;
using lstmlab_cpu::block;
using lstmlab_cpu::cell_units;
using lstmlab_cpu::lanes;
using lstmlab_cpu::MAX_ROWS;
using lstmlab_cpu::run_team;
using lstmlab_cpu::store;
using lstmlab_cpu::vec_t;
using lstmlab_cpu::wait_for_all_threads;

// Where a layer's new h goes: its own input for the next step, and the next consumer's input now.
template <typename scalar_t>
struct Targets {
  scalar_t* own;          // z of this layer, next step: h part (row stride ld_own)
  int64_t ld_own;
  scalar_t* next;         // z of the layer above (or the feedback's input), this step (row stride ld_next)
  int64_t ld_next;
};

// dst[0, n) = src[0, n), n ≤ U.
template <typename scalar_t>
LSTMLAB_INLINE void copy_units(scalar_t* dst, const scalar_t* src, int64_t n) {
  if (n == lanes<scalar_t>()) {
    store(dst, lstmlab_cpu::load(src));                       // a whole tile: one vector move
  } else {
    for (int64_t u = 0; u < n; ++u) dst[u] = src[u];
  }
}

// ---- One layer step, one tile of units, all batch rows -------------------------------------------
// z (B, K) = [input, h_{t−1}]; c (B, tiles·U) updated in place; the unprojected m = o ⊙ tanh c goes to m_out
// (with a projection) or straight to the targets as h.
// The tile's n units hold their gate rows side by side: gate g of unit u at lane g·n + u of V vectors
// (n = U, V = 4 for a whole tile; a short last tile packs its 4·n rows into V = ⌈4n/U⌉ vectors:
// lstmlab/rollout.py's pack_affine).
template <typename scalar_t, int V>
void layer_tile(int64_t tile, int64_t batch, int64_t hidden, const scalar_t* z, int64_t K,
                const scalar_t* packed, const scalar_t* bias, scalar_t* c, scalar_t* m_out,
                const Targets<scalar_t>& targets) {
  constexpr int U = lanes<scalar_t>();
  const int64_t j0 = tile * U, units = std::min<int64_t>(U, hidden - j0);   // the last tile may be short
  const int64_t padded = (hidden + U - 1) / U * U;
  const scalar_t* tile_weights = packed + tile * K * 4 * U;   // (K, V, U) at the front of a (K, 4, U) block
  const scalar_t* tile_bias = bias + tile * 4 * U;
  for (int64_t r0 = 0; r0 < batch; r0 += MAX_ROWS) {
    const int rows = static_cast<int>(std::min<int64_t>(MAX_ROWS, batch - r0));
    vec_t<scalar_t> acc[MAX_ROWS][V];
    affine_rows<scalar_t, V>(rows, z + r0 * K, K, K, tile_weights, tile_bias, acc);   // gate pre-activations
    // The gate math of all rows of the block in one vectorised loop over rows·n lanes (only real units:
    // a short tile's rows are packed end to end): the long dependency chains of σ and tanh (a division
    // each) of different rows then overlap.
    // pre: gate g's pre-activations of every row at g · MAX_ROWS·U, the rows' units end to end
    constexpr int64_t GATE_STRIDE = MAX_ROWS * U;
    scalar_t sums[V * U], pre[4 * GATE_STRIDE], c_block[GATE_STRIDE], h[GATE_STRIDE];
    for (int r = 0; r < rows; ++r) {
      for (int v = 0; v < V; ++v) store(sums + v * U, acc[r][v]);
      for (int g = 0; g < 4; ++g) copy_units(pre + g * GATE_STRIDE + r * units, sums + g * units, units);
      copy_units(c_block + r * units, c + (r0 + r) * padded + j0, units);
    }
    cell_units(pre, GATE_STRIDE, c_block, h, rows * units);   // i, f, g, o; c_t; m_t = o ⊙ tanh c_t
    for (int r = 0; r < rows; ++r) {
      const int64_t row = r0 + r;
      copy_units(c + row * padded + j0, c_block + r * units, units);
      if (m_out != nullptr) {
        copy_units(m_out + row * hidden + j0, h + r * units, units);
      } else {
        copy_units(targets.own + row * targets.ld_own + j0, h + r * units, units);
        copy_units(targets.next + row * targets.ld_next + j0, h + r * units, units);
      }
    }
  }
}

// The same for a tile of `vectors` = V, chosen at run time: 4, or fewer for a short last tile.
template <typename scalar_t>
void layer_tile_of(int vectors, int64_t tile, int64_t batch, int64_t hidden, const scalar_t* z, int64_t K,
                   const scalar_t* packed, const scalar_t* bias, scalar_t* c, scalar_t* m_out,
                   const Targets<scalar_t>& targets) {
  switch (vectors) {
    case 1: layer_tile<scalar_t, 1>(tile, batch, hidden, z, K, packed, bias, c, m_out, targets); break;
    case 2: layer_tile<scalar_t, 2>(tile, batch, hidden, z, K, packed, bias, c, m_out, targets); break;
    case 3: layer_tile<scalar_t, 3>(tile, batch, hidden, z, K, packed, bias, c, m_out, targets); break;
    default: layer_tile<scalar_t, 4>(tile, batch, hidden, z, K, packed, bias, c, m_out, targets); break;
  }
}

// out = W z + b for one tile of U output features (a projection W_hr, or the feedback map).
template <typename scalar_t>
void affine_features(int64_t tile, int64_t batch, int64_t features, const scalar_t* z, int64_t ldz, int64_t K,
                     const scalar_t* packed, const scalar_t* bias, const Targets<scalar_t>& targets,
                     scalar_t* extra, int64_t ld_extra) {
  constexpr int U = lanes<scalar_t>();
  const int64_t p0 = tile * U, n = std::min<int64_t>(U, features - p0);
  for (int64_t r0 = 0; r0 < batch; r0 += MAX_ROWS) {
    const int rows = static_cast<int>(std::min<int64_t>(MAX_ROWS, batch - r0));
    vec_t<scalar_t> acc[MAX_ROWS][1];
    affine_rows<scalar_t, 1>(rows, z + r0 * ldz, ldz, K, packed + tile * K * U, bias + tile * U, acc);
    for (int r = 0; r < rows; ++r) {
      scalar_t out[U];
      store(out, acc[r][0]);
      const int64_t row = r0 + r;
      std::memcpy(targets.own + row * targets.ld_own + p0, out, n * sizeof(scalar_t));
      std::memcpy(targets.next + row * targets.ld_next + p0, out, n * sizeof(scalar_t));
      if (extra != nullptr) std::memcpy(extra + row * ld_extra + p0, out, n * sizeof(scalar_t));
    }
  }
}

// Steps timed on each side of the trial that decides whether the team pays (below): long enough to
// average out a step's jitter (16 steps of the sine model: ~40–80 µs), about half of the shortest call
// that runs one (16 + 2 + 16 of ≥ 64 steps; the sine model's calls are 1100). WARM_STEPS: team steps run untimed before the team's clock starts.
constexpr int64_t TRIAL_STEPS = 16, WARM_STEPS = 2;

inline double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void check(const at::Tensor& tensor, const char* name, const at::Tensor& like, std::vector<int64_t> sizes) {
  TORCH_CHECK(tensor.device().is_cpu() && tensor.is_contiguous() && tensor.scalar_type() == like.scalar_type(),
              "lstm_rollout: ", name, " must be a contiguous CPU tensor of dtype ", like.scalar_type());
  TORCH_CHECK(tensor.sizes() == at::IntArrayRef(sizes), "lstm_rollout: ", name, " has shape ", tensor.sizes(),
              ", expected ", at::IntArrayRef(sizes));
}

}  // namespace

// inputs (T_in, B, I), T_in ≥ 1: the given inputs; h0 (L, B, P); c0 (L, B, H); per layer l:
// weights[l] (tiles_H, I_l + P, 4, U) and biases[l] (tiles_H, 4, U) packed as above (I_0 = I, I_l = P); projections: empty, or per layer
// (tiles_P, H, 1, U); feedback_weight (tiles_I, P, 1, U), feedback_bias (tiles_I, 1, U).
// threads: the team to ask OpenMP for; measure: in a call of ≥ 4·TRIAL_STEPS steps, time the first steps
// on one thread and on the team, and keep the team only when it is faster by team_must_win_by (0.1: 10%).
// Without measure, or in a shorter call, the team runs every step.
// Returns outputs (steps, B, I): y_0 … y_{steps−1}, each fed back as the next input once the given
// inputs run out; h_n (L, B, P); c_n (L, B, H); the threads that ran the steps after the trial.
std::tuple<at::Tensor, at::Tensor, at::Tensor, int64_t> lstm_rollout(
    const at::Tensor& inputs, const at::Tensor& h0, const at::Tensor& c0, at::TensorList weights,
    at::TensorList biases, at::TensorList projections, const at::Tensor& feedback_weight,
    const at::Tensor& feedback_bias, int64_t steps, int64_t threads, bool measure, double team_must_win_by) {
  TORCH_CHECK(inputs.dim() == 3 && inputs.size(0) >= 1 && h0.dim() == 3 && c0.dim() == 3,
              "lstm_rollout: expected inputs (T_in ≥ 1, B, I), h0 (L, B, P), c0 (L, B, H)");
  const at::Tensor first_input = inputs[0];
  const int64_t given = inputs.size(0);
  TORCH_CHECK(steps >= 0, "lstm_rollout: steps must be >= 0, got ", steps);
  TORCH_CHECK(first_input.scalar_type() == at::kFloat || first_input.scalar_type() == at::kDouble,
              "lstm_rollout: float32 or float64 only, got ", first_input.scalar_type());
  const int64_t batch = first_input.size(0), in_size = first_input.size(1);
  const int64_t layers = h0.size(0), out_size = h0.size(2), hidden = c0.size(2);
  const bool projected = !projections.empty();
  const int64_t U = first_input.element_size() == 4 ? lanes<float>() : lanes<double>();
  const int64_t hidden_tiles = (hidden + U - 1) / U, out_tiles = (out_size + U - 1) / U, in_tiles = (in_size + U - 1) / U;
  check(inputs, "inputs", first_input, {given, batch, in_size});
  check(h0, "h0", first_input, {layers, batch, out_size});
  check(c0, "c0", first_input, {layers, batch, hidden});
  TORCH_CHECK(static_cast<int64_t>(weights.size()) == layers && static_cast<int64_t>(biases.size()) == layers &&
              (!projected || static_cast<int64_t>(projections.size()) == layers),
              "lstm_rollout: one packed weight, bias (and projection) per layer");
  std::vector<int64_t> input_sizes(layers, out_size);
  input_sizes[0] = in_size;
  for (int64_t l = 0; l < layers; ++l) {
    check(weights[l], "weights[l]", first_input, {hidden_tiles, input_sizes[l] + out_size, 4, U});
    check(biases[l], "biases[l]", first_input, {hidden_tiles, 4, U});
    if (projected) check(projections[l], "projections[l]", first_input, {out_tiles, hidden, 1, U});
  }
  check(feedback_weight, "feedback_weight", first_input, {in_tiles, out_size, 1, U});
  check(feedback_bias, "feedback_bias", first_input, {in_tiles, 1, U});

  at::Tensor outputs = at::empty({steps, batch, in_size}, first_input.options());
  // c with the hidden units padded to whole tiles, updated in place.   (L, B, tiles·U)
  at::Tensor c = at::zeros({layers, batch, hidden_tiles * U}, first_input.options());
  c.narrow(2, 0, hidden).copy_(c0);
  // z^l for two steps (double-buffered: step t reads one, writes the other), rows [input, h].
  std::vector<at::Tensor> z;
  for (int64_t l = 0; l < layers; ++l) {
    at::Tensor buffers = at::zeros({2, batch, input_sizes[l] + out_size}, first_input.options());
    buffers[0].narrow(1, input_sizes[l], out_size).copy_(h0[l]);
    z.push_back(buffers);
  }
  if (layers > 0) z[0][0].narrow(1, 0, in_size).copy_(first_input);
  at::Tensor m = at::empty({batch, hidden}, first_input.options());        // o ⊙ tanh c, before W_hr
  at::Tensor zero_bias = at::zeros({out_tiles, 1, U}, first_input.options());
  if (batch == 0 || steps == 0 || layers == 0) {
    at::Tensor h_n = at::empty({layers, batch, out_size}, first_input.options());
    for (int64_t l = 0; l < layers; ++l) h_n[l].copy_(z[l][0].narrow(1, input_sizes[l], out_size));
    return {outputs, h_n, c.narrow(2, 0, hidden).contiguous(), 1};
  }

  at::AutoDispatchBelowADInplaceOrView below_autograd;
  int64_t threads_used = 1;
  AT_DISPATCH_FLOATING_TYPES(first_input.scalar_type(), "lstm_rollout", [&] {
    // Raw pointers, taken once: indexing a tensor inside the loop would cost a dispatcher call each time.
    std::vector<scalar_t*> z_data(2 * layers), c_data(layers);
    std::vector<const scalar_t*> w_data(layers), b_data(layers), p_data(layers, nullptr);
    std::vector<int64_t> row_length(layers);                              // K_l = I_l + P
    for (int64_t l = 0; l < layers; ++l) {
      z_data[2 * l] = z[l].data_ptr<scalar_t>();
      z_data[2 * l + 1] = z_data[2 * l] + batch * (input_sizes[l] + out_size);
      c_data[l] = c.data_ptr<scalar_t>() + l * batch * hidden_tiles * U;
      w_data[l] = weights[l].data_ptr<scalar_t>();
      b_data[l] = biases[l].data_ptr<scalar_t>();
      if (projected) p_data[l] = projections[l].data_ptr<scalar_t>();
      row_length[l] = input_sizes[l] + out_size;
    }
    scalar_t* m_data = m.data_ptr<scalar_t>();
    const scalar_t* zero_bias_data = zero_bias.data_ptr<scalar_t>();
    const scalar_t* feedback_w = feedback_weight.data_ptr<scalar_t>();
    const scalar_t* feedback_b = feedback_bias.data_ptr<scalar_t>();
    scalar_t* out_data = outputs.data_ptr<scalar_t>();
    const scalar_t* given_data = inputs.data_ptr<scalar_t>();
    // Step t of the rollout on this thread's share of a team of `team` threads: every layer, then the feedback.
    auto step = [&](int64_t t, int64_t thread, int64_t team) {
      const int64_t now = t % 2, later = 1 - now;
      for (int64_t l = 0; l < layers; ++l) {
        const int64_t K = row_length[l];
        // h^l goes to this layer's next-step input and to the consumer above: layer l+1 now, or the feedback.
        scalar_t* own = z_data[2 * l + later] + input_sizes[l];
        Targets<scalar_t> targets{own, K, l + 1 < layers ? z_data[2 * (l + 1) + now] : own,
                                  l + 1 < layers ? row_length[l + 1] : K};
        const auto [a, b] = block(hidden_tiles, team, thread);
        for (int64_t tile = a; tile < b; ++tile) {
          const int64_t units = std::min<int64_t>(U, hidden - tile * U);
          layer_tile_of<scalar_t>(static_cast<int>((4 * units + U - 1) / U), tile, batch, hidden,
                                  z_data[2 * l + now], K, w_data[l], b_data[l], c_data[l],
                                  projected ? m_data : nullptr, targets);
        }
        if (team > 1) wait_for_all_threads();
        if (projected) {                                                  // h = W_hr m
          const auto [pa, pb] = block(out_tiles, team, thread);
          for (int64_t tile = pa; tile < pb; ++tile) {
            affine_features<scalar_t>(tile, batch, out_size, m_data, hidden, hidden, p_data[l], zero_bias_data,
                                      targets, nullptr, 0);
          }
          if (team > 1) wait_for_all_threads();
        }
      }
      // y_t = W_out h^{L−1} + b_out: the output at t and the input at t+1.
      const scalar_t* h_top = z_data[2 * (layers - 1) + later] + input_sizes[layers - 1];
      scalar_t* x_next = z_data[later];
      Targets<scalar_t> fed_back{x_next, row_length[0], x_next, row_length[0]};
      const auto [fa, fb] = block(in_tiles, team, thread);
      for (int64_t tile = fa; tile < fb; ++tile) {
        affine_features<scalar_t>(tile, batch, in_size, h_top, row_length[layers - 1], out_size, feedback_w,
                                  feedback_b, fed_back, out_data + t * batch * in_size, in_size);
      }
      if (team > 1) wait_for_all_threads();
      if (t + 1 < given) {                                                // a given input replaces y_t
        if (thread == 0) {
          for (int64_t r = 0; r < batch; ++r) {
            std::memcpy(x_next + r * row_length[0], given_data + ((t + 1) * batch + r) * in_size,
                        in_size * sizeof(scalar_t));
          }
        }
        if (team > 1) wait_for_all_threads();
      }
    };
    // Does the team pay? On a shared VM it depends on where the host has put the cores at this moment
    // (the sine model in float32, 2026-12-07: 2.4 µs a step on two threads against 3.4 on one for minutes
    // on end, then 4.7–5.5 against 3.4 for minutes), so a call of at least 4·TRIAL_STEPS steps measures it
    // on its own first steps: TRIAL_STEPS on thread 0 alone, then WARM_STEPS on the whole team untimed
    // (the other threads' caches are cold, and they come out of a wait), then TRIAL_STEPS on the team, timed;
    // the rest of the call runs as the faster did (the team only when faster by the margin). Every thread
    // count gives the same numbers bit for bit (each unit's arithmetic is the same): the choice changes
    // only the time.
    bool keep_team = true;
    auto body = [&](int64_t thread, int64_t team) {
      int64_t t = 0, working = team;                        // the threads that share the steps
      if (team > 1 && measure && steps >= 4 * TRIAL_STEPS) {
        double alone = 0;
        if (thread == 0) {                                  // the others wait at the barrier meanwhile
          const auto start = std::chrono::steady_clock::now();
          for (; t < TRIAL_STEPS; ++t) step(t, 0, 1);
          alone = seconds_since(start);
        }
        t = TRIAL_STEPS;
        wait_for_all_threads();
        for (; t < TRIAL_STEPS + WARM_STEPS; ++t) step(t, thread, team);
        const auto start = std::chrono::steady_clock::now();
        for (; t < 2 * TRIAL_STEPS + WARM_STEPS; ++t) step(t, thread, team);
        if (thread == 0) keep_team = seconds_since(start) * (1 + team_must_win_by) < alone;
        wait_for_all_threads();                             // every thread reads keep_team after this
        if (!keep_team) {
          if (thread != 0) return;
          working = 1;
        }
      }
      if (thread == 0) threads_used = working;
      for (; t < steps; ++t) step(t, thread, working);
    };
    run_team(std::max<int64_t>(1, std::min(threads, hidden_tiles)), body);
  });
  const int64_t last = steps % 2;                                        // the buffers step `steps` would read
  at::Tensor h_n = at::empty({layers, batch, out_size}, first_input.options());
  for (int64_t l = 0; l < layers; ++l) h_n[l].copy_(z[l][last].narrow(1, input_sizes[l], out_size));
  return {outputs, h_n, c.narrow(2, 0, hidden).contiguous(), threads_used};
}

TORCH_LIBRARY_FRAGMENT(lstmlab_cpu, m) {
  m.def("lstm_rollout(Tensor inputs, Tensor h0, Tensor c0, Tensor[] weights, Tensor[] biases,"
        " Tensor[] projections, Tensor feedback_weight, Tensor feedback_bias, int steps, int threads,"
        " bool measure, float team_must_win_by) -> (Tensor, Tensor, Tensor, int)");
}

TORCH_LIBRARY_IMPL(lstmlab_cpu, CPU, m) {
  m.impl("lstm_rollout", &lstm_rollout);
}
