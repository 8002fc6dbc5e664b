"""Models built on lstmlab.LSTM (any backend)."""
import torch
from torch import nn

from .lstm import LSTM
from .rollout import rollout
from .validation import step_count


class AutoregressiveLSTM(nn.Module):
    """The classic sine-wave model: stacked LSTM cells and a linear head that predicts the next value.

    forward(x, future_preds) first reads the observed sequence teacher-forced — every step sees the
    true value and predicts the next one — then feeds each prediction back as the next input for
    ``future_preds`` more steps. lstmlab.rollout does both: under torch.no_grad() in one C++ call for
    all steps; with gradients, the observed sequence through the fast backend in one call and the
    generated steps with LSTM.step (the from-scratch cells on the same weights), so that gradients
    flow through them.
    """

    def __init__(self, hidden_size=51, num_layers=2, backend="auto", dtype=torch.float64):
        super().__init__()
        self.lstm = LSTM(1, hidden_size, num_layers=num_layers, backend=backend, dtype=dtype)
        self.head = nn.Linear(hidden_size, 1, dtype=dtype)

    def forward(self, x, future_preds=0, fused="auto"):
        """x: (B, T) observed values -> (B, T + future_preds): the prediction of the value after each step.
        fused: lstmlab.rollout's choice for the generated steps ("auto", True or False)."""
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"AutoregressiveLSTM expects x as a torch.Tensor (batch, time), got {type(x).__name__}")
        if x.dim() != 2 or x.size(1) == 0:
            raise ValueError(f"AutoregressiveLSTM expects x of shape (batch, time ≥ 1), got {tuple(x.shape)}")
        future_preds = step_count("future_preds", future_preds)
        predictions, _ = rollout(self.lstm, x.T.unsqueeze(-1), future_preds, self.head, fused=fused)  # (T + F, B, 1)
        return predictions.squeeze(-1).T                          # (B, T + future_preds)
