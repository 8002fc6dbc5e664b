"""Training loops."""
import torch
from tqdm import tqdm          # plain text bars: no widget (and no IProgress warning) in notebooks

from .validation import step_count


def fit_lbfgs(model, inputs, targets, steps=15, lr=0.8, max_iter=20, loss_fn=None, progress=True,
              line_search_fn=None, future_preds=0, desc="L-BFGS"):
    """Full-batch L-BFGS on ``loss_fn(model(inputs), targets)`` (MSE by default).

    Each of the ``steps`` optimizer steps evaluates the loss up to ``max_iter`` times (more with
    ``line_search_fn="strong_wolfe"``, which never takes a step that raises the loss). With
    ``future_preds = K`` the model also rolls out K steps on its own predictions
    (``model(inputs, future_preds=K)``), and ``targets`` must cover them: a multi-step loss.
    Returns the loss at the start of every step.
    """
    steps = step_count("fit_lbfgs: steps", steps)
    check_shapes = loss_fn is None                # MSE would broadcast mismatched shapes with only a warning
    loss_fn = loss_fn or torch.nn.functional.mse_loss
    optimizer = torch.optim.LBFGS(model.parameters(), lr=lr, max_iter=max_iter, line_search_fn=line_search_fn)
    model.train()

    def closure():
        optimizer.zero_grad()
        predictions = model(inputs, future_preds=future_preds) if future_preds else model(inputs)
        if check_shapes and predictions.shape != targets.shape:
            raise ValueError(f"fit_lbfgs: the model predicts {tuple(predictions.shape)} but targets are "
                             f"{tuple(targets.shape)}" + (f" (with future_preds={future_preds}, the targets must "
                                                          "cover the generated steps too)" if future_preds else ""))
        loss = loss_fn(predictions, targets)
        loss.backward()
        return loss

    history = []
    bar = tqdm(range(steps), desc=desc, unit="step", disable=not progress)
    for _ in bar:
        history.append(optimizer.step(closure).item())         # the loss at the start of the step
        bar.set_postfix(loss=f"{history[-1]:.2e}")
    return history
