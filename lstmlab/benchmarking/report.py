"""pytest-benchmark JSON -> a markdown table (time per step, ratio to torch) and plots.

Time per step = the median time of one call / T (for generation: / the steps generated).
Ratio = variant / torch.nn.LSTM in the same configuration and run (> 1: slower than torch).
Floor = the step's multiply-adds at the GEMM rate measured in the run (lstmlab/benchmarking/floor.py),
drawn as a dashed line under the times, against H and against B.
"""
import json
from collections import defaultdict
from pathlib import Path

from .floor import floor_us_per_step

CONFIG_KEYS = ("mode", "dtype", "layers", "steps", "batch", "input_size", "hidden")
VARIANT_ORDER = ("torch", "cell", "bptt", "bptt-python", "triton", "persistent", "compile", "cudagraph", "fused")


def load_results(json_path):
    """{config tuple: {variant: µs per step}} and the environment of the run."""
    with open(json_path) as file:
        report = json.load(file)
    table = defaultdict(dict)
    environment = None
    gflops = {}
    for bench in report["benchmarks"]:
        info = bench["extra_info"]
        if bench.get("stats") is None:
            continue
        config = tuple(info[key] for key in CONFIG_KEYS)
        table[config][info["variant"]] = bench["stats"]["median"] / info["steps"] * 1e6
        if info.get("gemm_gflops"):
            gflops.setdefault(info["dtype"], []).append(info["gemm_gflops"])
        environment = environment or {k: info.get(k) for k in ("device_name", "torch", "triton", "cuda", "threads",
                                                                "preset", "input_projection_timed")}
    if environment is not None:             # one rate per dtype: the median of those measured in the run
        environment["gemm_gflops"] = {dtype: sorted(rates)[len(rates) // 2] for dtype, rates in gflops.items()}
    return dict(table), environment


def floor_of(config, environment):
    """µs per step of the arithmetic at the run's GEMM rate, or None when the run measured no rate."""
    mode, dtype, layers, _, batch, input_size, hidden = config
    rate = (environment.get("gemm_gflops") or {}).get(dtype)
    return floor_us_per_step(mode, batch, hidden, input_size, layers, rate) if rate else None


def markdown_table(table, environment):
    variants = [v for v in VARIANT_ORDER if any(v in row for row in table.values())]
    header = "| mode | dtype | L | T | B | I | H | " + " | ".join(variants) + " | floor |"
    lines = [header, "|" + "---|" * 7 + "---:|" * (len(variants) + 1)]
    for config in sorted(table, key=lambda c: (c[0], c[1], c[2], c[3], c[4], c[5] == 1, c[6])):
        row = table[config]
        torch_time = row.get("torch")
        cells = []
        for variant in variants:
            if variant not in row:
                cells.append("–")
            elif variant == "torch" or torch_time is None:
                cells.append(f"{row[variant]:.1f} µs")
            else:
                cells.append(f"{row[variant]:.1f} µs ({row[variant] / torch_time:.2f}×)")
        floor = floor_of(config, environment)
        cells.append(f"{floor:.2f} µs" if floor is not None else "–")
        lines.append("| " + " | ".join(str(c) for c in config) + " | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("Time per step (median of the timed rounds / T); in brackets the ratio to torch.nn.LSTM "
                 "in the same run (> 1 is slower). Input projection inside the timed region: "
                 f"{environment.get('input_projection_timed')}. Device: {environment.get('device_name')}; "
                 f"torch {environment.get('torch')}, triton {environment.get('triton')}, CUDA {environment.get('cuda')}, "
                 f"{environment.get('threads')} CPU threads; preset {environment.get('preset')}. Floor: the "
                 f"step's multiply-adds at the GEMM rate measured in the run ("
                 + ", ".join(f"{dtype} {rate:.0f} GFLOP/s" for dtype, rate in (environment.get("gemm_gflops") or {}).items())
                 + ").")
    summary = ratio_summary(table)
    if summary:
        lines += ["", "Ratio to torch, per variant and mode, over the shapes of this run:", ""] + summary
    return "\n".join(lines)


def ratio_summary(table):
    """One line per (variant, mode): the median and range of variant / torch over the configurations,
    how many are above 1.0× and above 0.8×, and the worst one — what a target such as "≤ 0.8× at every
    shape, none above 1.0×" is read from."""
    ratios = defaultdict(list)
    for config, row in table.items():
        for variant, value in row.items():
            if variant != "torch" and row.get("torch"):
                ratios[(variant, config[0])].append((value / row["torch"], config))
    lines = []
    for variant, mode in sorted(ratios, key=lambda k: (VARIANT_ORDER.index(k[0]) if k[0] in VARIANT_ORDER else 99, k[1])):
        values = sorted(ratios[(variant, mode)])
        worst_ratio, worst = values[-1]
        median = values[len(values) // 2][0]
        above_1 = sum(r > 1.0 for r, _ in values)
        above_08 = sum(r > 0.8 for r, _ in values)
        lines.append(f"- {variant}, {mode}: median {median:.2f}×, {values[0][0]:.2f}–{worst_ratio:.2f}×; above 1.0× at "
                     f"{above_1} of {len(values)}, above 0.8× at {above_08}; worst: {worst[1]} L{worst[2]} T{worst[3]} "
                     f"B{worst[4]} I{worst[5]} H{worst[6]}")
    return lines


def _series(table, mode, dtype, fixed, against="hidden", environment=None):
    """{variant: [(x, µs per step, torch's)]} for 1 layer, I = H, the smallest T: x = H at batch ``fixed``
    (against="hidden") or x = B at hidden size ``fixed`` (against="batch"); "floor" too when known."""
    position, other = (6, 4) if against == "hidden" else (4, 6)
    rows = {c: r for c, r in table.items() if c[0] == mode and c[1] == dtype and c[other] == fixed and c[2] == 1
            and c[5] == c[6]}
    if not rows:
        return {}
    shortest = min(c[3] for c in rows)
    series = defaultdict(list)
    for config in sorted(rows, key=lambda c: c[position]):
        if config[3] == shortest:
            for variant, value in rows[config].items():
                series[variant].append((config[position], value, rows[config].get("torch")))
            floor = floor_of(config, environment or {})
            if floor is not None:
                series["floor"].append((config[position], floor, rows[config].get("torch")))
    return series


def plot_report(table, environment, out_dir, prefix=""):
    """time_per_step.png (µs per step against H, log scale, one line per variant, the floor dashed),
    time_per_step_vs_batch.png (the same against B) and ratio.png (variant time / torch time: the
    table's ratio, one convention everywhere — below 1 is faster than torch)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    modes = sorted({c[0] for c in table})
    dtypes = sorted({c[1] for c in table})
    figures = [("time_per_step", "hidden", sorted({c[4] for c in table})),
               ("time_per_step_vs_batch", "batch", sorted({c[6] for c in table if c[5] == c[6]})),
               ("ratio", "hidden", sorted({c[4] for c in table}))]
    paths = []
    for kind, against, panels in figures:
        fig, axes = plt.subplots(len(modes) * len(dtypes), len(panels), squeeze=False,
                                 figsize=(4.5 * len(panels), 3.2 * len(modes) * len(dtypes)))
        for row, (mode, dtype) in enumerate((m, d) for m in modes for d in dtypes):
            for col, fixed in enumerate(panels):
                ax = axes[row][col]
                series = _series(table, mode, dtype, fixed, against, environment)
                for variant, points in sorted(series.items(), key=lambda kv: (
                        kv[0] == "floor", VARIANT_ORDER.index(kv[0]) if kv[0] in VARIANT_ORDER else 99)):
                    xs = [p[0] for p in points]
                    if kind != "ratio":
                        style = dict(color="black", linestyle="--", label="floor (GEMM rate)") if variant == "floor" \
                            else dict(marker="o", label=variant)
                        ax.plot(xs, [p[1] for p in points], **style)
                    elif variant not in ("torch", "floor") and all(p[2] for p in points):
                        ax.plot(xs, [p[1] / p[2] for p in points], marker="o", label=variant)
                ax.set_xscale("log", base=2)
                if kind == "ratio":
                    ax.axhline(1.0, color="grey", linewidth=0.8)
                    ax.set_ylabel("time / torch.nn.LSTM's (< 1: faster)")
                else:
                    ax.set_yscale("log")
                    ax.set_ylabel("µs per step")
                ax.set_xlabel("hidden size H (I = H)" if against == "hidden" else "batch B")
                where = f"B={fixed}" if against == "hidden" else f"H={fixed}"
                ax.set_title(f"{mode}, {dtype}, {where}", fontsize=9)
                ax.legend(fontsize=7)
        fig.suptitle(f"{environment.get('device_name')} — torch {environment.get('torch')}", fontsize=10)
        fig.tight_layout()
        path = Path(out_dir) / f"{prefix}{kind}.png"
        fig.savefig(path, dpi=90)
        plt.close(fig)
        paths.append(str(path))
    return paths


def write_report(json_path, out_dir, prefix=""):
    """Write table.md, time_per_step.png, time_per_step_vs_batch.png and ratio.png, each name after
    ``prefix`` (a partial run's, so that it does not overwrite the full run's); returns their paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    table, environment = load_results(json_path)
    if not table:
        raise ValueError(f"{json_path} holds no timed results (was it run with --benchmark-disable?)")
    table_path = out_dir / f"{prefix}table.md"
    table_path.write_text(markdown_table(table, environment) + "\n")
    return [str(table_path)] + plot_report(table, environment, out_dir, prefix)
