"""Look inside an LSTM: the gates, cell state and hidden state of every step, layer and direction.

    traces = lstmlab.inspect(lstm, x)         # x: (T, B, I), or (B, T, I) with batch_first
    traces[layer][direction].f                # (T, B, H) forget gate at every step
    lstmlab.plot_trace(traces[0][0], path)    # heat maps of i, f, g, o, c, h for one sequence

It re-runs the model with the from-scratch cell's equations (on the model's own weights, through the
same layer/direction plumbing as every backend, dropout off), recording what each step computes.
For a reversed direction, step k is input time T − 1 − k.
"""
from typing import NamedTuple

import torch

from .layers import direction_weights, run_layers


class Trace(NamedTuple):
    """One layer and direction, each (T, B, H) (h: (T, B, P) with a projection), in the direction's step order."""
    i: torch.Tensor
    f: torch.Tensor
    g: torch.Tensor
    o: torch.Tensor
    c: torch.Tensor
    h: torch.Tensor


@torch.no_grad()
def inspect(lstm, x, hx=None):
    """Per layer, per direction, the Trace of a forward pass of ``lstm`` (an lstmlab.LSTM or torch.nn.LSTM)."""
    if lstm.batch_first:
        x = x.transpose(0, 1)
    directions = 2 if lstm.bidirectional else 1
    layers = lstm.num_layers * directions
    batch = x.size(1)
    projected = lstm.proj_size or lstm.hidden_size
    h0, c0 = hx if hx is not None else (x.new_zeros(layers, batch, projected), x.new_zeros(layers, batch, lstm.hidden_size))
    traces = []

    def recording_run_direction(sequence, h, c, weights):
        steps = {name: [] for name in Trace._fields}
        for x_t in sequence.unbind(0):
            gates = x_t @ weights.weight_ih.T + h @ weights.weight_hh.T                 # (B, 4H) i, f, g, o
            if weights.bias_ih is not None:
                gates = gates + weights.bias_ih + weights.bias_hh
            i_pre, f_pre, g_pre, o_pre = gates.chunk(4, dim=1)
            i, f, g, o = i_pre.sigmoid(), f_pre.sigmoid(), g_pre.tanh(), o_pre.sigmoid()
            c = f * c + i * g                                                            # c' = f ⊙ c + i ⊙ g
            h = o * c.tanh()                                                             # h' = o ⊙ tanh(c')
            if weights.weight_hr is not None:
                h = h @ weights.weight_hr.T
            for name, value in zip(Trace._fields, (i, f, g, o, c, h)):
                steps[name].append(value)
        trace = Trace(*(torch.stack(steps[name]) for name in Trace._fields))
        traces.append(trace)
        return trace.h, trace.c

    weights = [direction_weights(lstm, layer, direction)
               for layer in range(lstm.num_layers) for direction in range(directions)]
    run_layers(recording_run_direction, x, h0, c0, weights, directions)
    return [traces[layer * directions:(layer + 1) * directions] for layer in range(lstm.num_layers)]


def plot_trace(trace, path=None, sequence=0, title=None):
    """Heat maps (time × unit) of i, f, g, o, c and h for one sequence of a Trace; returns the figure."""
    import matplotlib
    if path is not None:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(Trace._fields), 1, figsize=(10, 1.6 * len(Trace._fields)), sharex=True)
    limits = {"i": (0, 1), "f": (0, 1), "o": (0, 1), "g": (-1, 1), "h": (-1, 1), "c": (None, None)}
    for ax, name in zip(axes, Trace._fields):
        values = getattr(trace, name)[:, sequence].T.cpu().numpy()                      # (H, T)
        low, high = limits[name]
        image = ax.imshow(values, aspect="auto", cmap="coolwarm" if low != 0 else "viridis", vmin=low, vmax=high)
        ax.set_ylabel(name)
        fig.colorbar(image, ax=ax, pad=0.01)
    axes[-1].set_xlabel("time step")
    fig.suptitle(title or "gates, cell and hidden state")
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=90)
        plt.close(fig)
    return fig
