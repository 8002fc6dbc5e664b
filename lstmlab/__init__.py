"""lstmlab: the LSTM from the equations to a GPU kernel, each step proven equal to PyTorch's.

    lstmlab.LSTMCell   a from-scratch twin of torch.nn.LSTMCell
    lstmlab.LSTM       a twin of torch.nn.LSTM with interchangeable backends (see available_backends())

The names below are imported on first use (lstmlab/lazy.py): ``import lstmlab`` alone loads no torch, so the
pytest plugin that pytest imports in every run of an environment where lstmlab is installed costs
nothing until it is asked for (it cost ~2 s of torch imports per run).
"""
from .lazy import lazy_names

_WHERE = {"LSTM": ".lstm", "LSTMCell": ".cell", "lstm_cell": ".cell", "available_backends": ".backends",
          "inspect": ".inspection", "plot_trace": ".inspection", "Trace": ".inspection"}

__all__ = ["LSTM", "LSTMCell", "lstm_cell", "available_backends", "inspect", "plot_trace", "Trace"]
__version__ = "0.1.0"

__getattr__, __dir__ = lazy_names(__name__, _WHERE, __all__)
