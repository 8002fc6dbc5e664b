"""Diagrams drawn in code, so they keep the letters the code uses (i, f, g, o; c_t, h_t).

    draw_cell()             one LSTM step: the four gates, the cell path, the output
    draw_unrolled(steps)    the unrolled graph of T steps, forward (black) and backward (red) edges
    draw_persistent(...)    the persistent Triton kernel: programs, W_hh tiles, the per-step barrier

Each returns the matplotlib Figure; its texts are what a test checks.
"""


def _plt():
    import matplotlib.pyplot as plt
    return plt


def _box(ax, x, y, text, width=0.9, height=0.6, color="white", fontsize=12):
    from matplotlib.patches import FancyBboxPatch
    ax.add_patch(FancyBboxPatch((x - width / 2, y - height / 2), width, height, boxstyle="round,pad=0.05",
                                facecolor=color, edgecolor="black"))
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize)


def _circle(ax, x, y, text, radius=0.28, color="white"):
    from matplotlib.patches import Circle
    ax.add_patch(Circle((x, y), radius, facecolor=color, edgecolor="black"))
    ax.text(x, y, text, ha="center", va="center", fontsize=13)


def _arrow(ax, start, end, color="black", style="-|>", linestyle="-", label=None, label_at=0.5, offset=(0, 0.18)):
    ax.annotate("", xy=end, xytext=start,
                arrowprops=dict(arrowstyle=style, color=color, linestyle=linestyle, shrinkA=0, shrinkB=0))
    if label:
        x = start[0] + label_at * (end[0] - start[0]) + offset[0]
        y = start[1] + label_at * (end[1] - start[1]) + offset[1]
        ax.text(x, y, label, ha="center", va="center", fontsize=11, color=color)


def draw_cell(ax=None):
    """One LSTM step, in torch's gate order i, f, g, o.

    Bottom: [h_{t−1}, x_t] feeds four layers — σ (i), σ (f), tanh (g), σ (o). Top: the cell path
    c_{t−1} → ⊙ f → ⊕ i ⊙ g → c_t, with no weight matrix on it. Right: h_t = o ⊙ tanh(c_t).
    """
    plt = _plt()
    fig = None
    if ax is None:
        fig, ax = plt.subplots(figsize=(10, 5.5))
    fig = fig or ax.figure
    cell_y, gate_y, input_y = 4.0, 1.8, 0.3
    ax.add_patch(_plt().Rectangle((0.8, 0.9), 8.4, 3.8, facecolor="#f4f4f4", edgecolor="grey"))
    # inputs: [h_{t−1}, x_t] shared by every gate
    ax.text(0.2, input_y, "$h_{t-1}$", fontsize=13, ha="center", va="center")
    # x_t joins the shared line between two boxes (a dot marks the junction), so that it is not read as
    # feeding only the box above where it joins
    ax.text(6.05, input_y - 0.25, "$x_t$", fontsize=13, ha="center", va="center")
    ax.plot([0.45, 7.2], [input_y + 0.5, input_y + 0.5], color="black")
    ax.plot([0.2, 0.2, 0.45], [input_y + 0.2, input_y + 0.5, input_y + 0.5], color="black")
    ax.plot([6.05, 6.05], [input_y, input_y + 0.5], color="black")
    ax.plot([6.05], [input_y + 0.5], marker="o", markersize=5, color="black")
    gates = [("f", "σ", 2.0), ("i", "σ", 3.6), ("g", "tanh", 4.9), ("o", "σ", 7.2)]
    for letter, function, x in gates:
        ax.plot([x, x], [input_y + 0.5, gate_y - 0.3], color="black")
        _box(ax, x, gate_y, function, width=0.8 if function == "σ" else 1.0, color="#ffe9a8")
        ax.text(x - 0.55, gate_y + 0.55, letter, fontsize=14, fontweight="bold", color="tab:blue")
    # the cell path along the top
    ax.text(0.2, cell_y, "$c_{t-1}$", fontsize=13, ha="center", va="center")
    _arrow(ax, (0.5, cell_y), (1.72, cell_y))
    _circle(ax, 2.0, cell_y, "⊙")
    _arrow(ax, (2.0, gate_y + 0.3), (2.0, cell_y - 0.28))                    # f into the ⊙
    _arrow(ax, (2.28, cell_y), (4.02, cell_y))
    _circle(ax, 4.3, cell_y, "+")
    _circle(ax, 4.3, 2.9, "⊙")                                                 # i ⊙ g
    ax.plot([3.6, 3.6, 4.02], [gate_y + 0.3, 2.9, 2.9], color="black")
    ax.plot([4.9, 4.9, 4.58], [gate_y + 0.3, 2.9, 2.9], color="black")
    _arrow(ax, (4.3, 3.18), (4.3, cell_y - 0.28))
    _arrow(ax, (4.58, cell_y), (9.8, cell_y), label="$c_t = f ⊙ c_{t-1} + i ⊙ g$", label_at=0.62, offset=(0, 0.3))
    # the output: h_t = o ⊙ tanh(c_t)
    ax.plot([8.2, 8.2], [cell_y, 3.45], color="black")
    _box(ax, 8.2, 3.15, "tanh", width=0.9, height=0.5, color="#ffd0d0")
    _circle(ax, 8.2, 2.2, "⊙")
    _arrow(ax, (8.2, 2.9), (8.2, 2.48))
    ax.plot([7.2, 7.2, 7.92], [gate_y + 0.3, 2.2, 2.2], color="black")
    _arrow(ax, (8.48, 2.2), (9.8, 2.2), label="$h_t = o ⊙ \\tanh(c_t)$", label_at=0.5, offset=(0.05, -0.35))
    ax.text(10.0, cell_y, "$c_t$", fontsize=13, va="center")
    ax.text(10.0, 2.2, "$h_t$", fontsize=13, va="center")
    ax.text(5.0, -0.55, "each box: its rows of $W_{ih}\\,x_t + W_{hh}\\,h_{t-1} + b$, then the function;  "
                        "i input gate · f forget gate · g input node · o output gate",
            ha="center", fontsize=9.5, color="dimgray")
    ax.set_xlim(-0.3, 10.8)
    ax.set_ylim(-0.8, 5.0)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title("One LSTM step")
    return fig


