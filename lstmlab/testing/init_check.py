"""The "init" case: a module's own initial parameters, before any weights are copied in.

torch draws every LSTM/LSTMCell parameter from U(−1/√H, 1/√H). A module that computes the right thing
on torch's weights can still start training from different ones ("wrong init only"). Checked on the
module's raw parameters (so any layout): every value within the bound, each tensor spread (not constant),
and the pooled standard deviation within 25% of the uniform's bound/√3 — for the ~180 values drawn here
that band is more than 7 standard errors wide. With same_init_as_torch, the very same numbers as torch's
for the same seed (through the layout hook).
"""
import math
from dataclasses import replace

import torch

from .runner import map_weights

STD_BAND = 0.25


def check_init(subject, case):
    from .conformance import Outcome
    from .compare import Mismatch
    from .diagnosis import Diagnosis

    outcome = Outcome(case)
    build_case = replace(case, kind=subject.kind)
    bound = 1.0 / math.sqrt(case.hidden_size)
    try:
        with torch.random.fork_rng():
            torch.manual_seed(case.seed)
            module = subject.build(build_case, torch.float32, "cpu")
        params = dict(module.named_parameters())
    except Exception as error:
        outcome.error = error
        return outcome
    problems = []
    for name, p in params.items():
        values = p.detach().double().reshape(-1)
        if values.numel() == 0:
            continue
        largest = values.abs().max().item()
        if largest > bound * (1 + 1e-6):
            problems.append(Mismatch(f"init {name}", largest - bound, 0.0, (), bound, largest,
                                     note=f"max |value| {largest:.4g} is outside torch's bound 1/√H = {bound:.4g}"))
        elif values.numel() >= 4 and values.std().item() == 0:
            problems.append(Mismatch(f"init {name}", note=f"every value is {values[0].item():.4g}: torch draws "
                                                          f"each from U(−{bound:.4g}, {bound:.4g})"))
    if not problems and params:
        pooled = torch.cat([p.detach().double().reshape(-1) for p in params.values()])
        expected_std = bound / math.sqrt(3)
        if abs(pooled.std().item() / expected_std - 1) > STD_BAND:
            problems.append(Mismatch("init (all parameters)", note=f"standard deviation {pooled.std().item():.4g}; "
                                     f"U(−1/√H, 1/√H) gives {expected_std:.4g} (±{STD_BAND:.0%} allowed)"))
    if not problems and subject.supports.same_init_as_torch:
        factory = torch.nn.LSTM if subject.kind == "lstm" else torch.nn.LSTMCell
        options = build_case.constructor_options() if subject.kind == "lstm" else {}
        with torch.random.fork_rng():
            torch.manual_seed(case.seed)
            reference = factory(case.input_size, case.hidden_size, **options)
        expected = map_weights(subject.layout, {n: p.detach() for n, p in reference.named_parameters()}, module)
        for name, value in expected.items():
            if not torch.equal(value, params[name].detach()):
                problems.append(Mismatch(f"init {name}", note="not the numbers torch draws for the same seed "
                                                              "(claimed by same_init_as_torch)"))
                break
    outcome.mismatches = problems
    if problems:
        outcome.diagnosis = Diagnosis(case, first=problems[0], cause="wrong_init",
                                      cause_text="wrong init: the module's own initial parameters are not torch's "
                                                 "U(−1/√H, 1/√H) (its forward and backward are checked separately, "
                                                 "on torch's weights)")
    return outcome
