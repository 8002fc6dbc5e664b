"""The benchmark suite's building blocks: presets (what to measure), variants (one factory, the same
weights for every implementation), and the report (pytest-benchmark JSON -> markdown table + plots).

The pytest-benchmark file that runs them is benchmarks/bench_variants.py; `lstmlab bench` runs it.
"""
