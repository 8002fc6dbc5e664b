"""lstmlab: the LSTM from the equations to a GPU kernel, each step proven equal to PyTorch's.

    lstmlab.LSTMCell   a from-scratch twin of torch.nn.LSTMCell
    lstmlab.LSTM       a twin of torch.nn.LSTM with interchangeable backends (see available_backends())

The names below are imported on first use (PEP 562): ``import lstmlab`` alone loads no torch, so the
pytest plugin that pytest imports in every run of an environment where lstmlab is installed costs
nothing until it is asked for (it cost ~2 s of torch imports per run).
"""
import importlib

_WHERE = {"LSTM": ".lstm", "LSTMCell": ".cell", "lstm_cell": ".cell", "available_backends": ".backends",
          "inspect": ".inspection", "plot_trace": ".inspection", "Trace": ".inspection"}

__all__ = ["LSTM", "LSTMCell", "lstm_cell", "available_backends", "inspect", "plot_trace", "Trace"]
__version__ = "0.1.0"


def __getattr__(name):
    if name in _WHERE:
        value = getattr(importlib.import_module(_WHERE[name], __name__), name)
        globals()[name] = value                        # once: later lookups do not come back here
        return value
    try:                                               # a submodule, as before: lstmlab.backends.BACKENDS
        return importlib.import_module(f".{name}", __name__)
    except ModuleNotFoundError as error:
        if error.name != f"{__name__}.{name}":
            raise
    raise AttributeError(f"module 'lstmlab' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
