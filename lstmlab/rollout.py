"""Closed-loop generation: a stacked LSTM that feeds its own prediction back as its next input.

    x_0 = first_input
    for t = 0 .. steps−1:   h_t, state = LSTM.step(x_t, state);   y_t = feedback(h_t);   x_{t+1} = y_t

Given an observed sequence (T, B, I) instead of one first input, its T steps are read teacher-forced
first (every y_t is still computed: the prediction of the next value), then ``steps`` more are
generated — the sine model's ``future_preds``.

Written as that Python loop (``rollout_steps`` below, the lesson and the fallback) every step pays the
dispatch of a dozen tiny tensor ops — 2–5 µs each, far more than the arithmetic of a small model. So
when it can, ``rollout`` runs all steps of all layers and the feedback in ONE C++ call
(kernels/lstm_cpu_rollout.cpp), on weights packed for it (``pack_affine``) and kept on the module
until a weight changes.

On a CUDA GPU the fused path is that Python loop captured in a CUDA graph of CHUNK steps and replayed
(rollout_graph.py): the same kernels, launched all at once.

The fused path needs: CPU tensors in float32/float64 and the C++ library built, or CUDA tensors; no
gradients wanted (it has no backward: under torch.no_grad(), or when nothing requires grad), no
dropout in training mode, and a feedback that is an affine map — an nn.Linear, an nn.Identity, an
nn.Sequential of those, or a (weight, bias) pair. Anything else takes the step-by-step path, and
``last_path`` says which path ran and why (``fused=True`` raises instead of falling back).
"""
import math
from dataclasses import dataclass
from typing import Optional

import torch
from torch import nn

from .lstm import LSTM
from .validation import check_lstm_weights, step_count

VECTOR_BYTES = 64            # the C++ tile: one 64-byte vector of units (16 floats / 8 doubles)
# float64 multiply-adds per step per thread below which the rollout does not try a second thread; a
# float32 one takes half the time (twice the lanes), so float32 needs twice as many. The threads meet at
# a barrier after every layer and after the feedback (kernels/lstm_cpu_team.h). Measured 2026-12-07 on the
# 2-core AMD VM, 1 -> 2 threads, µs per generated step (medians of 15 rollouts of 1000 steps, scratch
# sweep over H = 16-64, 1-2 layers, B = 1-8, in a quiet spell): the sine model (B = 3, 2 layers of H = 51)
# float32 3.1 -> 2.2-2.8, float64 5.9 -> 3.7; float32 one layer of H = 51, B = 1 (10.7 k multiply-adds)
# 1.03 -> 0.81; below ~10 k (float32) or ~5 k (float64) the two were even. The bar is set higher than that
# break-even (a second thread from 32 k float64 / 64 k float32 multiply-adds a step): above it a call
# also pays the trial below, and a busy host turns the small gains into losses. (With OpenMP's own
# barrier, ~300 ns, the sine model's float32 steps were slower on two threads: 5.19 -> 5.47 on the Xeon.)
THREAD_MIN_MACS = 1 << 14
# Above it, whether the team pays is measured on each call of 64 steps or more, on its first steps (the
# C++ kernel's trial, TRIAL_STEPS in lstm_cpu_rollout.cpp: some steps on one thread, then on the team);
# the rest of the call runs on the team only if it was this much faster. On a shared VM the answer changes from minute to
# minute with where the host puts the cores. Shorter calls run on the team without a trial.
TEAM_MUST_WIN_BY = 0.1


@dataclass(frozen=True)
class RolloutPath:
    kind: str                       # "fused" (one C++ call), "graph" (CUDA graph replays) or "steps" (the Python loop)
    reason: Optional[str] = None    # why the fused path was not taken
    threads: int = 1


last_path = RolloutPath("none", "no rollout has run yet")