def draw_unrolled(steps=4, ax=None):
    """The LSTM unrolled over ``steps`` steps: forward edges black, the gradients of BPTT red (dashed).

    The loss L = Σ_t ℓ_t reads every h_t; backward, dh_t gets ∂ℓ_t/∂h_t plus what step t + 1 sends
    back through W_hh, and dc_t reaches c_{t−1} multiplied by f alone.
    """
    plt = _plt()
    fig = None
    if ax is None:
        fig, ax = plt.subplots(figsize=(2.6 * steps + 1.5, 4.6))
    fig = fig or ax.figure
    spacing = 2.6
    for t in range(1, steps + 1):
        x = spacing * t
        _box(ax, x, 1.5, f"cell\nt = {t}", width=1.2, height=1.1, color="#e8f0ff")
        _arrow(ax, (x, 0.0), (x, 0.95))
        ax.text(x, -0.25, f"$x_{t}$", ha="center", va="center", fontsize=13)
        _arrow(ax, (x, 2.05), (x, 2.9))
        _box(ax, x, 3.2, f"$\\ell_{t}$", width=0.7, height=0.5, color="#fff3d6")
        ax.text(x + 0.28, 2.45, f"$h_{t}$", fontsize=11)
        _arrow(ax, (x + 0.2, 2.9), (x + 0.2, 2.05), color="tab:red", linestyle="--")
        ax.text(x + 0.75, 2.45, f"$dh_{t}$", fontsize=10, color="tab:red")
        left = x - spacing + 0.6 if t > 1 else 0.55
        label_c = f"$c_{t - 1}$" if t > 1 else "$c_0$"
        label_h = f"$h_{t - 1}$" if t > 1 else "$h_0$"
        _arrow(ax, (left, 1.8), (x - 0.6, 1.8), label=label_c, offset=(0, 0.2))
        _arrow(ax, (left, 1.2), (x - 0.6, 1.2), label=label_h, offset=(0, -0.22))
        _arrow(ax, (x - 0.6, 1.65), (left, 1.65), color="tab:red", linestyle="--")
        _arrow(ax, (x - 0.6, 1.05), (left, 1.05), color="tab:red", linestyle="--")
    ax.text(0.45, 1.8, "$c_0$", ha="right", va="center", fontsize=12)
    ax.text(0.45, 1.2, "$h_0$", ha="right", va="center", fontsize=12)
    ax.text(spacing * (steps + 1) / 2, 4.0, "$L = \\sum_t \\ell_t$ (every step's loss reads its $h_t$)",
            ha="center", fontsize=12)
    ax.text(spacing * (steps + 1) / 2, -0.55,
            "black: forward · red, dashed: backward — $dc_{t-1} = dc_t ⊙ f$ (+ what $h_{t-1}$ sends), "
            "$dh_{t-1} = \\partial\\ell_{t-1}/\\partial h_{t-1} + d\\mathrm{gates}_t\\,W_{hh}$\n"
            "(steps counted from 1 here, so that $h_0, c_0$ are the initial state; the code counts t from 0)",
            ha="center", va="top", fontsize=9.5, color="dimgray")
    ax.set_xlim(-0.4, spacing * (steps + 0.6))
    ax.set_ylim(-1.5, 4.4)
    ax.axis("off")
    ax.set_title(f"The LSTM unrolled over {steps} steps")
    return fig


