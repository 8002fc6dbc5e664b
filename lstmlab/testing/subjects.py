"""What is checked (a Subject: a step function, a cell-like or LSTM-like module or factory) and torch's twins.

A factory is called like torch's constructor — ``factory(input_size, hidden_size, **options)``, with only
the options that differ from torch's defaults — then moved with ``.to(device, dtype)``; a module
instance is deep-copied per case and checked on its own options only.
"""
import copy
import inspect as pyinspect

import torch

from . import runner
from .cases import Case, Supports


def _is_module_class(obj):
    return pyinspect.isclass(obj) and issubclass(obj, torch.nn.Module)


def _positional_count(fn):
    try:
        parameters = pyinspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return None
    return sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty for p in parameters)


def _module_kind(module):
    return "lstm" if hasattr(module, "num_layers") else "cell"


class Subject:
    """A user's implementation, ready to be run on Cases.

    obj: a step function step(x, (h, c), weights) -> (h, c); an LSTMCell- or LSTM-like module class or
    factory; or a module instance. kind: "step", "cell" or "lstm" (found from obj when None).
    layout: fn(weights under torch's names) -> {the module's parameter name: tensor}, differentiable
    (transpose, chunk, cat ...); None when the module uses torch's names and layout.
    """

    def __init__(self, obj, kind=None, layout=None, supports=None, name=None):
        if isinstance(obj, str):
            obj = load_object(obj)
        if not callable(obj):
            raise TypeError(f"subject: expected a step function, a module class/factory or a module, got {obj!r}")
        self.obj = obj
        self.name = name or getattr(obj, "__qualname__", None) or type(obj).__name__
        self.layout = layout if layout is not None else getattr(obj, "lstm_layout", None)
        self.instance = obj if isinstance(obj, torch.nn.Module) else None
        self.kind = kind or self._find_kind()
        if self.kind not in ("step", "cell", "lstm"):
            raise ValueError(f"kind: expected 'step', 'cell' or 'lstm', got {self.kind!r}")
        self._check_kind_matches(kind)
        claims = supports if supports is not None else getattr(obj, "lstm_supports", None)
        if isinstance(claims, dict):
            claims = (Supports.for_step(**claims) if self.kind == "step" else Supports(**claims))
        # None: the defaults; anything else must be a Supports (False or 0 read as "claims everything")
        self.supports = (Supports.for_step() if self.kind == "step" else Supports()) if claims is None else claims
        if not isinstance(self.supports, Supports):
            raise TypeError(f"supports: expected a lstmlab.testing.Supports or a dict of its fields, "
                            f"got {type(self.supports).__name__}")

    def _check_kind_matches(self, kind):
        """A module given where a step function is asked for, or one of torch's cells for an LSTM (or the
        other way round): say so, not a parameter-name mismatch. A kind the caller gives for their own
        module is trusted (a wrapper LSTM need not have num_layers)."""
        is_module = self.instance is not None or _is_module_class(self.obj)
        if kind == "step" and is_module:
            raise TypeError(f"check_step takes a step function step(x, (h, c), weights) -> (h, c); {self.name} is a "
                            "torch.nn.Module: use check_cell (an LSTMCell-like module) or check_lstm")
        cls = type(self.instance) if self.instance is not None else self.obj if is_module else None
        found = "cell" if cls is not None and issubclass(cls, torch.nn.RNNCellBase) else \
            "lstm" if cls is not None and issubclass(cls, torch.nn.RNNBase) else None
        if kind in ("cell", "lstm") and found is not None and found != kind:
            names = {"cell": "an LSTMCell-like module", "lstm": "an LSTM-like module"}
            raise TypeError(f"check_{kind} expects {names[kind]}; {self.name} is {names[found]} (a torch.nn."
                            f"{'RNNCellBase' if found == 'cell' else 'RNNBase'}): use check_{found}")

    def _find_kind(self):
        if self.instance is not None:
            return _module_kind(self.instance)
        if not _is_module_class(self.obj) and _positional_count(self.obj) == 3:
            return "step"
        try:
            probe = self.obj(5, 4)
        except Exception as error:
            raise TypeError(f"{self.name}: could not tell what it is. A step function takes (x, (h, c), weights) "
                            f"and a module factory (input_size, hidden_size), but {self.name}(5, 4) raised "
                            f"{type(error).__name__}: {error}; pass kind='step', 'cell' or 'lstm'") from error
        if not isinstance(probe, torch.nn.Module):
            raise TypeError(f"{self.name}: expected a factory returning a torch.nn.Module (or a step function "
                            f"step(x, (h, c), weights)), but {self.name}(5, 4) returned {type(probe).__name__}")
        return _module_kind(probe)

    def base_case(self):
        """For a module instance: the one option set it has (sizes and options read from it)."""
        m = self.instance
        if m is None:
            return None
        sizes = self._sizes_from_weights(m) if not (hasattr(m, "input_size") and hasattr(m, "hidden_size")) else {}
        read = lambda name, default: sizes[name] if name in sizes else getattr(m, name, default)   # noqa: E731
        return Case(kind=self.kind, input_size=read("input_size", None), hidden_size=read("hidden_size", None),
                    num_layers=read("num_layers", 1), bidirectional=read("bidirectional", False),
                    proj_size=read("proj_size", 0), bias=read("bias", True),
                    batch_first=read("batch_first", False))

    def _sizes_from_weights(self, m):
        """An instance without torch's size attributes (a wrapper module): its sizes and options read from its
        parameters, found under torch's names through its layout hook."""
        suffixes = [""] if self.kind == "cell" else [f"_l{k}{r}" for k in range(64) for r in ("", "_reverse")]
        torch_names = [kind + suffix for suffix in suffixes for kind in ("weight_ih", "weight_hh", "bias_ih", "weight_hr")]
        own = dict(m.named_parameters())
        try:
            mapped = self.layout({name: name for name in torch_names}) if self.layout is not None else \
                {name: name for name in torch_names}
            found = {torch_name: own[name] for name, torch_name in mapped.items()
                     if isinstance(torch_name, str) and name in own}
        except Exception:                         # a layout that computes on its tensors: nothing to read here
            found = {}
        first = "weight_ih" if self.kind == "cell" else "weight_ih_l0"
        if first not in found:
            raise TypeError(f"{self.name}: a module instance needs input_size and hidden_size attributes (as torch's "
                            f"have) to say which sizes to check, and its {first} was not found under torch's name "
                            "(or through its layout hook); give it those attributes, or pass its class")
        four_h, input_size = found[first].shape
        sizes = {"input_size": input_size, "hidden_size": four_h // 4, "bias": any(n.startswith("bias") for n in found)}
        inner = next((module for module in m.modules() if isinstance(module, torch.nn.RNNBase)), None)
        if inner is not None:                     # torch's LSTM inside: its layout of time and batch
            sizes["batch_first"] = inner.batch_first
        if self.kind != "cell":
            sizes["num_layers"] = sum(f"weight_ih_l{k}" in found for k in range(64))
            sizes["bidirectional"] = "weight_ih_l0_reverse" in found
            sizes["proj_size"] = found["weight_hr_l0"].shape[0] if "weight_hr_l0" in found else 0
        return sizes

    def build(self, case, dtype=None, device=None):
        """A module for ``case`` (kinds cell and lstm), on the case's device and dtype."""
        dtype = dtype or case.torch_dtype
        device = device or case.device
        if self.instance is not None:
            module = copy.deepcopy(self.instance)
        else:
            options = case.constructor_options()
            if self.kind == "cell":
                options = {"bias": False} if not case.bias else {}
            module = self.obj(case.input_size, case.hidden_size, **options)
            if not isinstance(module, torch.nn.Module):
                raise TypeError(f"{self.name}: expected a torch.nn.Module, got {type(module).__name__}")
        return module.to(device=device, dtype=dtype)

    def stepper(self, case, dtype=None, device=None):
        if self.kind == "step":
            return runner.function_stepper(self.obj)
        return runner.module_stepper(self.build(case, dtype, device), self.layout)

    def run(self, case, inputs, dtype=None, device=None):
        dtype = dtype or case.torch_dtype
        device = device or case.device
        if self.kind == "lstm":
            return runner.run_lstm(self.build(case, dtype, device), self.layout, case, inputs, dtype, device)
        return runner.run_stepper(self.stepper(case, dtype, device), case, inputs, dtype, device)


def load_object(spec):
    """"package.module:Name" -> the object."""
    import importlib

    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise ValueError(f"expected 'package.module:Name', got {spec!r}")
    obj = importlib.import_module(module_name)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


# --- torch's twins ---------------------------------------------------------------------------------
def torch_subject(kind):
    """torch.nn.LSTM / torch.nn.LSTMCell: the reference, in float64, and the first error-scale twin."""
    factory = torch.nn.LSTM if kind == "lstm" else torch.nn.LSTMCell
    return Subject(factory, kind="lstm" if kind == "lstm" else "cell", name=factory.__name__)


def textbook_subject(kind):
    """lstmlab's textbook cell (torch ops, one per equation): the second error-scale twin."""
    import lstmlab

    if kind == "lstm":
        return Subject(lambda *a, **k: lstmlab.LSTM(*a, backend="cell", **k), kind="lstm", name="textbook")
    return Subject(lstmlab.LSTMCell, kind="cell", name="textbook")
