"""Backend "bptt": backpropagation through time written by hand.

Forward. The input projection does not depend on the recurrence, so it is hoisted out of the
time loop into ONE GEMM over all T·B rows; each step then needs just one GEMM for the recurrent
part and a few in-place elementwise ops (the biases b = b_ih + b_hh are added in the loops):

    gates_t = (W_ih x_t + b_ih + b_hh) + W_hh h_{t−1}            (B, 4H)
    i, f, o = σ(gates_t[i, f, o]);   g = tanh(gates_t[g])
    c_t = f ⊙ c_{t−1} + i ⊙ g;       h_t = W_hr (o ⊙ tanh c_t)   (W_hr = identity without a projection)

The PyTorch loops below reorder the gate rows from torch's (i, f, g, o) to (i, f, o, g), so the three
sigmoids are one contiguous block: one activation call instead of three. The C++ loops keep torch's
order (their one pass activates each gate where it lies; ``loops.GATE_ORDER`` says which a run uses).

What forward saves, and why:
- the activated gates i, f, o, g of every step (T, B, 4H): every local derivative needs them;
- the cell states c_t (T, B, H): df needs c_{t−1}, and tanh c_t (recomputed once, vectorised);
- the outputs h_t (T, B, P): W_hh's gradient needs h_{t−1}; with a projection also the
  unprojected o ⊙ tanh c_t (T, B, H) for W_hr's gradient;
- x, h_0, c_0 and the (reordered) weights.
Pre-activations are not kept: σ' = σ(1 − σ) and tanh' = 1 − tanh² come from the activations.
The C++ loops then write the gate gradients over those activations, step by step (step t's are last
read where its gradients are made), so a training step holds one (T, B, 4H) buffer, not two.

Backward walks time in reverse. With dh_t the total gradient reaching h_t (from the output at t
and from step t+1) and dc_t the one reaching c_t:

    dm_t  = W_hrᵀ dh_t                                  (m_t = o ⊙ tanh c_t, the unprojected h)
    dc_t += dm_t ⊙ o ⊙ (1 − tanh² c_t)                   through h_t = o ⊙ tanh c_t
    d_o   = dm_t ⊙ tanh c_t ⊙ o(1 − o)                   pre-activation gradients ...
    d_i   = dc_t ⊙ g ⊙ i(1 − i)
    d_f   = dc_t ⊙ c_{t−1} ⊙ f(1 − f)
    d_g   = dc_t ⊙ i ⊙ (1 − g²)
    dc_{t−1} = dc_t ⊙ f                                  the cell path: no matrix, no squashing
    dh_{t−1} = grad_output_{t−1} + W_hhᵀ d_gates_t

Everything in those lines that does not depend on dh or dc (the products of activations) is
computed for all T at once before the loop, so each step is only: one addcmul for dc, three
multiplies for the gate gradients (d_i and d_f in one), one addcmul for dc_{t−1}, one GEMM for dh_{t−1}
(and one more, dm = W_hrᵀ dh, with a projection).
The weight, bias and input gradients then need no loop at all — a few GEMMs over all T·B rows:

    dW_ih = Σ_t d_gates_tᵀ x_t,   dW_hh = Σ_t d_gates_tᵀ h_{t−1},   db = Σ_t d_gates_t,
    dx_t  = d_gates_t W_ih,       dW_hr = Σ_t dh_tᵀ m_t

The two time loops (forward_recurrence, backward_recurrence below) are the lesson. Each step is
~7 small ATen calls, and on a CPU at small sizes each call costs more in dispatch than in
arithmetic, so on float32/float64 CPU tensors the same two loops run in C++ by default
(kernels/lstm_cpu_recurrence.cpp: one GEMM and one fused pointwise pass per step, built on first
use). LSTMLAB_BPTT_LOOPS=python|cpp|auto, or ``with use_loops("python"):``, picks; everything
else here — the hoisted input GEMM, what is saved, the weight gradients as GEMMs — is shared (the C++
loops bring their own GEMM for those products, on their tiles: ``loops.matmul``).
"""
import contextlib
import contextvars
import functools
import os
import sys
import warnings

import torch

# Which time loops run: "python" (the loops below), "cpp" (the same loops in C++,
# kernels/lstm_cpu_recurrence.cpp: one GEMM + one fused pointwise pass per step), or "auto":
# C++ for float32/float64 CPU tensors when it builds, the loops below otherwise.
LOOPS_VARIABLE = "LSTMLAB_BPTT_LOOPS"
LOOP_CHOICES = ("auto", "cpp", "python")
_loops_override = contextvars.ContextVar("bptt_loops", default=None)
_build_warned = False


