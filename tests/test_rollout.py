"""The closed-loop rollout (lstmlab/rollout.py, kernels/lstm_cpu_rollout.cpp): twin computations.

The fused C++ rollout and the step-by-step loop compute the same thing in float64; the loop is in turn
checked against each backend's own forward one step at a time, and torch.nn.LSTMCell, so the fused
path is tied to torch's LSTM. What the fused path does not cover falls back, and says why.
"""
import numpy as np
import pytest
import torch
from torch import nn

import lstmlab
from lstmlab import rollout as rollout_module
from lstmlab.models import AutoregressiveLSTM
from lstmlab.rollout import rollout, rollout_fused, rollout_steps

F64 = torch.float64


def make(input_size=1, hidden=51, layers=2, proj=0, bias=True, dtype=F64, seed=0):
    torch.manual_seed(seed)
    lstm = lstmlab.LSTM(input_size, hidden, num_layers=layers, proj_size=proj, bias=bias, dtype=dtype)
    head = nn.Linear(lstm.real_hidden_size, input_size, dtype=dtype)
    return lstm, head


def random_state(lstm, batch, dtype=F64):
    return (torch.randn(lstm.num_layers, batch, lstm.real_hidden_size, dtype=dtype),
            torch.randn(lstm.num_layers, batch, lstm.hidden_size, dtype=dtype))


def assert_same_rollout(a, b, rtol=1e-12, atol=1e-12):
    (out_a, (h_a, c_a)), (out_b, (h_b, c_b)) = a, b
    for x, y in [(out_a, out_b), (h_a, h_b), (c_a, c_b)]:
        torch.testing.assert_close(x, y, rtol=rtol, atol=atol)


# Shapes around the C++ tiling: 8 double units per tile (H = 51: a short last tile; H = 8, 16: whole
# tiles), 4 batch rows per pass (B = 1, 3, 4, 5, 9: short and long last blocks), projections, no bias.
CASES = [dict(input_size=1, hidden=51, layers=2, batch=3),
         dict(input_size=3, hidden=8, layers=1, batch=1),
         dict(input_size=7, hidden=33, layers=3, proj=7, batch=5),
         dict(input_size=2, hidden=16, layers=2, batch=4, bias=False),
         dict(input_size=20, hidden=9, layers=1, proj=5, batch=9)]


@pytest.mark.parametrize("case", CASES, ids=lambda c: "-".join(f"{k}{v}" for k, v in c.items()))
def test_fused_rollout_equals_the_step_by_step_loop_in_float64(case):
    case = dict(case)
    batch = case.pop("batch")
    lstm, head = make(**case)
    x0 = torch.randn(batch, lstm.input_size, dtype=F64)
    state = random_state(lstm, batch)
    with torch.no_grad():
        fused = rollout(lstm, x0, 60, head, state, fused=True)
        assert rollout_module.last_path.kind == "fused"
        steps = rollout(lstm, x0, 60, head, state, fused=False)
        assert rollout_module.last_path.kind == "steps"
    assert fused[0].shape == (60, batch, lstm.input_size)
    assert_same_rollout(fused, steps)


def test_float32_rollout_stays_within_float32_rounding_of_float64():
    lstm, head = make(hidden=51, layers=2)
    x0, state = torch.randn(3, 1, dtype=F64), random_state(lstm, 3)
    with torch.no_grad():
        reference, _ = rollout(lstm, x0, 100, head, state, fused=True)
        lstm32, head32 = lstm.float(), head.float()
        fused, _ = rollout(lstm32, x0.float(), 100, head32, tuple(s.float() for s in state), fused=True)
        steps, _ = rollout(lstm32, x0.float(), 100, head32, tuple(s.float() for s in state), fused=False)
    fused_error = (fused.double() - reference).abs().max().item()
    steps_error = (steps.double() - reference).abs().max().item()
    # The fused float32 rollout is no further from float64 than torch's own float32 ops are (plus a margin).
    assert fused_error <= 2 * steps_error + 1e-6, (fused_error, steps_error)


def one_step_with_backend(lstm, value, state):
    """One step through the backend's own forward (T = 1), not LSTM.step."""
    output, state = lstm(value[None], state)
    return output[0], state


