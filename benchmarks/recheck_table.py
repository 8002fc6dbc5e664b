"""Turn bench_cpu_recheck.py's pytest-benchmark JSON into a markdown table: each cell's ratio in the
cpu-full report (back to back) beside the ratio timed again, interleaved.

    python benchmarks/recheck_table.py benchmarks/results/cpu-full/recheck.json
"""
import json
import sys


def recheck_table(report):
    lines = ["| mode | L | T | B | I | H | torch (ms) | bptt (ms) | bptt / torch, cpu-full "
             "| bptt / torch, interleaved |",
             "|---|---|---|---|---|---|---:|---:|---:|---:|"]
    for bench in report["benchmarks"]:
        info = bench["extra_info"]
        lines.append(f"| {info['mode']} | {info['layers']} | {info['steps']} | {info['batch']} | {info['input_size']} "
                     f"| {info['hidden']} | {info['median_torch_s'] * 1e3:.2f} | {info['median_bptt_s'] * 1e3:.2f} "
                     f"| {info['reported_ratio']:.2f}× | **{info['bptt_over_torch']:.2f}×** |")
    machine, first = report["machine_info"], report["benchmarks"][0]
    lines.append("")
    lines.append(f"{machine.get('cpu', {}).get('brand_raw', machine.get('processor', '?'))}, "
                 f"{first['extra_info']['threads']} threads, torch {first['extra_info']['torch']}, "
                 f"{first['extra_info']['dtype']}; interleaved: medians of {first['stats']['rounds']} rounds, "
                 f"torch then bptt in each, the ratio the median over rounds of bptt / torch.")
    return "\n".join(lines)


if __name__ == "__main__":
    with open(sys.argv[1]) as file:
        print(recheck_table(json.load(file)))
