"""Known LSTM bugs, each planted into torch's cell equations, so a wrong step can be matched to its cause.

Every pattern is the reference step (float64, torch's gate order i, f, g, o) with one change; a subject
whose (h', c') at the failing step equals a pattern's (within the case's tolerances) has that bug.
"""
import itertools
from typing import NamedTuple, Optional

import torch

CAUSES = {
    "gate_order": "gate order swapped",
    "bias_missing": "a bias missing",
    "bias_twice": "a bias added twice",
    "state_ignored": "the initial state ignored",
    "sigmoid_for_tanh": "sigmoid where tanh belongs",
    "tanh_for_sigmoid": "tanh where sigmoid belongs",
    "tanh_missing": "tanh missing",
    "h_c_swapped": "h and c swapped",
    "transposed_weight": "a transposed weight",
    "off_by_one_time": "off by one in time",
    "wrong_init": "wrong init only",
    "h0_backward": "backward wrong only for h_0",
    "c0_backward": "backward wrong only for c_0",
    "overflow": "σ or tanh written from its definition overflows at saturated inputs",
}
GATES = "ifgo"


def reference_gates(x, h, w, order=GATES, biases=("bias_ih", "bias_hh"), transform=None):
    """Pre-activation blocks of torch's cell, named by ``order`` (torch's own: "ifgo")."""
    weight_ih, weight_hh = w["weight_ih"], w["weight_hh"]
    if transform is not None:
        weight_ih, weight_hh = transform(weight_ih, weight_hh)
    gates = x @ weight_ih.T + h @ weight_hh.T                                  # (B, 4H)
    for name in biases:
        if w.get(name) is not None:
            gates = gates + w[name]
    blocks = dict(zip(order, gates.chunk(4, dim=-1)))                           # 4 × (B, H)
    return {"i": torch.sigmoid(blocks["i"]), "f": torch.sigmoid(blocks["f"]),
            "g": torch.tanh(blocks["g"]), "o": torch.sigmoid(blocks["o"]), "pre": blocks}


def reference_step(x, h, c, w, order=GATES, biases=("bias_ih", "bias_hh"), transform=None,
                   activations=None, cell_activation=torch.tanh, swap_out=False, swap_in=False, from_zeros=False):
    """torch's LSTM step, optionally with one bug planted. Returns (h', c')."""
    if swap_in:
        h, c = c, h
    if from_zeros:                                                              # the given state never used
        h, c = torch.zeros_like(h), torch.zeros_like(c)
    gates = reference_gates(x, h, w, order, biases, transform)
    for gate, fn in (activations or {}).items():
        gates[gate] = fn(gates["pre"][gate])
    c_next = gates["f"] * c + gates["i"] * gates["g"]                          # c' = f ⊙ c + i ⊙ g
    h_next = gates["o"] * cell_activation(c_next)                              # h' = o ⊙ tanh(c')
    if w.get("weight_hr") is not None:
        h_next = h_next @ w["weight_hr"].T                                      # (B, P)
    return (c_next, h_next) if swap_out else (h_next, c_next)


def _blocks_transposed(weight):
    """Each (H, H) gate block transposed: what ``h @ W_hg`` (no .T) computes with per-gate square blocks."""
    return torch.cat([block.T for block in weight.chunk(4, dim=0)], dim=0)


def _reshaped(weight):
    """The (in, 4H) matrix a layout hook makes with .reshape instead of .T, seen in torch's layout."""
    return weight.reshape(weight.shape[1], weight.shape[0]).T


class Pattern(NamedTuple):
    cause: str
    text: str
    gate: Optional[str]
    state: Optional[str]
    kwargs: dict


