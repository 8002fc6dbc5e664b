"""`lstmlab kernels`: what each Triton kernel costs on a GPU, measured without one.

Triton compiles for a GPU it does not have (`triton.compile` with a GPUTarget), and the `ptxas`
bundled in Triton's wheel turns the PTX into machine code and prints the registers per thread and
the bytes spilled to local memory. Together with Triton's shared-memory figure that is everything
the persistent kernel's dispatcher needs (kernels/lstm_persistent.py `plan`), so this report runs
the dispatcher on those figures and shows the path it would choose for each shape:

    lstmlab kernels --arch sm_90            a table
    lstmlab kernels --arch sm_90 --json     {"arch", "limits", "configs": [{backend, pass, dtype, hidden, batch,
                                             path, registers, spill_bytes, shared_bytes, num_warps, grid, ...}]}

Integer arguments are specialised as Triton's launcher would at run time: multiples of 16 get the
divisibility hint (vectorised loads), 1 becomes a constant.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

DTYPES = {"float32": "fp32", "bfloat16": "bf16", "float16": "fp16"}
HIDDEN_SIZES = (64, 128, 256, 512, 1024)
BATCHES = (16, 64)
PTXAS_NAMES = {"sm_80": "sm_80", "sm_90": "sm_90a", "sm_100": "sm_100a"}


def _torch_dtype(name):
    import torch
    return getattr(torch, name)


def _ptxas():
    import triton
    folder = Path(triton.__file__).parent / "backends" / "nvidia" / "bin"
    for name in ("ptxas-blackwell", "ptxas"):         # the plain ptxas of Triton 3.9 is too old for its own PTX
        if (folder / name).exists():
            return folder / name
    raise RuntimeError(f"no ptxas in {folder}: this Triton wheel cannot assemble PTX")


_compiled = {}          # one compile per distinct configuration within a process


def compile_kernel(kernel, arch, num_warps, pointers, integers, constexprs):
    """Compile one kernel configuration for `arch` -> {"registers", "spill_bytes", "spill_loads", "shared_bytes"}.

    pointers: name -> Triton element type ("fp32", "bf16", "i32"); integers: name -> an example value
    (specialised as Triton's launcher does); constexprs: name -> value."""
    import triton
    from triton.backends.compiler import GPUTarget
    if not hasattr(kernel, "cache_key"):
        raise RuntimeError("the kernels were imported under TRITON_INTERPRET=1 (interpreted, nothing to compile): "
                           "run `lstmlab kernels` in a process without it")
    signature = {name: "*" + kind for name, kind in pointers.items()}
    constexprs = dict(constexprs)
    hinted = list(pointers)                                   # torch's allocations are 16-byte aligned
    for name, value in integers.items():
        if value == 1:
            constexprs[name] = 1
        else:
            signature[name] = "i32"
            if value % 16 == 0:
                hinted.append(name)
    for name in constexprs:
        signature[name] = "constexpr"
    key = (kernel.fn.__name__ if hasattr(kernel, "fn") else kernel.__name__, arch, num_warps,
           repr(sorted(signature.items())), repr(sorted((k, str(v)) for k, v in constexprs.items())), repr(sorted(hinted)))
    if key in _compiled:
        return _compiled[key]
    attrs = {(kernel.arg_names.index(name),): [["tt.divisibility", 16]] for name in hinted}
    source = triton.compiler.ASTSource(fn=kernel, signature=signature, constexprs=constexprs, attrs=attrs)
    compiled = triton.compile(source, target=GPUTarget("cuda", int(arch[3:]), 32), options={"num_warps": num_warps})
    with tempfile.TemporaryDirectory() as folder:
        ptx = Path(folder) / "kernel.ptx"
        ptx.write_text(compiled.asm["ptx"])
        result = subprocess.run([str(_ptxas()), "-v", f"--gpu-name={PTXAS_NAMES[arch]}", str(ptx),
                                 "-o", str(Path(folder) / "kernel.cubin")], capture_output=True, text=True)
    log = result.stdout + result.stderr
    if result.returncode != 0:
        raise RuntimeError(f"ptxas failed for {key[0]} on {arch}:\n{log[-2000:]}")
    figures = {name: int(re.search(pattern, log).group(1)) for name, pattern in
               [("registers", r"Used (\d+) registers"), ("spill_bytes", r"(\d+) bytes spill stores"),
                ("spill_loads", r"(\d+) bytes spill loads")]}
    _compiled[key] = {**figures, "shared_bytes": int(compiled.metadata.shared)}
    return _compiled[key]


def _persistent_config(pass_name, dtype_name, hidden, batch, arch):
    import triton
    from lstmlab.kernels import lstm_persistent as persistent
    dtype = _torch_dtype(dtype_name)
    limits = persistent.ARCH_LIMITS[arch]
    reason = persistent.per_step_reason(hidden, dtype, pass_name, arch)
    if reason is not None:                              # the dispatcher sends it to backend "triton"'s kernels
        row = _triton_config(pass_name, dtype_name, hidden, batch, arch)
        row.update(backend="persistent", reason=reason)
        return row
    entry = persistent.table_entry(hidden, dtype, pass_name, arch)
    element = DTYPES[dtype_name]
    steps = 1024

    def resources_for(launch_plan):
        sizes = {"steps": steps, "batch": batch, "hidden": hidden, "proj": hidden,
                 "tiles_per_group": launch_plan.tiles_per_group, "phase_start": 0, "phase_stop": steps,
                 "max_spins": persistent.MAX_SPINS}
        if pass_name == "forward":
            pointers = dict(gates_x_ptr=element, w_hh_ptr=element, w_hr_ptr=element, h0_ptr=element, c0_ptr="fp32",
                            outputs_ptr=element, unprojected_ptr=element, gates_ptr="fp32", cells_ptr="fp32",
                            sync_ptr="i32", error_ptr="i32")
            constexprs = persistent.forward_constexprs(launch_plan, dtype, hidden, hidden, False, interpreted=False)
            kernel = persistent.lstm_persistent_forward_kernel
        else:
            pointers = dict(gates_ptr="fp32", cells_ptr="fp32", c0_ptr="fp32", w_hh_ptr=element, w_hr_ptr=element,
                            grad_outputs_ptr="fp32", grad_cells_ptr="fp32", grad_gates_ptr="fp32", grad_h_ptr="fp32",
                            grad_c_ptr="fp32", sync_ptr="i32", error_ptr="i32")
            constexprs = persistent.backward_constexprs(launch_plan, dtype, hidden, hidden, False, True, interpreted=False)
            kernel = persistent.lstm_persistent_backward_kernel
        constexprs["GRID_SYNC"] = True
        return compile_kernel(kernel, arch, launch_plan.num_warps, pointers, sizes, constexprs)

    slice_width, num_warps = entry
    trial = persistent.LaunchPlan("persistent", "trial", slice_width, num_warps, triton.cdiv(hidden, slice_width))
    resources = resources_for(trial)
    launch_plan = persistent.plan(hidden, hidden, dtype, batch, pass_name, resources, limits, interpreted=False)
    if launch_plan.tiles_per_group != trial.tiles_per_group:
        resources = resources_for(launch_plan)              # the loop bound is no longer the constant 1
    return {"backend": "persistent", "pass": pass_name, "dtype": dtype_name, "hidden": hidden, "batch": batch,
            "path": launch_plan.path, "reason": launch_plan.reason, "kernel": f"lstm_persistent_{pass_name}_kernel",
            "slice_width": slice_width, "num_warps": num_warps, "grid": list(launch_plan.grid), **resources}


def _triton_config(pass_name, dtype_name, hidden, batch, arch):
    import triton
    from lstmlab.kernels import lstm_gates
    element = DTYPES[dtype_name]
    n = batch * hidden
    if pass_name == "forward":
        kernel = lstm_gates.lstm_gates_forward_kernel
        pointers = dict(pre_ptr=element, bias_ptr="fp32", c_prev_ptr="fp32", gates_ptr="fp32", c_ptr="fp32", h_ptr=element)
        import triton.language as tl
        constexprs = {"HAS_BIAS": True, "COMPUTE": tl.float32, "BLOCK": lstm_gates.BLOCK}
    else:
        kernel = lstm_gates.lstm_gates_backward_kernel
        pointers = dict(dh_ptr="fp32", dc_ptr="fp32", gates_ptr="fp32", c_ptr="fp32", c_prev_ptr="fp32",
                        grad_pre_ptr="fp32", grad_c_prev_ptr="fp32")
        constexprs = {"BLOCK": lstm_gates.BLOCK}
    num_warps = 4                                             # Triton's default, as the launcher leaves it
    resources = compile_kernel(kernel, arch, num_warps, pointers, {"n_elements": n, "hidden": hidden}, constexprs)
    return {"backend": "triton", "pass": pass_name, "dtype": dtype_name, "hidden": hidden, "batch": batch,
            "path": "per-step", "reason": "one gate kernel per step (and a GEMM per step in torch)",
            "kernel": kernel.fn.__name__ if hasattr(kernel, "fn") else kernel.__name__,
            "slice_width": None, "num_warps": num_warps, "grid": [triton.cdiv(n, lstm_gates.BLOCK)], **resources}


def report(arch="sm_90", dtypes=tuple(DTYPES), hidden_sizes=HIDDEN_SIZES, batches=BATCHES,
           backends=("triton", "persistent"), passes=("forward", "backward")):
    """Compile every configuration the dispatcher would launch; -> the JSON-able report."""
    from lstmlab.kernels import lstm_persistent as persistent
    if arch not in persistent.ARCH_LIMITS:
        raise ValueError(f"--arch: expected one of {', '.join(persistent.ARCH_LIMITS)}, got {arch!r}")
    configs = []
    for backend in backends:
        for pass_name in passes:
            for dtype_name in dtypes:
                for hidden in hidden_sizes:
                    for batch in batches:
                        build = _persistent_config if backend == "persistent" else _triton_config
                        configs.append(build(pass_name, dtype_name, hidden, batch, arch))
    import triton
    import torch
    limits = {key: value for key, value in persistent.ARCH_LIMITS[arch].items() if key != "arch"}
    return {"arch": arch, "limits": {**limits, "registers_per_thread": 255},
            "versions": {"triton": triton.__version__, "torch": torch.__version__, "ptxas": _ptxas().name},
            "configs": configs}


def format_report(result):
    limits = result["limits"]
    lines = [f"arch {result['arch']}: {limits['sms']} SMs, {limits['registers']} registers per SM, at most "
             f"{limits['shared_bytes']} B of shared memory per block and 255 registers per thread "
             f"(Triton {result['versions']['triton']}, {result['versions']['ptxas']})",
             "",
             f"{'backend':<11}{'pass':<9}{'dtype':<9}{'H':>5}{'B':>4}  {'path':<11}{'regs':>5}{'spill':>6}"
             f"{'shared':>8}{'warps':>6}  grid"]
    for row in result["configs"]:
        lines.append(f"{row['backend']:<11}{row['pass']:<9}{row['dtype']:<9}{row['hidden']:>5}{row['batch']:>4}  "
                     f"{row['path']:<11}{row['registers']:>5}{row['spill_bytes']:>6}{row['shared_bytes']:>8}"
                     f"{row['num_warps']:>6}  {'×'.join(map(str, row['grid']))}")
    return "\n".join(lines)


def _size(text):
    """A hidden or batch size: a positive integer (argparse names the option when this raises)."""
    value = int(text)
    if not 1 <= value <= 4096:                    # the report's columns hold 4 digits; the kernels take far less
        raise ValueError(text)
    return value


_size.__name__ = "size from 1 to 4096"         # argparse: "invalid size from 1 to 4096 value: '0'"


def add_arguments(parser):
    parser.add_argument("--arch", default="sm_90", choices=list(PTXAS_NAMES),
                        help="GPU architecture to compile for (default: sm_90)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--dtype", action="append", choices=list(DTYPES), help="only these dtypes (repeatable)")
    parser.add_argument("--hidden", action="append", type=_size, help="only these hidden sizes (repeatable)")
    parser.add_argument("--batch", action="append", type=_size, help="only these batch sizes (repeatable)")
    parser.add_argument("--backend", action="append", choices=["triton", "persistent"], help="only these backends")


def run(args):
    """The `lstmlab kernels` command. Never runs a kernel: compiles only, so no GPU is needed."""
    import importlib.util
    if importlib.util.find_spec("triton") is None:
        print("lstmlab kernels: needs triton to compile the kernels (pip install 'lstmlab[triton]'); "
              "it is not installed", file=sys.stderr)
        return 1
    os.environ.pop("TRITON_INTERPRET", None)           # compile for the GPU, not for the interpreter
    # Triton 3.9 fuses multiply-adds by default and warns that 3.10 will not: keep today's code (the
    # committed report, benchmarks/results/kernels/, was compiled so), unless the caller chose
    os.environ.setdefault("TRITON_DEFAULT_FP_FUSION", "1")
    result = report(args.arch, tuple(args.dtype or DTYPES), tuple(args.hidden or HIDDEN_SIZES),
                    tuple(args.batch or BATCHES), tuple(args.backend or ("triton", "persistent")))
    print(json.dumps(result, indent=1) if args.json else format_report(result))
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="lstmlab kernels", description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