def runs_as_written(feedback):
    """None when calling the feedback module (and each module of a Sequential) is exactly what its class says
    (nn.Linear: x Wᵀ + b), else why not. The fused path reads only .weight and .bias: a subclass may override
    forward (a clamp, say), and a forward hook may change the output; either would be skipped without a word.
    (A parametrized Linear's .weight is the parametrized one: that runs as written.) Modules of other kinds
    are affine_parts' to refuse."""
    from torch.nn.utils import parametrize
    for module in [feedback] + (list(feedback) if type(feedback) is nn.Sequential else []):
        if not isinstance(module, (nn.Linear, nn.Identity, nn.Sequential)):
            continue
        kind = type(module).__mro__[1] if parametrize.is_parametrized(module) else type(module)
        if kind not in (nn.Linear, nn.Identity, nn.Sequential):
            return (f"the feedback's {type(module).__name__} is a subclass of {kind.__mro__[1].__name__}, and its "
                    "forward may do more than its weights say")
        if module._forward_hooks or module._forward_pre_hooks:
            return f"the feedback's {type(module).__name__} has forward hooks, which the fused path would not run"
    return None


def affine_parts(feedback, in_features, out_features):
    """(weight (out, in), bias (out,)) of an affine feedback, or a string saying why it is not one."""
    if isinstance(feedback, tuple) and len(feedback) == 2:
        weight, bias = feedback
        if weight.shape != (out_features, in_features) or (bias is not None and bias.shape != (out_features,)):
            raise ValueError(f"feedback (weight, bias) must have shapes ({out_features}, {in_features}) and "
                             f"({out_features},), got {tuple(weight.shape)} and "
                             f"{None if bias is None else tuple(bias.shape)}")
        return weight, bias
    if isinstance(feedback, nn.Identity):
        if in_features != out_features:                      # no path can run it: refused, not fallen back from
            raise ValueError(f"feedback nn.Identity feeds the top layer's {in_features} features back into an "
                             f"input of {out_features}")
        return None, None                                    # identity: pack_weights makes the matrix
    if isinstance(feedback, nn.Linear):
        if (feedback.in_features, feedback.out_features) != (in_features, out_features):
            raise ValueError(f"feedback nn.Linear({feedback.in_features}, {feedback.out_features}) must map the top "
                             f"layer's {in_features} features to the LSTM's {out_features} inputs")
        return feedback.weight, feedback.bias
    if isinstance(feedback, nn.Sequential):
        weight, bias = None, None
        for module in feedback:                               # y = W_k(…(W_1 x + b_1)…) + b_k: one W, one b
            if not isinstance(module, (nn.Linear, nn.Identity)):
                return f"nn.Sequential holds {type(module).__name__}, not only nn.Linear / nn.Identity"
            if isinstance(module, nn.Identity):
                continue
            width = in_features if weight is None else weight.size(0)
            if module.in_features != width:
                raise ValueError(f"feedback nn.Sequential: its {type(module).__name__}({module.in_features}, "
                                 f"{module.out_features}) is given {width} features by what comes before it")
            weight = module.weight if weight is None else module.weight @ weight
            step_bias = module.bias if module.bias is not None else None
            bias = step_bias if bias is None else (module.weight @ bias + (step_bias if step_bias is not None else 0))
        if weight is None:
            return affine_parts(nn.Identity(), in_features, out_features)
        if weight.shape != (out_features, in_features):
            raise ValueError(f"feedback nn.Sequential maps {weight.size(1)} features to {weight.size(0)}; it must map "
                             f"the top layer's {in_features} features to the LSTM's {out_features} inputs")
        return weight, bias
    return f"{type(feedback).__name__} is not an affine map (nn.Linear, nn.Identity, a Sequential of them, or a " \
           f"(weight, bias) pair)"


