"""Training loops."""
import torch
from tqdm.auto import tqdm


def fit_lbfgs(model, inputs, targets, steps=15, lr=0.8, max_iter=20, loss_fn=None, progress=True):
    """Full-batch L-BFGS on ``loss_fn(model(inputs), targets)`` (MSE by default).

    Each of the ``steps`` optimizer steps evaluates the loss up to ``max_iter`` times. Returns the
    loss at the start of every step.
    """
    loss_fn = loss_fn or torch.nn.functional.mse_loss
    optimizer = torch.optim.LBFGS(model.parameters(), lr=lr, max_iter=max_iter)
    model.train()

    def closure():
        optimizer.zero_grad()
        loss = loss_fn(model(inputs), targets)
        loss.backward()
        return loss

    history = []
    bar = tqdm(range(steps), desc="L-BFGS", unit="step", disable=not progress)
    for _ in bar:
        history.append(optimizer.step(closure).item())         # the loss at the start of the step
        bar.set_postfix(loss=f"{history[-1]:.2e}")
    return history
