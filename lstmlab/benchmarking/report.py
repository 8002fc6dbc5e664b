"""pytest-benchmark JSON -> a markdown table (time per step, ratio to torch) and plots.

Time per step = the median time of one call / T (for generation: / the steps generated).
Ratio = variant / torch.nn.LSTM in the same configuration and run (> 1: slower than torch).
"""
import json
from collections import defaultdict
from pathlib import Path

CONFIG_KEYS = ("mode", "dtype", "layers", "steps", "batch", "input_size", "hidden")
VARIANT_ORDER = ("torch", "cell", "bptt", "bptt-python", "triton", "persistent", "compile", "cudagraph")


def load_results(json_path):
    """{config tuple: {variant: µs per step}} and the environment of the run."""
    with open(json_path) as file:
        report = json.load(file)
    table = defaultdict(dict)
    environment = None
    for bench in report["benchmarks"]:
        info = bench["extra_info"]
        if bench.get("stats") is None:
            continue
        config = tuple(info[key] for key in CONFIG_KEYS)
        table[config][info["variant"]] = bench["stats"]["median"] / info["steps"] * 1e6
        environment = environment or {k: info.get(k) for k in ("device_name", "torch", "triton", "cuda", "threads",
                                                                "preset", "input_projection_timed")}
    return dict(table), environment


def markdown_table(table, environment):
    variants = [v for v in VARIANT_ORDER if any(v in row for row in table.values())]
    header = "| mode | dtype | L | T | B | I | H | " + " | ".join(variants) + " |"
    lines = [header, "|" + "---|" * 7 + "---:|" * len(variants)]
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
        lines.append("| " + " | ".join(str(c) for c in config) + " | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("Time per step (median of the timed rounds / T); in brackets the ratio to torch.nn.LSTM "
                 "in the same run (> 1 is slower). Input projection inside the timed region: "
                 f"{environment.get('input_projection_timed')}. Device: {environment.get('device_name')}; "
                 f"torch {environment.get('torch')}, triton {environment.get('triton')}, CUDA {environment.get('cuda')}, "
                 f"{environment.get('threads')} CPU threads; preset {environment.get('preset')}.")
    return "\n".join(lines)


def _series(table, mode, dtype, batch):
    """{variant: [(H, µs per step)]} for 1 layer, I = H, the smallest T."""
    rows = {c: r for c, r in table.items() if c[0] == mode and c[1] == dtype and c[4] == batch and c[2] == 1
            and c[5] == c[6]}
    if not rows:
        return {}
    shortest = min(c[3] for c in rows)
    series = defaultdict(list)
    for config in sorted(rows, key=lambda c: c[6]):
        if config[3] == shortest:
            for variant, value in rows[config].items():
                series[variant].append((config[6], value, rows[config].get("torch")))
    return series


def plot_report(table, environment, out_dir):
    """time_per_step.png (log scale, one line per variant) and ratio.png (variant time / torch time: the
    table's ratio, one convention everywhere — below 1 is faster than torch)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    modes = sorted({c[0] for c in table})
    dtypes = sorted({c[1] for c in table})
    batches = sorted({c[4] for c in table})
    paths = []
    for kind in ("time_per_step", "ratio"):
        fig, axes = plt.subplots(len(modes) * len(dtypes), len(batches), squeeze=False,
                                 figsize=(4.5 * len(batches), 3.2 * len(modes) * len(dtypes)))
        for row, (mode, dtype) in enumerate((m, d) for m in modes for d in dtypes):
            for col, batch in enumerate(batches):
                ax = axes[row][col]
                for variant, points in sorted(_series(table, mode, dtype, batch).items(),
                                              key=lambda kv: VARIANT_ORDER.index(kv[0])):
                    hidden = [p[0] for p in points]
                    if kind == "time_per_step":
                        ax.plot(hidden, [p[1] for p in points], marker="o", label=variant)
                    elif variant != "torch" and all(p[2] for p in points):
                        ax.plot(hidden, [p[1] / p[2] for p in points], marker="o", label=variant)
                ax.set_xscale("log", base=2)
                if kind == "time_per_step":
                    ax.set_yscale("log")
                    ax.set_ylabel("µs per step")
                else:
                    ax.axhline(1.0, color="grey", linewidth=0.8)
                    ax.set_ylabel("time / torch.nn.LSTM's (< 1: faster)")
                ax.set_xlabel("hidden size H (I = H)")
                ax.set_title(f"{mode}, {dtype}, B={batch}", fontsize=9)
                ax.legend(fontsize=7)
        fig.suptitle(f"{environment.get('device_name')} — torch {environment.get('torch')}", fontsize=10)
        fig.tight_layout()
        path = Path(out_dir) / f"{kind}.png"
        fig.savefig(path, dpi=90)
        plt.close(fig)
        paths.append(str(path))
    return paths


def write_report(json_path, out_dir):
    """Write table.md, time_per_step.png and ratio.png next to each other; returns their paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    table, environment = load_results(json_path)
    if not table:
        raise ValueError(f"{json_path} holds no timed results (was it run with --benchmark-disable?)")
    table_path = out_dir / "table.md"
    table_path.write_text(markdown_table(table, environment) + "\n")
    return [str(table_path)] + plot_report(table, environment, out_dir)