def pack_affine(weight, bias, groups, dtype):
    """weight (G·N, K), bias (G·N,) or None -> packed (tiles, K, G, U), bias (tiles, G, U), zero-padded.

    U outputs of each group side by side in one vector, all K inputs of a tile one after the other:
    the C++ tile walks its block once per step, front to back. Rows of group g are g·N … g·N + N − 1
    (the four gates of torch's layout are groups of N = H rows).

    A short last tile (n = N mod U outputs) puts its groups' rows side by side instead: output u of
    group g at lane g·n + u of ⌈G·n/U⌉ vectors per input, at the front of the tile's block. H = 51 in
    float32 leaves 3 units: their 4 gates fill one vector per input, not 4 vectors of 3 — one vector
    FMA instead of 4 per input and row, and a quarter of the bytes streamed.
    """
    units = VECTOR_BYTES // torch.empty((), dtype=dtype).element_size()       # U
    rows, inputs = weight.shape
    per_group = rows // groups                                                 # N
    tiles = math.ceil(per_group / units)
    weight = weight.detach().to(dtype).view(groups, per_group, inputs)
    bias = bias.detach().to(dtype).view(groups, per_group) if bias is not None else None
    packed = torch.zeros(tiles, inputs, groups, units, dtype=dtype)
    packed_bias = torch.zeros(tiles, groups, units, dtype=dtype)
    for tile in range(tiles):
        first = tile * units
        n = min(units, per_group - first)                                      # outputs of this tile
        lanes = math.ceil(groups * n / units) * units                          # its vectors per input, in lanes
        block = packed[tile].view(-1)[:inputs * lanes].view(inputs, lanes)     # (K, lanes), at the block's front
        block[:, :groups * n] = weight[:, first:first + n].reshape(groups * n, inputs).T   # lane g·n + u
        if bias is not None:
            packed_bias[tile].view(-1)[:groups * n] = bias[:, first:first + n].reshape(-1)
    return packed, packed_bias


def fused_reason(lstm, given, state, feedback):
    """None when the C++ rollout can run this, else why not (one sentence)."""
    tensors = [given, *state] + _weight_tensors(lstm, feedback)
    if torch.is_grad_enabled() and any(t.requires_grad for t in tensors):
        return "gradients are wanted (the fused rollout has no backward): run under torch.no_grad() to fuse"
    if given.device.type not in ("cpu", "cuda"):
        return (f"the fused rollout runs on the CPU (one C++ call) or a CUDA GPU (a CUDA graph); these tensors are "
                f"on {given.device.type}")
    if given.device.type == "cpu" and given.dtype not in (torch.float32, torch.float64):
        return f"the fused rollout on the CPU runs float32 / float64, not {given.dtype}"
    if any(t.dtype != given.dtype for t in tensors):
        return "the input, state and weights do not share one dtype"
    if lstm.dropout > 0 and lstm.training and lstm.num_layers > 1:
        return "dropout between layers is active (training mode)"
    if lstm._forward_hooks or lstm._forward_pre_hooks:
        return "the LSTM has forward hooks: the step-by-step path runs them on the observed steps"
    from torch.nn.modules import module as base
    if base._global_forward_hooks or base._global_forward_pre_hooks:
        return "global forward hooks are registered (nn.modules.module.register_module_forward_hook), which the fused path would not run"
    if isinstance(feedback, nn.Module) and (why := runs_as_written(feedback)):
        return why
    parts = affine_parts(feedback, lstm.real_hidden_size, lstm.input_size)
    if isinstance(parts, str):
        return parts
    if given.device.type == "cuda":
        return None                                     # a CUDA graph of the step loop (rollout_graph.py)
    # the step-by-step path calls the LSTM's forward (observed steps) and step (generated ones), and so does the
    # CUDA graph; the C++ rollout reads only the weights: a subclass that overrides either (a clamp, say) would
    # be skipped without a word
    overridden = [name for name in ("forward", "step") if getattr(type(lstm), name) is not getattr(LSTM, name)]
    if overridden:
        return (f"{type(lstm).__name__} overrides lstmlab.LSTM's {' and '.join(overridden)}, which the fused "
                "C++ rollout would not run")
    from lstmlab.kernels import lstm_cpu
    try:
        lstm_cpu.load()
    except lstm_cpu.BuildError as error:
        return str(error).splitlines()[0]
    return None


