"""bench_cpu_options.py's JSON -> a markdown table.

    python benchmarks/options_table.py benchmarks/results/cpu/options.json
"""
import json
import sys


def options_table(report):
    lines = ["| (T, B, I, H) | option | mode | torch (ms) | bptt (ms) | bptt / torch | peak MiB torch / bptt |",
             "|---|---|---|---:|---:|---:|---:|"]
    for bench in report["benchmarks"]:
        info = bench["extra_info"]
        peaks = [info.get(f"peak_memory_{name}_bytes") for name in ("torch", "bptt")]
        memory = " / ".join(f"{p / 2**20:.1f}" if p is not None else "?" for p in peaks)
        lines.append(f"| {', '.join(str(v) for v in info['shape'].values())} | {info['option']} | {info['mode']} | "
                     f"{info['median_torch_s'] * 1e3:.2f} | {info['median_bptt_s'] * 1e3:.2f} | "
                     f"**{info['bptt_over_torch']:.2f}×** | {memory} |")
    info = report["benchmarks"][0]["extra_info"]
    lines += ["", f"{info['threads']} torch threads, torch {info['torch']}, medians of "
              f"{report['benchmarks'][0]['stats']['rounds']} interleaved rounds; peak memory: the growth of the "
              f"peak RSS during one call in a fresh process whose allocator returns large blocks "
              f"(lstmlab/benchmarking/memory.py)."]
    return "\n".join(lines)


if __name__ == "__main__":
    with open(sys.argv[1]) as file:
        print(options_table(json.load(file)))
