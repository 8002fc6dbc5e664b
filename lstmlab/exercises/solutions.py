"""Solutions to the tutorials' exercises — try them yourself first.

Each function has the signature its exercise asks for; ``lstmlab.exercises.check_<name>`` checks it,
and tests/test_exercises.py checks that every solution here passes.
"""
import math

import numpy as np
import torch

# --- 00 the cell --------------------------------------------------------------------------------


def lstm_step(x, state, weights):
    """One LSTM step. x: (B, I), state = (h (B, H), c (B, H)), weights: torch.nn.LSTMCell's parameter
    names (weight_ih (4H, I), weight_hh (4H, H), bias_ih (4H,), bias_hh (4H,)) -> (h', c')."""
    h, c = state
    gates = x @ weights["weight_ih"].T + weights["bias_ih"] + h @ weights["weight_hh"].T + weights["bias_hh"]  # (B, 4H)
    i, f, g, o = gates.chunk(4, dim=1)                   # 4 × (B, H), torch's order
    c_next = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    h_next = torch.sigmoid(o) * torch.tanh(c_next)
    return h_next, c_next


def lstm_cell_parameter_count(input_size, hidden_size):
    """Parameters of torch.nn.LSTMCell(input_size, hidden_size): two weight matrices, two biases."""
    return 4 * hidden_size * (input_size + hidden_size) + 2 * 4 * hidden_size


def cell_half_life(forget_bias):
    """Steps until c halves when nothing is written (i = 0) and f = σ(forget_bias): f^k = 1/2."""
    f = 1 / (1 + math.exp(-forget_bias))
    return math.log(0.5) / math.log(f)


# --- 01 stacking, bidirectional, packed ---------------------------------------------------------


def lstm_output_shapes(steps, batch, input_size, hidden_size, num_layers=1, bidirectional=False, proj_size=0):
    """Shapes of output, h_n, c_n of torch.nn.LSTM on a (T, B, I) input."""
    directions = 2 if bidirectional else 1
    out = proj_size or hidden_size
    return ((steps, batch, directions * out), (num_layers * directions, batch, out),
            (num_layers * directions, batch, hidden_size))


def lstm_parameter_count(input_size, hidden_size, num_layers=1, bidirectional=False, proj_size=0):
    """Parameters of torch.nn.LSTM with these options."""
    directions = 2 if bidirectional else 1
    out = proj_size or hidden_size
    total = 0
    for layer in range(num_layers):
        layer_input = input_size if layer == 0 else directions * out
        per_direction = 4 * hidden_size * (layer_input + out) + 8 * hidden_size
        if proj_size:
            per_direction += proj_size * hidden_size
        total += directions * per_direction
    return total


def reverse_within_lengths(x, lengths):
    """x: (T, B, F) padded, lengths: B ints -> each sequence reversed within its own length, padding kept."""
    result = x.clone()
    for b, length in enumerate(lengths):
        result[:length, b] = x[:length, b].flip(0)
    return result


# --- 02 BPTT by hand ----------------------------------------------------------------------------


def gate_gradients(i, f, g, o, c_prev, c, dh, dc):
    """Gradients of the four pre-activations (B, 4H), given the gates, c_prev = c_{t−1}, c = c_t, and the
    gradients dh, dc that reach h_t and c_t from above."""
    tanh_c = torch.tanh(c)
    dc_total = dc + dh * o * (1 - tanh_c ** 2)           # h_t = o ⊙ tanh c_t also depends on c_t
    return torch.cat([dc_total * g * i * (1 - i),         # d_i
                      dc_total * c_prev * f * (1 - f),    # d_f
                      dc_total * i * (1 - g ** 2),        # d_g
                      dh * tanh_c * o * (1 - o)], dim=1)  # d_o


def weight_hh_gradient(grad_gates, h_prev):
    """dW_hh = Σ_t d_gates_tᵀ h_{t−1}. grad_gates: (T, B, 4H), h_prev: (T, B, H) -> (4H, H)."""
    return torch.einsum("tbg,tbh->gh", grad_gates, h_prev)


# --- 03 vanishing and exploding gradients -------------------------------------------------------