@pytest.mark.parametrize("backend", ["cell", "bptt", "torch", "triton"])
def test_fused_rollout_equals_each_backends_own_forward_stepped(backend):
    if backend not in lstmlab.available_backends("cpu"):
        pytest.skip(f"backend {backend!r} does not run on the CPU here")
    lstm, head = make(input_size=2, hidden=20, layers=2, proj=0)
    lstm.backend = backend
    x0, state = torch.randn(4, 2, dtype=F64), random_state(lstm, 4)
    with torch.no_grad():
        fused = rollout(lstm, x0, 30, head, state, fused=True)
        outputs, value = [], x0
        for _ in range(30):
            top, state = one_step_with_backend(lstm, value, state)
            value = head(top)
            outputs.append(value)
    assert_same_rollout(fused, (torch.stack(outputs), state))


def test_the_step_loop_is_torchs_lstm_cell():
    """The fallback (and reference) loop against two torch.nn.LSTMCell and a Linear, stepped by hand."""
    lstm, head = make(input_size=1, hidden=12, layers=2)
    cells = [nn.LSTMCell(1, 12, dtype=F64), nn.LSTMCell(12, 12, dtype=F64)]
    for layer, cell in enumerate(cells):
        w = lstm.direction_weights(layer)
        cell.load_state_dict({"weight_ih": w.weight_ih, "weight_hh": w.weight_hh,
                              "bias_ih": w.bias_ih, "bias_hh": w.bias_hh})
    x0, (h, c) = torch.randn(3, 1, dtype=F64), random_state(lstm, 3)
    with torch.no_grad():
        ours, _ = rollout_steps(lstm, x0[None], (h, c), 25, head)
        states, value, expected = [(h[0], c[0]), (h[1], c[1])], x0, []
        for _ in range(25):
            states[0] = cells[0](value, states[0])
            states[1] = cells[1](states[0][0], states[1])
            value = head(states[1][0])
            expected.append(value)
    torch.testing.assert_close(ours, torch.stack(expected), rtol=1e-12, atol=1e-12)


def test_packed_weights_follow_every_weight_change():
    """The packing is cached on the module: an optimizer step, load_state_dict or a new head must be seen."""
    lstm, head = make(input_size=2, hidden=12, layers=2)
    x0 = torch.randn(3, 2, dtype=F64)
    with torch.no_grad():
        before = rollout(lstm, x0, 10, head, fused=True)[0]
    with torch.no_grad():
        lstm.weight_hh_l1.add_(0.05)                               # in place, as an optimizer step does
        after = rollout(lstm, x0, 10, head, fused=True)[0]
        assert not torch.equal(before, after)
        torch.testing.assert_close(after, rollout(lstm, x0, 10, head, fused=False)[0], rtol=1e-12, atol=1e-12)
        other_head = nn.Linear(12, 2, dtype=F64)
        with_other = rollout(lstm, x0, 10, other_head, fused=True)[0]
        torch.testing.assert_close(with_other, rollout(lstm, x0, 10, other_head, fused=False)[0],
                                   rtol=1e-12, atol=1e-12)
        lstm.load_state_dict(make(input_size=2, hidden=12, layers=2, seed=1)[0].state_dict())
        torch.testing.assert_close(rollout(lstm, x0, 10, head, fused=True)[0],
                                   rollout(lstm, x0, 10, head, fused=False)[0], rtol=1e-12, atol=1e-12)


def test_packed_weights_follow_an_update_through_data():
    """p.data.mul_(...) — how hand-written SGD loops update weights — bumps no version counter, changes
    no storage: the packing must still be redone (the fused path returned the old weights' rollout)."""
    lstm, head = make(input_size=1, hidden=12, layers=2)
    x = torch.randn(5, 2, 1, dtype=F64)
    with torch.no_grad():
        before = rollout(lstm, x, 6, head, fused=True)[0]
        for tensor in (lstm.weight_hh_l0, lstm.bias_ih_l1, head.weight):
            tensor.data.mul_(0.5)
            after = rollout(lstm, x, 6, head, fused=True)[0]
            assert not torch.equal(before, after)
            torch.testing.assert_close(after, rollout(lstm, x, 6, head, fused=False)[0], rtol=1e-12, atol=1e-12)
            before = after