@contextlib.contextmanager
def use_loops(choice):
    """``with use_loops("python"):`` — run bptt's loops of that kind inside, whatever LSTMLAB_BPTT_LOOPS says."""
    if choice not in LOOP_CHOICES:
        raise ValueError(f"loops must be one of {', '.join(LOOP_CHOICES)}, got {choice!r}")
    token = _loops_override.set(choice)
    try:
        yield
    finally:
        _loops_override.reset(token)


def recurrence_loops(x):
    """The module whose forward_recurrence / backward_recurrence run for ``x``: C++ or this one."""
    global _build_warned
    choice = _loops_override.get() or os.environ.get(LOOPS_VARIABLE, "auto")
    if choice not in LOOP_CHOICES:
        raise ValueError(f"{LOOPS_VARIABLE} must be one of {', '.join(LOOP_CHOICES)}, got {choice!r}")
    python_loops = sys.modules[__name__]
    if choice == "python":
        return python_loops
    from lstmlab.kernels import lstm_cpu
    if x.device.type != "cpu" or x.dtype not in lstm_cpu.DTYPES:
        if choice == "cpp":
            raise ValueError(f"{LOOPS_VARIABLE}=cpp runs float32/float64 CPU tensors only, "
                             f"got {x.dtype} on {x.device.type}")
        return python_loops
    try:
        lstm_cpu.load()
    except lstm_cpu.BuildError as error:
        if choice == "cpp":
            raise
        if not _build_warned:
            warnings.warn(f"{error}; backend 'bptt' runs its PyTorch loops instead "
                          f"(set {LOOPS_VARIABLE}=python to silence this)", RuntimeWarning, stacklevel=2)
            _build_warned = True
        return python_loops
    return lstm_cpu


GATE_ORDER = "ifog"                  # the order the loops below want the gate rows in


@functools.lru_cache(maxsize=None)
def _to_ifog(hidden_size, device):
    """Row index that turns torch's (i, f, g, o) blocks into (i, f, o, g) — and back: it swaps two blocks."""
    i_f, g, o = torch.arange(2 * hidden_size), torch.arange(2 * hidden_size, 3 * hidden_size), \
        torch.arange(3 * hidden_size, 4 * hidden_size)
    return torch.cat([i_f, o, g]).to(device)


def _reorder(tensor, order):
    """Rows in the loops' gate order (order None: torch's own order, nothing to do)."""
    return tensor if order is None or tensor is None else tensor[order]


