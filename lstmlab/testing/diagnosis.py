"""Where a failing case first goes wrong, and why (when the pattern is a known one).

1. Where: the first time step (and for an LSTM the layer and direction, found by running prefixes
   of the input — or suffixes, for the reverse direction — and comparing every layer's h_n, c_n).
2. That one step, alone: the subject's cell is run on the reference's layer input and previous state
   (an LSTM through a one-layer instance from its factory), and its (h', c') is matched against torch's
   cell with each known bug planted (lstmlab.testing.patterns). A match names the cause.
3. Otherwise the gates are read out of the black box: f = c'(c + 1) − c'(c) (c' is linear in c),
   i = c' − f·c with the g block's bias pushed to saturation (g = 1), g = (c' − f·c) / i,
   o = h' / tanh(c'), each compared with torch's — the first of i, f, g, o to differ is named.
"""
import math
import os
import traceback
from dataclasses import dataclass, field, replace
from typing import Optional

import torch

from . import patterns
from .cases import SATURATING
from .compare import Mismatch, compare_one, is_wrong_dtype
from .step_views import cell_step_view, lstm_step_view
from .subjects import torch_subject

GATES = ("i", "f", "g", "o")


@dataclass
class Diagnosis:
    case: object
    first: Optional[Mismatch] = None      # the first quantity out of tolerance
    step: Optional[int] = None            # input time index
    layer: Optional[int] = None
    direction: Optional[str] = None       # "forward" or "reverse"
    state: Optional[str] = None           # "h" or "c": which state diverges first at that step
    gate: Optional[str] = None            # "i", "f", "g" or "o" when the readout or the cause names one
    gates: dict = field(default_factory=dict)   # readout: gate -> (unit index, expected, actual)
    step_values: Optional[str] = None     # expected vs actual (h', c') at that step
    cause: Optional[str] = None           # a key of patterns.CAUSES, "exception", "backward", ...
    cause_text: str = ""
    error: Optional[BaseException] = None

    def where(self):
        parts = []
        if self.step is not None:
            parts.append(f"time step {self.step}")
        if self.layer is not None:
            parts.append(f"layer {self.layer}")
        if self.direction is not None:
            parts.append(f"direction {self.direction}")
        if self.gate is not None:
            parts.append(f"gate {self.gate}")
        elif self.state is not None:
            parts.append(f"state {self.state}")
        return ", ".join(parts)

    def format(self):
        lines = [f"FIRST FAILURE {self.case.describe()}"]
        if self.error is not None:
            lines.append(f"  raised {type(self.error).__name__}: {self.error}")
            frame = _user_frame(self.error)
            if frame:
                lines.append(f"  at {frame}")
        if self.first is not None:
            lines.append(f"  largest difference: {self.first.describe()}")   # in the first quantity out of tolerance
        if self.where():
            lines.append(f"  first goes wrong at: {self.where()}")
        if self.step_values:
            lines.append(f"  that step alone: {self.step_values}")
        for gate, (index, expected, actual) in self.gates.items():
            mark = "  <- differs" if gate == self.gate else ""
            lines.append(f"  gate {gate}{list(index)}: expected {expected:.6g}, got {actual:.6g}{mark}")
        if self.cause_text:
            lines.append(f"  likely cause: {self.cause_text}")
        return "\n".join(lines)


_NOT_THE_USERS = (os.path.dirname(torch.__file__) + os.sep, os.path.dirname(__file__) + os.sep)


def _relative_error(mismatch, reference):
    """A mismatch's largest error over the largest value of its reference quantity."""
    from .compare import quantities
    expected = quantities(reference).get(mismatch.quantity)
    largest = expected.abs().max().item() if expected is not None and expected.numel() else 0.0
    return mismatch.max_error / largest if largest > 0 else math.inf