@pytest.mark.parametrize("batch, float64_threads, float32_threads", [
    (1, 1, 1),       # 31.5 k multiply-adds a step: not enough for two threads in either dtype
    (2, 2, 1),       # 63 k: enough float64 work for two threads, not enough float32
    (3, 2, 2),       # 94 k (the sine model): enough for both
])
def test_float32_needs_twice_the_arithmetic_for_a_second_thread(batch, float64_threads, float32_threads):
    """2 layers of H = 51 and a linear head: THREAD_MIN_MACS float64 multiply-adds per thread, twice as many
    in float32 (twice the lanes: half the time)."""
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        for dtype, expected in ((torch.float64, float64_threads), (torch.float32, float32_threads)):
            model = AutoregressiveLSTM(hidden_size=51, num_layers=2, dtype=dtype)
            x0 = torch.randn(4, batch, 1, dtype=dtype)
            state = tuple(torch.zeros(2, batch, 51, dtype=dtype) for _ in range(2))
            with torch.no_grad():
                assert rollout_fused(model.lstm, x0, state, 4, model.head)[2] == expected, dtype
    finally:
        torch.set_num_threads(before)


def test_two_threads_give_the_same_numbers_as_one():
    """Threads split the tiles of units; each unit's arithmetic is the same, so the results are identical."""
    lstm, head = make(input_size=3, hidden=40, layers=2, proj=0)
    x0, state = torch.randn(30, 5, 3, dtype=F64), random_state(lstm, 5)
    with torch.no_grad():
        one = rollout_fused(lstm, x0, state, 40, head, threads=1)
        two = rollout_fused(lstm, x0, state, 40, head, threads=2)
        fused = rollout(lstm, x0, 10, head, state, fused=True)    # 30 observed + 10 generated
        steps = rollout(lstm, x0, 10, head, state, fused=False)
    assert two[2] == 2 and one[0].shape == (40, 5, 3)
    for a, b in zip([one[0], *one[1]], [two[0], *two[1]]):
        assert torch.equal(a, b)
    assert fused[0].shape == (40, 5, 3)
    assert_same_rollout(fused, steps)
    assert_same_rollout(fused, one[:2])


@pytest.mark.parametrize("team_must_win_by, ran_on", [(-1.0, 2), (1e9, 1)], ids=["team-kept", "team-dropped"])
def test_the_trial_of_a_second_thread_keeps_the_numbers(team_must_win_by, ran_on, monkeypatch):
    """With threads=None a call of 64 steps or more times its first 16 steps on one thread and the next 16
    on two (after 2 untimed), then runs the rest as the faster did. The margin decides here (-1: the team
    always wins; 10⁹: never), so both outcomes are checked; either way every number equals the one-thread
    run's, bit for bit — across the switch at step 34, with given inputs still read after it (40 given +
    60 generated). A call of 63 steps has no trial: it runs on the team."""
    monkeypatch.setattr(rollout_module, "TEAM_MUST_WIN_BY", team_must_win_by)
    monkeypatch.setattr(rollout_module, "THREAD_MIN_MACS", 1)          # enough arithmetic for two, always
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        lstm, head = make(input_size=3, hidden=40, layers=2, proj=0)
        x0, state = torch.randn(40, 5, 3, dtype=F64), random_state(lstm, 5)
        with torch.no_grad():
            one = rollout_fused(lstm, x0, state, 100, head, threads=1)
            measured = rollout_fused(lstm, x0, state, 100, head)
            shortest = rollout_fused(lstm, x0, state, 64, head)          # the shortest call with a trial
            short = rollout_fused(lstm, x0, state, 63, head)             # no trial: the team runs every step
            rollout(lstm, x0, 60, head, state)
    finally:
        torch.set_num_threads(before)
    assert (measured[2], shortest[2], short[2], one[2]) == (ran_on, ran_on, 2, 1)
    assert rollout_module.last_path == rollout_module.RolloutPath("fused", None, ran_on)
    for a, b in zip([one[0], *one[1]], [measured[0], *measured[1]]):
        assert torch.equal(a, b)
    assert torch.equal(shortest[0], one[0][:64]) and torch.equal(short[0], one[0][:63])


