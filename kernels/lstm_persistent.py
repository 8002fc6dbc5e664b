"""A whole LSTM layer's sequence in one Triton launch per pass — backend "persistent".

The per-step design ("triton", kernels/lstm_gates.py) launches a GEMM and a gate kernel for every
time step: each step pays launch latency and re-reads W_hh from memory. Here the launch stays alive
for all T steps and the recurrent weights stay on chip. W_hh of a real layer does not fit one SM
(bf16 H=1024: 8 MiB), so the hidden units are split into slices of S units across programs:

    grid = (hidden slices, batch groups)        program (s, g) owns units s·S … s·S+S−1
                                                 and the 16-row batch tiles of group g
    before the loop:  W_s = rows of W_hh for its units in all four gates: (4S × P) -> on chip, read once
    for t in 0..T−1:  h_{t−1}  (16 × P)  <- the step's output rows of every program, from global memory / L2
                      pre_s   = gates_x[t]_s + W_s h_{t−1}            tl.dot: (4S × P)(P × 16), fp32 accumulate
                      i, f, o = σ(pre_i, pre_f, pre_o);  g = tanh(pre_g)
                      c_t     = f ⊙ c_{t−1} + i ⊙ g                    this program's S units only
                      h_t     = o ⊙ tanh c_t              -> written to outputs[t], its S columns
                      ── grid barrier: every program of the group has written h_t before any reads it ──

With a projection (proj_size P < H) a step has two phases: m_t = o ⊙ tanh c_t as above, a barrier,
then h_t = W_hr m_t with the P outputs split across the same programs (each keeps its rows of W_hr),
and a second barrier.

Backward runs the same grid in reverse time (`lstm_persistent_backward_kernel`): program s computes its
slice of dh_t = grad_out_t + W_hhᵀ d_gates_{t+1} from every program's gate gradients of step t+1, then
its own gate gradients; the weight gradients are large GEMMs after the loop (bptt.gemm_gradients), as
in "bptt" and "triton". Its COLUMNS of W_hh (4H × S) are streamed from L2, 64 gate rows per tl.dot
(all of W_hh, 8 MiB at bf16 H=1024, stays in the 50 MB L2): held on chip as one (S × 4H) operand, the
product has M = S = 16 rows, too few for Hopper's wgmma, and ptxas put it in local memory — measured
for sm_90, bf16 H=1024: 56,284 bytes spilled and 384 KiB of shared memory, against 0 and 12 KiB now.

The barrier (`_grid_barrier`): one counter per batch group in global memory. A program adds 1
(release: its stores of h_t are visible first) and polls until the group's count for this phase is
reached (acquire). It gives up after `max_spins` polls and sets an error flag, which the host turns
into a RuntimeError — a program that never arrives must never hang the GPU. All programs must be
resident at once, so the grid is launched cooperatively and the host checks the device's co-resident
capacity before launching (`plan`).

On chip, measured (`lstmlab kernels --arch sm_90`): Triton keeps the loop-invariant W_s in shared
memory as wgmma's operand — bf16 H=1024, S=16: 162 KiB shared, of which W_s is 128 KiB, 193 registers
with 8 warps, nothing spilled (with 4 warps: 255 registers and 628 bytes spilled, hence the table).

The Triton interpreter (CPU, CI) runs programs one after another: a spinning barrier between two of
them would wait forever. There the plan is one program for all slices and tiles (its barriers are met
by itself), and `split_grid` runs the same kernel code on a split grid one phase per launch ("stepped"
path): the launch boundary is the barrier. Which path each pass took, and why, is in `last_plans`.
"""
import contextlib
import functools
import math
import os
from dataclasses import dataclass

import torch
import triton
import triton.language as tl

from lstmlab.backends.bptt import gemm_gradients
from lstmlab.kernels.lstm_gates import (TritonLSTMDirection, _check, _compute_dtype, _tanh, check_index_range,
                                        gate_gradients)
from lstmlab.kernels.lstm_gates import run_direction_inference as run_gates_inference

BLOCK_B = 16                    # batch rows per tile (tl.dot needs ≥ 16)
K_CHUNK = 64                    # backward: W_hh columns streamed from L2 this many gate rows at a time
MAX_SPINS = 1 << 22             # polls before a barrier gives up: seconds on a GPU, never a hang

# Slice width S (hidden units per program) and warps, per arch, pass, bytes per element and H. Every entry
# is compiled by `lstmlab kernels --arch sm_90` (lstmlab/kernel_report.py), which reports registers,
# spills and shared memory; tests/test_kernel_report.py holds the table to zero spills within the
# limits. Rows: (largest H, S, num_warps); the first row whose H covers the layer wins. Past the last
# row the pass runs on backend "triton"'s per-step kernels. Measured for sm_90, B=16 (Triton 3.9):
#   forward  bf16 H=1024, 8 warps: 193 registers, 0 spilled, 162 KiB shared (W_hh slice: 128 KiB)
#            fp32 H=512,  8 warps: 199 registers, 0 spilled, 164 KiB shared; with 4 warps 264 B spill
#            bf16 H=1024 with 4 warps: 255 registers and 628 B spilled — hence 8 warps there
#   backward bf16 H=1024, 4 warps: streams its W_hh columns from L2 (K_CHUNK rows at a time), 12 KiB shared
_SM90 = {
    "forward": {2: [(512, 16, 4), (1024, 16, 8)], 4: [(256, 16, 4), (512, 16, 8)]},
    "backward": {2: [(1024, 16, 4)], 4: [(512, 16, 4)]},
}
DISPATCH_TABLE = {
    "sm_90": _SM90,
    # A100: at most 163 KiB (166,912 B) of shared memory per program (164 KiB per SM) — fp32 H=512's
    # forward needs 164 KiB (167,936 B), so it does not fit.
    "sm_80": {"forward": {2: _SM90["forward"][2], 4: [(256, 16, 4)]}, "backward": _SM90["backward"]},
    # Blackwell: the 8-warp forward configurations spill (255 registers, ~500 B), so they stop at 512 / 256.
    "sm_100": {"forward": {2: [(512, 16, 4)], 4: [(256, 16, 4)]}, "backward": _SM90["backward"]},
}
# What the host knows of each architecture, for the co-resident check without a GPU at hand. shared_bytes
# is the most one program (block) may use, the opt-in limit; an SM holds 1 KiB more, and each block
# reserves 1 KiB of it, which programs_per_sm does not count: it could count 2 programs of 113–113.5 KiB
# where 1 fits. In every configuration of the kernel report registers or the table bind first.
ARCH_LIMITS = {
    "sm_80": {"arch": "sm_80", "sms": 108, "shared_bytes": 166912, "registers": 65536, "max_threads": 2048, "max_blocks": 32},
    "sm_90": {"arch": "sm_90", "sms": 132, "shared_bytes": 232448, "registers": 65536, "max_threads": 2048, "max_blocks": 32},
    "sm_100": {"arch": "sm_100", "sms": 148, "shared_bytes": 232448, "registers": 65536, "max_threads": 2048, "max_blocks": 32},
}


