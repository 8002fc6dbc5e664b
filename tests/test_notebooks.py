"""Every tutorial notebook runs top to bottom (quick mode), prints no widget or repr noise, and none is
committed with outputs."""
import json
import os
from pathlib import Path

import pytest

nbclient = pytest.importorskip("nbclient")
nbformat = pytest.importorskip("nbformat")

TUTORIALS = sorted((Path(__file__).parent.parent / "tutorials").glob("*.ipynb"))


def test_there_are_tutorials():
    assert TUTORIALS


@pytest.mark.parametrize("path", TUTORIALS, ids=[p.stem for p in TUTORIALS])
def test_committed_without_outputs(path):
    notebook = json.loads(path.read_text())
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            assert cell.get("outputs", []) == [] and cell.get("execution_count") is None, path.name


@pytest.mark.parametrize("path", TUTORIALS, ids=[p.stem for p in TUTORIALS])
def test_notebook_runs(path, monkeypatch):
    monkeypatch.setenv("LSTMLAB_QUICK", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(path.parent)}})
    client.execute()          # raises CellExecutionError, naming the cell, if any cell fails
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        for output in cell.get("outputs", []):
            text = output.get("text", "") + str(output.get("data", {}).get("text/plain", ""))
            for noise in NOISE:
                assert noise not in text, f"{path.name}: {noise!r} in the output of\n{cell.source}"


# Notebooks that end in a worked application instead of exercises (checking your own LSTM).
NO_EXERCISES = ("10_",)

# What a learner should never have to read: a widget warning, an object's repr instead of a result.
NOISE = ["IProgress", "torch._C.Generator", "<torch.", "TqdmWarning", "grad_fn="]


def test_tutorials_are_numbered_theory_first():
    # Theory (the cell, stacking, BPTT, gradients) before the applications that use it.
    names = [p.stem for p in TUTORIALS]
    order = ["lstm_cell_from_scratch", "stacking_bidirectional_packed", "bptt_by_hand",
             "vanishing_exploding_gradients", "sine_waves_future_preds", "char_language_model"]
    positions = [next(i for i, name in enumerate(names) if name.endswith(topic)) for topic in order]
    assert positions == sorted(positions)
    assert len(TUTORIALS) >= 10


@pytest.mark.parametrize("path", [p for p in TUTORIALS if not p.name.startswith(NO_EXERCISES)],
                         ids=lambda p: p.stem)
def test_every_tutorial_ends_with_exercises_that_check_themselves(path):
    notebook = json.loads(path.read_text())
    sources = ["".join(cell["source"]) for cell in notebook["cells"]]
    start = next(i for i, source in enumerate(sources) if source.startswith("## Exercises"))
    checks = [source for source in sources[start:] if "exercises.check_" in source]
    assert 2 <= len(checks) <= 4, path.name
