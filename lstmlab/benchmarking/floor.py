"""The floor under every variant: a step's arithmetic at this machine's measured GEMM rate.

No LSTM step can take less time than its matrix products done at the speed of one big, well-fed
GEMM (the elementwise gate math is left out: the floor is a lower bound). The benchmark report draws
it as a line under the measured times, so a reader sees how far each variant is from the limit.

Multiply-adds of one step, for L layers (I_0 = I, I_l = H), batch B, hidden H:
    forward           Σ_l B · 4H · (I_l + H)
    forward+backward  3 × forward   (dgates → dh, dx: one product like forward's; dW: one more)
    generation        forward + the feedback map H → I
"""
import statistics
import time

import torch

_rates = {}


def gemm_gflops(dtype=torch.float32, device="cpu", size=1024, repeats=5):
    """Measured FLOP/s (×1e9) of a (size × size) @ (size × size) product, with torch's current threads."""
    key = (dtype, str(device), size, torch.get_num_threads())
    if key not in _rates:
        a = torch.randn(size, size, dtype=dtype, device=device)
        b = torch.randn(size, size, dtype=dtype, device=device)
        sync = torch.cuda.synchronize if a.is_cuda else (lambda: None)
        a @ b                                                         # warm-up
        sync()
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            a @ b
            sync()
            times.append(time.perf_counter() - start)
        _rates[key] = 2 * size ** 3 / statistics.median(times) / 1e9
    return _rates[key]


def multiply_adds_per_step(mode, batch, hidden, input_size, layers):
    forward = sum(batch * 4 * hidden * ((input_size if l == 0 else hidden) + hidden) for l in range(layers))
    if mode == "forward":
        return forward
    if mode == "forward+backward":
        return 3 * forward
    if mode == "generation":
        return forward + batch * hidden * input_size
    raise ValueError(f"unknown mode {mode!r}")


def floor_us_per_step(mode, batch, hidden, input_size, layers, gflops):
    """µs per step of the arithmetic alone at ``gflops``."""
    return 2 * multiply_adds_per_step(mode, batch, hidden, input_size, layers) / (gflops * 1e9) * 1e6