# ─── the kernels ─────────────────────────────────────────────────────────────────────────────────

@triton.jit
def _grid_barrier(counter_ptr, error_ptr, target, max_spins):
    """Wait until `target` arrivals are counted at counter_ptr; set *error_ptr = 1 after max_spins polls."""
    tl.debug_barrier()                                            # every thread of this program has stored
    arrived = tl.atomic_add(counter_ptr, 1, sem="release", scope="gpu") + 1
    failed = tl.atomic_add(error_ptr, 0, sem="relaxed", scope="gpu")
    spins = 0
    while (arrived < target) & (failed == 0) & (spins < max_spins):
        arrived = tl.atomic_add(counter_ptr, 0, sem="acquire", scope="gpu")
        failed = tl.atomic_add(error_ptr, 0, sem="relaxed", scope="gpu")
        spins += 1
    if arrived < target:                                          # timed out, or another program did
        tl.atomic_xchg(error_ptr, 1)
    tl.debug_barrier()


@triton.jit
def lstm_persistent_forward_kernel(
    gates_x_ptr,      # (T, B, 4H) W_ih x_t + b_ih + b_hh of every step, blocks i, f, g, o; input dtype
    w_hh_ptr,         # (4H, P) recurrent weight in torch's layout; this program's 4S rows kept on chip
    w_hr_ptr,         # (P, H) projection weight (read only when HAS_PROJ)
    h0_ptr,           # (B, P) initial hidden state, input dtype
    c0_ptr,           # (B, H) initial cell state, compute dtype
    outputs_ptr,      # (T, B, P) out: h_t, input dtype — also how programs hand h_t to each other
    unprojected_ptr,  # (T, B, H) out: m_t = o ⊙ tanh c_t before the projection (only when HAS_PROJ)
    gates_ptr,        # (T, B, 4H) out: activated gates i, f, g, o, compute dtype — for backward
    cells_ptr,        # (T, B, H) out: c_t, compute dtype ((2, B, H), a ring, without KEEP_FOR_BACKWARD)
    sync_ptr,         # (groups,) int32 barrier counters, zero at launch
    error_ptr,        # (1,) int32 set to 1 by a barrier that timed out
    steps, batch, hidden, proj,               # T, B, H, P
    tiles_per_group, phase_start, phase_stop, max_spins,
    HAS_PROJ: tl.constexpr,
    KEEP_FOR_BACKWARD: tl.constexpr,   # False (inference): no gates stored; c_t and m_t in rings of 2 steps
    GRID_SYNC: tl.constexpr,      # True: all phases in one launch with barriers; False: one phase per launch
    COMPUTE: tl.constexpr,        # tl.float32 (tl.float64 for fp64 inputs)
    DOT_PRECISION: tl.constexpr,
    UPCAST_DOT: tl.constexpr,     # interpreter only: its tl.dot is wrong for bf16, so multiply in fp32
    SLICE: tl.constexpr,          # S hidden units per program
    PROJ_SLICE: tl.constexpr,     # outputs of W_hr per program (HAS_PROJ)
    BLOCK_B: tl.constexpr, BLOCK_H: tl.constexpr, BLOCK_P: tl.constexpr,
):
    PHASES: tl.constexpr = 2 if HAS_PROJ else 1
    piece = tl.program_id(0)                                      # which slice of the hidden units
    group = tl.program_id(1)                                      # which group of batch tiles
    slices = tl.num_programs(0)

    # Rows r of this program's gate block: gate k = r // S of unit u = piece·S + r % S, row k·H + u of W_hh.
    block_rows = tl.arange(0, 4 * SLICE)
    gate_of_row = block_rows // SLICE
    unit_of_row = piece * SLICE + block_rows % SLICE
    row_ok = unit_of_row < hidden
    weight_rows = gate_of_row * hidden + unit_of_row              # (4S,) into W_hh's 4H rows
    feeds = tl.arange(0, BLOCK_P)                                 # recurrent inputs p
    feed_ok = feeds < proj
    units = piece * SLICE + tl.arange(0, SLICE)                   # (S,)
    unit_ok = units < hidden
    w_s = tl.load(w_hh_ptr + weight_rows[:, None] * proj + feeds[None, :],
                  mask=row_ok[:, None] & feed_ok[None, :], other=0.0)        # (4S, BLOCK_P) on chip
    if UPCAST_DOT:
        w_s = w_s.to(tl.float32)
    if HAS_PROJ:
        outs = piece * PROJ_SLICE + tl.arange(0, PROJ_SLICE)      # this program's outputs of h = W_hr m
        out_ok = outs < proj
        cols = tl.arange(0, BLOCK_H)
        col_ok = cols < hidden
        w_hr_s = tl.load(w_hr_ptr + outs[:, None] * hidden + cols[None, :],
                         mask=out_ok[:, None] & col_ok[None, :], other=0.0)  # (PROJ_SLICE, BLOCK_H) on chip
        if UPCAST_DOT:
            w_hr_s = w_hr_s.to(tl.float32)
    is_g_row = (gate_of_row == 2)[:, None]
    gate_id = tl.arange(0, 4)[:, None, None]
    first_tile = group * tiles_per_group

    for phase in range(phase_start, phase_stop):
        t = phase // PHASES
        part = phase % PHASES
        step = t.to(tl.int64)                                     # T·B·4H may pass 2³¹: 64-bit step offsets
        # where c_t (and m_t) of this step and c_{t−1} live: every step's slot, or a ring of two
        slot = step if KEEP_FOR_BACKWARD else step % 2
        previous = step - 1 if KEEP_FOR_BACKWARD else (step + 1) % 2
        for tile in range(first_tile, tl.minimum(first_tile + tiles_per_group, tl.cdiv(batch, BLOCK_B))):
            rows = tile * BLOCK_B + tl.arange(0, BLOCK_B)
            batch_ok = rows < batch
            if part == 0:
                # h_{t−1}ᵀ (BLOCK_P, BLOCK_B): every program's slice of the previous step's output.
                feed_mask = feed_ok[:, None] & batch_ok[None, :]
                if t == 0:
                    h_prev = tl.load(h0_ptr + rows[None, :] * proj + feeds[:, None], mask=feed_mask, other=0.0)
                else:
                    h_prev = tl.load(outputs_ptr + (step - 1) * batch * proj + rows[None, :] * proj + feeds[:, None],
                                     mask=feed_mask, other=0.0, cache_modifier=".cg")   # L2, not a stale L1 line
                if UPCAST_DOT:
                    h_prev = h_prev.to(tl.float32)
                block_mask = row_ok[:, None] & batch_ok[None, :]
                block_offsets = step * batch * 4 * hidden + rows[None, :] * 4 * hidden + weight_rows[:, None]
                pre = tl.load(gates_x_ptr + block_offsets, mask=block_mask, other=0.0).to(COMPUTE)
                pre += tl.dot(w_s, h_prev, input_precision=DOT_PRECISION).to(COMPUTE)   # (4S, BLOCK_B) + W_s h_{t−1}
                act = tl.where(is_g_row, _tanh(pre), tl.sigmoid(pre))    # i, f, o = σ(·);  g = tanh(·)
                if KEEP_FOR_BACKWARD:
                    tl.store(gates_ptr + block_offsets, act, mask=block_mask)

                by_gate = tl.reshape(act, (4, SLICE, BLOCK_B))            # rows k·S + u -> [k, u]
                i = tl.sum(tl.where(gate_id == 0, by_gate, 0.0), axis=0)  # (S, BLOCK_B)
                f = tl.sum(tl.where(gate_id == 1, by_gate, 0.0), axis=0)
                g = tl.sum(tl.where(gate_id == 2, by_gate, 0.0), axis=0)
                o = tl.sum(tl.where(gate_id == 3, by_gate, 0.0), axis=0)
                state_mask = unit_ok[:, None] & batch_ok[None, :]
                state_offsets = rows[None, :] * hidden + units[:, None]  # (S, BLOCK_B) into (B, H)
                if t == 0:
                    c_prev = tl.load(c0_ptr + state_offsets, mask=state_mask, other=0.0)
                else:                                                  # this program's own store of step t−1
                    c_prev = tl.load(cells_ptr + previous * batch * hidden + state_offsets, mask=state_mask, other=0.0)
                c = f * c_prev + i * g                                    # c_t = f ⊙ c_{t−1} + i ⊙ g
                m = o * _tanh(c)                                          # m_t = o ⊙ tanh c_t
                tl.store(cells_ptr + slot * batch * hidden + state_offsets, c, mask=state_mask)
                if HAS_PROJ:
                    tl.store(unprojected_ptr + slot * batch * hidden + state_offsets,
                             m.to(unprojected_ptr.dtype.element_ty), mask=state_mask)
                else:                                                     # h_t = m_t (P = H)
                    tl.store(outputs_ptr + step * batch * proj + state_offsets,
                             m.to(outputs_ptr.dtype.element_ty), mask=state_mask)
            if HAS_PROJ:
                if part == 1:
                    # h_t = W_hr m_t: this program's PROJ_SLICE outputs from every program's m_t.
                    m_all = tl.load(unprojected_ptr + slot * batch * hidden + rows[None, :] * hidden + cols[:, None],
                                    mask=col_ok[:, None] & batch_ok[None, :], other=0.0, cache_modifier=".cg")
                    h = tl.dot(w_hr_s, m_all.to(w_hr_s.dtype), input_precision=DOT_PRECISION)  # (PROJ_SLICE, BLOCK_B)
                    tl.store(outputs_ptr + step * batch * proj + rows[None, :] * proj + outs[:, None],
                             h.to(outputs_ptr.dtype.element_ty), mask=out_ok[:, None] & batch_ok[None, :])
        if GRID_SYNC:
            _grid_barrier(sync_ptr + group, error_ptr, (phase + 1) * slices, max_spins)