@pytest.mark.parametrize("feedback_kind", ["sequential", "pair", "identity"])
def test_affine_feedbacks_other_than_linear(feedback_kind):
    lstm, _ = make(input_size=6, hidden=10, layers=1, proj=6)
    if feedback_kind == "sequential":
        feedback = nn.Sequential(nn.Linear(6, 4, dtype=F64), nn.Identity(), nn.Linear(4, 6, dtype=F64))
    elif feedback_kind == "pair":
        feedback = (torch.randn(6, 6, dtype=F64) * 0.3, torch.randn(6, dtype=F64))
    else:
        feedback = nn.Identity()
    x0, state = torch.randn(2, 6, dtype=F64), random_state(lstm, 2)
    with torch.no_grad():
        fused = rollout(lstm, x0, 20, feedback, state, fused=True)
        steps = rollout(lstm, x0, 20, feedback, state, fused=False)
    assert_same_rollout(fused, steps)


def test_what_the_fused_path_does_not_cover_falls_back_and_says_why():
    lstm, head = make(hidden=8, layers=2)
    x0 = torch.randn(2, 1, dtype=F64)
    rollout(lstm, x0, 3, head)                                    # parameters require grad, grad mode on
    assert rollout_module.last_path.kind == "steps"
    assert "gradients" in rollout_module.last_path.reason
    with pytest.raises(ValueError, match="gradients are wanted"):
        rollout(lstm, x0, 3, head, fused=True)
    with torch.no_grad():
        rollout(lstm, x0, 3, nn.Sequential(nn.Linear(8, 1, dtype=F64), nn.Tanh()))
        assert "Tanh" in rollout_module.last_path.reason
        dropped = lstmlab.LSTM(1, 8, num_layers=2, dropout=0.5, dtype=F64).train()
        rollout(dropped, x0, 3, head)
        assert "dropout" in rollout_module.last_path.reason
        rollout(dropped.eval(), x0, 3, head)
        assert rollout_module.last_path.kind == "fused"


class Clamped(nn.Linear):
    """A Linear whose forward does more than its weights: the fused path must not read only .weight / .bias."""
    def forward(self, h):
        return super().forward(h).clamp(-0.05, 0.05)


def clamp_hook(module, inputs, output):
    return output.clamp(-0.05, 0.05)


@pytest.mark.parametrize("kind", ["subclass", "in a Sequential", "hooked", "hooked Sequential"])
def test_a_feedback_that_does_more_than_its_weights_runs_step_by_step(kind):
    """Found in review: the fused path took any nn.Linear (subclass, hooks and all) for its weight and bias,
    and gave other numbers than the step path, so a model predicted differently with and without no_grad."""
    lstm, head = make(input_size=2, hidden=5, layers=2)
    if kind == "subclass":
        feedback = Clamped(5, 2, dtype=F64)
    elif kind == "in a Sequential":
        feedback = nn.Sequential(nn.Linear(5, 3, dtype=F64), Clamped(3, 2, dtype=F64))
    else:
        feedback = nn.Linear(5, 2, dtype=F64) if kind == "hooked" else nn.Sequential(nn.Linear(5, 2, dtype=F64))
        feedback.register_forward_hook(clamp_hook)
    x0 = torch.randn(3, 2, dtype=F64)
    with torch.no_grad():
        auto, _ = rollout(lstm, x0, 6, feedback)
        assert rollout_module.last_path.kind == "steps"
        assert "subclass" in rollout_module.last_path.reason or "hooks" in rollout_module.last_path.reason
        steps, _ = rollout(lstm, x0, 6, feedback, fused=False)
    torch.testing.assert_close(auto, steps, rtol=0, atol=0)
    assert auto[1:].abs().max() <= 0.05                       # the clamp ran on every generated step


class ClampedSteps(lstmlab.LSTM):
    """An LSTM whose step and forward do more than its weights (a user's subclass): the step path calls both."""
    def forward(self, x, hx=None):
        output, state = super().forward(x, hx)
        return output.clamp(-0.05, 0.05), state

    def step(self, x, hx=None):
        output, state = super().step(x, hx)
        return output.clamp(-0.05, 0.05), state


def test_an_lstm_subclass_that_overrides_forward_or_step_runs_step_by_step():
    """Found in a fault hunt: the fused path ran a subclass's weights, not its forward / step, and gave other
    numbers than the step path without a word (a Linear subclass as feedback already fell back)."""
    torch.manual_seed(0)
    lstm = ClampedSteps(2, 5, num_layers=2, dtype=F64)
    head = nn.Linear(5, 2, dtype=F64)
    x = torch.randn(4, 3, 2, dtype=F64)
    with torch.no_grad():
        auto, _ = rollout(lstm, x, 6, head)
        assert rollout_module.last_path.kind == "steps"
        assert rollout_module.last_path.reason == ("ClampedSteps overrides lstmlab.LSTM's forward and step, which the "
                                                   "fused C++ rollout would not run")
        steps, _ = rollout(lstm, x, 6, head, fused=False)
        with pytest.raises(ValueError, match="overrides lstmlab.LSTM's forward and step"):
            rollout(lstm, x, 6, head, fused=True)
    torch.testing.assert_close(auto, steps, rtol=0, atol=0)


