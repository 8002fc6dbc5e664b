"""The layer/direction plumbing every from-scratch backend shares.

A stacked, possibly bidirectional LSTM is a loop over layers; each layer runs one recurrence
per direction over the whole sequence and concatenates their outputs along features:

    layer 0:  x ──► forward  ──► (T, B, P) ┐
              x ──► backward ──► (T, B, P) ┴─ cat ─► (T, B, D·P) ─► dropout ─► layer 1 ...

A backend only has to supply ``run_direction``: one recurrence, forward in time, over a padded
time-major sequence. Reversal, variable lengths, stacking, dropout and the (L·D, B, ·) layout of
h_n / c_n live here, once.

Inference. When no gradient is wanted (torch.no_grad(), inference_mode, or nothing requires grad)
nothing has to be kept for backward: a backend may also supply ``run_direction_inference(x, h0, c0,
weights) -> (outputs (T, B, P), c_n (B, H))``, which keeps no activations and no cell state but the
last. It is used when every row runs all T steps (with variable lengths each row's last cell state
is at a different step, so the full run_direction is used).
"""
from typing import NamedTuple, Optional

import torch
import torch.nn.functional as F

from .sequences import dropout_packed, last_step, reverse_time


class DirectionWeights(NamedTuple):
    """Parameters of one layer and direction, in torch's layout."""
    weight_ih: torch.Tensor                  # (4H, I)  rows ordered i, f, g, o
    weight_hh: torch.Tensor                  # (4H, P)
    bias_ih: Optional[torch.Tensor] = None   # (4H,)
    bias_hh: Optional[torch.Tensor] = None   # (4H,)
    weight_hr: Optional[torch.Tensor] = None  # (P, H)  projection, only when proj_size > 0


def parameter_shapes(input_size, hidden_size, proj_size, num_directions, bias, layer):
    """kind -> shape of one layer's parameters (each direction's are the same), in registration order:
    weight_ih (4H, I_l) with I_0 = input_size and I_l = D·P after, weight_hh (4H, P), the biases (4H,),
    weight_hr (P, H) with a projection."""
    recurrent = proj_size if proj_size > 0 else hidden_size                    # P
    inputs = input_size if layer == 0 else recurrent * num_directions
    shapes = {"weight_ih": (4 * hidden_size, inputs), "weight_hh": (4 * hidden_size, recurrent)}
    if bias:
        shapes.update(bias_ih=(4 * hidden_size,), bias_hh=(4 * hidden_size,))
    if proj_size > 0:
        shapes["weight_hr"] = (proj_size, hidden_size)
    return shapes


def direction_weights(module, layer, direction=0):
    """The DirectionWeights of one layer and direction of an lstmlab.LSTM or a torch.nn.LSTM."""
    suffix = f"_l{layer}" + ("_reverse" if direction == 1 else "")
    return DirectionWeights(*(getattr(module, kind + suffix, None) for kind in DirectionWeights._fields))


def gradients_wanted(x, h0, c0, weights):
    """Will autograd need anything from this forward pass?"""
    if not torch.is_grad_enabled():
        return False
    tensors = [x, h0, c0] + [t for w in weights for t in w if t is not None]
    return any(t.requires_grad for t in tensors)


def transformed_or_compiled():
    """Inside torch.compile or a torch.func transform, the autograd.Function path is the one they know."""
    return torch.compiler.is_compiling() or torch._C._are_functorch_transforms_active() or recorded()


def recorded():
    """Inside torch.export or torch.jit.trace, which record the ops a call runs into a graph of their own.
    (torch.compiler.is_exporting is new in torch 2.6; lstmlab takes torch >= 2.4.)"""
    is_exporting = getattr(torch.compiler, "is_exporting", None)
    return (is_exporting is not None and is_exporting()) or torch.jit.is_tracing()


def run_layers(run_direction, x, h0, c0, weights, num_directions, dropout=0.0, training=False, lengths=None,
               run_direction_inference=None, saves_outputs=False):
    """Run a stack of LSTM layers.

    run_direction(x, h0, c0, weights) -> (outputs (T, B, P), cell_states (T, B, H)): one recurrence.
    x: (T, B, I); h0: (L·D, B, P); c0: (L·D, B, H); weights: L·D DirectionWeights, layer-major;
    lengths: (B,) per-row lengths (non-increasing) or None when every row runs all T steps. B may be 0.
    run_direction_inference: the backend's path that keeps nothing for backward, or None (see above).
    saves_outputs: run_direction's autograd.Function keeps the outputs it returns for its backward.
    Returns output (T, B, D·P), h_n (L·D, B, P), c_n (L·D, B, H).
    """
    num_layers = len(weights) // num_directions
    if x.size(1) == 0 or recorded():
        # An empty batch (B = 0), as torch.nn.LSTM allows: a backend's own recurrence would launch work
        # on nothing (a Triton grid of no programs, a C++ split of no rows). The textbook loop on
        # (T, 0, ·) tensors gives torch's answer: empty outputs and states, zero gradients for every weight.
        # torch.export and jit.trace get the textbook loop too: the C++ loops and Triton kernels are opaque
        # ops to them (no shape functions; jit's tracer refuses the C++ op's optional output), its ops are not.
        from .backends.cell_loop import run_direction
        run_direction_inference, saves_outputs = None, False
    inference = (run_direction_inference is not None and lengths is None
                 and not gradients_wanted(x, h0, c0, weights) and not transformed_or_compiled())
    layer_input = x                                                        # (T, B, I)
    final_h, final_c = [], []
    for layer in range(num_layers):
        direction_outputs = []
        for direction in range(num_directions):
            k = layer * num_directions + direction                        # torch's h_n index
            backward = direction == 1
            sequence = reverse_time(layer_input, lengths) if backward else layer_input
            if inference:
                outputs, c_last = run_direction_inference(sequence, h0[k], c0[k], weights[k])   # (T, B, P), (B, H)
                final_c.append(c_last)
            else:
                outputs, cell_states = run_direction(sequence, h0[k], c0[k], weights[k])  # (T, B, P), (T, B, H)
                final_c.append(last_step(cell_states, lengths))            # (B, H)
            final_h.append(last_step(outputs, lengths))                    # (B, P)
            direction_outputs.append(reverse_time(outputs, lengths) if backward else outputs)
        layer_output = torch.cat(direction_outputs, dim=2) if num_directions == 2 else direction_outputs[0]
        is_last = layer == num_layers - 1
        if dropout > 0 and training and not is_last:
            # Same call, same place and same shape as torch's native LSTM on the CPU: seeded masks agree
            # (cuDNN, on a GPU, draws its own).
            layer_output = F.dropout(layer_output, dropout, training=True) if lengths is None else \
                dropout_packed(layer_output, lengths, dropout)              # torch drops the packed (N, F) rows
        layer_input = layer_output                                         # (T, B, D·P)
    if saves_outputs and not inference and num_directions == 1 and lengths is None and layer_input.requires_grad:
        # The caller gets the very tensor the last layer's Function saved for backward: an in-place edit
        # of it (out.relu_(), out += skip) would fail backward's version check, where torch's float64 loop
        # takes it. A copy of (T, B, P) — at most a sixth of what the Function keeps — is the caller's to edit.
        layer_input = layer_input.clone()
    return layer_input, torch.stack(final_h), torch.stack(final_c)
