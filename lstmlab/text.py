"""A character-level language model: the shipped text, its alphabet, an n-gram baseline, an LSTM.

    load_text()                 Shakespeare's Coriolanus (public domain, lstmlab/texts/SOURCES.md)
    Vocabulary(text)            characters <-> integer ids
    ngram_perplexity(...)       the baseline: add-k smoothed n-gram counts
    CharLSTM                    embedding -> lstmlab.LSTM -> linear head over the alphabet
    train_char_lstm(...)        Adam on random windows, truncated BPTT of ``window`` steps
    perplexity(model, ids)      exp(mean negative log-likelihood per character)
    sample(model, ...)          generation with a temperature
"""
import math
from importlib import resources

import torch
from torch import nn

from .lstm import LSTM
from .validation import step_count


def load_text(name="coriolanus"):
    return resources.files("lstmlab.texts").joinpath(f"{name}.txt").read_text(encoding="utf-8")


class Vocabulary:
    """The sorted set of characters of a text; ids are positions in it."""

    def __init__(self, text):
        self.chars = sorted(set(text))
        self.index = {char: i for i, char in enumerate(self.chars)}

    def __len__(self):
        return len(self.chars)

    def encode(self, text):
        unknown = [char for char in text if char not in self.index]
        if unknown:
            raise ValueError(f"Vocabulary.encode: {unknown[0]!r} is not among the vocabulary's {len(self)} characters")
        return torch.tensor([self.index[char] for char in text], dtype=torch.long)

    def decode(self, ids):
        return "".join(self.chars[i] for i in ids.tolist())


def ngram_perplexity(train_ids, test_ids, vocab_size, order=3, k=1.0):
    """Perplexity on test_ids of an n-gram model (the next id given the ``order − 1`` before it) counted
    on train_ids, with add-k smoothing: p(c | ctx) = (count(ctx, c) + k) / (count(ctx) + k·V).
    The first ``order − 1`` test ids only serve as context."""
    if isinstance(order, bool) or not isinstance(order, int) or order < 1:
        raise ValueError(f"ngram_perplexity: order must be an integer >= 1, got {order!r}")
    if not k > 0:
        raise ValueError(f"ngram_perplexity: k must be > 0 (k = 0 gives unseen n-grams probability 0), got {k!r}")
    for name, ids in (("train_ids", train_ids), ("test_ids", test_ids)):
        if len(ids) <= order - 1:
            raise ValueError(f"ngram_perplexity: {name} has {len(ids)} ids; order {order} needs at least {order} "
                             f"(order − 1 of context, then one to predict)")
    context = order - 1
    strides = vocab_size ** torch.arange(context, -1, -1)                     # (order,) base-V digits

    def keys(ids):
        windows = ids.unfold(0, order, 1)                                     # (N, order)
        return windows[:, :context] @ strides[1:], windows[:, -1]             # context key, next id

    train_context, train_next = keys(train_ids)
    test_context, test_next = keys(test_ids)

    def counts_of(train_keys, test_keys):
        # how often each test key occurs among the train keys (sorted unique keys + binary search)
        keys_seen, counts = torch.unique(train_keys, return_counts=True)
        where = torch.searchsorted(keys_seen, test_keys).clamp(max=len(keys_seen) - 1)
        return torch.where(keys_seen[where] == test_keys, counts[where], 0).double()

    pair = counts_of(train_context * vocab_size + train_next, test_context * vocab_size + test_next)
    context_count = counts_of(train_context, test_context)
    log_probs = ((pair + k) / (context_count + k * vocab_size)).log().tolist()
    return math.exp(-sum(log_probs) / len(log_probs))


class CharLSTM(nn.Module):
    """ids (T, B) -> logits (T, B, V) of the next character, and the LSTM state."""

    def __init__(self, vocab_size, hidden_size=256, num_layers=2, embedding_size=32, dropout=0.0, backend="auto"):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_size)
        self.lstm = LSTM(embedding_size, hidden_size, num_layers=num_layers, dropout=dropout, backend=backend)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, ids, state=None):
        outputs, state = self.lstm(self.embedding(ids), state)               # (T, B, H)
        return self.head(outputs), state                                      # (T, B, V)


def train_char_lstm(model, ids, steps, window=100, batch=32, lr=3e-3, max_norm=1.0, generator=None):
    """Adam on ``steps`` batches of random windows; gradients clipped to ``max_norm``. Returns the losses
    (mean cross-entropy per character, nats)."""
    if len(ids) < window + 1:
        raise ValueError(f"train_char_lstm: ids has {len(ids)} characters; a window of {window} needs at least "
                         f"{window + 1} (its inputs and the character after each)")
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    losses = []
    for _ in range(steps):
        starts = torch.randint(0, len(ids) - window, (batch,), generator=generator)      # 0 .. N − window − 1
        chunk = torch.stack([ids[s:s + window + 1] for s in starts.tolist()], dim=1)     # (window + 1, B)
        logits, _ = model(chunk[:-1])                                                    # (window, B, V)
        loss = nn.functional.cross_entropy(logits.reshape(-1, logits.size(-1)), chunk[1:].reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        optimizer.step()
        losses.append(loss.item())
    return losses


@torch.no_grad()
def perplexity(model, ids, window=500):
    """exp(mean NLL per character) of ids[1:] given everything before, read in windows with the state
    carried over (so every character but the first is predicted)."""
    if len(ids) < 2:
        raise ValueError(f"perplexity: ids has {len(ids)} characters; at least 2 are needed (the first is only context)")
    model.eval()
    state, total, count = None, 0.0, 0
    for start in range(0, len(ids) - 1, window):
        chunk = ids[start:start + window + 1]
        logits, state = model(chunk[:-1].unsqueeze(1), state)                # (w, 1, V)
        total += nn.functional.cross_entropy(logits[:, 0], chunk[1:], reduction="sum").item()
        count += len(chunk) - 1
    return math.exp(total / count)


@torch.no_grad()
def sample(model, vocabulary, prompt, length, temperature=1.0, generator=None):
    """Read ``prompt``, then draw ``length`` characters from softmax(logits / temperature); temperature 0
    takes the most likely character every time (the limit of a falling temperature)."""
    length = step_count("sample: length", length)
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or not 0 <= temperature < math.inf:
        raise ValueError(f"sample: temperature must be a finite number >= 0 (0: the most likely character), "
                         f"got {temperature!r}")
    if not prompt:
        raise ValueError("sample: prompt must have at least one character (the model reads it before it draws)")
    model.eval()
    logits, state = model(vocabulary.encode(prompt).unsqueeze(1))           # (T, 1, V)
    ids = []
    for _ in range(length):
        if temperature == 0:
            next_id = logits[-1, 0].argmax().view(1)                         # (1,) greedy
        else:
            probs = torch.softmax(logits[-1, 0] / temperature, dim=-1)       # (V,)
            next_id = torch.multinomial(probs, 1, generator=generator)       # (1,)
        ids.append(next_id.item())
        logits, state = model(next_id.view(1, 1), state)
    return prompt + vocabulary.decode(torch.tensor(ids))