def test_a_state_or_feedback_on_another_device_is_refused_in_one_line():
    """Found in a fault hunt: a feedback on the meta device failed inside the weight packing ("Cannot copy out
    of meta tensor"), a state there inside the C++ operator."""
    lstm, head = make(input_size=2, hidden=5, layers=2)
    x = torch.randn(3, 2, dtype=F64)
    on_meta = nn.Linear(5, 2, dtype=F64, device="meta")
    with torch.no_grad(), pytest.raises(RuntimeError, match=r"^rollout: the feedback's weights are on meta, the inputs "
                                                            r"on cpu; move them to cpu$"):
        rollout(lstm, x, 4, on_meta)
    state = (torch.zeros(2, 3, 5, dtype=F64, device="meta"), torch.zeros(2, 3, 5, dtype=F64))
    for fused in ("auto", False):
        with torch.no_grad(), pytest.raises(RuntimeError, match=r"^rollout: state h is on meta, the inputs on cpu"):
            rollout(lstm, x, 4, head, state=state, fused=fused)
    as_numpy = tuple(t.numpy() for t in (torch.zeros(2, 3, 5, dtype=F64),) * 2)      # found in review: "on cpu, … on cpu"
    with torch.no_grad(), pytest.raises(TypeError, match=r"^rollout: state must be \(h, c\) tensors, got \(ndarray, ndarray\)$"):
        rollout(lstm, x, 4, head, state=as_numpy)


def test_a_parametrized_linear_is_still_fused_with_its_parametrized_weight():
    from torch.nn.utils import parametrizations
    lstm, _ = make(input_size=2, hidden=5, layers=2)
    head = parametrizations.weight_norm(nn.Linear(5, 2, dtype=F64))
    x0 = torch.randn(3, 2, dtype=F64)
    with torch.no_grad():
        fused, _ = rollout(lstm, x0, 6, head)
        assert rollout_module.last_path.kind == "fused"
        steps, _ = rollout(lstm, x0, 6, head, fused=False)
    torch.testing.assert_close(fused, steps, rtol=1e-12, atol=1e-12)


def test_hooks_on_the_lstm_take_the_step_path():
    lstm, head = make(hidden=8, layers=2)
    seen = []
    lstm.register_forward_hook(lambda module, inputs, output: seen.append(output[0].shape))
    with torch.no_grad():
        rollout(lstm, torch.randn(5, 2, 1, dtype=F64), 3, head)
    assert rollout_module.last_path.kind == "steps" and "hooks" in rollout_module.last_path.reason
    assert seen == [torch.Size([5, 2, 8])]                    # the observed steps, read by forward


def test_bad_arguments_are_named():
    lstm, head = make(input_size=2, hidden=8, layers=1)
    with pytest.raises(ValueError, match=r"inputs must be \(batch, 2\) or \(time ≥ 1, batch, 2\), got \(3, 1\)"):
        rollout(lstm, torch.zeros(3, 1, dtype=F64), 5, head)
    with pytest.raises(ValueError, match="steps must be an integer >= 0"):
        rollout(lstm, torch.zeros(3, 2, dtype=F64), -1, head)
    with pytest.raises(ValueError, match=r"state must be \(h, c\) of shapes \(1, 3, 8\) and \(1, 3, 8\), "
                                         r"got \[\(1, 3, 8\), \(1, 4, 8\)\]"):
        rollout(lstm, torch.zeros(3, 2, dtype=F64), 5, head, (torch.zeros(1, 3, 8, dtype=F64),
                                                              torch.zeros(1, 4, 8, dtype=F64)))
    with pytest.raises(ValueError, match=r"feedback nn.Linear\(8, 1\) must map the top layer's 8 features to "
                                         r"the LSTM's 2 inputs"):
        with torch.no_grad():
            rollout(lstm, torch.zeros(3, 2, dtype=F64), 5, nn.Linear(8, 1, dtype=F64))
    with pytest.raises(TypeError, match=r"lstm must be an lstmlab.LSTM, got torch.nn.modules.rnn.LSTM; load "
                                        r"torch's weights into one"):            # was an AttributeError inside
        rollout(nn.LSTM(2, 8, dtype=F64), torch.zeros(3, 2, dtype=F64), 5, head)
    with pytest.raises(RuntimeError, match="bidirectional"):
        rollout(lstmlab.LSTM(2, 8, bidirectional=True, dtype=F64), torch.zeros(3, 2, dtype=F64), 5, head)