def clip_grad_norm(grads, max_norm):
    """Scale all gradients by one factor so that their joint L2 norm is at most max_norm."""
    total = torch.sqrt(sum((g ** 2).sum() for g in grads))
    scale = min(1.0, max_norm / (float(total) + 1e-6))
    return [g * scale for g in grads]


def forget_bias_to_keep(fraction, steps):
    """The forget-gate bias b with σ(b)^steps = fraction (the cell path keeps ``fraction`` over ``steps``)."""
    f = fraction ** (1 / steps)
    return math.log(f / (1 - f))


# --- 04 forecasting AirPassengers --------------------------------------------------------------


def lookback_windows(values, lookback, horizon):
    """values: (N,) -> inputs (W, lookback, 1), targets (W, horizon), W = N − lookback − horizon + 1.
    Window w reads values[w : w + lookback]; its targets are the NEXT horizon values,
    values[w + lookback : w + lookback + horizon] (as lstmlab.forecast.windows.make_windows)."""
    values = np.asarray(values, dtype=np.float64)
    count = len(values) - lookback - horizon + 1
    starts = np.arange(count)[:, None]                                  # (W, 1)
    inputs = values[starts + np.arange(lookback)]                       # (W, lookback)
    targets = values[starts + lookback + np.arange(horizon)]            # (W, horizon): after the window
    return inputs[..., None], targets


def minmax_scale_train_only(values, train_length):
    """values: (N,) -> (N,) scaled by the training part's range: (v − min) / (max − min), min and max of
    values[:train_length] only (test values may leave [0, 1]: that is the honest result)."""
    values = np.asarray(values, dtype=np.float64)
    train = values[:train_length]
    return (values - train.min()) / (train.max() - train.min())


def mase(actual, forecast, history, period):
    """MAE of the forecast / in-sample MAE of the seasonal naive one-step forecast on the history:
    mean |actual − forecast| / mean over t = period … N−1 of |history[t] − history[t − period]|
    (as lstmlab.forecast.metrics.mase, for len(history) > period)."""
    actual, forecast, history = (np.asarray(a, dtype=np.float64) for a in (actual, forecast, history))
    scale = np.mean(np.abs(history[period:] - history[:-period]))
    return float(np.mean(np.abs(actual - forecast)) / scale)


# --- 05 multivariate seq2seq --------------------------------------------------------------------


def seq2seq_rows(target, exogenous):
    """target: (N,), exogenous: (N, E) -> inputs (N − 2, 1 + E), targets (N − 2,).
    Row k predicts the change into step k + 2 and carries that step's own exogenous change:
    inputs[k] = [y[k+1] − y[k], x[k+2] − x[k+1]], targets[k] = y[k+2] − y[k+1]."""
    y, x = np.asarray(target, dtype=np.float64), np.asarray(exogenous, dtype=np.float64)
    steps = np.diff(y)                                                  # (N−1,) steps[j] = y[j+1] − y[j]
    ahead = np.diff(x, axis=0)[1:]                                      # (N−2, E) x[k+2] − x[k+1]
    inputs = np.concatenate([steps[:-1, None], ahead], axis=1)          # (N−2, 1 + E)
    return inputs, steps[1:]


def batch_norm_features(continuous):
    """continuous: (B, T, C) -> (B, T, C), each feature c normalised over batch and time:
    (x − mean) / sqrt(var + 1e-5), mean and biased variance over all B·T values of feature c
    (BatchNorm1d in training mode, weight 1 and bias 0, on the permuted (B, C, T))."""
    mean = continuous.mean(dim=(0, 1), keepdim=True)                                 # (1, 1, C)
    variance = continuous.var(dim=(0, 1), correction=0, keepdim=True)                # (1, 1, C) biased
    return (continuous - mean) / torch.sqrt(variance + 1e-5)


def forecast_from_changes(last_value, changes, center, scale):
    """The model works on z = (log y − center) / scale and predicts changes Δz (h,); the forecast
    starts at the last observed value y_N: z_{N+k} = z_N + Δz_1 + … + Δz_k,
    y_{N+k} = exp(center + scale · z_{N+k})."""
    last = (math.log(last_value) - center) / scale
    path = last + np.cumsum(np.asarray(changes, dtype=np.float64))       # (h,) running sum from z_N
    return np.exp(center + scale * path)


