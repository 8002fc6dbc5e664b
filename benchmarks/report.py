"""Turn a bench_variants.py JSON into table.md, time_per_step.png and speedup.png.

    python benchmarks/report.py RESULTS.json OUT_DIR
"""
import sys

from lstmlab.benchmarking.report import write_report

if __name__ == "__main__":
    for path in write_report(sys.argv[1], sys.argv[2]):
        print(path)