class LSTMDirectionFunction(torch.autograd.Function):
    """One layer, one direction: x (T, B, I), h0 (B, P), c0 (B, H) -> outputs (T, B, P), cell_states (T, B, H),
    and two outputs for backward only (not differentiable): the activations (T, B, 4H) and m (T, B, H) or None.

    forward / setup_context are separate (no ctx in forward), so torch.func's transforms can run it; the
    vmap rule below folds a vmapped batch into B. Backward has two paths: the hand-written loops, when
    no graph of the backward is wanted (the usual case), and ``differentiable_backward`` — the same
    equations as ordinary differentiable ops on activations recomputed from the inputs — when one is:
    ``create_graph=True`` (double backward) or a torch.func transform (grad, jacrev), both of which run
    backward with grad mode on — and batched gradients (is_grads_batched), which vmap the backward.
    Forward mode (jvp, jacfwd, hessian) is not written: jvp below says so.
    """

    @staticmethod
    def forward(x, h0, c0, weight_ih, weight_hh, bias_ih, bias_hh, weight_hr):
        return LSTMDirectionFunction.run_forward(recurrence_loops(x), x, h0, c0, weight_ih, weight_hh, bias_ih,
                                                 bias_hh, weight_hr)

    @staticmethod
    def run_forward(loops, x, h0, c0, weight_ih, weight_hh, bias_ih, bias_hh, weight_hr):
        """forward's work with the given loops (C++ or the PyTorch ones below)."""
        steps, batch, _ = x.shape
        hidden = weight_hh.size(0) // 4
        order = _to_ifog(hidden, x.device) if loops.GATE_ORDER == "ifog" else None
        w_ih = _reorder(weight_ih, order)                           # (4H, I) rows i, f, o, g (or i, f, g, o)
        w_hh = _reorder(weight_hh, order)                           # (4H, P)
        bias = _reorder(bias_ih + bias_hh, order) if bias_ih is not None else None

        # One GEMM for the input projection of every step, into a buffer the loops allocate (the C++
        # ones put a big one on huge pages: lstm_cpu_buffers.h). The bias goes to the loops: the C++ ones
        # add it in their one pass per step, where W_hh h_{t−1} is added (addmm here would first copy it
        # into all T·B rows, a pass of its own); the PyTorch loops add it to all T·B rows in one op.
        x_rows = x.reshape(steps * batch, -1)                       # (T·B, I)
        gates = loops.empty_gates(steps, batch, 4 * hidden, x)      # (T, B, 4H), activated in place
        loops.matmul(x_rows, False, [w_ih.T], gates.view(steps * batch, 4 * hidden))   # W_ih x_t   (T·B, 4H)

        outputs, cell_states, unprojected = loops.forward_recurrence(gates, w_hh, weight_hr, h0, c0, bias)
        return outputs, cell_states, gates, unprojected

    @staticmethod
    def setup_context(ctx, inputs, output):
        x, h0, c0, weight_ih, weight_hh, bias_ih, bias_hh, weight_hr = inputs
        outputs, cell_states, gates, unprojected = output
        ctx.save_for_backward(x, h0, c0, weight_ih, weight_hh, bias_ih, bias_hh, weight_hr,
                              gates, cell_states, outputs, unprojected)
        ctx.mark_non_differentiable(*(t for t in (gates, unprojected) if t is not None))
        ctx.loops = recurrence_loops(x)                             # the same choice forward made
        ctx.set_materialize_grads(False)

    @staticmethod
    def backward(ctx, grad_outputs, grad_cell_states, _grad_gates=None, _grad_unprojected=None):
        (x, h0, c0, weight_ih, weight_hh, bias_ih, bias_hh, weight_hr,
         gates, cell_states, outputs, unprojected) = ctx.saved_tensors
        if grad_outputs is None and grad_cell_states is None:
            return (None,) * 8
        # a graph of the backward is wanted, or the backward runs under a functorch transform (vmap over
        # grad_outputs: autograd.grad(..., is_grads_batched=True), jacobian(vectorize=True)), which the C++
        # loops have no batching rule for: the same equations in torch ops
        if torch.is_grad_enabled() or _under_a_transform(grad_outputs, grad_cell_states):
            grads = differentiable_backward(x, h0, c0, weight_ih, weight_hh, bias_ih, bias_hh, weight_hr,
                                            grad_outputs, grad_cell_states)
            return tuple(g if needed else None for g, needed in zip(grads, ctx.needs_input_grad))
        hidden = weight_hh.size(0) // 4
        order = _to_ifog(hidden, x.device) if ctx.loops.GATE_ORDER == "ifog" else None
        w_ih, w_hh = _reorder(weight_ih, order), _reorder(weight_hh, order)
        grad_outputs = torch.zeros_like(outputs) if grad_outputs is None else grad_outputs.contiguous()
        # The C++ loops write the gate gradients over the saved activations (one buffer, not two). A
        # second backward through this node (retain_graph=True) runs the same forward again for them:
        # the same code on the same inputs, so the same bits, and backward gives what it gave the first
        # time (gradcheck asks exactly that).
        if getattr(ctx, "acts_consumed", False):
            _, _, gates, _ = LSTMDirectionFunction.run_forward(ctx.loops, x, h0, c0, weight_ih, weight_hh, bias_ih,
                                                               bias_hh, weight_hr)
        ctx.acts_consumed = ctx.loops.BACKWARD_OVERWRITES_ACTS
        grad_gates, grad_h0, grad_c0 = ctx.loops.backward_recurrence(
            gates, cell_states, c0, w_hh, weight_hr, grad_outputs, grad_cell_states)

        grad_x, grad_w_ih, grad_w_hh, grad_bias, grad_w_hr = gemm_gradients(
            grad_gates, grad_outputs, x, h0, outputs, w_ih, w_hh, weight_hr, unprojected,
            ctx.needs_input_grad[0], bias_ih is not None, ctx.loops.matmul)
        # The same swap maps the rows back to torch's i, f, g, o.
        grad_w_ih, grad_w_hh, grad_bias = (_reorder(grad, order) for grad in (grad_w_ih, grad_w_hh, grad_bias))
        return grad_x, grad_h0, grad_c0, grad_w_ih, grad_w_hh, grad_bias, grad_bias, grad_w_hr

    @staticmethod
    def jvp(ctx, *tangents):
        # forward-mode AD would need the tangents carried through the C++ loops: not written. Said here, in
        # place of autograd's generic "you must implement the jvp function".
        raise NotImplementedError("backend 'bptt' has no forward-mode derivative (torch.func.jvp, jacfwd, "
                                  "hessian, torch.autograd.forward_ad): use backend='cell', whose every step "
                                  "is differentiable torch ops, or reverse mode (jacrev)")

    @staticmethod
    def vmap(info, in_dims, x, h0, c0, weight_ih, weight_hh, bias_ih, bias_hh, weight_hr):
        """torch.func.vmap: N problems at once. With shared weights they are N·B rows of one batch:
        x (N, T, B, I) -> (T, N·B, I); with per-problem weights, one call per problem."""
        size = info.batch_size
        args = (x, h0, c0, weight_ih, weight_hh, bias_ih, bias_hh, weight_hr)

        def leading(tensor, dim):                                   # the vmapped dimension first: (N, ...)
            if tensor is None:
                return None
            return tensor.movedim(dim, 0) if dim is not None else tensor.expand(size, *tensor.shape)

        if all(dim is None for dim in in_dims[3:]):                 # shared weights: fold N into the batch
            x_n, h0_n, c0_n = (leading(t, d) for t, d in zip(args[:3], in_dims[:3]))
            steps, batch = x_n.size(1), x_n.size(2)
            folded = LSTMDirectionFunction.apply(
                x_n.transpose(0, 1).reshape(steps, size * batch, -1),          # (T, N·B, I)
                h0_n.reshape(size * batch, -1), c0_n.reshape(size * batch, -1), *args[3:])
            unfolded = tuple(t.view(steps, size, batch, -1) if t is not None else None for t in folded)
            return unfolded, tuple(1 if t is not None else None for t in unfolded)
        per_problem = [LSTMDirectionFunction.apply(*(leading(t, d)[n] if t is not None else None
                                                     for t, d in zip(args, in_dims)))
                       for n in range(size)]
        stacked = tuple(torch.stack(ts) if ts[0] is not None else None for ts in zip(*per_problem))
        return stacked, tuple(0 if t is not None else None for t in stacked)