@triton.jit
def _dot_fp32(w, x, DOT_PRECISION: tl.constexpr, SPLIT: tl.constexpr):
    """w (M, K) on chip in the weights' dtype times x (K, N) in fp32 -> (M, N) fp32.

    SPLIT (16-bit weights): x = hi + lo, both 16-bit, two tensor-core products accumulated in fp32 —
    x keeps twice the 16-bit type's significant bits (bf16: ~16 instead of 8; fp16: ~22 instead of 11), and
    the weights stay 16-bit on chip (half the space)."""
    if SPLIT:
        hi = x.to(w.dtype)
        lo = (x - hi.to(tl.float32)).to(w.dtype)
        return tl.dot(w, hi, input_precision=DOT_PRECISION) + tl.dot(w, lo, input_precision=DOT_PRECISION)
    else:
        return tl.dot(w, x.to(w.dtype), input_precision=DOT_PRECISION).to(x.dtype)


@triton.jit
def _gate_gradients(dh, step, rows, batch_ok, units, unit_ok, hidden, batch, steps,
                    gates_ptr, cells_ptr, c0_ptr, grad_cells_ptr, grad_gates_ptr, grad_c_ptr,
                    HAS_GRAD_C: tl.constexpr):
    """One step's gate gradients for S units × 16 rows, from dh (the gradient reaching m_t = o ⊙ tanh c_t):

        dc      = dc_t (from step t+1: dc_{t+1} ⊙ f_{t+1}) + grad of c_t's own use + dh ⊙ o ⊙ (1 − tanh² c_t)
        d_pre_i = dc ⊙ g ⊙ i(1 − i)      d_pre_f = dc ⊙ c_{t−1} ⊙ f(1 − f)
        d_pre_g = dc ⊙ i ⊙ (1 − g²)      d_pre_o = dh ⊙ tanh c_t ⊙ o(1 − o)
        dc_{t−1} = dc ⊙ f                 (kept in grad_c_ptr: this program's own slice)
    """
    state_mask = unit_ok[:, None] & batch_ok[None, :]
    state_offsets = rows[None, :] * hidden + units[:, None]                   # (S, BLOCK_B) into (B, H)
    gate_offsets = step * batch * 4 * hidden + rows[None, :] * 4 * hidden + units[:, None]
    i = tl.load(gates_ptr + gate_offsets, mask=state_mask, other=0.0)
    f = tl.load(gates_ptr + gate_offsets + hidden, mask=state_mask, other=0.0)
    g = tl.load(gates_ptr + gate_offsets + 2 * hidden, mask=state_mask, other=0.0)
    o = tl.load(gates_ptr + gate_offsets + 3 * hidden, mask=state_mask, other=0.0)
    c = tl.load(cells_ptr + step * batch * hidden + state_offsets, mask=state_mask, other=0.0)
    if step == 0:
        c_prev = tl.load(c0_ptr + state_offsets, mask=state_mask, other=0.0)
    else:
        c_prev = tl.load(cells_ptr + (step - 1) * batch * hidden + state_offsets, mask=state_mask, other=0.0)
    if step == steps - 1:
        dc = tl.zeros_like(c)
    else:
        dc = tl.load(grad_c_ptr + state_offsets, mask=state_mask, other=0.0)
    if HAS_GRAD_C:
        dc += tl.load(grad_cells_ptr + step * batch * hidden + state_offsets, mask=state_mask, other=0.0)
    d_i, d_f, d_g, d_o, dc_prev = gate_gradients(i, f, g, o, c, c_prev, dh, dc)   # lstm_gates' equations
    tl.store(grad_gates_ptr + gate_offsets, d_i, mask=state_mask)
    tl.store(grad_gates_ptr + gate_offsets + hidden, d_f, mask=state_mask)
    tl.store(grad_gates_ptr + gate_offsets + 2 * hidden, d_g, mask=state_mask)
    tl.store(grad_gates_ptr + gate_offsets + 3 * hidden, d_o, mask=state_mask)
    tl.store(grad_c_ptr + state_offsets, dc_prev, mask=state_mask)


