"""A whole LSTM layer's sequence in one Triton launch — backend "persistent".

The per-step design ("triton", kernels/lstm_gates.py) launches a GEMM and a gate kernel for every
time step, so each step pays kernel-launch latency and re-reads W_hh from memory. Here one program
owns a tile of 16 batch rows for ALL T steps:

    before the loop:  W_hh's four gate blocks (each P × H, transposed) -> on-chip, read once
                      (and W_hr, H × P, when there is a projection)
    for t in 0..T−1:  pre = gates_x[t] + h_{t−1} @ W_hhᵀ           tl.dot: tensor cores, fp32 accumulate
                      i, f, o = σ(pre_i, pre_f, pre_o);  g = tanh(pre_g)
                      c_t = f ⊙ c_{t−1} + i ⊙ g                      c stays fp32, on chip
                      h_t = o ⊙ tanh c_t   (then W_hr h_t)           h stays on chip for the next dot

gates_x = W_ih x + b_ih + b_hh for every step is still ONE GEMM before the launch. Programs never
talk to each other (batch rows are independent), so no grid barrier is needed — but every program
holds all of W_hh, which bounds H: past ``MAX_ON_CHIP_WEIGHTS`` elements this backend falls back to
"triton" (per-step kernels), and says so in ``fits_on_chip``. Splitting H across programs with a
per-step grid barrier is not implemented.

Training: forward stores the activated gates and c_t of every step, exactly as the "triton"
forward does, so backward is the "triton" backward (per-step fused gate-gradient kernel, a GEMM per
step for dh, and a few large GEMMs for the weight gradients) — not a persistent reverse-time kernel.
"""
import os

import torch
import triton
import triton.language as tl

from lstmlab.kernels.lstm_gates import TritonLSTMDirection, _check, _compute_dtype, _tanh
from lstmlab.kernels.lstm_gates import run_direction as run_direction_per_step

BLOCK_B = 16                       # batch rows per program (tl.dot needs ≥ 16)
# Elements of W_hh (+ W_hr) one program may keep on chip: about 64 KiB of 16-bit weights per
# program, where the register file and shared memory of one SM still leave room for the loop.
# An estimate from the kernel notes, not yet measured on a GPU.
MAX_ON_CHIP_WEIGHTS = {torch.float16: 4 * 128 * 128, torch.bfloat16: 4 * 128 * 128,
                       torch.float32: 4 * 64 * 64, torch.float64: 4 * 64 * 64}


