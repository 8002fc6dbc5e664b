"""Turn bench_cpu_backends.py's pytest-benchmark JSON into a markdown table of medians and ratios.

    python benchmarks/ratio_table.py benchmarks/results/cpu/bptt_vs_torch.json
"""
import json
import sys


def ratio_table(report):
    lines = ["| config (T, B, I, H) | mode | torch (ms) | bptt (ms) | cell (ms) | bptt / torch | cell / torch |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for bench in report["benchmarks"]:
        info = bench["extra_info"]
        config = ", ".join(str(v) for v in info["config"].values())
        lines.append(f"| {config} | {info['mode']} | {info['median_torch_s'] * 1e3:.2f} | "
                     f"{info['median_bptt_s'] * 1e3:.2f} | {info['median_cell_s'] * 1e3:.2f} | "
                     f"{info['bptt_over_torch']:.2f}× | {info['cell_over_torch']:.2f}× |")
    machine = report["machine_info"]
    lines.append("")
    lines.append(f"{machine.get('cpu', {}).get('brand_raw', machine.get('processor', '?'))}, "
                 f"{report['benchmarks'][0]['extra_info']['threads']} threads, torch "
                 f"{report['benchmarks'][0]['extra_info']['torch']}, medians of "
                 f"{report['benchmarks'][0]['stats']['rounds']} interleaved rounds.")
    return "\n".join(lines)


if __name__ == "__main__":
    with open(sys.argv[1]) as file:
        print(ratio_table(json.load(file)))