def draw_persistent(hidden_slices=4, batch_tiles=2, steps=3, ax=None):
    """The persistent kernel's grid: programs = hidden slices × batch tiles, and time across.

    Program (s, b) keeps rows [sS, (s+1)S) of all four gates of W_hh (4·S × P) on chip for all T steps;
    each step it reads all of h_{t−1} for its batch tile, writes its slice of h_t, and waits at a
    barrier for the other programs of its batch tile before step t + 1.
    """
    plt = _plt()
    fig = None
    if ax is None:
        fig, ax = plt.subplots(figsize=(3.2 * steps + 2.5, 1.1 * hidden_slices * batch_tiles + 1.8))
    fig = fig or ax.figure
    colors = ["#cfe2ff", "#ffe0b3", "#d4f0d0", "#f5d0f0", "#e0e0e0"]
    row_height = 1.0
    for step in range(steps):
        x0 = 3.2 * step + 1.8
        for tile in range(batch_tiles):
            for piece in range(hidden_slices):
                row = tile * hidden_slices + piece
                y = -row * row_height - 0.4 * tile
                _box(ax, x0, y, f"program ({piece}, {tile})\nW_hh slice {piece}: 4·S × P\nh_t[tile {tile}, slice {piece}]",
                     width=2.3, height=0.8, color=colors[piece % len(colors)], fontsize=8)
            top = 0.5 - 0.4 * tile - tile * hidden_slices * row_height
            bottom = top - hidden_slices * row_height
            ax.plot([x0 + 1.35, x0 + 1.35], [top, bottom + 0.1], color="tab:red", linewidth=3)
            if step == steps - 1:
                ax.text(x0 + 1.5, (top + bottom) / 2, f"barrier\n(tile {tile})", color="tab:red", fontsize=9,
                        va="center")
        ax.text(x0, 1.0, f"step t = {step + 1}", ha="center", fontsize=12)
    for tile in range(batch_tiles):
        y = -(tile * hidden_slices + (hidden_slices - 1) / 2) * row_height - 0.4 * tile
        ax.text(0.3, y, f"batch\ntile {tile}", ha="center", va="center", fontsize=10)
    bottom = -(hidden_slices * batch_tiles) * row_height - 0.4 * batch_tiles
    ax.text(3.2 * steps / 2 + 1.0, bottom - 0.1,
            "each step: read $h_{t-1}$ (all P units, global memory / L2) → gates of its S units → write its slice of "
            "$h_t$ → wait at the barrier\n$W_{hh}$ slices stay on chip for all T steps; $c_t$ stays on chip too (each program "
            "owns its units' c)", ha="center", va="top", fontsize=9, color="dimgray")
    ax.set_xlim(-0.5, 3.2 * steps + 1.5)
    ax.set_ylim(bottom - 1.1, 1.5)
    ax.axis("off")
    ax.set_title(f"Persistent kernel: grid = {hidden_slices} hidden slices × {batch_tiles} batch tiles, one launch for all T steps")
    return fig
