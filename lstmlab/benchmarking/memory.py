"""Peak memory of one call, measured where it can be trusted: in a fresh process whose allocator gives
every large block back to the system when it is freed.

Measured in the benchmark's own process, the peak RSS barely moves once a first call has run: glibc
keeps freed blocks (its mmap threshold adapts upwards, up to 32 MiB) and serves the next call from
them, so torch and lstmlab would both show ~0 extra bytes. Here a child process starts with
MALLOC_MMAP_THRESHOLD_ = 64 KiB (fixed: every block from 64 KiB up is its own mapping, returned on
free), runs each module once to warm up, then measures the growth of the peak RSS (VmHWM) during one
more call (lstmlab.benchmarking.variants.peak_memory_bytes). Linux only; None elsewhere.
"""
import json
import os
import subprocess
import sys

CHILD = r"""
import json, sys, torch
import lstmlab
from lstmlab.benchmarking.variants import peak_memory_bytes
spec = json.loads(sys.argv[1])
steps, batch, input_size, hidden = spec["shape"]
options = dict(spec["options"])
dtype = getattr(torch, options.pop("dtype", "float32"))
torch.manual_seed(0)
reference = torch.nn.LSTM(input_size, hidden, dtype=dtype, **options)
ours = lstmlab.LSTM(input_size, hidden, dtype=dtype, backend=spec["backend"], **options)
ours.load_state_dict(reference.state_dict())
x = torch.randn(steps, batch, input_size, dtype=dtype, requires_grad=True)

def call(module):
    if spec["mode"] == "forward":
        with torch.no_grad():
            module(x)
    else:
        output, (h_n, c_n) = module(x)
        (output.sum() + h_n.sum() + c_n.sum()).backward()

peaks = {}
for name, module in (("torch", reference), (spec["backend"], ours)):
    call(module)                                               # warm-up: .grad buffers, lazy set-up
    peaks[name] = peak_memory_bytes(lambda: call(module), "cpu")
print(json.dumps(peaks))
"""


def peak_memory_of_one_call(shape, mode, options=None, backend="bptt", timeout=600):
    """{"torch": bytes, backend: bytes} for one call at (T, B, I, H) = shape, mode "forward" (no_grad) or
    "forward+backward"; options: torch.nn.LSTM keyword arguments (dtype as a name: "float64")."""
    if not sys.platform.startswith("linux"):
        return None
    spec = json.dumps({"shape": list(shape), "mode": mode, "options": options or {}, "backend": backend})
    environment = dict(os.environ, MALLOC_MMAP_THRESHOLD_="65536", OMP_NUM_THREADS="1")
    result = subprocess.run([sys.executable, "-c", CHILD, spec], capture_output=True, text=True, env=environment,
                            timeout=timeout)
    if result.returncode != 0:
        raise RuntimeError(f"the memory measurement failed:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])
