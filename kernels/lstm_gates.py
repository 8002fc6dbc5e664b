"""Fused LSTM gate step in Triton, forward and backward — the kernel behind backend "triton".

The matrix products stay in torch: the input projection of all T steps is ONE GEMM before the
loop, and each step adds its recurrent GEMM. What is left per step is elementwise, and one kernel
does all of it instead of ~8 separate torch ops (each a full read and write of memory):

Forward, per element (b, j) of the (B, H) state, with pre = W_ih x_t + W_hh h_{t−1} (B, 4H):

    i = σ(pre_i + b_i)      f = σ(pre_f + b_f)      g = tanh(pre_g + b_g)      o = σ(pre_o + b_o)
    c_t = f ⊙ c_{t−1} + i ⊙ g
    h_t = o ⊙ tanh(c_t)                     (b = b_ih + b_hh, summed once before the loop)

Backward, per element, given dh (the gradient reaching h_t) and dc (the one reaching c_t from
step t+1 and from c_t's own use):

    dc    += dh ⊙ o ⊙ (1 − tanh² c_t)
    d_pre_i = dc ⊙ g ⊙ i(1 − i)        d_pre_f = dc ⊙ c_{t−1} ⊙ f(1 − f)
    d_pre_g = dc ⊙ i ⊙ (1 − g²)        d_pre_o = dh ⊙ tanh c_t ⊙ o(1 − o)
    dc_{t−1} = dc ⊙ f

Saved vs recomputed: forward stores the four activated gates (B, 4H) and c_t (B, H) of every step,
because every derivative above is a product of them; tanh c_t is recomputed in the backward
kernel (one exp per element is cheaper than writing and re-reading another (T, B, H) tensor).
Pre-activations are not kept: σ' = σ(1 − σ) and tanh' = 1 − tanh² come from the activations.

Numerics: inputs may be fp16, bf16, fp32 (or fp64); the math runs in fp32 (fp64 for fp64) and the
cell state stays fp32 across steps. tanh(x) = 2σ(2x) − 1 with σ(x) = 1 / (1 + e^{−x}): for x = ±1e4
e^{−x} is 0 or inf and σ is exactly 1 or 0 — no NaN, where the textbook (e^x − e^{−x}) / (e^x + e^{−x})
gives inf / inf = NaN.

Resources, compiled for sm_90 (`lstmlab kernels --arch sm_90 --backend triton`, Triton 3.9, ptxas;
benchmarks/results/kernels/sm_90.txt, the same at every H and B listed there), 4 warps each:

    forward   float32          63 registers, 0 bytes spilled, 0 bytes shared
              bfloat16/float16 64 / 62 registers, 0 spilled, 4096 bytes shared
    backward  every dtype      80 registers, 0 spilled, 0 shared
"""
import math

import torch
import triton
import triton.language as tl

from lstmlab.backends.bptt import gemm_gradients, time_chunks


@triton.jit
def _tanh(x):
    return 2 * tl.sigmoid(2 * x) - 1


