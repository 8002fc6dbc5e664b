"""bench_generation.py's JSON -> a markdown table.

    python benchmarks/generation_table.py benchmarks/results/generation/generation.json
"""
import json
import platform
import sys


def generation_table(report):
    lines = ["| dtype | LSTMCell loop (µs/step) | lstmlab step-by-step | lstmlab fused | fused speed-up over "
             "LSTMCell loop | floor (µs/step) | fused / floor |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for bench in report["benchmarks"]:
        info = bench["extra_info"]
        lines.append(f"| {info['dtype']} | {info['cells_us_per_step']:.1f} | {info['steps_us_per_step']:.1f} | "
                     f"{info['fused_us_per_step']:.2f} | **{info['speedup_fused_over_cells']:.1f}×** | "
                     f"{info['floor_us_per_step']:.2f} ({info['gemm_gflops']:.0f} GFLOP/s) | "
                     f"{info['fused_over_floor']:.1f}× |")
    info = report["benchmarks"][0]["extra_info"]
    machine = report["machine_info"]
    lines += ["", f"Batch {info['batch']}, {info['layers']} layers of H = {info['hidden']} + a linear head, "
              f"{info['observed']} observed + {info['generated']} generated steps, no grad; µs per step = "
              f"median time / {info['observed'] + info['generated']}; speed-up = median over rounds of "
              f"the ratio in the same round ({report['benchmarks'][0]['stats']['rounds']} rounds). "
              f"{machine.get('cpu', {}).get('brand_raw', platform.processor())}, {info['threads']} torch threads, "
              f"torch {info['torch']}. Floor: the multiply-adds of a step at the GEMM rate measured in the run."]
    return "\n".join(lines)


if __name__ == "__main__":
    with open(sys.argv[1]) as file:
        print(generation_table(json.load(file)))
