"""The battery: which option sets a subject is checked on, built from what it claims to support.

A Case is one option set (torch's constructor options, an input form, a dtype, a device) and the
sizes to run it at. The battery runs the simplest cases first, float64 first, so the first case that
fails is the simplest one that shows the bug.
"""
import numbers
from dataclasses import dataclass, field, fields, replace

import numpy as np
import torch

# inputs this many times N(0, 1): pre-activations of thousands, past where exp overflows in float64 (709):
# a naive sigmoid or tanh, exp(t) / (1 + exp(t)), gives inf / inf = NaN there; torch's never does.
# Checked in float64 and float32 (bfloat16 overflows where float32 does, and its rounding at this scale
# would leave the tolerance no edge)
SATURATING = 1000.0
SATURATED_DTYPES = ("float64", "float32")
DTYPES = {"float64": torch.float64, "float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
FORMS = ("batched", "unbatched", "packed")
# every size 1: a squeeze() or a reshape that assumes more than one row, step, feature or unit passes at the
# other cases' sizes and fails here (a module returning (T, H) for a batch of one passed every case before)
SIZES_OF_ONE = dict(input_size=1, hidden_size=1, steps=1, batch=1)


@dataclass(frozen=True)
class Supports:
    """What a subject claims. Options it does not claim are not checked (and not counted as passing).

    num_layers: the most layers to check (1: single-layer only). dtypes / devices: names; "cuda"
    cases run only where torch.cuda.is_available(). torch_init: its own initial parameters are
    U(−1/√H, 1/√H) like torch's; same_init_as_torch: and the very same numbers for the same seed.
    """
    num_layers: int = 2
    bidirectional: bool = True
    proj_size: bool = True
    bias_false: bool = True
    batch_first: bool = True
    unbatched: bool = True
    packed: bool = True
    dropout_arg: bool = True
    zero_state: bool = True
    dtypes: tuple = ("float64", "float32", "bfloat16")
    devices: tuple = ("cpu", "cuda")
    torch_init: bool = True
    same_init_as_torch: bool = False

    def __post_init__(self):
        flags = [f.name for f in fields(self) if f.type in (bool, "bool")]
        for name in flags:                   # "no" or 2 would silently read as True: a claim is a bool
            value = getattr(self, name)
            if isinstance(value, np.bool_):  # numpy's bool (from a config read with numpy) is one
                object.__setattr__(self, name, bool(value))
            elif not isinstance(value, bool):
                what = " (whether the module takes proj_size, not its value)" if name == "proj_size" else ""
                raise TypeError(f"Supports.{name}: expected True or False{what}, got {value!r}")
        for name in ("dtypes", "devices"):   # a bare string would be read letter by letter
            value = getattr(self, name)
            if not isinstance(value, (tuple, list)):
                example = f", e.g. ({value!r},)" if isinstance(value, str) else ""
                raise TypeError(f"Supports.{name}: expected a tuple of names{example}, got {value!r}")
        if not self.dtypes:
            raise ValueError("Supports.dtypes: expected at least one dtype name, got none")
        unknown = [d for d in self.dtypes if d not in DTYPES]
        if unknown:
            raise ValueError(f"Supports.dtypes: expected names from {sorted(DTYPES)}, got {unknown}")
        unknown = [d for d in self.devices if d not in ("cpu", "cuda")]
        if unknown:
            raise ValueError(f"Supports.devices: expected 'cpu' and/or 'cuda', got {unknown}")
        if isinstance(self.num_layers, bool) or not isinstance(self.num_layers, numbers.Integral) or self.num_layers < 1:
            raise ValueError(f"Supports.num_layers: expected an int >= 1, got {self.num_layers!r}")

    @classmethod
    def for_step(cls, **claims):
        """Defaults for a step function: batched input, with biases (a learner's first cell)."""
        defaults = dict(bias_false=False, unbatched=False, zero_state=False, torch_init=False)
        return cls(**{**defaults, **claims})


@dataclass(frozen=True)
class Case:
    """One option set. ``kind`` is what is checked: "step", "cell", "lstm", or "init" (the initial weights)."""
    kind: str = "lstm"
    num_layers: int = 1
    bidirectional: bool = False
    proj_size: int = 0
    bias: bool = True
    batch_first: bool = False
    form: str = "batched"                # batched, unbatched or packed (unsorted lengths)
    dropout_arg: bool = False            # pass dropout=0.0 and run in training mode
    dropout_eval: bool = False           # pass dropout=0.5 and run in eval mode: no dropout may act
    saturated: bool = False              # inputs ×SATURATING: every gate at 0 or 1, exp(±t) overflows
    zero_state: bool = False             # no initial state given: zeros
    dtype: str = "float64"
    device: str = "cpu"
    input_size: int = 5
    hidden_size: int = 4
    steps: int = 5
    batch: int = 3
    seed: int = 0
    label: str = field(default="", compare=False)

    @property
    def torch_dtype(self):
        return DTYPES[self.dtype]

    @property
    def num_directions(self):
        return 2 if self.bidirectional else 1

    @property
    def real_hidden_size(self):
        return self.proj_size or self.hidden_size

    @property
    def lengths(self):
        """Per-sequence lengths of the packed form: unsorted, the longest is ``steps``."""
        return [max(1, self.steps - (3 * b) % (self.steps + 1)) if b else self.steps for b in range(self.batch)][::-1]

    def constructor_options(self):
        """torch's keyword arguments for this case (only those that differ from the defaults)."""
        options = {}
        if self.num_layers != 1:
            options["num_layers"] = self.num_layers
        if not self.bias:
            options["bias"] = False
        if self.kind == "lstm":
            if self.batch_first:
                options["batch_first"] = True
            if self.dropout_arg:
                options["dropout"] = 0.0
            if self.dropout_eval:
                options["dropout"] = 0.5
            if self.bidirectional:
                options["bidirectional"] = True
            if self.proj_size:
                options["proj_size"] = self.proj_size
        return options

    @property
    def id(self):
        """A readable pytest id, e.g. "lstm-float64-cpu-layers2-bi-proj3-packed"."""
        parts = [self.kind, self.dtype, self.device]
        if self.num_layers != 1:
            parts.append(f"layers{self.num_layers}")
        parts += [name for name, on in [("bi", self.bidirectional), ("nobias", not self.bias),
                                        ("batch_first", self.batch_first), ("dropout0", self.dropout_arg),
                                        ("dropout-eval", self.dropout_eval), ("zero-state", self.zero_state),
                                        ("saturated", self.saturated)] if on]
        if self.proj_size:
            parts.append(f"proj{self.proj_size}")
        if self.form != "batched":
            parts.append(self.form)
        if (self.input_size, self.hidden_size, self.steps, self.batch) != (5, 4, 5, 3):
            parts.append(f"I{self.input_size}-H{self.hidden_size}-T{self.steps}-B{self.batch}")
        if self.seed:
            parts.append(f"seed{self.seed}")
        return "-".join(parts)

    def describe(self):
        """The option set in words, for reports."""
        if self.kind == "init":
            return f"init [{self.id}]: the module's own initial parameters (I={self.input_size}, H={self.hidden_size})"
        options = ", ".join(f"{k}={v}" for k, v in self.constructor_options().items()) or "default options"
        state = "no initial state" if self.zero_state else "initial state given"
        mode = "; eval mode" if self.dropout_eval else ""
        scale = f" ×{SATURATING:g} (every gate saturated)" if self.saturated else ""
        return (f"{self.kind} [{self.id}]: {options}{mode}; {self.form} input{scale}; {state}; {self.dtype} on {self.device}; "
                f"I={self.input_size}, H={self.hidden_size}, T={self.steps}, B={self.batch}")


def _devices(supports):
    return [d for d in supports.devices if d == "cpu" or torch.cuda.is_available()]


def option_sets(kind, supports):
    """The option sets (dtype-free Cases) a subject of ``kind`` is checked on, simplest first."""
    base = Case(kind=kind)
    if kind in ("step", "cell"):
        sets = [base]
        if supports.zero_state and kind == "cell":
            sets.append(replace(base, zero_state=True))
        if supports.bias_false:
            sets.append(replace(base, bias=False))
        if supports.unbatched:
            sets.append(replace(base, form="unbatched"))
        sets.append(replace(base, **SIZES_OF_ONE))
        sets.append(replace(base, saturated=True))
        return sets
    if kind != "lstm":
        raise ValueError(f"kind: expected 'step', 'cell' or 'lstm', got {kind!r}")
    sets = [base]
    if supports.zero_state:
        sets.append(replace(base, zero_state=True))
    if supports.num_layers >= 2:
        sets.append(replace(base, num_layers=2))
    if supports.bias_false:
        sets.append(replace(base, bias=False))
    if supports.batch_first:
        sets.append(replace(base, batch_first=True))
    if supports.unbatched:
        sets.append(replace(base, form="unbatched"))
    if supports.bidirectional:
        sets.append(replace(base, bidirectional=True))
    if supports.proj_size:
        sets.append(replace(base, proj_size=3))
    if supports.num_layers >= 2 and supports.bidirectional and supports.proj_size:
        sets.append(replace(base, num_layers=2, bidirectional=True, proj_size=3))
    if supports.packed:
        sets.append(replace(base, form="packed", bidirectional=supports.bidirectional))
    if supports.dropout_arg and supports.num_layers >= 2:
        sets.append(replace(base, num_layers=2, dropout_arg=True))
        sets.append(replace(base, num_layers=2, dropout_eval=True))
    sets.append(replace(base, **SIZES_OF_ONE))
    sets.append(replace(base, saturated=True))
    return sets


def battery(kind, supports=None):
    """Every Case for a subject of ``kind``: each option set in each claimed dtype and device, then the init check."""
    supports = supports or (Supports.for_step() if kind == "step" else Supports())
    cases = [replace(case, dtype=dtype, device=device)
             for device in _devices(supports)
             for dtype in supports.dtypes
             for case in option_sets(kind, supports) if not case.saturated or dtype in SATURATED_DTYPES]
    if kind != "step" and (supports.torch_init or supports.same_init_as_torch):
        cases.append(Case(kind="init", label=kind, bias=True))
    return cases


def fuzz_strategy(kind, supports=None):
    """A hypothesis strategy of random Cases within ``supports`` (imports hypothesis when called)."""
    from hypothesis import strategies as st

    supports = supports or (Supports.for_step() if kind == "step" else Supports())
    devices = _devices(supports)
    dtypes = [d for d in supports.dtypes if d in ("float64", "float32")] or list(supports.dtypes)

    @st.composite
    def cases(draw):
        hidden = draw(st.integers(1, 6))
        is_lstm = kind == "lstm"
        form_choices = ["batched"] + (["unbatched"] if supports.unbatched else []) + \
                       (["packed"] if supports.packed and is_lstm else [])
        return Case(
            kind=kind,
            num_layers=draw(st.integers(1, supports.num_layers)) if is_lstm else 1,
            bidirectional=draw(st.booleans()) if is_lstm and supports.bidirectional else False,
            proj_size=draw(st.integers(0, hidden - 1)) if is_lstm and supports.proj_size else 0,
            bias=draw(st.booleans()) if supports.bias_false else True,
            batch_first=draw(st.booleans()) if is_lstm and supports.batch_first else False,
            form=draw(st.sampled_from(form_choices)),
            zero_state=draw(st.booleans()) if supports.zero_state and kind != "step" else False,
            dtype=draw(st.sampled_from(dtypes)),
            device=draw(st.sampled_from(devices)),
            input_size=draw(st.integers(1, 6)),
            hidden_size=hidden,
            steps=draw(st.integers(1, 6)),
            batch=draw(st.integers(1, 4)),
            seed=draw(st.integers(0, 2**16)),
        )

    return cases()