@triton.jit
def lstm_gates_forward_kernel(
    pre_ptr,     # (B, 4H) gate pre-activations W_ih x_t + W_hh h_{t−1}, blocks i, f, g, o; input dtype
    bias_ptr,    # (4H,) b_ih + b_hh in the compute dtype (not read when HAS_BIAS is False)
    c_prev_ptr,  # (B, H) c_{t−1}, compute dtype
    gates_ptr,   # (B, 4H) out: activated gates i, f, g, o, compute dtype — saved for backward
    c_ptr,       # (B, H) out: c_t, compute dtype
    h_ptr,       # (B, H) out: h_t, input dtype
    n_elements,  # B·H
    hidden,      # H
    HAS_BIAS: tl.constexpr,
    COMPUTE: tl.constexpr,  # tl.float32, or tl.float64 for fp64 inputs
    BLOCK: tl.constexpr,
):
    offsets = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)     # flat index into (B, H)
    mask = offsets < n_elements
    row = offsets // hidden
    col = offsets % hidden
    gate = row * 4 * hidden + col                                 # index of gate i in (B, 4H)

    pre_i = tl.load(pre_ptr + gate, mask=mask).to(COMPUTE)
    pre_f = tl.load(pre_ptr + gate + hidden, mask=mask).to(COMPUTE)
    pre_g = tl.load(pre_ptr + gate + 2 * hidden, mask=mask).to(COMPUTE)
    pre_o = tl.load(pre_ptr + gate + 3 * hidden, mask=mask).to(COMPUTE)
    if HAS_BIAS:
        pre_i += tl.load(bias_ptr + col, mask=mask)
        pre_f += tl.load(bias_ptr + col + hidden, mask=mask)
        pre_g += tl.load(bias_ptr + col + 2 * hidden, mask=mask)
        pre_o += tl.load(bias_ptr + col + 3 * hidden, mask=mask)
    i = tl.sigmoid(pre_i)
    f = tl.sigmoid(pre_f)
    g = _tanh(pre_g)
    o = tl.sigmoid(pre_o)
    c_prev = tl.load(c_prev_ptr + offsets, mask=mask)
    c = f * c_prev + i * g                                        # c_t = f ⊙ c_{t−1} + i ⊙ g
    h = o * _tanh(c)                                              # h_t = o ⊙ tanh c_t

    tl.store(gates_ptr + gate, i, mask=mask)
    tl.store(gates_ptr + gate + hidden, f, mask=mask)
    tl.store(gates_ptr + gate + 2 * hidden, g, mask=mask)
    tl.store(gates_ptr + gate + 3 * hidden, o, mask=mask)
    tl.store(c_ptr + offsets, c, mask=mask)
    tl.store(h_ptr + offsets, h.to(h_ptr.dtype.element_ty), mask=mask)


@triton.jit
def gate_gradients(i, f, g, o, c, c_prev, dh, dc):
    """The backward equations of one step, elementwise (also used by kernels/lstm_persistent.py):
    -> d_pre_i, d_pre_f, d_pre_g, d_pre_o, dc_{t−1}."""
    tanh_c = _tanh(c)                                             # recomputed, not saved
    dc += dh * o * (1 - tanh_c * tanh_c)                          # through h_t = o ⊙ tanh c_t
    return dc * g * i * (1 - i), dc * c_prev * f * (1 - f), dc * i * (1 - g * g), dh * tanh_c * o * (1 - o), dc * f


@triton.jit
def lstm_gates_backward_kernel(
    dh_ptr,          # (B, H) gradient reaching h_t (before any projection), compute dtype
    dc_ptr,          # (B, H) gradient reaching c_t from step t+1 and from c_t's own use, compute dtype
    gates_ptr,       # (B, 4H) activated gates i, f, g, o saved by forward
    c_ptr,           # (B, H) c_t saved by forward
    c_prev_ptr,      # (B, H) c_{t−1}
    grad_pre_ptr,    # (B, 4H) out: gradient of the gate pre-activations, blocks i, f, g, o
    grad_c_prev_ptr,  # (B, H) out: dc_{t−1} = dc_t ⊙ f
    n_elements,      # B·H
    hidden,          # H
    BLOCK: tl.constexpr,
):
    offsets = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offsets < n_elements
    row = offsets // hidden
    col = offsets % hidden
    gate = row * 4 * hidden + col

    i = tl.load(gates_ptr + gate, mask=mask)
    f = tl.load(gates_ptr + gate + hidden, mask=mask)
    g = tl.load(gates_ptr + gate + 2 * hidden, mask=mask)
    o = tl.load(gates_ptr + gate + 3 * hidden, mask=mask)
    c = tl.load(c_ptr + offsets, mask=mask)
    c_prev = tl.load(c_prev_ptr + offsets, mask=mask)
    dh = tl.load(dh_ptr + offsets, mask=mask)
    dc = tl.load(dc_ptr + offsets, mask=mask)

    d_i, d_f, d_g, d_o, dc_prev = gate_gradients(i, f, g, o, c, c_prev, dh, dc)
    tl.store(grad_pre_ptr + gate, d_i, mask=mask)
    tl.store(grad_pre_ptr + gate + hidden, d_f, mask=mask)
    tl.store(grad_pre_ptr + gate + 2 * hidden, d_g, mask=mask)
    tl.store(grad_pre_ptr + gate + 3 * hidden, d_o, mask=mask)
    tl.store(grad_c_prev_ptr + offsets, dc_prev, mask=mask)


