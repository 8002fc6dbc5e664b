"""Turn bench_cpu_backends.py's pytest-benchmark JSON into a markdown table of medians and ratios.

    python benchmarks/ratio_table.py benchmarks/results/cpu/bptt_vs_torch.json
"""
import json
import sys


COLUMNS = ["torch", "bptt", "bptt-python", "cell"]


def ratio_table(report):
    lines = ["| config (T, B, I, H) | mode | " + " | ".join(f"{name} (ms)" for name in COLUMNS) + " | "
             + " | ".join(f"{name} / torch" for name in COLUMNS[1:]) + " | floor (ms) | floor / torch"
             + " | peak MiB torch / bptt |",
             "|---|---|" + "---:|" * (2 * len(COLUMNS) + 2)]
    for bench in report["benchmarks"]:
        info = bench["extra_info"]
        config = ", ".join(str(v) for v in info["config"].values())
        times = " | ".join(f"{info[f'median_{name}_s'] * 1e3:.2f}" for name in COLUMNS)
        ratios = " | ".join(f"**{info[f'{name}_over_torch']:.2f}×**" if name == "bptt" else
                            f"{info[f'{name}_over_torch']:.2f}×" for name in COLUMNS[1:])
        peaks = [info.get(f"peak_memory_{name}_bytes") for name in ("torch", "bptt")]
        memory = " / ".join(f"{p / 2**20:.1f}" if p is not None else "?" for p in peaks)
        floor = info.get("floor_s")
        floor_cells = (f"{floor * 1e3:.2f} | {floor / info['median_torch_s']:.2f}×" if floor is not None
                       else "? | ?")
        lines.append(f"| {config} | {info['mode']} | {times} | {ratios} | {floor_cells} | {memory} |")
    machine = report["machine_info"]
    lines.append("")
    lines.append(f"{machine.get('cpu', {}).get('brand_raw', machine.get('processor', '?'))}, "
                 f"{report['benchmarks'][0]['extra_info']['threads']} threads, torch "
                 f"{report['benchmarks'][0]['extra_info']['torch']}, medians of "
                 f"{report['benchmarks'][0]['stats']['rounds']} interleaved rounds."
                 + (f" Floor: the call's multiply-adds at the float32 GEMM rate measured in the run "
                    f"({report['benchmarks'][0]['extra_info']['gemm_gflops']:.0f} GFLOP/s); floor / torch is the "
                    f"lowest ratio to torch any float32 implementation can reach here."
                    if "gemm_gflops" in report["benchmarks"][0]["extra_info"] else ""))
    return "\n".join(lines)


if __name__ == "__main__":
    with open(sys.argv[1]) as file:
        print(ratio_table(json.load(file)))