@pytest.mark.parametrize("feedback, error, message", [
    (None, TypeError, r"feedback must map the top layer's output \(B, 8\) to the next input \(B, 2\)"),
    ((1, 2, 3), ValueError, r"a feedback tuple must be \(weight, bias\).*got a tuple of int, int, int"),
    (nn.Identity(), ValueError, r"nn.Identity feeds the top layer's 8 features back into an input of 2"),
    (nn.Sequential(nn.Linear(8, 4, dtype=F64), nn.Linear(5, 2, dtype=F64)), ValueError,
     r"its Linear\(5, 2\) is given 4 features by what comes before it"),
    (nn.Linear(8, 2), ValueError, r"the feedback's weights are torch.float32, the LSTM's torch.float64"),
    (lambda top: top[..., :3], ValueError, r"the feedback turned the top layer's output \(3, 8\) at observed step "
                                           r"0 into \(3, 3\)"),
], ids=["none", "three-tuple", "identity", "sequential", "dtype", "callable-width"])
def test_a_feedback_no_path_can_run_is_refused_in_one_line(feedback, error, message):
    """Each used to fail inside a matrix product (or with 'cannot unpack', or an AttributeError)."""
    lstm, _ = make(input_size=2, hidden=8, layers=1)
    with pytest.raises(error, match=message):
        rollout(lstm, torch.zeros(4, 3, 2, dtype=F64), 2, feedback)


def test_a_callable_feedback_always_gets_one_steps_output():
    """It was given the observed steps' outputs as (n, B, P): a softmax over dim 1 ran over the batch there
    (rows summing to 4/3), a slice h[:, :2] cut the batch, an offset per batch row (B, I) failed. Now
    (B, P) a step, as every generated step gives it."""
    lstm, _ = make(input_size=4, hidden=4, layers=1)
    observed = torch.randn(3, 2, 4, dtype=F64)
    offset = torch.tensor([[0.0], [10.0]], dtype=F64)                   # one per batch row: (B, 1)
    for feedback, each_step in [(lambda top: torch.softmax(top, dim=1), lambda top: torch.softmax(top, dim=-1)),
                                (lambda top: top + offset, lambda top: top + offset[None])]:
        with torch.no_grad():
            outputs, _ = rollout(lstm, observed, 2, feedback, fused=False)
            expected = each_step(lstm(observed)[0])                     # what each observed step feeds back
        torch.testing.assert_close(outputs[:3], expected)
    with torch.no_grad():
        softmax, _ = rollout(lstm, observed, 2, lambda top: torch.softmax(top, dim=1), fused=False)
    torch.testing.assert_close(softmax.sum(-1), torch.ones(5, 2, dtype=F64))


def test_a_compiled_lstm_rolls_out_as_the_module_inside():
    lstm, head = make(input_size=2, hidden=6, layers=2)
    x = torch.randn(3, 2, dtype=F64)
    with torch.no_grad():
        torch.testing.assert_close(rollout(torch.compile(lstm), x, 4, head), rollout(lstm, x, 4, head))


def test_batch_first_is_followed_by_both_paths():
    """The fused path read (B, T, I) as (T, B, I), the step path as (B, T, I): they differed by 0.067
    (and the step path failed when T != B). Both now take and give the LSTM's own layout."""
    lstm, head = make(input_size=2, hidden=6, layers=2)
    first = lstmlab.LSTM(2, 6, num_layers=2, batch_first=True, dtype=F64)
    first.load_state_dict(lstm.state_dict())
    observed = torch.randn(3, 4, 2, dtype=F64)                          # (B, T, I)
    with torch.no_grad():
        fused, fused_state = rollout(first, observed, 5, head)
        assert rollout_module.last_path.kind == "fused"
        time_major, _ = rollout(lstm, observed.transpose(0, 1), 5, head)
    steps, steps_state = rollout(first, observed, 5, head)               # with gradients: the step path
    assert rollout_module.last_path.kind == "steps" and fused.shape == (3, 9, 2)
    torch.testing.assert_close(fused, time_major.transpose(0, 1), rtol=0, atol=1e-12)
    torch.testing.assert_close(steps, fused, rtol=0, atol=1e-12)
    torch.testing.assert_close(steps_state, fused_state, rtol=0, atol=1e-12)