BLOCK = 1024


def _compute_dtype(dtype):
    return torch.float64 if dtype == torch.float64 else torch.float32


INDEX_LIMIT = 2 ** 31          # the kernels' offsets are 32-bit integers


def check_index_range(name, *shape):
    """Refuse sizes whose 32-bit element offsets would wrap (wrong addresses, not an error, on a GPU)."""
    elements = math.prod(shape)
    if elements >= INDEX_LIMIT:
        raise ValueError(f"{name}: {' × '.join(map(str, shape))} = {elements} elements, but the Triton kernels "
                         f"index with 32-bit offsets (at most {INDEX_LIMIT - 1}); split the batch into smaller calls")


def _check(name, tensor, shape, dtype=None):
    if tuple(tensor.shape) != tuple(shape):
        raise ValueError(f"{name}: expected shape {tuple(shape)}, got {tuple(tensor.shape)}")
    if not tensor.is_contiguous():
        raise ValueError(f"{name}: expected a contiguous tensor")
    if dtype is not None and tensor.dtype != dtype:
        raise ValueError(f"{name}: expected dtype {dtype}, got {tensor.dtype}")


def gates_forward(pre, bias, c_prev, gates=None, c=None, h=None):
    """pre: (B, 4H), bias: (4H,) or None, c_prev: (B, H) -> gates (B, 4H), c (B, H), h (B, H).

    gates, c and h are allocated unless given (to write straight into a (T, ...) buffer's step t).
    """
    batch, hidden = c_prev.shape
    compute = _compute_dtype(pre.dtype)
    _check("pre", pre, (batch, 4 * hidden))
    _check("c_prev", c_prev, (batch, hidden), compute)
    if bias is not None:
        _check("bias", bias, (4 * hidden,), compute)
    gates = torch.empty(batch, 4 * hidden, dtype=compute, device=pre.device) if gates is None else gates
    c = torch.empty(batch, hidden, dtype=compute, device=pre.device) if c is None else c
    h = torch.empty(batch, hidden, dtype=pre.dtype, device=pre.device) if h is None else h
    _check("gates", gates, (batch, 4 * hidden), compute)
    _check("c", c, (batch, hidden), compute)
    _check("h", h, (batch, hidden), pre.dtype)
    check_index_range("the gates of one step (B × 4H)", batch, 4 * hidden)
    n = batch * hidden
    lstm_gates_forward_kernel[(triton.cdiv(n, BLOCK),)](
        pre, bias if bias is not None else c_prev, c_prev, gates, c, h, n, hidden,
        HAS_BIAS=bias is not None, COMPUTE=tl.float64 if compute == torch.float64 else tl.float32, BLOCK=BLOCK)
    return gates, c, h


def gates_backward(dh, dc, gates, c, c_prev, grad_pre=None):
    """All (B, H) but gates (B, 4H), in the compute dtype -> grad_pre (B, 4H), grad_c_prev (B, H)."""
    batch, hidden = c.shape
    for name, tensor, shape in [("dh", dh, (batch, hidden)), ("dc", dc, (batch, hidden)),
                                ("gates", gates, (batch, 4 * hidden)), ("c_prev", c_prev, (batch, hidden))]:
        _check(name, tensor, shape, c.dtype)
    grad_pre = torch.empty_like(gates) if grad_pre is None else grad_pre
    _check("grad_pre", grad_pre, (batch, 4 * hidden), c.dtype)
    grad_c_prev = torch.empty_like(c)
    check_index_range("the gates of one step (B × 4H)", batch, 4 * hidden)
    n = batch * hidden
    lstm_gates_backward_kernel[(triton.cdiv(n, BLOCK),)](
        dh, dc, gates, c, c_prev, grad_pre, grad_c_prev, n, hidden, BLOCK=BLOCK)
    return grad_pre, grad_c_prev