# --- 06 sine waves ------------------------------------------------------------------------------


def rollout(model, observed, steps):
    """Read ``observed`` (B, T) teacher-forced, then predict ``steps`` values from the model's own outputs:
    -> (B, steps), the values at T, T + 1, …"""
    outputs, state = model.lstm(observed.T.unsqueeze(-1))    # (T, B, H)
    value = model.head(outputs[-1])                            # (B, 1) the value at T
    values = [value]
    for _ in range(steps - 1):
        top, state = model.lstm.step(value, state)             # own prediction in
        value = model.head(top)
        values.append(value)
    return torch.cat(values, dim=1)


def phase_drift_mse(relative_frequency_error, time_scale, steps):
    """Mean over t = 1…steps of (sin(t/τ) − sin((1 + ε) t/τ))²: the squared error of a rollout that is a
    perfect sine of angular frequency (1 + ε)/τ instead of 1/τ. Its phase error φ_t = ε t/τ grows with t;
    averaged over the wave's phase, step t costs 1 − cos φ_t."""
    t = torch.arange(1, steps + 1, dtype=torch.float64)
    truth = torch.sin(t / time_scale)                                   # (steps,)
    rollout = torch.sin((1 + relative_frequency_error) * t / time_scale)
    return float((truth - rollout).pow(2).mean())


# --- 07 character-level language model ----------------------------------------------------------


def softmax_with_temperature(logits, temperature):
    """p = softmax(logits / T): T → 0 is argmax, T = 1 the model, T → ∞ uniform."""
    return torch.softmax(logits / temperature, dim=-1)


def perplexity_from_nll(mean_nll):
    """Perplexity = exp(mean negative log-likelihood per character, in nats)."""
    return math.exp(mean_nll)


perplexity = perplexity_from_nll                     # its name before 2026-12-02


def bigram_perplexity(train_ids, test_ids, vocab_size, k=1.0):
    """Perplexity on test_ids of an add-k bigram model counted on train_ids."""
    counts = torch.full((vocab_size, vocab_size), float(k), dtype=torch.float64)
    counts.index_put_((train_ids[:-1], train_ids[1:]), torch.ones(len(train_ids) - 1, dtype=torch.float64),
                      accumulate=True)
    probs = counts / counts.sum(dim=1, keepdim=True)         # row: previous char, column: next char
    return math.exp(-probs[test_ids[:-1], test_ids[1:]].log().mean().item())


# --- 08 Triton ----------------------------------------------------------------------------------


def stable_sigmoid(x):
    """σ(x) with no overflow in any dtype: exp of a non-positive number only."""
    z = torch.exp(-x.abs())                                  # in (0, 1]
    return torch.where(x >= 0, 1 / (1 + z), z / (1 + z))


def persistent_grid(hidden_size, batch, slice_size, batch_tile):
    """The persistent kernel's grid: (hidden slices, batch tiles), each rounded up."""
    return (-(-hidden_size // slice_size), -(-batch // batch_tile))


def block_offsets_and_mask(n, block, program_id):
    """The elements one Triton program handles: offsets = pid·BLOCK + arange(BLOCK), mask = offsets < n."""
    offsets = program_id * block + torch.arange(block)
    return offsets, offsets < n


# --- 09 benchmarking ----------------------------------------------------------------------------


def median_ratio(times, torch_times):
    """The median over rounds of time / torch's time in the same round (< 1: faster than torch)."""
    ratios = sorted(t / r for t, r in zip(times, torch_times))
    middle = len(ratios) // 2
    return ratios[middle] if len(ratios) % 2 else (ratios[middle - 1] + ratios[middle]) / 2


def ratio_from_speedup(speedup):
    """A 'speedup over torch' (torch's time / ours) as this project's ratio (our time / torch's)."""
    return 1 / speedup


def geometric_mean(ratios):
    """The mean of ratios that treats 2× and 0.5× symmetrically."""
    return math.exp(sum(math.log(r) for r in ratios) / len(ratios))
