"""Plots. matplotlib is imported inside each function, with the file-only Agg backend."""


def plot_future_predictions(observed, predicted, truth, path, title=None):
    """The classic figure: per wave, observed values (solid), predicted future (dotted), truth (faint).

    observed: (n, T) the input the model read; predicted: (n, T + F) its predictions of the next
    value after each step (so predicted[:, T - 1:] is the future); truth: (n, F + 1) the true
    values from step T on.
    """
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = observed.shape[1]
    fig, ax = plt.subplots(figsize=(15, 5))
    colors = ["tab:red", "tab:green", "tab:blue", "tab:purple", "tab:orange"]
    for row in range(observed.shape[0]):
        color = colors[row % len(colors)]
        ax.plot(range(steps), observed[row], color=color, linewidth=2.0)
        ax.plot(range(steps, steps + truth.shape[1]), truth[row], color=color, alpha=0.25, linewidth=4.0)
        ax.plot(range(steps, steps + predicted.shape[1] - steps + 1), predicted[row, steps - 1:],
                color=color, linestyle=":", linewidth=2.0)
    ax.axvline(steps, color="grey", linewidth=0.8)
    ax.set_xlabel("t")
    ax.set_ylabel("y")
    ax.set_title(title or "Observed (solid), predicted future (dotted), truth (faint)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
