"""Forecasting models on lstmlab.LSTM (any backend). Inputs are batch-first: (B, time, features)."""
import torch
from torch import nn

from ..lstm import LSTM


class NextStepLSTM(nn.Module):
    """The common tutorial model, done right: LSTM over the window, a linear head on the LAST step's
    output predicts the value one step AFTER the window. Multi-step forecasts are recursive."""

    def __init__(self, input_size, hidden_size=32, num_layers=1, dropout=0.0, backend="auto"):
        super().__init__()
        self.lstm = LSTM(input_size, hidden_size, num_layers, batch_first=True, dropout=dropout, backend=backend)
        self.head = nn.Linear(hidden_size, 1)

    def forward(self, window):
        """window: (B, L, F) -> (B, 1): the next value."""
        outputs, _ = self.lstm(window)                                 # (B, L, H)
        return self.head(outputs[:, -1])                               # (B, 1)


class Seq2SeqLSTM(nn.Module):
    """The stress-testing design: one prediction per time step from continuous and calendar inputs.

    Continuous features are normalised by BatchNorm1d over the feature axis (it normalises dim 1, so
    (B, T, C) is permuted to (B, C, T) and back); one-hot calendar dummies pass through unnormalised
    (a batch statistic of a 0/1 column means nothing); a 2-layer LSTM with dropout between its layers;
    dropout on its output; a linear head emitting one value per time step.
    """

    def __init__(self, continuous_size, dummy_size, hidden_size=32, num_layers=2, dropout=0.2, backend="auto"):
        super().__init__()
        self.norm = nn.BatchNorm1d(continuous_size)
        self.lstm = LSTM(continuous_size + dummy_size, hidden_size, num_layers, batch_first=True,
                         dropout=dropout if num_layers > 1 else 0.0, backend=backend)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size, 1)

    def forward(self, continuous, dummies):
        """continuous: (B, T, C), dummies: (B, T, D) -> (B, T): for each step, the next step's target."""
        normalised = self.norm(continuous.transpose(1, 2)).transpose(1, 2)     # (B, T, C)
        outputs, _ = self.lstm(torch.cat([normalised, dummies], dim=2))        # (B, T, H)
        return self.head(self.dropout(outputs)).squeeze(-1)                    # (B, T)


class MultiHorizonLSTM(nn.Module):
    """Direct multi-step forecasting: an LSTM encodes the history; an MLP decodes all h steps at once
    from the encoding, the static features and the future exogenous inputs (known in advance, e.g.
    the calendar). With quantiles it emits one value per step and quantile (trained with the pinball
    loss), which gives prediction intervals."""

    def __init__(self, historic_size, horizon, future_size=0, static_size=0, hidden_size=32, mlp_size=64,
                 quantiles=None, dropout=0.0, backend="auto"):
        super().__init__()
        self.horizon = horizon
        self.quantiles = tuple(quantiles) if quantiles else None
        outputs = len(self.quantiles) if self.quantiles else 1
        self.encoder = LSTM(historic_size, hidden_size, batch_first=True, backend=backend)
        self.decoder = nn.Sequential(
            nn.Linear(hidden_size + static_size + horizon * future_size, mlp_size), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(mlp_size, horizon * outputs))
        self.outputs = outputs

    def forward(self, historic, future=None, static=None):
        """historic (B, L, Fh), future (B, h, Ff), static (B, S) -> (B, h) or (B, h, Q)."""
        _, (h_n, _) = self.encoder(historic)                                   # h_n: (1, B, H)
        parts = [h_n[-1]]
        if static is not None:
            parts.append(static)
        if future is not None:
            parts.append(future.flatten(1))                                    # (B, h·Ff)
        out = self.decoder(torch.cat(parts, dim=1)).view(-1, self.horizon, self.outputs)
        return out if self.quantiles else out.squeeze(-1)


def quantile_loss(prediction, target, quantiles):
    """Pinball loss averaged over quantiles: prediction (B, h, Q), target (B, h)."""
    q = torch.tensor(quantiles, dtype=prediction.dtype, device=prediction.device)     # (Q,)
    error = target.unsqueeze(-1) - prediction                                         # (B, h, Q)
    return torch.maximum(q * error, (q - 1) * error).mean()