def differentiable_backward(x, h0, c0, weight_ih, weight_hh, bias_ih, bias_hh, weight_hr,
                            grad_outputs, grad_cell_states):
    """The backward of one direction written with ordinary, out-of-place tensor ops, so that autograd
    can differentiate it again (double backward, create_graph=True) and torch.func can transform it.

    The activations are recomputed from the inputs (the saved ones were made without a graph, so their
    dependence on the weights would be lost), in torch's gate order i, f, g, o; then the same
    equations as the loops below, one line each. Returns the gradients of
    (x, h0, c0, weight_ih, weight_hh, bias_ih, bias_hh, weight_hr), None for an absent bias or projection.
    """
    steps = x.size(0)
    gates_x = x @ weight_ih.T                                       # (T, B, 4H)
    if bias_ih is not None:
        gates_x = gates_x + bias_ih + bias_hh
    h, c = h0, c0
    saved = []                                                      # per step: i, f, g, o, c_{t−1}, c_t, m_t, h_{t−1}
    for t in range(steps):
        i, f, g, o = (gates_x[t] + h @ weight_hh.T).chunk(4, dim=1)   # 4 × (B, H)
        i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
        c_next = f * c + i * g                                      # c_t = f ⊙ c_{t−1} + i ⊙ g
        m = o * torch.tanh(c_next)                                  # m_t = o ⊙ tanh c_t
        saved.append((i, f, g, o, c, c_next, m, h))
        h = m @ weight_hr.T if weight_hr is not None else m         # h_t = W_hr m_t
        c = c_next

    zeros_h = h0.new_zeros(h0.shape)
    grad_output = (lambda t: grad_outputs[t]) if grad_outputs is not None else (lambda t: zeros_h)
    dh = grad_output(steps - 1)                                     # (B, P) total gradient reaching h_{T−1}
    dc = grad_cell_states[steps - 1] if grad_cell_states is not None else torch.zeros_like(c0)   # (B, H)
    grad_gates, grad_h = [None] * steps, [None] * steps
    for t in range(steps - 1, -1, -1):
        i, f, g, o, c_prev, c_t, m, _ = saved[t]
        grad_h[t] = dh
        dm = dh @ weight_hr if weight_hr is not None else dh        # dm = W_hrᵀ dh
        tanh_c = torch.tanh(c_t)
        dc = dc + dm * o * (1 - tanh_c * tanh_c)                    # dc_t += dm ⊙ o ⊙ (1 − tanh² c_t)
        grad_gates[t] = torch.cat([dc * g * i * (1 - i),            # d_i = dc ⊙ g ⊙ i(1 − i)
                                   dc * c_prev * f * (1 - f),       # d_f = dc ⊙ c_{t−1} ⊙ f(1 − f)
                                   dc * i * (1 - g * g),            # d_g = dc ⊙ i ⊙ (1 − g²)
                                   dm * tanh_c * o * (1 - o)], dim=1)   # d_o = dm ⊙ tanh c ⊙ o(1 − o)
        dc = dc * f                                                 # dc_{t−1} = dc_t ⊙ f
        if grad_cell_states is not None and t > 0:
            dc = dc + grad_cell_states[t - 1]
        dh = grad_gates[t] @ weight_hh                              # W_hhᵀ d_gates_t ...
        if t > 0:
            dh = dh + grad_output(t - 1)                            # ... + grad_output_{t−1} = dh_{t−1}
    grad_h0, grad_c0 = dh, dc

    d_gates = torch.stack(grad_gates)                               # (T, B, 4H)
    h_prev = torch.stack([step[7] for step in saved])               # (T, B, P)
    grad_x = d_gates @ weight_ih                                    # dx_t = d_gates_t W_ih
    # Σ over t and b as one product of the flattened rows (not einsum: autograd.grad's is_grads_batched
    # vmaps this function, and its vmap has no rule for einsum)
    rows = lambda tensor: tensor.reshape(-1, tensor.size(-1))      # (T, B, n) -> (T·B, n)  # noqa: E731
    grad_w_ih = rows(d_gates).T @ rows(x)                           # Σ_t d_gates_tᵀ x_t
    grad_w_hh = rows(d_gates).T @ rows(h_prev)                      # Σ_t d_gates_tᵀ h_{t−1}
    grad_bias = d_gates.sum(dim=(0, 1)) if bias_ih is not None else None   # Σ_t d_gates_t
    grad_w_hr = None
    if weight_hr is not None:                                       # Σ_t dh_tᵀ m_t
        grad_w_hr = rows(torch.stack(grad_h)).T @ rows(torch.stack([step[6] for step in saved]))
    return grad_x, grad_h0, grad_c0, grad_w_ih, grad_w_hh, grad_bias, grad_bias, grad_w_hr