def test_step_checks_its_input_and_state_like_forward():
    """LSTM.step broadcast a state of batch 1 over a batch of 3 and ignored extra layers without a word."""
    lstm, _ = make(input_size=2, hidden=6, layers=1)
    x = torch.zeros(3, 2, dtype=F64)
    output, (h, c) = lstm.step(x, None)                                  # None: zeros, as forward takes it
    assert output.shape == (3, 6) and h.shape == c.shape == (1, 3, 6)
    for bad in [(torch.zeros(2, 3, 6, dtype=F64),) * 2, (torch.zeros(1, 1, 6, dtype=F64),) * 2]:
        with pytest.raises(RuntimeError, match=r"Expected hidden\[0\] size \(1, 3, 6\), got \[" + str(bad[0].size(0))):
            lstm.step(x, bad)
    with pytest.raises(RuntimeError, match=r"x must be \(batch, 2\), got \(3,\)"):
        lstm.step(torch.zeros(3, dtype=F64), None)


def test_zero_steps_and_an_empty_batch():
    lstm, head = make(hidden=8, layers=2)
    with torch.no_grad():
        state = random_state(lstm, 3)
        outputs, (h, c) = rollout(lstm, torch.zeros(3, 1, dtype=F64), 0, head, state, fused=True)
        assert outputs.shape == (0, 3, 1) and torch.equal(h, state[0]) and torch.equal(c, state[1])
        outputs, (h, c) = rollout(lstm, torch.zeros(0, 1, dtype=F64), 4, head, fused=True)
        assert outputs.shape == (4, 0, 1) and h.shape == (2, 0, 8)


@pytest.mark.parametrize("case", CASES[:3], ids=["sine", "small", "proj-3-layers"])
def test_an_observed_sequence_is_read_teacher_forced_then_generation_goes_on(case):
    case = dict(case)
    batch = case.pop("batch")
    lstm, head = make(**case)
    observed = torch.randn(17, batch, lstm.input_size, dtype=F64)
    with torch.no_grad():
        fused = rollout(lstm, observed, 23, head, fused=True)
        steps = rollout(lstm, observed, 23, head, fused=False)
        teacher_forced = head(lstm(observed)[0])                  # the predictions while reading
    assert fused[0].shape == (17 + 23, batch, lstm.input_size)
    assert_same_rollout(fused, steps)
    torch.testing.assert_close(fused[0][:17], teacher_forced, rtol=1e-12, atol=1e-12)


def test_the_sine_model_refuses_what_is_not_a_batch_of_sequences():
    """Found in a fault hunt: a numpy array failed with "no attribute 'dim'", an empty sequence with rollout's
    internal (time, batch, 1) shapes."""
    model = AutoregressiveLSTM()
    with pytest.raises(TypeError, match=r"^AutoregressiveLSTM expects x as a torch.Tensor \(batch, time\), got ndarray$"):
        model(np.zeros((3, 5)))
    with pytest.raises(ValueError, match=r"^AutoregressiveLSTM expects x of shape \(batch, time ≥ 1\), got \(3, 0\)$"):
        model(torch.zeros(3, 0, dtype=F64))


def test_future_preds_is_fused_under_no_grad_and_differentiable_with_grad():
    model = AutoregressiveLSTM(hidden_size=16, num_layers=2)
    x = torch.sin(torch.linspace(0, 6, 30, dtype=F64)).repeat(3, 1)
    with torch.no_grad():
        fused = model(x, future_preds=40)
        assert rollout_module.last_path.kind == "fused"
    stepped = model(x, future_preds=40)                            # grad on: LSTM.step, differentiable
    assert rollout_module.last_path.kind == "steps"
    torch.testing.assert_close(fused, stepped.detach(), rtol=1e-12, atol=1e-12)
    stepped[:, -1].sum().backward()
    assert model.lstm.weight_hh_l0.grad is not None and model.lstm.weight_hh_l0.grad.abs().sum() > 0


