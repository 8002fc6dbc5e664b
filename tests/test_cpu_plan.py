"""The planner that picks how the threads share a C++ time loop (kernels/lstm_cpu_plan.py): it times the
candidates on a copy of a call's first steps, keeps the fastest per shape, and never changes the answer."""
import itertools

import pytest
import torch

import lstmlab
from lstmlab.backends import bptt
from lstmlab.kernels import lstm_cpu, lstm_cpu_plan as plan

from conftest import assert_twins_equal, leaf, run_and_backward, twins


class FakeClock:
    """A clock that advances only when a candidate runs, by what ``costs`` says that run takes."""

    def __init__(self, costs):
        self.now, self.costs, self.runs = 0.0, costs, []

    def __call__(self):
        return self.now

    def run(self, choice):
        self.runs.append(choice)
        self.now += next(self.costs[choice])


@pytest.fixture
def fresh_plans(monkeypatch):
    monkeypatch.setattr(plan, "_plans", {})
    monkeypatch.setattr(lstm_cpu, "PARTITION", "measure")


def test_fastest_takes_each_candidates_best_run():
    # tiles' first timed run is slow (the machine was busy), its later runs the fastest of all; the
    # incumbent (first) choice also runs once untimed before any timing
    clock = FakeClock({"units": itertools.repeat(3.0), "tiles": iter([3.5, 1.0, 1.0]), "rows": itertools.repeat(2.0)})
    assert plan.fastest(["units", "tiles", "rows"], clock.run, clock=clock) == "tiles"
    assert clock.runs[0] == "units" and clock.runs.count("units") == 3       # untimed, then dropped after round 2


def test_fastest_stops_timing_clearly_slower_candidates():
    clock = FakeClock({"fast": itertools.repeat(1.0), "slow": itertools.repeat(10.0), "close": itertools.repeat(0.8)})
    assert plan.fastest(["fast", "slow", "close"], clock.run, rounds=3, clock=clock) == "close"
    assert clock.runs.count("slow") == 1 and clock.runs.count("close") == 3


@pytest.mark.parametrize("challenger_time, expected", [(0.95, "rule"), (0.85, "other"), (1.0, "rule")])
def test_the_rule_stays_unless_beaten_by_the_margin(challenger_time, expected):
    """A split 5% faster than the rule's is not worth a plan that the machine's load could flip."""
    clock = FakeClock({"rule": itertools.repeat(1.0), "other": itertools.repeat(challenger_time)})
    assert plan.fastest(["rule", "other"], clock.run, clock=clock) == expected


def test_candidates_leave_out_what_cannot_run_or_is_the_same_loop():
    assert plan.candidates(projected=False, threads=2) == (plan.RULE, plan.ROWS, plan.UNITS, plan.TILES,
                                                           plan.TILE_ROWS)
    assert plan.candidates(projected=True, threads=2) == (plan.RULE, plan.ROWS, plan.UNITS)   # no tiles
    assert plan.candidates(projected=False, threads=1) == (plan.RULE, plan.UNITS, plan.TILES)
    assert plan.candidates(projected=True, threads=1) == (plan.RULE, plan.UNITS)


@pytest.mark.parametrize("steps, step_multiply_adds, expected", [
    (100, 1 << 10, plan.MAX_TRIAL_STEPS),        # a cheap step: 32 of them
    (100, 1 << 25, 16),                          # B = 32, H = 512: 2^29 / 2^25
    (100, 1 << 30, plan.MIN_TRIAL_STEPS),        # a very wide step: still 8
    (5, 1 << 10, 5),                             # never more than the call has
])
def test_trial_steps(steps, step_multiply_adds, expected):
    assert plan.trial_steps(steps, step_multiply_adds) == expected


def test_each_shape_is_measured_once(fresh_plans, monkeypatch):
    measured = []
    real_plan = plan.plan

    def counting_plan(key, projected, threads, run):
        if key not in plan._plans:
            measured.append(key)
        return real_plan(key, projected, threads, run)
    monkeypatch.setattr(plan, "plan", counting_plan)
    monkeypatch.setenv(bptt.LOOPS_VARIABLE, "cpp")
    lstm = lstmlab.LSTM(3, 8, backend="bptt")
    for batch in (4, 4, 5):
        lstm(torch.randn(6, batch, 3))[0].sum().backward()
    assert [key[:2] for key in measured] == [("forward", 4), ("backward", 4), ("forward", 5), ("backward", 5)]
    with torch.no_grad():
        lstm(torch.randn(6, 4, 3))
        lstm(torch.randn(6, 4, 3))
    assert [key[0] for key in measured].count("inference") == 1
    assert set(plan.plans().values()) <= set(plan.NAMES.values())


