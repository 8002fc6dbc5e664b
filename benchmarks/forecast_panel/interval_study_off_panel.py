"""interval_study.py's six ways of building the ES-LSTM's intervals, on the 13 series off the development
panel (selection.py's "outside" and "unseen" groups, three origins each): the interval rules were chosen
on the panel, and this is how they do where nothing was chosen (a benchmark, not a test).

    taskset -c 0 env OMP_NUM_THREADS=1 .venv/bin/python benchmarks/forecast_panel/interval_study_off_panel.py \\
        --only elnino,sunspots,realgdp,cpi,realinv,realcons &                       # ~5 min per core
    taskset -c 1 env OMP_NUM_THREADS=1 .venv/bin/python benchmarks/forecast_panel/interval_study_off_panel.py \\
        --only realdpi,realgovt,m1,tbilrate,infl,pop,co2_monthly
    .venv/bin/python benchmarks/forecast_panel/interval_study_off_panel.py --summarize   # results/intervals_off_panel.md
"""
import sys
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
import selection  # noqa: E402
from interval_study import store_forecasts, summarize  # noqa: E402
from run_panel import store_then_summarize  # noqa: E402

OUT = HERE / "results" / "interval_draws_off_panel"


def store(name):
    _, frame, h = selection.series()[name]
    store_forecasts(name, OUT, frame, h)


def main(argv=None):
    names = [name for name, (group, _, _) in selection.series().items() if group != "panel"]
    return store_then_summarize(argv, __doc__.splitlines()[0], names, store,
                                lambda: summarize(OUT, HERE / "results" / "intervals_off_panel.md"))


if __name__ == "__main__":
    sys.exit(main())