def test_a_feedback_pair_may_be_a_list():
    lstm, head = make(input_size=1, hidden=6, layers=1)
    as_list = [head.weight.detach(), head.bias.detach()]
    with torch.no_grad():
        torch.testing.assert_close(rollout(lstm, torch.zeros(2, 1, dtype=F64), 4, as_list)[0],
                                   rollout(lstm, torch.zeros(2, 1, dtype=F64), 4, head)[0], rtol=0, atol=0)


# On a CUDA GPU the fused path replays a CUDA graph of the step loop (lstmlab/rollout_graph.py). The
# capture needs a GPU (tests/test_cuda.py); what is captured — CHUNK steps on static buffers, replayed
# chunk after chunk, the rest stepped — runs eagerly here and must equal the step path bit for bit.
@pytest.mark.parametrize("chunk, observed, steps", [(1, 1, 5), (7, 1, 50), (8, 6, 32), (32, 9, 31), (5, 1, 0)])
def test_the_chunked_loop_a_cuda_graph_captures_equals_the_step_path(chunk, observed, steps):
    from lstmlab.rollout_graph import StepChunk, replay_chunks
    lstm, head = make(input_size=2, hidden=9, layers=2, proj=4)
    given = torch.randn(observed, 3, 2, dtype=F64)
    state = random_state(lstm, 3)

    def chunked(value, state, n):
        return replay_chunks(StepChunk(lstm, head, value, state, chunk), value, state, n)
    with torch.no_grad():
        expected = rollout_steps(lstm, given, state, observed + steps, head)
        got = rollout_steps(lstm, given, state, observed + steps, head, replay=chunked)
    assert got[0].shape == (observed + steps, 3, 2)
    assert_same_rollout(got, expected, rtol=0, atol=0)


def test_a_captured_chunk_is_kept_until_a_shape_or_a_weights_address_changes():
    from lstmlab.rollout_graph import StepChunk, graphed_chunk, replay_chunks
    lstm, head = make(input_size=1, hidden=6, layers=2)
    tensors = rollout_module._weight_tensors(lstm, head)
    value, state = torch.randn(3, 1, dtype=F64), random_state(lstm, 3)

    def chunk(value=value, state=state):
        return graphed_chunk(lstm, head, rollout_module._weight_tensors(lstm, head), value, state, 4, kind=StepChunk)
    first = chunk()
    assert chunk() is first
    with torch.no_grad():
        lstm.weight_hh_l1.mul_(0.5)                                   # in place: the graph reads it there
    assert chunk() is first
    with torch.no_grad():
        expected = rollout_steps(lstm, value[None], state, 13, head)
        got = rollout_steps(lstm, value[None], state, 13, head, replay=lambda v, s, n: replay_chunks(chunk(v, s), v, s, n))
    assert_same_rollout(got, expected, rtol=0, atol=0)
    assert chunk(torch.randn(5, 1, dtype=F64), random_state(lstm, 5)) is not first    # another batch
    lstm.weight_hh_l1 = nn.Parameter(lstm.weight_hh_l1.detach().clone())               # another address
    assert len(tensors) == len(rollout_module._weight_tensors(lstm, head))
    renewed = chunk()
    assert renewed is not first and chunk() is renewed


def test_global_hooks_and_a_missing_bias_are_seen_by_every_path():
    """Found in review: a global forward hook was only noticed through a module feedback (and blamed on it);
    LSTM.step ran with a bias set to None, which forward refuses."""
    from torch.nn.modules.module import register_module_forward_hook
    lstm, head = make(input_size=2, hidden=5, layers=2)
    handle = register_module_forward_hook(lambda module, inputs, output: None)
    try:
        with torch.no_grad():
            rollout(lstm, torch.randn(3, 2, dtype=F64), 4, (head.weight, head.bias))
    finally:
        handle.remove()
    assert rollout_module.last_path.kind == "steps" and "global forward hooks" in rollout_module.last_path.reason
    lstm.bias_hh_l1 = None
    with pytest.raises(TypeError, match="expected bias_hh_l1 to be a tensor of shape"):
        lstm.step(torch.randn(3, 2, dtype=F64), None)