class TritonLSTMDirection(torch.autograd.Function):
    """One layer, one direction: x (T, B, I), h0 (B, P), c0 (B, H) -> outputs (T, B, P), cell_states (T, B, H).

    Cell states come back in the compute dtype (fp32 for fp16/bf16 inputs); the caller casts them.
    """

    @staticmethod
    def forward(ctx, x, h0, c0, weight_ih, weight_hh, bias_ih, bias_hh, weight_hr):
        steps, batch, _ = x.shape
        hidden = weight_hh.size(0) // 4
        compute = _compute_dtype(x.dtype)
        bias = (bias_ih.to(compute) + bias_hh.to(compute)) if bias_ih is not None else None   # (4H,)
        gates_x = (x.reshape(steps * batch, -1) @ weight_ih.T).view(steps, batch, 4 * hidden)  # one GEMM, all T
        w_hh_t = weight_hh.T                                                   # (P, 4H)
        gates = torch.empty(steps, batch, 4 * hidden, dtype=compute, device=x.device)
        cell_states = torch.empty(steps, batch, hidden, dtype=compute, device=x.device)
        outputs = x.new_empty(steps, batch, weight_hh.size(1))                 # (T, B, P)
        unprojected = x.new_empty(steps, batch, hidden) if weight_hr is not None else None
        h, c = h0, c0.to(compute)
        for t in range(steps):
            pre = torch.addmm(gates_x[t], h, w_hh_t)                          # (B, 4H) the one per-step GEMM
            m_t = outputs[t] if weight_hr is None else unprojected[t]          # m_t = o ⊙ tanh c_t
            _, c, h = gates_forward(pre, bias, c, gates[t], cell_states[t], m_t)
            if weight_hr is not None:
                h = torch.mm(m_t, weight_hr.T, out=outputs[t])                 # h_t = W_hr m_t
        ctx.save_for_backward(x, h0, c0, weight_ih, weight_hh, weight_hr, gates, cell_states, outputs, unprojected)
        ctx.has_bias = bias is not None
        ctx.set_materialize_grads(False)
        return outputs, cell_states

    @staticmethod
    def backward(ctx, grad_outputs, grad_cell_states):
        if torch.is_grad_enabled():   # backward runs with grad enabled only under create_graph=True
            raise RuntimeError("backend 'triton' has no double backward (its backward is a Triton kernel, "
                               "not differentiable): use backend 'bptt' or 'cell' for create_graph=True / "
                               "higher-order gradients")
        return TritonLSTMDirection.gradients(ctx, grad_outputs, grad_cell_states)

    @staticmethod
    def gradients(ctx, grad_outputs, grad_cell_states):
        """backward's work; also backend "persistent"'s per-step fallback (it saves the same tensors)."""
        x, h0, c0, weight_ih, weight_hh, weight_hr, gates, cell_states, outputs, unprojected = ctx.saved_tensors
        steps, batch, _ = x.shape
        compute = gates.dtype
        # The backward GEMMs run in the compute dtype: gradients of low-precision inputs keep fp32 accuracy.
        w_hh = weight_hh.to(compute)
        w_hr = weight_hr.to(compute) if weight_hr is not None else None
        grad_outputs = (torch.zeros_like(outputs, dtype=compute) if grad_outputs is None
                        else grad_outputs.to(compute).contiguous())
        c_prev = torch.cat([c0.to(compute)[None], cell_states[:-1]])          # (T, B, H)
        grad_gates = torch.empty_like(gates)                                   # (T, B, 4H)
        dh = grad_outputs[-1]
        dc = torch.zeros_like(c0, dtype=compute)
        for t in range(steps - 1, -1, -1):
            if grad_cell_states is not None:
                dc = dc + grad_cell_states[t]
            dm = dh if w_hr is None else dh @ w_hr                            # (B, H) dm = W_hrᵀ dh
            _, dc = gates_backward(dm, dc, gates[t], cell_states[t], c_prev[t], grad_gates[t])
            if t > 0:
                dh = torch.addmm(grad_outputs[t - 1], grad_gates[t], w_hh)   # dh_{t−1} = grad_out + W_hhᵀ d_gates_t
        grad_h0 = (grad_gates[0] @ w_hh).to(h0.dtype)
        grad_c0 = dc.to(c0.dtype)
        grads = gemm_gradients(grad_gates, grad_outputs, x.to(compute), h0.to(compute), outputs.to(compute),
                               weight_ih.to(compute), w_hh, w_hr,
                               unprojected.to(compute) if unprojected is not None else None,
                               ctx.needs_input_grad[0], ctx.has_bias)
        grad_x, grad_w_ih, grad_w_hh, grad_bias, grad_w_hr = (
            g.to(x.dtype) if g is not None else None for g in grads)
        return grad_x, grad_h0, grad_c0, grad_w_ih, grad_w_hh, grad_bias, grad_bias, grad_w_hr