def check_feedback(lstm, feedback):
    """Refuse what no path can run, in one line: no feedback, a pair that is not (weight, bias), weights of
    another dtype, an affine map of the wrong shape."""
    if isinstance(feedback, tuple):
        if len(feedback) != 2 or not isinstance(feedback[0], torch.Tensor) or not (
                feedback[1] is None or isinstance(feedback[1], torch.Tensor)):
            raise ValueError(f"rollout: a feedback tuple must be (weight, bias): a tensor ({lstm.input_size}, "
                             f"{lstm.real_hidden_size}) and a tensor ({lstm.input_size},) or None; got a tuple of "
                             f"{', '.join(type(t).__name__ for t in feedback)}")
    elif not callable(feedback):
        raise TypeError(f"rollout: feedback must map the top layer's output (B, {lstm.real_hidden_size}) to the next "
                        f"input (B, {lstm.input_size}): an nn.Module, a callable or a (weight, bias) pair; got "
                        f"{type(feedback).__name__}")
    dtype = lstm.weight_ih_l0.dtype
    for tensor in _feedback_tensors(feedback):
        if tensor.dtype != dtype:
            raise ValueError(f"rollout: the feedback's weights are {tensor.dtype}, the LSTM's {dtype}: convert one, "
                             f"e.g. feedback.to({dtype})")
    affine_parts(feedback, lstm.real_hidden_size, lstm.input_size)     # raises for an affine map of the wrong shape


def apply_feedback(feedback, top, expected, at=""):
    """feedback(top): a module / callable, or a (weight, bias) pair; its output must have shape ``expected``.
    ``at`` says which steps top holds, for the message."""
    if callable(feedback):
        value = feedback(top)
    else:
        weight, bias = feedback
        value = top @ weight.T + (bias if bias is not None else 0)
    if not isinstance(value, torch.Tensor) or value.shape != expected:
        got = tuple(value.shape) if isinstance(value, torch.Tensor) else type(value).__name__
        raise ValueError(f"rollout: the feedback turned the top layer's output {tuple(top.shape)}{at} into "
                         f"{got}; the next input must be {tuple(expected)}")
    return value


def rollout_steps(lstm, given, state, total, feedback, replay=None):
    """The step-by-step path: given (T_in, B, I) inputs, state -> outputs (total, B, I), state.

    The given inputs go through the LSTM's own backend in one call (teacher forcing: fast, and
    differentiable as that backend is); then LSTM.step — the from-scratch cells — generates the rest,
    one step at a time, each output fed back as the next input. ``replay(value, state, steps)``, when
    given, makes as many of those steps as it can first — on a GPU, whole chunks replayed from a CUDA graph
    of this loop (rollout_graph.py) — and the loop makes the rest."""
    if total == 0:
        return given.new_empty(0, *given.shape[1:]), state
    read = given[:total]                                        # (n, B, I), n = min(T_in, total)
    observed, state = lstm(read.transpose(0, 1) if lstm.batch_first else read, state)
    if lstm.batch_first:
        observed = observed.transpose(0, 1)                     # (n, B, P) time-major, as the rest of the loop
    # A callable gets what it is documented to take, one step's (B, P): given (n, B, P), a softmax over dim
    # 1, a slice h[:, :2], a BatchNorm1d or an offset per batch row worked on the wrong axes. An nn.Linear
    # and a pair act on each row alone: all n steps in one call.
    if callable(feedback) and not isinstance(feedback, nn.Linear):
        fed_back = torch.stack([apply_feedback(feedback, step, read.shape[1:], f" at observed step {t}")
                                for t, step in enumerate(observed)])
    else:
        fed_back = apply_feedback(feedback, observed, read.shape, f" (the {observed.size(0)} observed steps)")
    outputs = [fed_back]                                        # (n, B, I)
    value, made = outputs[0][-1], observed.size(0)              # (B, I) the first value not given
    if replay is not None and total > made:
        replayed, state = replay(value, state, total - made)    # (k, B, I), k ≤ the steps asked for
        if replayed.size(0):
            outputs.append(replayed)
            value, made = replayed[-1], made + replayed.size(0)
    for _ in range(total - made):
        value, state = generated_step(lstm, feedback, value, state)
        outputs.append(value[None])
    return torch.cat(outputs), state


