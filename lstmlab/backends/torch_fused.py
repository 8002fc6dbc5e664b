"""Backend "torch": torch's own fused LSTM op on lstmlab's parameters — the reference.

It runs the whole stack in one call, as torch.nn.LSTM does (cuDNN does all layers at once),
so it is timed exactly as torch users experience it. Never picked by "auto".
"""
import torch
from torch import _VF


# Under torch.compile the op runs eagerly, between two graphs, as it does for torch.nn.LSTM (dynamo does
# not trace RNN modules): traced, the CPU float32 op (oneDNN's mkldnn_rnn_layer) failed in inductor
# ("expected Tensor() for op: aten.mkldnn_rnn_layer"), and an empty batch killed the process (SIGFPE).
@torch.compiler.disable
def run_stack(lstm, x, batch_sizes, hx):
    """x: (T, B, I) time-major, or packed data (N, I) with batch_sizes -> output, h_n, c_n."""
    weights = lstm._flat_weights
    if batch_sizes is None:
        output, h_n, c_n = _VF.lstm(x, hx, weights, lstm.bias, lstm.num_layers, lstm.dropout,
                                    lstm.training, lstm.bidirectional, False)
    else:
        output, h_n, c_n = _VF.lstm(x, batch_sizes, hx, weights, lstm.bias, lstm.num_layers,
                                    lstm.dropout, lstm.training, lstm.bidirectional)
    return output, h_n, c_n
