"""The diagrams are drawn with the letters the code uses."""
import matplotlib

matplotlib.use("Agg")

from lstmlab import diagrams  # noqa: E402


def texts(figure):
    return " ".join(text.get_text() for ax in figure.axes for text in ax.texts)


def test_cell_diagram_has_the_gates_and_states():
    drawn = texts(diagrams.draw_cell())
    for letter in ["i", "f", "g", "o"]:
        assert any(t.get_text() == letter for t in diagrams.draw_cell().axes[0].texts), letter
    for state in ["c_t", "h_t", "c_{t-1}", "h_{t-1}", "x_t"]:
        assert state in drawn, state


def test_unrolled_graph_has_every_step():
    drawn = texts(diagrams.draw_unrolled(steps=3))
    for t in range(1, 4):
        assert f"x_{t}" in drawn and f"h_{t}" in drawn and f"\\ell_{t}" in drawn


def test_persistent_picture_has_every_program_and_barrier():
    drawn = texts(diagrams.draw_persistent(hidden_slices=3, batch_tiles=2, steps=2))
    for piece in range(3):
        for tile in range(2):
            assert f"program ({piece}, {tile})" in drawn
    assert drawn.count("barrier") >= 2