# These loops allocate the gate gradients; the C++ ones write them over the activations.
BACKWARD_OVERWRITES_ACTS = False


def empty_gates(steps, batch, gate_size, like):
    """An empty (T, B, 4H) tensor for forward's gates (the C++ loops have their own: huge pages)."""
    return like.new_empty(steps, batch, gate_size)


def forward_recurrence(gates, w_hh, weight_hr, h0, c0, bias=None):
    """The forward time loop. gates (T, B, 4H): W_ih x_t for every step, rows i, f, o, g —
    overwritten with the activations; w_hh (4H, P); weight_hr (P, H) or None; h0 (B, P); c0 (B, H);
    bias (4H) = b_ih + b_hh (rows i, f, o, g) or None.
    Returns outputs (T, B, P), cell_states (T, B, H), unprojected m (T, B, H) or None.
    """
    steps, batch, gate_size = gates.shape
    hidden = gate_size // 4
    w_hh_t = w_hh.T                                                 # (P, 4H)
    w_hr_t = weight_hr.T if weight_hr is not None else None         # (H, P)
    cell_states = gates.new_empty(steps, batch, hidden)             # (T, B, H)
    unprojected = gates.new_empty(steps, batch, hidden) if w_hr_t is not None else None
    outputs = gates.new_empty(steps, batch, w_hh.size(1))           # (T, B, P)
    tanh_c = gates.new_empty(batch, hidden)                         # scratch

    # Per-step views made once, in C++ (unbind), not by Python indexing inside the loop.
    gate_steps = gates.unbind(0)                                    # T × (B, 4H)
    sigmoid_steps = gates[:, :, :3 * hidden].unbind(0)              # T × (B, 3H) i, f, o
    tanh_steps = gates[:, :, 3 * hidden:].unbind(0)                 # T × (B, H)  g
    i_steps, f_steps, o_steps, g_steps = (block.unbind(0) for block in gates.split(hidden, dim=2))
    c_steps = cell_states.unbind(0)
    h_steps = outputs.unbind(0)
    m_steps = unprojected.unbind(0) if unprojected is not None else h_steps

    if bias is not None:
        gates += bias                                               # (T, B, 4H) W_ih x_t + b, every step at once
    h, c = h0, c0
    for t in range(steps):
        gate_steps[t].addmm_(h, w_hh_t)                             # (B, 4H) += W_hh h_{t−1}
        sigmoid_steps[t].sigmoid_()                                 # i, f, o
        tanh_steps[t].tanh_()                                       # g
        c = torch.mul(f_steps[t], c, out=c_steps[t])                # c_t = f ⊙ c_{t−1} ...
        c.addcmul_(i_steps[t], g_steps[t])                          #       + i ⊙ g
        torch.tanh(c, out=tanh_c)
        h = torch.mul(o_steps[t], tanh_c, out=m_steps[t])           # h_t = m_t = o ⊙ tanh c_t
        if w_hr_t is not None:
            h = torch.mm(h, w_hr_t, out=h_steps[t])                 # h_t = W_hr m_t
    return outputs, cell_states, unprojected