@triton.jit
def _streamed_product(w_ptr, w_rows, w_rows_ok, w_stride, x_ptr, x_cols, x_cols_ok, x_stride, length,
                      DOT_PRECISION: tl.constexpr, SPLIT: tl.constexpr, UPCAST_DOT: tl.constexpr,
                      M: tl.constexpr, N: tl.constexpr, K_CHUNK: tl.constexpr):
    """Σ_k w[m, k] x[k, n] over k < length, K_CHUNK at a time -> (M, N) fp32.

    w[m, k] is at w_ptr + w_rows[m] + k·w_stride, x[k, n] at x_ptr + k·x_stride + x_cols[n]."""
    acc = tl.zeros((M, N), dtype=tl.float32)
    chunk = tl.arange(0, K_CHUNK)
    for start in range(0, length, K_CHUNK):
        ks = start + chunk
        k_ok = ks < length
        w = tl.load(w_ptr + w_rows[:, None] + ks[None, :] * w_stride, mask=w_rows_ok[:, None] & k_ok[None, :], other=0.0)
        x = tl.load(x_ptr + ks[:, None] * x_stride + x_cols[None, :], mask=k_ok[:, None] & x_cols_ok[None, :],
                    other=0.0, cache_modifier=".cg")
        if UPCAST_DOT:
            w = w.to(tl.float32)
        acc += _dot_fp32(w, x, DOT_PRECISION, SPLIT)
    return acc


@triton.jit
def lstm_persistent_backward_kernel(
    gates_ptr,        # (T, B, 4H) activated gates saved by forward, compute dtype
    cells_ptr,        # (T, B, H) c_t saved by forward, compute dtype
    c0_ptr,           # (B, H) c_0, compute dtype
    w_hh_ptr,         # (4H, P) in torch's layout, input dtype (fp32 for fp32); this program's columns, from L2
    w_hr_ptr,         # (P, H) projection, same dtype (only when HAS_PROJ)
    grad_outputs_ptr,  # (T, B, P) gradient reaching each output h_t, compute dtype
    grad_cells_ptr,   # (T, B, H) gradient reaching each c_t (only when HAS_GRAD_C)
    grad_gates_ptr,   # (T, B, 4H) out: gradient of the gate pre-activations, blocks i, f, g, o
    grad_h_ptr,       # (T, B, P) scratch: dh_t, handed between programs (only when HAS_PROJ)
    grad_c_ptr,       # (B, H) out: dc of the step below — after the loop, the gradient of c_0
    sync_ptr, error_ptr,
    steps, batch, hidden, proj,
    tiles_per_group, phase_start, phase_stop, max_spins,
    HAS_PROJ: tl.constexpr, HAS_GRAD_C: tl.constexpr, GRID_SYNC: tl.constexpr,
    DOT_PRECISION: tl.constexpr,
    SPLIT: tl.constexpr,          # 16-bit weights: products of fp32 gradients in two 16-bit halves (_dot_fp32)
    UPCAST_DOT: tl.constexpr,     # interpreter only (its bf16 tl.dot is wrong): weights to fp32 instead
    SLICE: tl.constexpr, PROJ_SLICE: tl.constexpr, K_CHUNK: tl.constexpr,
    BLOCK_B: tl.constexpr,
):
    PHASES: tl.constexpr = 2 if HAS_PROJ else 1
    FEED_SLICE: tl.constexpr = PROJ_SLICE if HAS_PROJ else SLICE
    piece = tl.program_id(0)
    group = tl.program_id(1)
    slices = tl.num_programs(0)
    units = piece * SLICE + tl.arange(0, SLICE)
    unit_ok = units < hidden
    # dh_t is computed for `feeds_s`: this program's units (P = H), or its slice of the P outputs.
    if HAS_PROJ:
        feeds_s = piece * PROJ_SLICE + tl.arange(0, PROJ_SLICE)
    else:
        feeds_s = units
    feed_s_ok = feeds_s < proj
    first_tile = group * tiles_per_group

    for phase in range(phase_start, phase_stop):
        t = steps - 1 - phase // PHASES                            # reverse time
        part = phase % PHASES
        step = t.to(tl.int64)
        for tile in range(first_tile, tl.minimum(first_tile + tiles_per_group, tl.cdiv(batch, BLOCK_B))):
            rows = tile * BLOCK_B + tl.arange(0, BLOCK_B)
            batch_ok = rows < batch
            if part == 0:
                # dh_t = grad_out_t + W_hhᵀ d_gates_{t+1} for this program's feeds, from every program's d_gates.
                feed_mask = feed_s_ok[:, None] & batch_ok[None, :]
                dh = tl.load(grad_outputs_ptr + step * batch * proj + rows[None, :] * proj + feeds_s[:, None],
                             mask=feed_mask, other=0.0)
                if t < steps - 1:
                    dh += _streamed_product(                       # Σ_k W_hh[k, feed] d_gates_{t+1}[row, k]
                        w_hh_ptr, feeds_s, feed_s_ok, proj,
                        grad_gates_ptr + (step + 1) * batch * 4 * hidden, rows * 4 * hidden, batch_ok, 1,
                        4 * hidden, DOT_PRECISION, SPLIT, UPCAST_DOT, FEED_SLICE, BLOCK_B, K_CHUNK)
                if HAS_PROJ:
                    tl.store(grad_h_ptr + step * batch * proj + rows[None, :] * proj + feeds_s[:, None], dh, mask=feed_mask)
                else:
                    _gate_gradients(dh, step, rows, batch_ok, units, unit_ok, hidden, batch, steps,
                                    gates_ptr, cells_ptr, c0_ptr, grad_cells_ptr, grad_gates_ptr, grad_c_ptr, HAS_GRAD_C)
            if HAS_PROJ:
                if part == 1:
                    # dm_t = W_hrᵀ dh_t for this program's units, from every program's slice of dh_t.
                    dm = _streamed_product(                        # Σ_p W_hr[p, unit] dh_t[row, p]
                        w_hr_ptr, units, unit_ok, hidden,
                        grad_h_ptr + step * batch * proj, rows * proj, batch_ok, 1,
                        proj, DOT_PRECISION, SPLIT, UPCAST_DOT, SLICE, BLOCK_B, K_CHUNK)
                    _gate_gradients(dm, step, rows, batch_ok, units, unit_ok, hidden, batch, steps, gates_ptr,
                                    cells_ptr, c0_ptr, grad_cells_ptr, grad_gates_ptr, grad_c_ptr, HAS_GRAD_C)
        if GRID_SYNC:
            _grid_barrier(sync_ptr + group, error_ptr, (phase + 1) * slices, max_spins)