@triton.jit
def lstm_persistent_forward_kernel(
    gates_x_ptr,    # (T, B, 4H) W_ih x_t + b_ih + b_hh of every step, blocks i, f, g, o; input dtype
    w_hh_ptr,       # (4H, P) recurrent weight in torch's layout; read once, kept on chip
    w_hr_ptr,       # (P, H) projection weight (read only when HAS_PROJ)
    h0_ptr,         # (B, P) initial hidden state, input dtype
    c0_ptr,         # (B, H) initial cell state, compute dtype
    outputs_ptr,    # (T, B, P) out: h_t, input dtype
    unprojected_ptr,  # (T, B, H) out: o ⊙ tanh c_t before the projection (written only when HAS_PROJ)
    gates_ptr,      # (T, B, 4H) out: activated gates i, f, g, o, compute dtype — for backward
    cells_ptr,      # (T, B, H) out: c_t, compute dtype
    steps, batch, hidden, proj,    # T, B, H, P
    HAS_PROJ: tl.constexpr,
    COMPUTE: tl.constexpr,         # tl.float32 (tl.float64 for fp64 inputs)
    DOT_PRECISION: tl.constexpr,   # "ieee": fp32 inputs are not rounded to TF32
    UPCAST_DOT: tl.constexpr,      # interpreter only: its tl.dot is wrong for bf16, so multiply in fp32
    BLOCK_B: tl.constexpr, BLOCK_H: tl.constexpr, BLOCK_P: tl.constexpr,
):
    rows = tl.program_id(0) * BLOCK_B + tl.arange(0, BLOCK_B)     # this program's batch rows
    cols = tl.arange(0, BLOCK_H)                                  # hidden units j
    feeds = tl.arange(0, BLOCK_P)                                 # recurrent inputs p (P = H without projection)
    row_ok, col_ok, feed_ok = rows < batch, cols < hidden, feeds < proj
    state_mask = row_ok[:, None] & col_ok[None, :]                # (BLOCK_B, BLOCK_H)
    feed_mask = row_ok[:, None] & feed_ok[None, :]                # (BLOCK_B, BLOCK_P)

    # W_kᵀ[p, j] = w_hh[k·H + j, p] for gate k: four (BLOCK_P, BLOCK_H) tiles, zero-padded.
    w_offsets = cols[None, :] * proj + feeds[:, None]
    w_mask = feed_ok[:, None] & col_ok[None, :]
    w_i = tl.load(w_hh_ptr + w_offsets, mask=w_mask, other=0.0)
    w_f = tl.load(w_hh_ptr + hidden * proj + w_offsets, mask=w_mask, other=0.0)
    w_g = tl.load(w_hh_ptr + 2 * hidden * proj + w_offsets, mask=w_mask, other=0.0)
    w_o = tl.load(w_hh_ptr + 3 * hidden * proj + w_offsets, mask=w_mask, other=0.0)
    if HAS_PROJ:
        # W_hrᵀ[j, p] = w_hr[p, j]: (BLOCK_H, BLOCK_P)
        w_hr_t = tl.load(w_hr_ptr + feeds[None, :] * hidden + cols[:, None],
                         mask=col_ok[:, None] & feed_ok[None, :], other=0.0)

    state_offsets = rows[:, None] * hidden + cols[None, :]        # into (B, H)
    feed_offsets = rows[:, None] * proj + feeds[None, :]          # into (B, P)
    gate_offsets = rows[:, None] * 4 * hidden + cols[None, :]     # gate i's column in (B, 4H)
    if UPCAST_DOT:                                                # bf16 × bf16 is exact in fp32: same products
        w_i, w_f, w_g, w_o = w_i.to(tl.float32), w_f.to(tl.float32), w_g.to(tl.float32), w_o.to(tl.float32)
        if HAS_PROJ:
            w_hr_t = w_hr_t.to(tl.float32)
    h = tl.load(h0_ptr + feed_offsets, mask=feed_mask, other=0.0)             # (BLOCK_B, BLOCK_P)
    c = tl.load(c0_ptr + state_offsets, mask=state_mask, other=0.0)           # (BLOCK_B, BLOCK_H)

    for t in range(steps):
        step_gates = gates_x_ptr + t * batch * 4 * hidden + gate_offsets
        pre_i = tl.load(step_gates, mask=state_mask, other=0.0).to(COMPUTE)
        pre_f = tl.load(step_gates + hidden, mask=state_mask, other=0.0).to(COMPUTE)
        pre_g = tl.load(step_gates + 2 * hidden, mask=state_mask, other=0.0).to(COMPUTE)
        pre_o = tl.load(step_gates + 3 * hidden, mask=state_mask, other=0.0).to(COMPUTE)
        if UPCAST_DOT:
            h = h.to(tl.float32)
        pre_i += tl.dot(h, w_i, input_precision=DOT_PRECISION).to(COMPUTE)     # + W_hi h_{t−1}
        pre_f += tl.dot(h, w_f, input_precision=DOT_PRECISION).to(COMPUTE)
        pre_g += tl.dot(h, w_g, input_precision=DOT_PRECISION).to(COMPUTE)
        pre_o += tl.dot(h, w_o, input_precision=DOT_PRECISION).to(COMPUTE)
        i = tl.sigmoid(pre_i)
        f = tl.sigmoid(pre_f)
        g = _tanh(pre_g)
        o = tl.sigmoid(pre_o)
        c = f * c + i * g                                         # c_t = f ⊙ c_{t−1} + i ⊙ g
        m = o * _tanh(c)                                          # o ⊙ tanh c_t

        saved = gates_ptr + t * batch * 4 * hidden + gate_offsets
        tl.store(saved, i, mask=state_mask)
        tl.store(saved + hidden, f, mask=state_mask)
        tl.store(saved + 2 * hidden, g, mask=state_mask)
        tl.store(saved + 3 * hidden, o, mask=state_mask)
        tl.store(cells_ptr + t * batch * hidden + state_offsets, c, mask=state_mask)
        if HAS_PROJ:
            tl.store(unprojected_ptr + t * batch * hidden + state_offsets,
                     m.to(unprojected_ptr.dtype.element_ty), mask=state_mask)
            h = tl.dot(m.to(w_hr_t.dtype), w_hr_t, input_precision=DOT_PRECISION).to(h0_ptr.dtype.element_ty)
        else:
            h = m.to(h0_ptr.dtype.element_ty)                     # BLOCK_P = BLOCK_H, P = H
        tl.store(outputs_ptr + t * batch * proj + feed_offsets, h, mask=feed_mask)