def backward_recurrence(acts, cell_states, c0, w_hh, weight_hr, grad_outputs, grad_cell_states):
    """The backward time loop. acts (T, B, 4H): the activations i, f, o, g from forward;
    cell_states (T, B, H); c0 (B, H); w_hh (4H, P); weight_hr (P, H) or None; grad_outputs (T, B, P);
    grad_cell_states (T, B, H) or None. Returns grad_gates (T, B, 4H, pre-activation, rows i, f, o, g),
    grad_h0 (B, P), grad_c0 (B, H).
    """
    steps, batch, gate_size = acts.shape
    hidden = gate_size // 4
    i, f, o, g = acts.split(hidden, dim=2)                          # 4 × (T, B, H)

    # The local derivatives, for all steps at once (none depends on the backward recurrence).
    c_prev = torch.cat([c0[None], cell_states[:-1]])                # (T, B, H)
    tanh_c = torch.tanh(cell_states)                                # (T, B, H)
    dc_from_dm = o * (1 - tanh_c * tanh_c)                          # (T, B, H)  ∂c-path of h: o ⊙ (1 − tanh² c)
    dc_coefficients = torch.stack([                                 # (T, B, 3, H) for i, f, g: d_pre = dc ⊙ coef
        g * i * (1 - i),
        c_prev * f * (1 - f),
        i * (1 - g * g),
    ], dim=2)
    do_coefficient = tanh_c * o * (1 - o)                           # (T, B, H)  d_pre_o = dm ⊙ coef

    grad_gates = acts.new_empty(steps, batch, gate_size)            # (T, B, 4H), order i, f, o, g
    grad_m = acts.new_empty(batch, hidden) if weight_hr is not None else None   # (B, H) scratch
    blocks = grad_gates.view(steps, batch, 4, hidden)               # (T, B, 4, H) views of i, f, o, g

    # Per-step views made once (unbind), as in forward.
    grad_gate_steps = grad_gates.unbind(0)                          # T × (B, 4H)
    grad_if_steps = blocks[:, :, 0:2].unbind(0)                     # T × (B, 2, H)
    grad_o_steps, grad_g_steps = blocks[:, :, 2].unbind(0), blocks[:, :, 3].unbind(0)
    coef_if_steps = dc_coefficients[:, :, 0:2].unbind(0)
    coef_g_steps = dc_coefficients[:, :, 2].unbind(0)
    coef_o_steps, dc_from_dm_steps, f_steps = do_coefficient.unbind(0), dc_from_dm.unbind(0), f.unbind(0)
    grad_output_steps = grad_outputs.unbind(0)
    grad_c_steps = grad_cell_states.unbind(0) if grad_cell_states is not None else None

    dh = grad_output_steps[-1]                                      # (B, P) total gradient reaching h_{T−1}
    dc = grad_c_steps[-1].clone() if grad_c_steps is not None else torch.zeros_like(c0)   # (B, H)
    for t in range(steps - 1, -1, -1):
        dm = dh if grad_m is None else torch.mm(dh, weight_hr, out=grad_m)  # (B, H) dm = W_hrᵀ dh
        dc.addcmul_(dm, dc_from_dm_steps[t])                        # dc_t += dm ⊙ o ⊙ (1 − tanh² c_t)
        torch.mul(dc.unsqueeze(1), coef_if_steps[t], out=grad_if_steps[t])   # d_i, d_f
        torch.mul(dc, coef_g_steps[t], out=grad_g_steps[t])                  # d_g
        torch.mul(dm, coef_o_steps[t], out=grad_o_steps[t])                  # d_o
        if grad_c_steps is not None and t > 0:
            dc = torch.addcmul(grad_c_steps[t - 1], dc, f_steps[t])         # dc_{t−1} = dc_t ⊙ f_t (+ its own grad)
        else:
            dc.mul_(f_steps[t])                                               # dc_{t−1} = dc_t ⊙ f_t
        if t > 0:
            dh = torch.addmm(grad_output_steps[t - 1], grad_gate_steps[t], w_hh)  # dh_{t−1} = grad_out + W_hhᵀ d_gates_t
    grad_h0 = grad_gate_steps[0] @ w_hh                             # (B, P)
    return grad_gates, grad_h0, dc                                  # dc now reaches c_0