# Its autograd.Function keeps the outputs it returns for backward (h_{t−1} for dW_hh): see run_layers.
SAVES_OUTPUTS = True


def run_direction(x, h0, c0, weights):
    """x: (T, B, I), h0: (B, P), c0: (B, H) -> outputs (T, B, P), cell_states (T, B, H) in x's dtype."""
    outputs, cell_states = TritonLSTMDirection.apply(x.contiguous(), h0.contiguous(), c0.contiguous(), *weights)
    return outputs, cell_states.to(x.dtype)


def run_direction_inference(x, h0, c0, weights):
    """No gradient wanted: the same kernels, with nothing kept for backward. -> outputs (T, B, P), c_n (B, H).

    Training keeps every step's activations and cell state (T·B·5H values in the compute dtype); here
    the input GEMM runs on chunks of steps and one step's activations and two cell states are reused.
    """
    weight_ih, weight_hh, bias_ih, bias_hh, weight_hr = weights
    steps, batch, _ = x.shape
    hidden = weight_hh.size(0) // 4
    compute = _compute_dtype(x.dtype)
    bias = (bias_ih.to(compute) + bias_hh.to(compute)) if bias_ih is not None else None   # (4H,)
    w_hh_t = weight_hh.T                                                   # (P, 4H)
    outputs = x.new_empty(steps, batch, weight_hh.size(1))                 # (T, B, P)
    gates = torch.empty(batch, 4 * hidden, dtype=compute, device=x.device)        # one step's, reused
    cells = [torch.empty(batch, hidden, dtype=compute, device=x.device) for _ in range(2)]   # c_{t−1}, c_t
    m = x.new_empty(batch, hidden) if weight_hr is not None else None
    h, c = h0.contiguous(), c0.to(compute).contiguous()
    for start, stop in time_chunks(steps, batch, hidden, torch.finfo(compute).bits // 8):
        gates_x = (x[start:stop].reshape(-1, x.size(2)) @ weight_ih.T).view(-1, batch, 4 * hidden)
        for t in range(start, stop):
            pre = torch.addmm(gates_x[t - start], h, w_hh_t)                # (B, 4H)
            m_t = outputs[t] if weight_hr is None else m                   # m_t = o ⊙ tanh c_t
            _, c, h = gates_forward(pre, bias, c, gates, cells[t % 2], m_t)
            if weight_hr is not None:
                h = torch.mm(m_t, weight_hr.T, out=outputs[t])             # h_t = W_hr m_t
    return outputs, c.to(x.dtype)