def _coarser_precision(case, mismatches, reference):
    """The name of a dtype coarser than the case's whose rounding every failing quantity's error matches
    (relative error between its eps / 10 and 30 eps), or None: float32 arithmetic inside a float64 check
    agrees to ~1e-7, which the gate readout would otherwise blame on a gate."""
    if any(m.note for m in mismatches) or not mismatches:
        return None
    errors = [_relative_error(m, reference) for m in mismatches]
    own = torch.finfo(case.torch_dtype).eps
    for name, dtype in (("float32", torch.float32), ("bfloat16", torch.bfloat16)):
        eps = torch.finfo(dtype).eps
        if eps > own and all(eps / 10 <= e <= 30 * eps for e in errors):
            return name
    return None


def _user_frame(error):
    """The innermost traceback line outside torch and lstmlab.testing (by install path: a learner's own
    ~/code/torch/ folder is the learner's)."""
    frames = [f for f in traceback.extract_tb(error.__traceback__)
              if not os.path.abspath(f.filename).startswith(_NOT_THE_USERS)]
    return f"{frames[-1].filename}:{frames[-1].lineno}: {frames[-1].line}" if frames else None


def diagnose(subject, outcome, inputs, reference, tols):
    case = outcome.case
    d = Diagnosis(case)
    if outcome.error is not None:
        d.error = outcome.error
        message = str(outcome.error)
        if "shapes cannot be multiplied" in message or "size mismatch" in message:
            d.cause, d.cause_text = "transposed_weight", patterns.CAUSES["transposed_weight"] + \
                " (a shape error in a matrix product: torch stores weight_ih as (4H, I) and weight_hh as (4H, H); " \
                "x @ weight_ih.T is the product)"
        else:
            d.cause, d.cause_text = "exception", "the subject raised instead of returning a result"
        return d
    d.first = outcome.mismatches[0]
    if case.saturated and any(not math.isfinite(m.actual) and math.isfinite(m.expected)
                                                 for m in outcome.mismatches if m.note is None):
        # NaN or inf only here, where the inputs are ×1000: exp(1000) = inf, and inf/inf is NaN
        d.cause, d.cause_text = "overflow", patterns.CAUSES["overflow"] + (
            f" (a NaN or inf where torch is finite, in a case whose every gate is saturated: exp(±{SATURATING:g}) "
            "is inf, so (eᶻ − e⁻ᶻ)/(eᶻ + e⁻ᶻ) is inf/inf = NaN, and autograd's derivative of 1/(1 + e⁻ᶻ), "
            "e⁻ᶻ/(1 + e⁻ᶻ)², is too) — use torch.sigmoid and torch.tanh, whose backward is computed from "
            "their result (notebook 8 writes stable forms by hand)")
        return d
    if is_wrong_dtype(d.first):
        d.cause, d.cause_text = "dtype", ("the result is not in the input's dtype: computing in a wider dtype is fine, "
                                          "but cast h and c back (h.to(x.dtype)), as torch returns the input's dtype")
        return d
    coarser = _coarser_precision(case, outcome.mismatches, reference)
    if coarser is not None:
        d.cause, d.cause_text = "precision", (
            f"every difference is at {coarser}'s rounding (largest relative error of a failing quantity "
            f"{_relative_error(d.first, reference):.1e}): most likely part of the computation runs in {coarser} "
            f"in a {case.dtype} check — a .float() / .to(...), a constant tensor made in another dtype, "
            "torch.get_default_dtype() — or a formula is off by that little (a small eps added somewhere)")
        return d
    value_names = set(reference.values)
    value_mismatches = [m for m in outcome.mismatches if m.quantity in value_names]
    if not value_mismatches:
        return _diagnose_backward(d, outcome)
    result = subject.run(case, inputs)
    if case.kind == "lstm":
        shifted = _time_shift(case, result, reference, tols)
        if shifted:
            d.cause, d.cause_text = "off_by_one_time", patterns.CAUSES["off_by_one_time"] + f" ({shifted})"
            return d
        if case.form == "packed":
            d.cause_text = ("only the packed form is localised by its data index; the batched cases of the "
                            "same options locate the step")
            return d
        located = _locate_lstm(subject, case, inputs, tols)
        if located is None:
            d.cause, d.cause_text = "plumbing", "every layer's final state matches on every prefix: only the " \
                                                "output sequence differs"
            if case.bidirectional and d.first.quantity == "output" and d.first.index:
                d.direction = "reverse" if d.first.index[-1] >= case.real_hidden_size else "forward"
                if d.direction == "reverse":
                    d.cause_text += " — in its reverse half (output[..., P:]): the reverse direction's outputs " \
                                    "must be flipped back to input order"
            return d
        d.step, d.layer, direction, d.state = located
        d.direction = "reverse" if direction else "forward"
        step_view = lstm_step_view(subject, case, inputs, d.step, d.layer, direction)
    else:
        d.step, d.state = _locate_steps(result, reference, tols)
        step_view = cell_step_view(subject, case, inputs, reference, d.step)
    if step_view is None:
        return d
    _diagnose_step(d, *step_view, tols)
    return d