def _under_a_transform(*grads):
    """True inside a functorch transform, or when a gradient is a batched tensor (autograd.grad's
    is_grads_batched vmaps the backward without making a transform "active")."""
    if torch._C._are_functorch_transforms_active():
        return True
    never = lambda tensor: False                                    # noqa: E731  (private API: may go)
    checks = [getattr(torch._C._functorch, name, never) for name in ("is_batchedtensor", "is_legacy_batchedtensor")]
    return any(g is not None and any(check(g) for check in checks) for g in grads)


def matmul(a, a_transposed, b_parts, out=None):
    """a @ B, or aᵀ @ B when a_transposed, where B is the tensors of b_parts stacked along their first
    dimension — without the copy that stacking them would make: one GEMM per part, each summing into
    the result (``out`` if given; torch's GEMM — the C++ loops have their own, lstm_cpu.py's matmul)."""
    k0 = 0
    for part in b_parts:
        a_rows = a[k0:k0 + part.size(0)].T if a_transposed else a[:, k0:k0 + part.size(0)]
        out = torch.mm(a_rows, part, out=out) if k0 == 0 else out.addmm_(a_rows, part)
        k0 += part.size(0)
    return out


def gemm_gradients(grad_gates, grad_outputs, x, h0, outputs, weight_ih, weight_hh, weight_hr, unprojected,
                   needs_input_grad=True, has_bias=True, matmul=matmul):
    """The input, weight and bias gradients from the gate gradients: a few GEMMs over all T·B rows, no loop.

        dx_t  = d_gates_t W_ih              dW_ih = Σ_t d_gates_tᵀ x_t
        dW_hh = Σ_t d_gates_tᵀ h_{t−1}      db    = Σ_t d_gates_t
        dW_hr = Σ_t dh_tᵀ m_t,  dh_t = grad_output_t + W_hhᵀ d_gates_{t+1}

    grad_gates (T, B, 4H) and the weights' rows share one gate order; the results come in that order.
    matmul(a, a_transposed, b_parts): the product to run them with (torch's, or the C++ loops' own).
    """
    steps, batch, gate_size = grad_gates.shape
    rows = grad_gates.view(steps * batch, gate_size)                       # (T·B, 4H)
    grad_x = matmul(rows, False, [weight_ih]).view_as(x) if needs_input_grad else None
    grad_w_ih = matmul(rows, True, [x.reshape(steps * batch, -1)])
    # Σ_t d_gates_tᵀ h_{t−1}: step 0 meets h_0, steps 1… meet the outputs 0… (no (T, B, P) copy of h_{t−1})
    grad_w_hh = matmul(rows, True, [h0, outputs[:-1].reshape(-1, outputs.size(-1))])
    grad_bias = rows.sum(0) if has_bias else None
    grad_w_hr = None
    if weight_hr is not None:
        dh_all = grad_outputs.clone()                                      # (T, B, P)
        dh_all[:-1].view(-1, dh_all.size(-1)).addmm_(grad_gates[1:].view(-1, gate_size), weight_hh)
        grad_w_hr = dh_all.view(steps * batch, -1).T @ unprojected.view(steps * batch, -1)
    return grad_x, grad_w_ih, grad_w_hh, grad_bias, grad_w_hr


# Its autograd.Function keeps the outputs it returns for backward (h_{t−1} for dW_hh): see run_layers.
SAVES_OUTPUTS = True


# Under torch.compile, eagerly, between graphs: dynamo cannot look into the C++ loops anyway, and tracing
# into the Function first printed a page of its warnings (on the loops' lru_cache'd loader, os.stat, ...)
# before it gave up on it.
@torch.compiler.disable
def run_direction(x, h0, c0, weights):
    """x: (T, B, I), h0: (B, P), c0: (B, H) -> outputs (T, B, P), cell_states (T, B, H)."""
    outputs, cell_states, _, _ = LSTMDirectionFunction.apply(x.contiguous(), h0, c0, *weights)
    return outputs, cell_states


# Inference keeps the gates of at most this many bytes at once (and at least 8 steps): the input GEMM
# of a chunk of steps, then its recurrence, while the chunk is still in cache. Each chunk is one call
# of the loops, and each call used to lay W_hh out afresh (transposed for the GEMM, or packed in tiles),
# so a chunk may also grow to INFERENCE_CHUNK_WEIGHTS times W_hh's bytes: measured on one thread, T=200
# B=32 H=512 (W_hh 4 MiB) forward took 243 ms in 1-MiB chunks, 182 ms in 8-MiB ones (2x W_hh), 183 ms
# unchunked; 2x keeps the peak memory of that forward under torch's (8x W_hh did not: 58 vs 30 MiB).
# (Then run_direction_inference handed the loops W_hh transposed once for all chunks; only the tiles
# were still packed per chunk.) The C++ loops now run all chunks in one call, each chunk's gates
# (t, B, 4H) at most INFERENCE_CHUNK_BYTES (kernels/lstm_cpu_inference.cpp: W_hh is laid out once per
# call, so INFERENCE_CHUNK_WEIGHTS only concerns the Python loops); measured on 2 threads, forward time /
# oneDNN's at T=100 B=64 H=128 with 256 KiB, 1, 4 and 16 MiB chunks: 1.00, 1.02, 1.04, 1.15 (T=200 B=32
# H=512: 1.09, 1.10, 1.10, 1.15).
INFERENCE_CHUNK_BYTES = 1 << 20
INFERENCE_CHUNK_WEIGHTS = 2
INFERENCE_CHUNK_MIN_STEPS = 8


