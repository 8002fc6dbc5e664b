"""lstmlab: the LSTM from the equations to a GPU kernel, each step proven equal to PyTorch's.

    lstmlab.LSTMCell   a from-scratch twin of torch.nn.LSTMCell
    lstmlab.LSTM       a twin of torch.nn.LSTM with interchangeable backends (see available_backends())
"""
from .backends import available_backends
from .cell import LSTMCell, lstm_cell
from .inspection import Trace, inspect, plot_trace
from .lstm import LSTM

__all__ = ["LSTM", "LSTMCell", "lstm_cell", "available_backends", "inspect", "plot_trace", "Trace"]
__version__ = "0.1.0"