def patterns(x, h, w):
    """Every planted variant that makes sense for these shapes."""
    found = []
    for order in itertools.permutations(GATES):
        order = "".join(order)
        if order == GATES:
            continue
        moved = [g for g, t in zip(order, GATES) if g != t]
        found.append(Pattern("gate_order", f"gate order swapped: the four blocks of the weights are read as "
                             f"({', '.join(order)}); torch stacks them (i, f, g, o), so gates "
                             f"{' and '.join(sorted(moved, key=GATES.index))} get each other's weights",
                             sorted(moved, key=GATES.index)[0], None, dict(order=order)))
    if w.get("bias_ih") is not None:
        found += [
            Pattern("bias_missing", "a bias missing: neither bias_ih nor bias_hh is added", None, None,
                    dict(biases=())),
            Pattern("bias_missing", "a bias missing: bias_hh is not added (only bias_ih)", None, None,
                    dict(biases=("bias_ih",))),
            Pattern("bias_missing", "a bias missing: bias_ih is not added (only bias_hh)", None, None,
                    dict(biases=("bias_hh",))),
            Pattern("bias_twice", "a bias added twice: bias_ih is added twice and bias_hh not at all", None, None,
                    dict(biases=("bias_ih", "bias_ih"))),
            Pattern("bias_twice", "a bias added twice: bias_hh is added twice and bias_ih not at all", None, None,
                    dict(biases=("bias_hh", "bias_hh"))),
            Pattern("bias_twice", "a bias added twice: both biases are added, then one of them again", None, None,
                    dict(biases=("bias_ih", "bias_hh", "bias_ih"))),
            Pattern("bias_twice", "a bias added twice: both biases are added, then one of them again", None, None,
                    dict(biases=("bias_ih", "bias_hh", "bias_hh"))),
        ]
    if h.abs().max() > 0 or c.abs().max() > 0:
        found.append(Pattern("state_ignored", "the initial state ignored: the step starts from zeros, not from "
                             "the (h, c) it is given", None, "h", dict(from_zeros=True)))
    found.append(Pattern("sigmoid_for_tanh", "sigmoid where tanh belongs: the input node g = tanh(·), "
                         "not σ(·)", "g", None, dict(activations={"g": torch.sigmoid})))
    found.append(Pattern("sigmoid_for_tanh", "sigmoid where tanh belongs: h' = o ⊙ tanh(c'), not o ⊙ σ(c')",
                         None, "h", dict(cell_activation=torch.sigmoid)))
    found.append(Pattern("tanh_missing", "tanh missing: h' = o ⊙ tanh(c'), not o ⊙ c'", None, "h",
                         dict(cell_activation=lambda t: t)))
    for gate in "ifo":
        found.append(Pattern("tanh_for_sigmoid", f"tanh where sigmoid belongs: gate {gate} = σ(·), not tanh(·)",
                             gate, None, dict(activations={gate: torch.tanh})))
    found.append(Pattern("h_c_swapped", "h and c swapped: the step returns (c', h'); torch returns (h', c')",
                         None, "h", dict(swap_out=True)))
    found.append(Pattern("h_c_swapped", "h and c swapped: the state is read as (c, h); torch passes (h, c)",
                         None, "c", dict(swap_in=True)))
    hidden = w["weight_hh"].shape[0] // 4
    if w["weight_hh"].shape[1] == hidden:
        found.append(Pattern("transposed_weight", "a transposed weight: each (H, H) gate block of weight_hh is used "
                             "as stored (h @ W_hh_gate) instead of transposed (h @ W_hh_gate.T)", None, None,
                             dict(transform=lambda wi, wh: (wi, _blocks_transposed(wh)))))
    if w["weight_ih"].shape[1] == hidden:
        found.append(Pattern("transposed_weight", "a transposed weight: each (H, I) gate block of weight_ih is used "
                             "as stored instead of transposed", None, None,
                             dict(transform=lambda wi, wh: (_blocks_transposed(wi), wh))))
    found.append(Pattern("transposed_weight", "a transposed weight: weight_hh was reshaped to (H, 4H) where it "
                         "must be transposed (.T)", None, None, dict(transform=lambda wi, wh: (wi, _reshaped(wh)))))
    found.append(Pattern("transposed_weight", "a transposed weight: weight_ih was reshaped to (I, 4H) where it "
                         "must be transposed (.T)", None, None, dict(transform=lambda wi, wh: (_reshaped(wi), wh))))
    return found


def match(x, h, c, w, h_user, c_user, tol_h, tol_c):
    """The first Pattern whose step equals the subject's (h', c'), or None."""
    for pattern in patterns(x, h, w):
        if pattern.kwargs.get("swap_in") and h.shape != c.shape:
            continue
        try:
            h_planted, c_planted = reference_step(x, h, c, w, **pattern.kwargs)
        except RuntimeError:
            continue
        if h_planted.shape != h_user.shape or c_planted.shape != c_user.shape:
            continue
        if (h_planted - h_user).abs().max().item() <= tol_h and (c_planted - c_user).abs().max().item() <= tol_c:
            return pattern
    return None


def plumbing_hint(case, layer, direction):
    """What to look at when the cell is right at the failing step but the module is not."""
    hints = ["the cell computes this step correctly on its own (one layer, one step, torch's previous state): "
             "what differs is how the module connects steps, layers or directions"]
    if direction == "reverse":
        hints.append("the reverse direction must read the sequence back to front and flip its outputs back "
                     "to input order (forward half first in the output's features)")
    if layer:
        hints.append(f"layer {layer}'s input is the output of layer {layer - 1} (both directions concatenated, "
                     f"forward first), with its own weights *_l{layer}")
    if case.batch_first:
        hints.append("batch_first: input (B, T, I) and output (B, T, ·); h_n and c_n stay (L·D, B, ·)")
    if case.form == "unbatched":
        hints.append("unbatched input (T, I): h_0 and c_0 are (L·D, ·) and so are h_n, c_n")
    if case.zero_state:
        hints.append("with no initial state, h_0 and c_0 are zeros")
    if case.proj_size:
        hints.append("with proj_size, h_t = W_hr (o ⊙ tanh(c_t)) is fed back and output; c_t is not projected")
    return "; ".join(hints)
