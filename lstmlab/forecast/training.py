"""A training loop for forecasters: Adam or L-BFGS, mini-batches, validation-based early stopping,
learning-rate decay, gradient clipping, seeding, a progress bar, and the history it returns."""
import copy
from dataclasses import dataclass, field
from typing import List, Optional

import torch
from tqdm import tqdm          # plain text bars: no widget (and no IProgress warning) in notebooks


@dataclass
class History:
    train_loss: List[float] = field(default_factory=list)
    val_loss: List[float] = field(default_factory=list)
    best_epoch: Optional[int] = None          # 1-based epoch with the lowest validation loss
    stopped_early: bool = False


def fit(model, loss_fn, train, val=None, optimizer="adam", lr=1e-2, epochs=300, batch_size=None, patience=50,
        lr_decay=1.0, clip=1.0, seed=0, progress=False, restore_best=True):
    """Train ``model`` so that ``loss_fn(model(*inputs), target)`` falls.

    train, val: (inputs tuple, target) of tensors, first dimension = samples. batch_size=None is full
    batch. Early stopping: stop after ``patience`` epochs without a better validation loss and, with
    ``restore_best``, put back the weights of the best epoch. lr_decay multiplies the learning rate
    after every epoch; clip caps the gradient norm.
    """
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    inputs, target = train
    if optimizer == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=lr)
    elif optimizer == "lbfgs":
        opt = torch.optim.LBFGS(model.parameters(), lr=lr, max_iter=20, line_search_fn="strong_wolfe")
    else:
        raise ValueError(f"optimizer must be 'adam' or 'lbfgs', got {optimizer!r}")
    scheduler = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=lr_decay)
    history, best_state, best_val, waited = History(), None, float("inf"), 0
    samples = len(target)
    batch_size = batch_size or samples

    for epoch in tqdm(range(1, epochs + 1), desc="training", disable=not progress):
        model.train()
        order = torch.randperm(samples, generator=generator)
        total = 0.0
        for start in range(0, samples, batch_size):
            index = order[start:start + batch_size]
            batch_inputs, batch_target = [t[index] for t in inputs], target[index]

            def closure():
                opt.zero_grad()
                loss = loss_fn(model(*batch_inputs), batch_target)
                loss.backward()
                if clip:
                    torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
                return loss

            total += opt.step(closure).item() * len(index)
        scheduler.step()
        history.train_loss.append(total / samples)
        if val is not None:
            model.eval()
            with torch.no_grad():
                val_loss = loss_fn(model(*val[0]), val[1]).item()
            history.val_loss.append(val_loss)
            if val_loss < best_val:
                best_val, waited, history.best_epoch = val_loss, 0, epoch
                best_state = copy.deepcopy(model.state_dict())
            else:
                waited += 1
                if waited >= patience:
                    history.stopped_early = True
                    break
    if val is not None and restore_best and best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return history