# ─── choosing a launch: slice width, warps, grid, and the path ──────────────────────────────────

@dataclass(frozen=True)
class LaunchPlan:
    """How one pass of one layer-direction runs, and why.

    path: "persistent" — one cooperative launch for all T steps, a grid barrier per phase;
          "stepped"    — the same kernel, one launch per phase (the launch boundary is the barrier);
          "per-step"   — backend "triton"'s kernels (a GEMM and a gate kernel per step).
    """
    path: str
    reason: str
    slice_width: int = 16
    num_warps: int = 4
    slices: int = 1               # programs along the hidden units
    groups: int = 1               # programs along the batch (each runs tiles_per_group tiles of 16 rows)
    tiles_per_group: int = 1

    @property
    def grid(self):
        return (self.slices, self.groups)


last_plans = {}                   # "forward" / "backward" -> the LaunchPlan of the latest launch
_forced_split = None              # (slice_width, tiles_per_group) while `split_grid` is active


@contextlib.contextmanager
def split_grid(slice_width=16, tiles_per_group=1):
    """Run the "stepped" path on a split grid — slices of `slice_width` units, groups of `tiles_per_group`
    batch tiles — whatever `plan` would choose: how the interpreter tests the split without a GPU."""
    global _forced_split
    previous, _forced_split = _forced_split, (slice_width, tiles_per_group)
    try:
        yield
    finally:
        _forced_split = previous


def _interpreted():
    return os.environ.get("TRITON_INTERPRET") == "1"


def table_entry(hidden, dtype, pass_name="forward", arch="sm_90"):
    """(slice width, num_warps) from DISPATCH_TABLE, or None when no verified entry covers H."""
    for largest, slice_width, num_warps in DISPATCH_TABLE[arch][pass_name].get(torch.empty((), dtype=dtype).element_size(), []):
        if hidden <= largest:
            return slice_width, num_warps
    return None


def per_step_reason(hidden, dtype, pass_name, arch="sm_90"):
    """Why this pass must run on backend "triton"'s per-step kernels on a GPU, or None."""
    if dtype == torch.float32 and not torch.backends.cudnn.allow_tf32:
        return ("torch.backends.cudnn.allow_tf32 is False: full-fp32 products asked for, "
                "and the persistent kernel multiplies fp32 in TF32")
    if table_entry(hidden, dtype, pass_name, arch) is None:
        covered = {2: "bfloat16/float16", 4: "float32"}
        rows = DISPATCH_TABLE[arch][pass_name]
        return (f"no verified {pass_name} slice width for {dtype} at H={hidden} on {arch} (DISPATCH_TABLE "
                f"covers {', '.join(f'{covered[size]} H ≤ {rows[size][-1][0]}' for size in rows)})")
    return None


def programs_per_sm(registers, shared_bytes, num_warps, limits):
    """How many programs of this kernel one SM holds at once (registers are allocated per warp, 256 at a time)."""
    registers_per_warp = math.ceil(max(registers, 1) * 32 / 256) * 256
    by_registers = limits["registers"] // (registers_per_warp * num_warps)
    by_threads = limits["max_threads"] // (32 * num_warps)
    by_shared = limits["shared_bytes"] // shared_bytes if shared_bytes else limits["max_blocks"]
    return min(by_registers, by_threads, by_shared, limits["max_blocks"])


