"""Benchmark presets: which variants, modes, shapes and dtypes a run covers."""
import dataclasses
import itertools
from dataclasses import dataclass
from typing import Tuple

MODES = ("forward", "forward+backward", "generation")
# "fused": lstmlab.rollout's generation in one call (generation only): one C++ call for all generated steps
# on the CPU, replays of a CUDA graph of the step loop on a GPU.
CPU_VARIANTS = ("torch", "cell", "bptt", "bptt-python", "compile", "fused")
GPU_VARIANTS = ("torch", "cell", "bptt", "triton", "persistent", "compile", "cudagraph", "fused")
# variants timed in one mode only: the fused rollout generates, the CUDA-graph variant times inference
ONLY_MODE = {"fused": "generation", "cudagraph": "forward"}


@dataclass(frozen=True)
class Case:
    """One measured configuration. I = H unless input_size is given (the sine shape has I = 1)."""
    variant: str
    mode: str
    steps: int          # T (for generation: steps generated)
    batch: int          # B
    hidden: int         # H
    input_size: int     # I
    layers: int
    dtype: str          # "float32" | "bfloat16"
    device: str         # "cpu" | "cuda"

    @property
    def id(self):
        return (f"{self.variant}-{self.mode}-{self.dtype}-L{self.layers}-T{self.steps}-B{self.batch}-"
                f"I{self.input_size}-H{self.hidden}")


@dataclass(frozen=True)
class Preset:
    name: str
    device: str
    variants: Tuple[str, ...]
    modes: Tuple[str, ...]
    hidden: Tuple[int, ...]
    batch: Tuple[int, ...]
    steps: Tuple[int, ...]
    layers: Tuple[int, ...]
    dtypes: Tuple[str, ...]
    sine_shape: bool = True     # also I = 1, H = 51, 2 layers (the sine model), B from `batch`
    rounds: int = 10

    def cases(self):
        # The variant is the innermost loop: every variant of one shape runs back to back, so a ratio
        # to torch compares timings taken minutes apart at most, not hours (machines drift).
        for mode, dtype, layers, steps, batch, hidden, variant in itertools.product(
                self.modes, self.dtypes, self.layers, self.steps, self.batch, self.hidden, self.variants):
            yield Case(variant, mode, steps, batch, hidden, hidden, layers, dtype, self.device)
        if self.sine_shape:
            for mode, dtype, steps, batch, variant in itertools.product(
                    self.modes, self.dtypes, self.steps, self.batch, self.variants):
                yield Case(variant, mode, steps, batch, 51, 1, 2, dtype, self.device)


PRESETS = {p.name: p for p in [
    # make test: tiny, every variant that runs here, so the suite cannot rot.
    Preset("smoke", "cpu", CPU_VARIANTS, MODES, (8,), (2,), (5,), (1,), ("float32",), sine_shape=False, rounds=2),
    Preset("cpu-quick", "cpu", CPU_VARIANTS, MODES, (32, 128, 256), (16, 64), (100,), (1,), ("float32",), rounds=10),
    Preset("cpu-full", "cpu", CPU_VARIANTS, MODES, (32, 64, 128, 256, 512), (1, 16, 64, 256), (100, 1024),
           (1, 2), ("float32",), rounds=5),
    Preset("gpu-quick", "cuda", GPU_VARIANTS, MODES, (64, 128, 256, 512), (16, 64), (100,), (1,),
           ("float32", "bfloat16"), rounds=20),
    # Issue 13's race with cuDNN: B=16, T=1024, H=256 fp32/bf16 and bf16 H=1024 (run by `make gpu`).
    Preset("gpu-race", "cuda", ("torch", "triton", "persistent"), ("forward", "forward+backward"), (256, 1024), (16,),
           (1024,), (1,), ("float32", "bfloat16"), sine_shape=False, rounds=20),
    Preset("gpu-full", "cuda", GPU_VARIANTS, MODES, (32, 64, 128, 256, 512), (1, 16, 64, 256), (100, 1024),
           (1, 2), ("float32", "bfloat16"), rounds=20),
]}


def get_preset(name, variants=None, modes=None):
    """The preset ``name``, optionally cut down to some of its variants and modes (comma-separated or a
    sequence): e.g. cpu-full for torch and bptt only, the two the training target compares, in minutes
    instead of the hours the slow textbook variants take."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of: {', '.join(PRESETS)}")
    preset = PRESETS[name]
    return dataclasses.replace(preset, variants=_subset(variants, preset.variants, "variant", name),
                               modes=_subset(modes, preset.modes, "mode", name))


def _subset(chosen, available, what, preset_name):
    if chosen is None:
        return available
    names = [n.strip() for n in chosen.split(",")] if isinstance(chosen, str) else list(chosen)
    unknown = [n for n in names if n not in available]
    if unknown or not names:
        raise ValueError(f"expected {what}s of preset {preset_name!r} ({', '.join(available)}), given {chosen!r}")
    return tuple(n for n in available if n in names)          # the preset's order, each once