def run_direction_inference(x, h0, c0, weights):
    """No gradient wanted: the same forward, with nothing kept for backward. -> outputs (T, B, P), c_n (B, H).

    Training must keep the activations and cell states of all T steps (T·B·5H values); here time runs
    in chunks — one input GEMM per chunk, then that chunk's recurrence — and only a chunk's gates and
    cell states exist at any moment, besides the outputs that are the result. (The C++ path on tiles has
    no input GEMM for threads with 4+ rows: W_ih x_t is summed in the tile walk, kernels/lstm_cpu_inference.cpp.)
    """
    steps, batch, _ = x.shape
    weight_ih, weight_hh, bias_ih, bias_hh, weight_hr = weights
    hidden = weight_hh.size(0) // 4
    loops = recurrence_loops(x)
    if hasattr(loops, "inference"):
        # The C++ loops run the whole direction in one call (kernels/lstm_cpu_inference.cpp): the same
        # chunks, each thread making the input projections of its own units, weights laid out once.
        bias = bias_ih + bias_hh if bias_ih is not None else None
        chunk_steps = max(INFERENCE_CHUNK_MIN_STEPS, INFERENCE_CHUNK_BYTES // (batch * 4 * hidden * x.element_size()))
        return loops.inference(x, weight_ih, weight_hh, bias, weight_hr, h0, c0, chunk_steps)
    order = _to_ifog(hidden, x.device) if loops.GATE_ORDER == "ifog" else None
    w_ih, w_hh = _reorder(weight_ih, order), _reorder(weight_hh, order)     # (4H, I), (4H, P)
    bias = _reorder(bias_ih + bias_hh, order) if bias_ih is not None else None
    chunks = time_chunks(steps, batch, hidden, x.element_size(), weight_hh.numel() * weight_hh.element_size())
    outputs = x.new_empty(steps, batch, weight_hh.size(1)) if len(chunks) > 1 else None   # (T, B, P)
    # One gates buffer for all chunks: a fresh one per chunk went back to the OS and came again as new
    # pages at every chunk (measured T=100 B=64 H=128 in 1-MiB chunks: 21.8 ms per forward, 14.6 ms
    # unchunked; with one buffer the page faults left the profile and the chunked forward took 14–16 ms).
    gates_buffer = x.new_empty(chunks[0][1] - chunks[0][0], batch, 4 * hidden)   # (t, B, 4H)
    h, c = h0, c0
    for start, stop in chunks:
        x_rows = x[start:stop].reshape(-1, x.size(2))                        # (t·B, I)
        gates = gates_buffer[:stop - start]                                  # W_ih x_t   (t, B, 4H)
        torch.mm(x_rows, w_ih.T, out=gates.view(-1, 4 * hidden))
        chunk_outputs, cell_states, _ = loops.forward_recurrence(gates, w_hh, weight_hr, h, c, bias)
        if outputs is None:                                                  # one chunk: its outputs are all
            return chunk_outputs, cell_states[-1]
        outputs[start:stop] = chunk_outputs
        h, c = chunk_outputs[-1], cell_states[-1]
    return outputs, c


def time_chunks(steps, batch, hidden, element_size, recurrent_weight_bytes=0):
    """[start, stop) chunks of the T steps, each holding at most INFERENCE_CHUNK_BYTES of gates, c and m,
    or INFERENCE_CHUNK_WEIGHTS × recurrent_weight_bytes if more (and at least INFERENCE_CHUNK_MIN_STEPS steps)."""
    per_step = batch * 6 * hidden * element_size                             # gates, c and m of one step
    chunk_bytes = max(INFERENCE_CHUNK_BYTES, INFERENCE_CHUNK_WEIGHTS * recurrent_weight_bytes)
    chunk = max(INFERENCE_CHUNK_MIN_STEPS, chunk_bytes // max(1, per_step))
    return [(start, min(start + chunk, steps)) for start in range(0, steps, chunk)]