def test_a_trial_leaves_the_call_as_it_would_be(fresh_plans):
    """The trials run on copies: the planned call returns exactly what the same split returns unplanned,
    and a second backward through the same inputs gives the same bits."""
    torch.manual_seed(0)
    steps, batch, hidden = 40, 6, 16                 # 40 steps: the trial runs the first 32 only
    gates = torch.randn(steps, batch, 4 * hidden, dtype=torch.float64)
    w_hh = torch.randn(4 * hidden, hidden, dtype=torch.float64) / 4
    h0, c0 = torch.randn(batch, hidden, dtype=torch.float64), torch.randn(batch, hidden, dtype=torch.float64)
    planned_gates = gates.clone()
    planned = lstm_cpu.forward_recurrence(planned_gates, w_hh, None, h0, c0)
    (key, chosen), = plan.plans().items()
    lstm_cpu.PARTITION = chosen
    forced_gates = gates.clone()
    forced = lstm_cpu.forward_recurrence(forced_gates, w_hh, None, h0, c0)
    assert torch.equal(planned[0], forced[0]) and torch.equal(planned[1], forced[1])
    assert torch.equal(planned_gates, forced_gates)
    grad_outputs = torch.randn(steps, batch, hidden, dtype=torch.float64)
    lstm_cpu.PARTITION = "measure"
    first = lstm_cpu.backward_recurrence(planned_gates.clone(), planned[1], c0, w_hh, None, grad_outputs, None)
    second = lstm_cpu.backward_recurrence(planned_gates.clone(), planned[1], c0, w_hh, None, grad_outputs, None)
    assert all(torch.equal(a, b) for a, b in zip(first, second))


@pytest.mark.parametrize("threads", [1, 2])
def test_planned_loops_match_torch(fresh_plans, threads, monkeypatch):
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        monkeypatch.setenv(bptt.LOOPS_VARIABLE, "cpp")
        ref, ours = twins("bptt", 5, 12, num_layers=2, bidirectional=True)
        x = torch.randn(9, 17, 5, dtype=torch.float64)
        h0, c0 = torch.randn(4, 17, 12, dtype=torch.float64), torch.randn(4, 17, 12, dtype=torch.float64)
        assert_twins_equal(run_and_backward(ours, leaf(x), (leaf(h0), leaf(c0))),
                           run_and_backward(ref, leaf(x), (leaf(h0), leaf(c0))))
        with torch.no_grad():
            torch.testing.assert_close(ours(x, (h0, c0))[0], ref(x, (h0, c0))[0])
    finally:
        torch.set_num_threads(previous)
    assert {key[0] for key in plan.plans()} == {"forward", "backward", "inference"}


def test_an_unknown_partition_is_named(monkeypatch):
    monkeypatch.setattr(lstm_cpu, "PARTITION", "fastest")
    gates = torch.zeros(2, 1, 4)
    with pytest.raises(ValueError, match=r"LSTMLAB_CPU_PARTITION .* must be 'measure' or one of 'auto', 'rows', "
                                         r"'units', 'tiles', 'tile-rows', got 'fastest'"):
        lstm_cpu.forward_recurrence(gates, torch.zeros(4, 1), None, torch.zeros(1, 1), torch.zeros(1, 1))


def test_use_partition_and_deterministic_algorithms_take_the_fixed_rule(fresh_plans):
    gates = torch.randn(6, 4, 32, dtype=torch.float64)
    w_hh, h0, c0 = torch.randn(32, 8, dtype=torch.float64), torch.zeros(4, 8, dtype=torch.float64), \
        torch.zeros(4, 8, dtype=torch.float64)
    with lstm_cpu.use_partition("auto"):
        lstm_cpu.forward_recurrence(gates.clone(), w_hh, None, h0, c0)
    torch.use_deterministic_algorithms(True)
    try:
        lstm_cpu.forward_recurrence(gates.clone(), w_hh, None, h0, c0)
    finally:
        torch.use_deterministic_algorithms(False)
    assert plan.plans() == {}                                        # neither call timed anything
    lstm_cpu.forward_recurrence(gates.clone(), w_hh, None, h0, c0)
    assert len(plan.plans()) == 1
    with pytest.raises(ValueError, match="partition must be 'measure' or one of .* got 'fast'"):
        with lstm_cpu.use_partition("fast"):
            pass


def test_forecasts_do_not_depend_on_a_timed_plan(fresh_plans, monkeypatch):
    """The ES-LSTM trains and forecasts on the fixed rule: a plan timed on a busy machine could change the
    last bits of a step, training would carry them on, and the forecast would depend on the load."""
    from lstmlab.forecast.datasets import AIRPASSENGERS
    from lstmlab.forecast.hybrid import ESLSTM, HybridConfig
    monkeypatch.setenv(bptt.LOOPS_VARIABLE, "cpp")
    chosen = []
    real_partition = lstm_cpu._partition

    def recording_partition(*args, **kwargs):
        chosen.append(real_partition(*args, **kwargs))
        return chosen[-1]
    monkeypatch.setattr(lstm_cpu, "_partition", recording_partition)
    y = torch.tensor(AIRPASSENGERS, dtype=torch.float64).numpy()
    model = ESLSTM(HybridConfig(horizon=12, period=12, ensemble=1, steps=5, hidden_size=8, mlp_size=16))
    model.fit([("air", y[:-12], None)]).predict()
    assert chosen and set(chosen) == {lstm_cpu.PARTITIONS["auto"]}   # the loops ran, every call on the rule
    assert plan.plans() == {}