def plan(hidden, proj, dtype, batch, pass_name="forward", resources=None, limits=None, interpreted=None):
    """The LaunchPlan of one pass ("forward"/"backward") for H units and P recurrent inputs, `batch` rows.

    resources: {"registers", "shared_bytes"} of the compiled kernel, limits: ARCH_LIMITS-style numbers of
    the device (both None under the interpreter, where every grid runs one program at a time).
    interpreted: None = as TRITON_INTERPRET says.
    """
    tiles = triton.cdiv(batch, BLOCK_B)
    if _interpreted() if interpreted is None else interpreted:
        # Programs run one after another here, so a barrier between two of them would wait forever. One
        # program takes every slice and tile: its barriers are met by itself. (Tests force split grids
        # with the "stepped" path: one launch per phase.)
        return LaunchPlan("persistent", "Triton interpreter: one program for all hidden units and batch tiles "
                          "(programs run one after another)", _block(hidden), 4, 1, 1, tiles)
    arch = limits["arch"] if limits else "sm_90"
    reason = per_step_reason(hidden, dtype, pass_name, arch)
    if reason is not None:
        return LaunchPlan("per-step", reason)
    entry = table_entry(hidden, dtype, pass_name, arch)
    slice_width, num_warps = entry
    slices = triton.cdiv(hidden, slice_width)
    per_sm = programs_per_sm(resources["registers"], resources["shared_bytes"], num_warps, limits)
    capacity = per_sm * limits["sms"]
    if per_sm == 0:
        return LaunchPlan("per-step", f"one program needs {resources['shared_bytes']} B of shared memory and "
                          f"{resources['registers']} registers × {32 * num_warps} threads; an SM has "
                          f"{limits['shared_bytes']} B and {limits['registers']} registers", slice_width, num_warps, slices)
    if slices > capacity:
        return LaunchPlan("stepped", f"{slices} hidden slices of {slice_width} units exceed the {capacity} programs "
                          f"the device holds at once ({per_sm} per SM × {limits['sms']} SMs): one launch per phase",
                          slice_width, num_warps, slices, tiles, 1)
    groups = min(tiles, capacity // slices)
    tiles_per_group = triton.cdiv(tiles, groups)
    groups = triton.cdiv(tiles, tiles_per_group)
    return LaunchPlan("persistent", f"{slices} slices × {groups} batch groups ≤ {capacity} co-resident programs "
                      f"({per_sm} per SM: {resources['registers']} registers, {resources['shared_bytes']} B shared, "
                      f"{num_warps} warps)", slice_width, num_warps, slices, groups, tiles_per_group)


@functools.lru_cache(maxsize=None)
def device_limits(device):
    """ARCH_LIMITS-style numbers of a CUDA device, read from torch; "arch" is the nearest one in the table."""
    props = torch.cuda.get_device_properties(device)
    arch = "sm_80" if props.major < 9 else ("sm_90" if props.major == 9 else "sm_100")
    known = ARCH_LIMITS[arch]
    return {"arch": arch, "sms": props.multi_processor_count,
            "shared_bytes": getattr(props, "shared_memory_per_block_optin", known["shared_bytes"]),
            "registers": getattr(props, "regs_per_multiprocessor", known["registers"]),
            "max_threads": getattr(props, "max_threads_per_multi_processor", known["max_threads"]),
            "max_blocks": known["max_blocks"]}


# ─── launchers ───────────────────────────────────────────────────────────────────────────────────

def _dot_precision(dtype):
    # fp32 multiplies in TF32 on tensor cores, as cuDNN does under torch's default
    # (torch.backends.cudnn.allow_tf32 = True; when False, `plan` takes the per-step path). "tf32x3"
    # (fp32 accuracy) would keep two more copies of the weights on chip. The interpreter multiplies in
    # fp32 whatever the setting.
    return "ieee" if dtype == torch.float64 else "tf32"


def _launch(kernel, pointers, sizes, constexprs, launch_plan, phases, device, max_spins, grid_sync):
    """Run all phases: in one cooperative launch (grid_sync) or one launch per phase. Returns the error flag."""
    sync = torch.zeros(launch_plan.groups, dtype=torch.int32, device=device)
    error = torch.zeros(1, dtype=torch.int32, device=device)
    options = {"num_warps": launch_plan.num_warps}
    if device.type == "cuda" and grid_sync:
        options["launch_cooperative_grid"] = True           # all programs resident, or the launch fails
    grid = launch_plan.grid
    if grid_sync:
        kernel[grid](*pointers, sync, error, *sizes, *launch_plan_args(launch_plan, 0, phases, max_spins),
                     GRID_SYNC=True, **constexprs, **options)
    else:
        for phase in range(phases):
            kernel[grid](*pointers, sync, error, *sizes, *launch_plan_args(launch_plan, phase, phase + 1, max_spins),
                         GRID_SYNC=False, **constexprs, **options)
    return error


def launch_plan_args(launch_plan, phase_start, phase_stop, max_spins):
    return launch_plan.tiles_per_group, phase_start, phase_stop, max_spins


def _raise_if_timed_out(error, launch_plan, name):
    if int(error.item()) != 0:
        raise RuntimeError(
            f"persistent LSTM {name} kernel: a grid barrier timed out — not every one of the "
            f"{launch_plan.slices}×{launch_plan.groups} programs arrived (were they all resident? plan: "
            f"{launch_plan.reason}). The results of this call are invalid.")


def _sizes_fit_32_bits(steps, batch, hidden, proj):
    """Offsets inside one step (and into the weights) are 32-bit; only the step offset is 64-bit."""
    check_index_range("one step of the gates (B × 4H)", batch, 4 * hidden)
    check_index_range("W_hh (4H × P)", 4 * hidden, proj)


def _kernel_options(dtype, interpreted=None):
    interpreted = _interpreted() if interpreted is None else interpreted
    return {"DOT_PRECISION": _dot_precision(dtype),
            "UPCAST_DOT": dtype in (torch.bfloat16, torch.float16) and interpreted}


def compiled_resources(kernel, pointers, sizes, constexprs, launch_plan):
    """Registers and shared bytes of `kernel` as it will run here (compiled once, then cached by Triton)."""
    device = pointers[0].device
    flags = (torch.zeros(1, dtype=torch.int32, device=device),) * 2
    compiled = kernel.warmup(*pointers, *flags, *sizes, *launch_plan_args(launch_plan, 0, 1, MAX_SPINS), GRID_SYNC=True,
                             grid=launch_plan.grid, num_warps=launch_plan.num_warps, **constexprs)
    compiled._init_handles()
    return {"registers": compiled.n_regs, "shared_bytes": compiled.metadata.shared}


def _plan_here(kernel, pointers, sizes, constexprs_of, hidden, proj, dtype, batch, pass_name):
    """The plan for this device: on a GPU, the table's configuration is compiled first, so that the
    co-resident check uses its real registers and shared memory."""
    device = pointers[0].device
    if _forced_split is not None:
        slice_width, tiles_per_group = _forced_split
        tiles = triton.cdiv(batch, BLOCK_B)
        return LaunchPlan("stepped", f"forced by split_grid({slice_width}, {tiles_per_group})", slice_width, 4,
                          triton.cdiv(hidden, slice_width), triton.cdiv(tiles, tiles_per_group), tiles_per_group)
    if _interpreted() or device.type != "cuda":
        return plan(hidden, proj, dtype, batch, pass_name)
    limits = device_limits(device)
    if per_step_reason(hidden, dtype, pass_name, limits["arch"]) is not None:
        return plan(hidden, proj, dtype, batch, pass_name, limits=limits)
    trial = LaunchPlan("persistent", "compile", *table_entry(hidden, dtype, pass_name, limits["arch"]))
    resources = compiled_resources(kernel, pointers, sizes, constexprs_of(trial), trial)
    return plan(hidden, proj, dtype, batch, pass_name, resources, limits)


def _proj_slice(proj, slices):
    """Outputs of W_hr per program: P split over the same programs, at least 16 for tl.dot."""
    return max(16, triton.next_power_of_2(triton.cdiv(proj, slices)))


def forward_constexprs(launch_plan, dtype, hidden, proj, has_proj, interpreted=None, keep_for_backward=True):
    return dict(HAS_PROJ=has_proj, KEEP_FOR_BACKWARD=keep_for_backward, COMPUTE=tl.float64 if dtype == torch.float64 else tl.float32,
                SLICE=launch_plan.slice_width, PROJ_SLICE=_proj_slice(proj, launch_plan.slices),
                BLOCK_B=BLOCK_B, BLOCK_H=_block(hidden), BLOCK_P=_block(proj), **_kernel_options(dtype, interpreted))


def backward_constexprs(launch_plan, dtype, hidden, proj, has_proj, has_grad_c, interpreted=None):
    options = _kernel_options(dtype, interpreted)
    return dict(HAS_PROJ=has_proj, HAS_GRAD_C=has_grad_c, SPLIT=dtype in (torch.bfloat16, torch.float16)
                and not options["UPCAST_DOT"], SLICE=launch_plan.slice_width,
                PROJ_SLICE=_proj_slice(proj, launch_plan.slices), K_CHUNK=K_CHUNK, BLOCK_B=BLOCK_B, **options)


def _block(size):
    return max(16, triton.next_power_of_2(size))


def persistent_forward(gates_x, weight_hh, weight_hr, h0, c0, launch_plan=None, max_spins=MAX_SPINS, grid_sync=None,
                       keep_for_backward=True):
    """gates_x (T, B, 4H), weight_hh (4H, P), weight_hr (P, H) or None, h0 (B, P), c0 (B, H) compute dtype
    -> outputs (T, B, P), unprojected (T, B, H) or None, gates (T, B, 4H), cell_states (T, B, H).

    keep_for_backward=False (inference): no gates (None), and unprojected / cell_states are rings of two
    steps — step t in slot t % 2 — instead of T.

    launch_plan: None = choose (`plan`); the path "per-step" is the caller's to take before calling.
    grid_sync: None = as the plan's path says; True/False forces one launch with barriers / one per phase.
    """
    steps, batch, gate_size = gates_x.shape
    hidden, proj = gate_size // 4, weight_hh.size(1)
    compute = _compute_dtype(gates_x.dtype)
    _check("gates_x", gates_x, (steps, batch, gate_size))
    _check("weight_hh", weight_hh, (gate_size, proj), gates_x.dtype)
    _check("h0", h0, (batch, proj), gates_x.dtype)
    _check("c0", c0, (batch, hidden), compute)
    if weight_hr is not None:
        _check("weight_hr", weight_hr, (proj, hidden), gates_x.dtype)
    _sizes_fit_32_bits(steps, batch, hidden, proj)
    outputs = gates_x.new_empty(steps, batch, proj)
    kept = steps if keep_for_backward else 2
    unprojected = gates_x.new_empty(kept, batch, hidden) if weight_hr is not None else None
    gates = torch.empty(steps, batch, gate_size, dtype=compute, device=gates_x.device) if keep_for_backward else None
    cell_states = torch.empty(kept, batch, hidden, dtype=compute, device=gates_x.device)
    args = (gates_x, weight_hh, weight_hr if weight_hr is not None else weight_hh, h0, c0,
            outputs, unprojected if unprojected is not None else outputs,
            gates if gates is not None else gates_x, cell_states)      # (gates_x: a pointer never written)
    sizes = (steps, batch, hidden, proj)

    def constexprs_of(p):
        return forward_constexprs(p, gates_x.dtype, hidden, proj, weight_hr is not None,
                                  keep_for_backward=keep_for_backward)

    if launch_plan is None:
        launch_plan = _plan_here(lstm_persistent_forward_kernel, args, sizes, constexprs_of,
                                 hidden, proj, gates_x.dtype, batch, "forward")
    last_plans["forward"] = launch_plan
    phases = steps * (2 if weight_hr is not None else 1)
    grid_sync = launch_plan.path == "persistent" if grid_sync is None else grid_sync
    error = _launch(lstm_persistent_forward_kernel, args, sizes, constexprs_of(launch_plan), launch_plan,
                    phases, gates_x.device, max_spins, grid_sync)
    _raise_if_timed_out(error, launch_plan, "forward")
    return outputs, unprojected, gates, cell_states


def persistent_backward(gates, cell_states, c0, weight_hh, weight_hr, grad_outputs, grad_cell_states,
                        launch_plan=None, max_spins=MAX_SPINS, grid_sync=None):
    """Reverse-time pass. gates (T, B, 4H), cell_states (T, B, H), c0 (B, H), grad_outputs (T, B, P) and
    grad_cell_states (T, B, H) or None, all in the compute dtype; weight_hh (4H, P) and weight_hr (P, H)
    or None in the weights' dtype (16-bit stays 16-bit on chip)
    -> grad_gates (T, B, 4H) of the pre-activations, grad_c0 (B, H)."""
    steps, batch, gate_size = gates.shape
    hidden, proj = gate_size // 4, weight_hh.size(1)
    compute = gates.dtype
    _check("cell_states", cell_states, (steps, batch, hidden), compute)
    _check("c0", c0, (batch, hidden), compute)
    _check("grad_outputs", grad_outputs, (steps, batch, proj), compute)
    _check("weight_hh", weight_hh, (gate_size, proj))
    if grad_cell_states is not None:
        _check("grad_cell_states", grad_cell_states, (steps, batch, hidden), compute)
    _sizes_fit_32_bits(steps, batch, hidden, proj)
    grad_gates = torch.empty_like(gates)
    grad_h = torch.empty_like(grad_outputs) if weight_hr is not None else grad_outputs
    grad_c = torch.empty_like(c0)
    args = (gates, cell_states, c0, weight_hh, weight_hr if weight_hr is not None else weight_hh, grad_outputs,
            grad_cell_states if grad_cell_states is not None else cell_states, grad_gates, grad_h, grad_c)
    sizes = (steps, batch, hidden, proj)

    def constexprs_of(p):
        return backward_constexprs(p, weight_hh.dtype, hidden, proj, weight_hr is not None, grad_cell_states is not None)

    if launch_plan is None:
        launch_plan = _plan_here(lstm_persistent_backward_kernel, args, sizes, constexprs_of,
                                 hidden, proj, weight_hh.dtype, batch, "backward")
    last_plans["backward"] = launch_plan
    phases = steps * (2 if weight_hr is not None else 1)
    grid_sync = launch_plan.path == "persistent" if grid_sync is None else grid_sync
    error = _launch(lstm_persistent_backward_kernel, args, sizes, constexprs_of(launch_plan), launch_plan, phases,
                    gates.device, max_spins, grid_sync)
    _raise_if_timed_out(error, launch_plan, "backward")
    return grad_gates, grad_c


# ─── autograd ────────────────────────────────────────────────────────────────────────────────────

def _per_step_here(x, weight_hh, pass_name):
    """True (and the plan recorded) when this pass runs on backend "triton"'s per-step kernels."""
    hidden, proj = weight_hh.size(0) // 4, weight_hh.size(1)
    if x.device.type != "cuda" or _interpreted():
        return False
    limits = device_limits(x.device)
    if per_step_reason(hidden, x.dtype, pass_name, limits["arch"]) is None:
        return False
    last_plans[pass_name] = plan(hidden, proj, x.dtype, x.size(1), pass_name, limits=limits)
    return True


class PersistentLSTMDirection(torch.autograd.Function):
    """One layer, one direction: x (T, B, I), h0 (B, P), c0 (B, H) -> outputs (T, B, P), cell_states (T, B, H).

    Forward and backward each run persistently when `plan` says so; otherwise backend "triton"'s
    per-step kernels, on the same saved tensors. Cell states come back in the compute dtype."""

    @staticmethod
    def forward(ctx, x, h0, c0, weight_ih, weight_hh, bias_ih, bias_hh, weight_hr):
        steps, batch, _ = x.shape
        gate_size = weight_ih.size(0)
        if _per_step_here(x, weight_hh, "forward"):
            return TritonLSTMDirection.forward(ctx, x, h0, c0, weight_ih, weight_hh, bias_ih, bias_hh, weight_hr)
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

    @staticmethod
    def backward(ctx, grad_outputs, grad_cell_states):
        if torch.is_grad_enabled():   # backward runs with grad enabled only under create_graph=True
            raise RuntimeError("backend 'persistent' has no double backward (its backward is a Triton kernel, "
                               "not differentiable): use backend 'bptt' or 'cell' for create_graph=True / "
                               "higher-order gradients")
        x, h0, c0, weight_ih, weight_hh, weight_hr, gates, cell_states, outputs, unprojected = ctx.saved_tensors
        compute = gates.dtype
        if _per_step_here(x, weight_hh, "backward"):
            return TritonLSTMDirection.gradients(ctx, grad_outputs, grad_cell_states)
        on_chip = x.dtype if x.dtype in (torch.bfloat16, torch.float16) else compute     # weights' dtype on chip
        grad_outputs = (torch.zeros_like(outputs, dtype=compute) if grad_outputs is None
                        else grad_outputs.to(compute).contiguous())
        grad_cells = grad_cell_states.to(compute).contiguous() if grad_cell_states is not None else None
        c0_compute = c0.to(compute).contiguous()
        grad_gates, grad_c0 = persistent_backward(
            gates, cell_states, c0_compute, weight_hh.to(on_chip).contiguous(),
            weight_hr.to(on_chip).contiguous() if weight_hr is not None else None, grad_outputs, grad_cells)
        w_hh = weight_hh.to(compute)
        w_hr = weight_hr.to(compute) if weight_hr is not None else None
        grad_h0 = (grad_gates[0] @ w_hh).to(h0.dtype)                         # dh_0 = W_hhᵀ d_gates_0
        grads = gemm_gradients(grad_gates, grad_outputs, x.to(compute), h0.to(compute), outputs.to(compute),
                               weight_ih.to(compute), w_hh, w_hr,
                               unprojected.to(compute) if unprojected is not None else None,
                               ctx.needs_input_grad[0], ctx.has_bias)
        grad_x, grad_w_ih, grad_w_hh, grad_bias, grad_w_hr = (
            g.to(x.dtype) if g is not None else None for g in grads)
        return grad_x, grad_h0, grad_c0.to(c0.dtype), grad_w_ih, grad_w_hh, grad_bias, grad_bias, grad_w_hr


# Its autograd.Function keeps the outputs it returns for backward (h_{t−1} for dW_hh): see run_layers.
SAVES_OUTPUTS = True


def run_direction(x, h0, c0, weights):
    """x: (T, B, I), h0: (B, P), c0: (B, H) -> outputs (T, B, P), cell_states (T, B, H) in x's dtype."""
    outputs, cell_states = PersistentLSTMDirection.apply(x.contiguous(), h0, c0, *weights)
    return outputs, cell_states.to(x.dtype)


def run_direction_inference(x, h0, c0, weights):
    """No gradient wanted: the same kernel without the stores only backward reads (KEEP_FOR_BACKWARD=False:
    no gates, c_t and m_t in rings of two steps). -> outputs (T, B, P), c_n (B, H) in x's dtype."""
    weight_ih, weight_hh, bias_ih, bias_hh, weight_hr = weights
    if _per_step_here(x, weight_hh, "forward"):
        return run_gates_inference(x, h0, c0, weights)
    steps, batch, _ = x.shape
    x_rows = x.contiguous().reshape(steps * batch, -1)                       # (T·B, I)
    gates_x = torch.addmm(bias_ih + bias_hh, x_rows, weight_ih.T) if bias_ih is not None else x_rows @ weight_ih.T
    c0_compute = c0.to(_compute_dtype(x.dtype)).contiguous()
    outputs, _, _, cells = persistent_forward(
        gates_x.view(steps, batch, -1), weight_hh.contiguous(), weight_hr.contiguous() if weight_hr is not None else None,
        h0.contiguous(), c0_compute, keep_for_backward=False)
    return outputs, cells[(steps - 1) % 2].to(x.dtype)
