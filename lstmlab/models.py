"""Models built on lstmlab.LSTM (any backend)."""
import torch
from torch import nn

from .lstm import LSTM
from .rollout import rollout


class AutoregressiveLSTM(nn.Module):
    """The classic sine-wave model: stacked LSTM cells and a linear head that predicts the next value.

    forward(x, future_preds) first reads the observed sequence teacher-forced — every step sees the
    true value and predicts the next one — with the fast backend over the whole sequence; then it
    feeds each prediction back as the next input for ``future_preds`` more steps (lstmlab.rollout:
    one C++ call for all of them under torch.no_grad(), else LSTM.step — the from-scratch cells on
    the same weights — one step at a time, so that gradients flow through the generated steps).
    """

    def __init__(self, hidden_size=51, num_layers=2, backend="auto", dtype=torch.float64):
        super().__init__()
        self.lstm = LSTM(1, hidden_size, num_layers=num_layers, backend=backend, dtype=dtype)
        self.head = nn.Linear(hidden_size, 1, dtype=dtype)

    def forward(self, x, future_preds=0):
        """x: (B, T) observed values -> (B, T + future_preds): the prediction of the value after each step."""
        if x.dim() != 2:
            raise ValueError(f"AutoregressiveLSTM expects x of shape (batch, time), got {tuple(x.shape)}")
        if future_preds < 0:
            raise ValueError(f"future_preds must be >= 0, got {future_preds}")
        outputs, state = self.lstm(x.T.unsqueeze(-1))             # (T, B, H) teacher-forced
        predictions = [self.head(outputs).squeeze(-1).T]          # (B, T)
        value = predictions[0][:, -1:]                            # (B, 1) the first unseen value
        state = (state[0], state[1])
        generated, _ = rollout(self.lstm, value, future_preds, self.head, state)   # (future_preds, B, 1)
        predictions.append(generated.squeeze(-1).T)               # (B, future_preds)
        return torch.cat(predictions, dim=1)                      # (B, T + future_preds)
