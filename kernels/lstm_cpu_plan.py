"""How the threads share a C++ time loop: measured on this machine, the first time a shape is seen.

Every C++ loop of backend "bptt" can split its work four ways (lstm_cpu_split.h): by hidden units with
one GEMM call per step ("units"), by batch rows with one GEMM call per step ("rows"), or on W_hh packed
into tiles, split by tiles ("tiles") or by rows ("tile-rows"). Which is fastest depends on the machine
as much as on the sizes. The fixed rule in lstm_cpu_split.h (``auto_partition``, partition "auto") was
measured on one 2-core Intel Xeon, where one MKL call per step won at large layers. On a 2-core AMD EPYC
(Zen 4) MKL's GEMM of 32 × 512 by 512 × 2048 — one step of a wide layer — runs at 73 GFLOP/s, less than half
its rate on a 1024² product (175), while the tiles keep their pace; there the rule's choice took 1.29–1.41×
oneDNN's forward time at issue 17's three shapes with B = 64 or H = 512, and the tiles 0.98–1.13× (2026-12-06,
7 interleaved rounds, an ad-hoc script; a second such run: 1.02–1.45× with the rule, 0.97–1.16× planned;
README).

So, like FFTW's planner (FFTW_MEASURE) or cuDNN's benchmark mode, lstmlab can time the candidates instead
of guessing: the first call of a loop at a new shape runs each candidate split on a copy of the call's first
few steps, a few rounds, interleaved, and keeps the fastest for that shape (plans()). Every later call of
that shape takes it at no cost. Any split computes the same equations; the sums may round differently
(tiles and MKL add in different orders), so results can differ between processes in the last bits,
never within one. The rule itself is a candidate and wins unless another split is more than 10% faster
(MARGIN), so a plan only leaves it where the gain is clear. Partition "auto" restores the fixed rule, and
each split can be forced (LSTMLAB_CPU_PARTITION, kernels/lstm_cpu.py).
"""
import math
import time

# partition codes, as lstm_cpu_split.h numbers them (RULE: the fixed rule's own choice, auto_partition)
RULE, ROWS, UNITS, TILES, TILE_ROWS = 0, 1, 2, 3, 4
NAMES = {RULE: "auto", ROWS: "rows", UNITS: "units", TILES: "tiles", TILE_ROWS: "tile-rows"}

# A trial runs about this many multiply-adds of the recurrence (at least 8 steps, at most 32, never
# more than the call has). Each call lays its weights out once before its first step (tiles cost more
# to lay out than GEMM's transposed copy), so a trial much shorter than the call overrates that cost:
# backward at B = 32, H = 512 (2 threads, this project's AMD VM, µs per step) ranked units first over 4
# steps (524 vs 570 on tiles) and tiles first over 16 (383 vs 490) and over all 200 (346 vs 499).
# Planning the widest cpu-full layer (B = 256, H = 512, T = 100) took 1.2 s in inference and 1.0 s for
# a training step's two loops here (first call minus later ones), once; a small layer's, milliseconds.
TRIAL_MULTIPLY_ADDS = 1 << 29
MIN_TRIAL_STEPS, MAX_TRIAL_STEPS = 8, 32
# Each candidate runs up to this many times, round robin; its fastest run counts (a busy machine only
# ever makes a run slower, so the minimum is the least noisy figure). After each round, a candidate
# more than PRUNE_ABOVE times the fastest so far is not run again (twice: a busy spell seldom costs that).
ROUNDS = 3
PRUNE_ABOVE = 2.0
# The fixed rule is timed too, and kept unless another split beats it by this much: where the two are
# close, which one a trial finds faster is up to the machine's load, and the plan (and with it the last
# bits of every result) would change from run to run for a gain too small to matter. Where the rule is
# clearly wrong (the AMD case above: 1.4x) the plan still moves.
MARGIN = 0.10

_plans = {}                                        # key -> partition code


def trial_steps(steps, step_multiply_adds):
    """How many of the call's ``steps`` a trial runs: ~TRIAL_MULTIPLY_ADDS of work, 8 to 32 steps."""
    wanted = math.ceil(TRIAL_MULTIPLY_ADDS / max(1, step_multiply_adds))
    return min(steps, max(MIN_TRIAL_STEPS, min(MAX_TRIAL_STEPS, wanted)))


def candidates(projected, threads):
    """The splits worth timing, the fixed rule first: no tiles with a projection (the loops on tiles have
    none); on one thread rows and units are the same loop, as are tiles and tile-rows."""
    if threads <= 1:
        return (RULE, UNITS) if projected else (RULE, UNITS, TILES)
    return (RULE, ROWS, UNITS) if projected else (RULE, ROWS, UNITS, TILES, TILE_ROWS)


def fastest(choices, run, rounds=ROUNDS, clock=time.perf_counter, margin=MARGIN):
    """Times ``run(choice)`` for every choice: one untimed run first (first-touch costs: pages, the thread
    team), then up to ``rounds`` runs each, round robin (a slow spell of the machine falls on every choice
    alike), a choice over PRUNE_ABOVE times the fastest so far not run again; each one's fastest run counts.
    Returns the first choice (the incumbent) unless another is faster by more than ``margin``; among
    those, the fastest (a tie goes to the earlier)."""
    run(choices[0])
    best = {choice: math.inf for choice in choices}
    running = list(choices)
    for _ in range(rounds):
        for choice in running:
            start = clock()
            run(choice)
            best[choice] = min(best[choice], clock() - start)
        fastest_yet = min(best.values())
        running = [choice for choice in running if best[choice] <= PRUNE_ABOVE * fastest_yet]
    challenger = min(choices[1:], key=lambda choice: best[choice])
    return challenger if best[challenger] * (1 + margin) < best[choices[0]] else choices[0]


def plan(key, projected, threads, run):
    """The partition for ``key`` (a loop's name and everything that sets its speed but T): measured by
    ``run(partition)`` the first time, then remembered for this process."""
    if key not in _plans:
        _plans[key] = fastest(candidates(projected, threads), run)
    return _plans[key]


def plans():
    """What was planned so far in this process: {key: split name}. A key is (loop, batch, hidden,
    out_size, projected, dtype, threads, trial steps[, input size, chunk steps for the inference path])."""
    return {key: NAMES[code] for key, code in _plans.items()}
