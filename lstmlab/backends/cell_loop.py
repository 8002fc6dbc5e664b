"""Backend "cell": the textbook loop — the from-scratch cell at every time step.

Autograd records every step and does backpropagation through time by itself. Slow (one small
graph per step) but obviously right: the spec every faster backend is checked against.
"""
import torch

from ..cell import lstm_cell


def loop_over_time(cell, last_cell_state_only=False):
    """The textbook loop around any one-step ``cell`` with lstm_cell's signature. With
    last_cell_state_only (inference: no gradient wanted) it returns c_n (B, H) instead of every c_t."""

    def run_direction(x, h0, c0, weights):
        """x: (T, B, I), h0: (B, P), c0: (B, H) -> outputs (T, B, P), cell_states (T, B, H) (or c_n)."""
        h, c = h0, c0
        outputs, cell_states = [], []
        for x_t in x.unbind(0):                                          # x_t: (B, I)
            h, c = cell(x_t, h, c, weights.weight_ih, weights.weight_hh, weights.bias_ih, weights.bias_hh)
            if weights.weight_hr is not None:
                h = h @ weights.weight_hr.T                               # (B, P) projection h = W_hr h
            outputs.append(h)
            if not last_cell_state_only:
                cell_states.append(c)
        return torch.stack(outputs), (c if last_cell_state_only else torch.stack(cell_states))

    return run_direction


run_direction = loop_over_time(lstm_cell)
run_direction_inference = loop_over_time(lstm_cell, last_cell_state_only=True)