def _block(size):
    return max(16, triton.next_power_of_2(size))


def fits_on_chip(hidden, proj, dtype):
    """Whether one program can hold W_hh (and W_hr) for this size and dtype; else "triton" runs instead."""
    block_h, block_p = _block(hidden), _block(proj)
    elements = 4 * block_p * block_h + (block_h * block_p if proj != hidden else 0)
    return elements <= MAX_ON_CHIP_WEIGHTS[dtype]


def persistent_forward(gates_x, weight_hh, weight_hr, h0, c0):
    """gates_x (T, B, 4H), weight_hh (4H, P), weight_hr (P, H) or None, h0 (B, P), c0 (B, H) compute dtype
    -> outputs (T, B, P), unprojected (T, B, H) or None, gates (T, B, 4H), cell_states (T, B, H)."""
    steps, batch, gate_size = gates_x.shape
    hidden, proj = gate_size // 4, weight_hh.size(1)
    compute = _compute_dtype(gates_x.dtype)
    _check("gates_x", gates_x, (steps, batch, gate_size))
    _check("weight_hh", weight_hh, (gate_size, proj), gates_x.dtype)
    _check("h0", h0, (batch, proj), gates_x.dtype)
    _check("c0", c0, (batch, hidden), compute)
    outputs = gates_x.new_empty(steps, batch, proj)
    unprojected = gates_x.new_empty(steps, batch, hidden) if weight_hr is not None else None
    gates = torch.empty(steps, batch, gate_size, dtype=compute, device=gates_x.device)
    cell_states = torch.empty(steps, batch, hidden, dtype=compute, device=gates_x.device)
    lstm_persistent_forward_kernel[(triton.cdiv(batch, BLOCK_B),)](
        gates_x, weight_hh, weight_hr if weight_hr is not None else weight_hh, h0, c0,
        outputs, unprojected if unprojected is not None else outputs, gates, cell_states,
        steps, batch, hidden, proj,
        HAS_PROJ=weight_hr is not None, COMPUTE=tl.float64 if compute == torch.float64 else tl.float32,
        DOT_PRECISION="ieee",
        UPCAST_DOT=gates_x.dtype == torch.bfloat16 and os.environ.get("TRITON_INTERPRET") == "1",
        BLOCK_B=BLOCK_B, BLOCK_H=_block(hidden), BLOCK_P=_block(proj))
    return outputs, unprojected, gates, cell_states


class PersistentLSTMDirection(TritonLSTMDirection):
    """Forward: one persistent launch. Backward: inherited from the "triton" backend (same saved tensors)."""

    @staticmethod
    def forward(ctx, x, h0, c0, weight_ih, weight_hh, bias_ih, bias_hh, weight_hr):
        steps, batch, _ = x.shape
        gate_size = weight_ih.size(0)
        x_rows = x.reshape(steps * batch, -1)                                    # (T·B, I)
        if bias_ih is not None:
            gates_x = torch.addmm(bias_ih + bias_hh, x_rows, weight_ih.T)        # one GEMM for all T, biases in
        else:
            gates_x = x_rows @ weight_ih.T
        gates_x = gates_x.view(steps, batch, gate_size)
        c0_compute = c0.to(_compute_dtype(x.dtype)).contiguous()
        outputs, unprojected, gates, cell_states = persistent_forward(
            gates_x, weight_hh.contiguous(), weight_hr.contiguous() if weight_hr is not None else None,
            h0.contiguous(), c0_compute)
        ctx.save_for_backward(x, h0, c0, weight_ih, weight_hh, weight_hr, gates, cell_states, outputs, unprojected)
        ctx.has_bias = bias_ih is not None
        ctx.set_materialize_grads(False)
        return outputs, cell_states


def run_direction(x, h0, c0, weights):
    """x: (T, B, I), h0: (B, P), c0: (B, H) -> outputs (T, B, P), cell_states (T, B, H) in x's dtype."""
    hidden, proj = weights.weight_hh.size(0) // 4, weights.weight_hh.size(1)
    if not fits_on_chip(hidden, proj, x.dtype):
        return run_direction_per_step(x, h0, c0, weights)
    outputs, cell_states = PersistentLSTMDirection.apply(x.contiguous(), h0, c0, *weights)
    return outputs, cell_states.to(x.dtype)