def generated_step(lstm, feedback, value, state):
    """One closed-loop step: the LSTM reads value (B, I), the feedback turns its output into the next value."""
    top, state = lstm.step(value, state)                        # (B, P)
    return apply_feedback(feedback, top, value.shape), state    # (B, I)


def pack_weights(lstm, feedback, dtype):
    """Every layer's [W_ih | W_hh] and bias, the projections and the feedback, packed for the C++ tiles.
    -> (weights, biases, projections, feedback_weight, feedback_bias, multiply-adds per batch row)."""
    weights, biases, projections, macs = [], [], [], 0
    for layer in range(lstm.num_layers):
        w = lstm.direction_weights(layer)
        z_weight = torch.cat([w.weight_ih, w.weight_hh], dim=1)             # (4H, I_l + P): one matrix over [x, h]
        bias = w.bias_ih + w.bias_hh if w.bias_ih is not None else None
        packed, packed_bias = pack_affine(z_weight, bias, 4, dtype)
        weights.append(packed)
        biases.append(packed_bias)
        macs += z_weight.numel()
        if w.weight_hr is not None:
            projections.append(pack_affine(w.weight_hr, None, 1, dtype)[0])
            macs += w.weight_hr.numel()
    weight, bias = affine_parts(feedback, lstm.real_hidden_size, lstm.input_size)
    if weight is None:                                                      # nn.Identity
        weight = torch.eye(lstm.input_size, dtype=dtype)
    feedback_weight, feedback_bias = pack_affine(weight, bias, 1, dtype)
    return weights, biases, projections, feedback_weight, feedback_bias, macs + weight.numel()


def _feedback_tensors(feedback):
    """The feedback's weights: a module's parameters, a (weight, bias) pair's tensors, none for a function."""
    if isinstance(feedback, nn.Module):
        return list(feedback.parameters())
    return [t for t in feedback if t is not None] if isinstance(feedback, tuple) else []


def _weight_tensors(lstm, feedback):
    """Every tensor the packed weights are made from: the LSTM's parameters and the feedback's."""
    return list(lstm.parameters()) + _feedback_tensors(feedback)


def _packing_is_current(cached, dtype, tensors):
    """The packing was made for this dtype from weights that still hold the same values. Values, not
    version counters: an update through ``.data`` (``p.data.add_(...)``, as hand-written SGD loops do)
    changes no version counter, and a weight replaced by an equal one needs no new packing. ~3 µs a
    tensor: the sine model's 10 tensors cost ~27 µs, against 3.6 ms (float32) and 6.5 ms (float64) for its
    1100 steps (one core, medians, 2026-12-07)."""
    return (cached is not None and cached[0] == dtype and len(cached[2]) == len(tensors)
            and all(torch.equal(t, packed_from) for t, packed_from in zip(tensors, cached[2])))