def _diagnose_backward(d, outcome):
    names = [m.quantity for m in outcome.mismatches]
    only = {"grad h_0": "h0_backward", "grad c_0": "c0_backward"}
    if len(names) == 1 and names[0] in only:
        d.cause = only[names[0]]
        d.cause_text = patterns.CAUSES[d.cause] + ": outputs, states and every other gradient match"
    else:
        d.cause = "backward"
        d.cause_text = ("the forward pass matches but gradients differ (" + ", ".join(n[5:] for n in names) +
                        "): the backward, or something detached from the graph")
    return d


# --- where ---------------------------------------------------------------------------------------
def _time_axis(case):
    return 1 if case.batch_first and case.form == "batched" else 0


def _time_shift(case, result, reference, tols):
    """A description when the output is torch's shifted by one step in time, else None."""
    if case.form == "packed" or case.steps < 2:
        return None
    actual, expected = result.values["output"], reference.values["output"]
    if actual.shape != expected.shape:
        return None
    axis = _time_axis(case)
    n = case.steps

    def close(a, b):
        return compare_one("output", a, b, tols["output"]) is None

    if close(actual.narrow(axis, 1, n - 1), expected.narrow(axis, 0, n - 1)):
        return "output[t] is torch's output[t − 1]: one step late, e.g. the state before the update is emitted"
    if close(actual.narrow(axis, 0, n - 1), expected.narrow(axis, 1, n - 1)):
        return "output[t] is torch's output[t + 1]: one step early"
    return None


def _locate_steps(result, reference, tols):
    """(first step, "c" or "h") for a step/cell sequence."""
    for t in range(result.values["h"].shape[0]):
        c_off = compare_one("c", result.values["c"][t], reference.values["c"][t], tols["c"]) is not None
        h_off = compare_one("h", result.values["h"][t], reference.values["h"][t], tols["h"]) is not None
        if c_off or h_off:
            return t, "c" if c_off else "h"
    return None, None


def _sub_inputs(inputs, start, stop):
    return inputs._replace(x=inputs.x[start:stop])


def _locate_lstm(subject, case, inputs, tols):
    """(input time t, layer, direction, state) where the first layer·direction first diverges."""
    reference = torch_subject("lstm")
    steps = case.steps
    per_run = []                 # (steps processed, layer, direction, t, state)
    prefix_case = replace(case, steps=1)
    for direction in range(case.num_directions):
        for count in range(1, steps + 1):
            sub = _sub_inputs(inputs, 0, count) if direction == 0 else _sub_inputs(inputs, steps - count, steps)
            ours = subject.run(prefix_case, sub).values
            ref = reference.run(prefix_case, sub, torch.float64, "cpu").values
            for layer in range(case.num_layers):
                k = layer * case.num_directions + direction
                state = None
                for name, letter in (("c_n", "c"), ("h_n", "h")):
                    if ours[name].shape != ref[name].shape or \
                            compare_one(name, ours[name][k], ref[name][k], tols[name]) is not None:
                        state = state or letter
                if state:
                    t = count - 1 if direction == 0 else steps - count
                    per_run.append((layer, count, direction, t, state))
            if any(r[2] == direction for r in per_run):
                break
    if not per_run:
        return None
    layer, _, direction, t, state = min(per_run)
    return t, layer, direction, state