def rollout_fused(lstm, given, state, total, feedback, threads=None):
    """The C++ rollout: the same results as rollout_steps, in one call. -> outputs (total, B, I), state, and
    the threads that ran it. threads=None: one, or a team of torch's threads when a step has enough
    arithmetic (THREAD_MIN_MACS) and — in a call of 64 steps or more — the call's first steps ran faster
    on the team than on one thread; a number: that many, no trial.

    The packed weights are kept on the module until a weight changes: packing costs a few hundred µs of
    small tensor ops, as much as dozens of generated steps. A copy of the weights they were packed from
    is kept beside them, and compared at every call."""
    from lstmlab.kernels import lstm_cpu
    tensors = _weight_tensors(lstm, feedback)
    cached = lstm.__dict__.get("_rollout_packed")
    if not _packing_is_current(cached, given.dtype, tensors):
        cached = (given.dtype, pack_weights(lstm, feedback, given.dtype), [t.detach().clone() for t in tensors])
        lstm.__dict__["_rollout_packed"] = cached
    weights, biases, projections, feedback_weight, feedback_bias, macs = cached[1]
    batch = given.size(1)
    measure = threads is None
    if threads is None:                                                     # enough arithmetic per thread?
        min_macs = THREAD_MIN_MACS * 8 // given.element_size()
        threads = max(1, min(torch.get_num_threads(), batch * macs // min_macs))
    outputs, h_n, c_n, ran_on = lstm_cpu.rollout(given.contiguous(), state[0], state[1], weights, biases,
                                                 projections, feedback_weight, feedback_bias, total, threads,
                                                 measure, TEAM_MUST_WIN_BY)
    return outputs, (h_n, c_n), ran_on


def rollout_graphed(lstm, given, state, total, feedback, strict=False):
    """On a CUDA GPU: the step-by-step path, its generated steps replayed from a CUDA graph of CHUNK steps
    (rollout_graph.py), the steps short of a whole chunk in the loop; fewer steps than one chunk capture
    nothing, and a capture that fails leaves every step to the loop (strict: raises).
    -> outputs (total, B, I), state, why no graph ran (None: one did)."""
    from . import rollout_graph
    tensors = _weight_tensors(lstm, feedback)
    failure = []

    def replay(value, state, steps):
        nothing = value.new_empty(0, *value.shape), state
        if steps < rollout_graph.CHUNK:
            failure.append(f"{steps} generated steps, fewer than one CUDA graph's chunk ({rollout_graph.CHUNK})")
            return nothing
        try:
            chunk = rollout_graph.graphed_chunk(lstm, feedback, tensors, value, state)
        except RuntimeError as error:
            reason = f"the CUDA graph capture failed: {str(error).splitlines()[0]}"
            if strict:
                raise ValueError(f"rollout: the fused path cannot run this: {reason}") from error
            failure.append(reason)
            return nothing
        return rollout_graph.replay_chunks(chunk, value, state, steps)
    outputs, state = rollout_steps(lstm, given, state, total, feedback, replay)
    return outputs, state, failure[0] if failure else None


def rollout(lstm, inputs, steps, feedback, state=None, fused="auto"):
    """Generate values, each fed back as the next input.

    lstm: a unidirectional lstmlab.LSTM (any backend: the weights are what count);
    inputs: (B, I), the first input — then ``steps`` counts every step, the one reading it included,
    and outputs is (steps, B, I); or (T, B, I), an observed sequence read teacher-forced before
    ``steps`` generated steps — outputs is (T + steps, B, I), the prediction after every step
    (with ``lstm.batch_first``: (B, T, I) in, (B, T + steps, I) or (B, steps, I) out);
    feedback: maps the top layer's output (B, P) to the next input (B, I), one step at a time (an
    nn.Linear or a pair takes the observed steps in one call) — see the module docstring;
    state: (h (L, B, P), c (L, B, H)) or None for zeros; fused: "auto" (fuse when possible), True
    (fuse or raise ValueError saying why not) or False (the step-by-step path).
    Returns outputs and the final (h, c).
    """
    global last_path
    lstm = getattr(lstm, "_orig_mod", lstm)                                 # torch.compile(lstm): the module inside
    if not isinstance(lstm, LSTM):
        raise TypeError(f"rollout: lstm must be an lstmlab.LSTM, got {type(lstm).__module__}.{type(lstm).__name__}"
                        + ("; load torch's weights into one: lstmlab.LSTM(same sizes).load_state_dict("
                           "lstm.state_dict())" if isinstance(lstm, torch.nn.LSTM) else ""))
    if lstm.bidirectional:
        raise RuntimeError("rollout runs forward in time; a bidirectional LSTM needs the whole sequence")
    if not isinstance(inputs, torch.Tensor):
        raise TypeError(f"rollout: inputs must be a tensor, got {type(inputs).__name__}")
    layout = f"(batch, time ≥ 1, {lstm.input_size})" if lstm.batch_first else f"(time ≥ 1, batch, {lstm.input_size})"
    time_dim = 1 if lstm.batch_first else 0
    if inputs.dim() not in (2, 3) or inputs.size(-1) != lstm.input_size or inputs.dim() == 3 and inputs.size(time_dim) == 0:
        raise ValueError(f"rollout: inputs must be (batch, {lstm.input_size}) or {layout}, got {tuple(inputs.shape)}")
    steps = step_count("rollout: steps", steps)
    if not (isinstance(fused, str) and fused == "auto" or fused is True or fused is False):
        raise ValueError(f"rollout: fused must be 'auto', True or False, got {fused!r}")
    if isinstance(feedback, list):
        feedback = tuple(feedback)                                          # [weight, bias] is a pair too
    check_feedback(lstm, feedback)
    check_lstm_weights(lstm, [lstm.direction_weights(layer) for layer in range(lstm.num_layers)])   # as forward
    if inputs.dim() == 3 and lstm.batch_first:
        inputs = inputs.transpose(0, 1)                                     # (T, B, I): time-major inside
    given, total = (inputs[None], steps) if inputs.dim() == 2 else (inputs, inputs.size(0) + steps)
    batch = given.size(1)
    layers = lstm.num_layers
    if state is None:
        state = (given.new_zeros(layers, batch, lstm.real_hidden_size), given.new_zeros(layers, batch, lstm.hidden_size))
    expected = [(layers, batch, lstm.real_hidden_size), (layers, batch, lstm.hidden_size)]
    if (not isinstance(state, (tuple, list)) or len(state) != 2
            or [tuple(getattr(t, "shape", ())) for t in state] != expected):
        given_shapes = [tuple(getattr(t, "shape", ())) for t in state] if isinstance(state, (tuple, list)) else \
            f"a {type(state).__name__}" + (f" of shape {tuple(state.shape)}" if isinstance(state, torch.Tensor) else "")
        raise ValueError(f"rollout: state must be (h, c) of shapes {expected[0]} and {expected[1]}, got {given_shapes}")
    if not all(isinstance(t, torch.Tensor) for t in state):
        raise TypeError(f"rollout: state must be (h, c) tensors, got ({', '.join(type(t).__name__ for t in state)})")
    # (what, its verb, its pronoun) for each tensor that must be on the inputs' device
    placed = [(state[0], "state h is", "it"), (state[1], "state c is", "it")] + \
        [(t, "the feedback's weights are", "them") for t in _feedback_tensors(feedback)]
    for tensor, what, pronoun in placed:
        if tensor.device != given.device:
            raise RuntimeError(f"rollout: {what} on {tensor.device}, the inputs on {given.device}; move {pronoun} to "
                               f"{given.device}")
    reason = "fused=False" if fused is False else fused_reason(lstm, given, state, feedback)
    if reason is None and given.is_cuda:
        outputs, state, failure = rollout_graphed(lstm, given, state, total, feedback, strict=fused is True)
        last_path = RolloutPath("graph", None) if failure is None else RolloutPath("steps", failure)
    elif reason is None:
        outputs, state, threads = rollout_fused(lstm, given, state, total, feedback)
        last_path = RolloutPath("fused", None, threads)
    elif fused is True:
        raise ValueError(f"rollout: the fused path cannot run this: {reason}")
    else:
        last_path = RolloutPath("steps", reason)
        outputs, state = rollout_steps(lstm, given, state, total, feedback)
    return (outputs.transpose(0, 1) if lstm.batch_first else outputs), state