def _diagnose_step(d, step, x, h, c, weights, case, tols):
    dtype, device = case.torch_dtype, case.device
    tol_h = tols.get("h", tols.get("h_n"))
    tol_c = tols.get("c", tols.get("c_n"))

    def run(x, h, c, w):
        with torch.no_grad():
            to = dict(dtype=dtype, device=device)
            out = step(x.to(**to), (h.to(**to), c.to(**to)), {n: v.to(**to) for n, v in w.items() if v is not None})
        return out[0].to("cpu", torch.float64), out[1].to("cpu", torch.float64)

    try:
        h_user, c_user = run(x, h, c, weights)
    except Exception as error:        # the one-layer instance may not take this input: no step view
        d.cause_text = f"(the step could not be run alone: {type(error).__name__}: {error})"
        return
    h_ref, c_ref = patterns.reference_step(x, h, c, weights)
    index = _worst(h_user, h_ref) if d.state == "h" else _worst(c_user, c_ref)
    d.step_values = (f"expected h'{list(index)} = {h_ref[index].item():.6g}, c'{list(index)} = "
                     f"{c_ref[index].item():.6g}; got h' = {h_user[index].item():.6g}, c' = {c_user[index].item():.6g}"
                     if h_user.shape == h_ref.shape and c_user.shape == c_ref.shape else
                     f"expected shapes {tuple(h_ref.shape)}, {tuple(c_ref.shape)}; got {tuple(h_user.shape)}, "
                     f"{tuple(c_user.shape)}")
    step_ok = (compare_one("h", h_user, h_ref, tol_h) is None and compare_one("c", c_user, c_ref, tol_c) is None)
    if step_ok:
        d.cause = "plumbing"
        d.cause_text = patterns.plumbing_hint(case=d.case, layer=d.layer, direction=d.direction)
        return
    match = patterns.match(x, h, c, weights, h_user, c_user, tol_h, tol_c)
    if match is not None:
        d.cause, d.cause_text, d.gate = match.cause, match.text, match.gate
        if match.state:
            d.state = match.state
        return
    if "weight_hr" not in weights and "bias_ih" in weights:
        _read_gates(d, run, x, h, c, weights, tol_c)
    d.cause = d.cause or "unknown"
    if not d.cause_text:
        d.cause_text = ("no known pattern matches" +
                        (f"; gate {d.gate} is the first of i, f, g, o to differ" if d.gate else ""))


def _worst(a, b):
    if a.shape != b.shape:
        return (0,) * b.dim()
    flat = int((a - b).abs().argmax())
    return tuple(int(i) for i in torch.unravel_index(torch.tensor(flat), b.shape))


def _read_gates(d, run, x, h, c, weights, tol):
    """Read i, f, g, o out of the black box (see the module docstring) and name the first that differs."""
    hidden = c.shape[-1]
    expected = patterns.reference_gates(x, h, weights)
    try:
        h1, c1 = run(x, h, c, weights)
        _, c2 = run(x, h, c + 1, weights)
        saturated = dict(weights)
        saturated["bias_ih"] = weights["bias_ih"].clone()
        saturated["bias_ih"][2 * hidden:3 * hidden] += 30.0                       # g = tanh(≥ 28) = 1
        _, c3 = run(x, h, c, saturated)
    except Exception:
        return
    if any(t.shape != c.shape for t in (h1, c1, c2, c3)):
        return                       # states of another shape: the shape check names it; no gate can be read
    f = c2 - c1
    i = c3 - f * c
    g = (c1 - f * c) / i
    o = h1 / torch.tanh(c1)
    diffs = {}
    for name, actual in zip(GATES, (i, f, g, o)):
        usable = torch.isfinite(actual) & (torch.tanh(c1).abs() > 1e-3 if name == "o" else True)
        diffs[name] = torch.where(usable, (actual - expected[name]).abs(), torch.zeros_like(actual))
    worst = {name: diff.max().item() for name, diff in diffs.items()}
    d.gate = next((name for name in GATES if worst[name] > tol), None)
    shown = diffs[d.gate or max(worst, key=worst.get)]
    index = tuple(int(k) for k in torch.unravel_index(torch.tensor(int(shown.argmax())), shown.shape))
    for name, actual in zip(GATES, (i, f, g, o)):            # all four at the unit where it differs most
        d.gates[name] = (index, expected[name][index].item(), actual[index].item())
