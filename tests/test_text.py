"""lstmlab.text, the character-level language model: the n-gram baseline against counts by hand, the
training windows, and the one-line refusals of what no model can do."""
import math
from collections import Counter

import pytest
import torch

from lstmlab.text import CharLSTM, Vocabulary, ngram_perplexity, perplexity, sample, train_char_lstm

TEXT = "the cat sat on the mat. the rat sat on the hat."


def test_ngram_perplexity_equals_counts_by_hand():
    """The vectorised counts (base-V keys, binary search) against a Counter of the same n-grams."""
    vocabulary = Vocabulary(TEXT)
    train, test = vocabulary.encode(TEXT[:30]), vocabulary.encode(TEXT[25:])
    V = len(vocabulary)
    for order, k in [(1, 1.0), (2, 0.5), (3, 0.1)]:
        grams = Counter(tuple(train[i:i + order].tolist()) for i in range(len(train) - order + 1))
        contexts = Counter(tuple(train[i:i + order - 1].tolist()) for i in range(len(train) - order + 1))
        log_probs = [math.log((grams[tuple(test[i:i + order].tolist())] + k) /
                              (contexts[tuple(test[i:i + order - 1].tolist())] + k * V))
                     for i in range(len(test) - order + 1)]
        expected = math.exp(-sum(log_probs) / len(log_probs))
        assert ngram_perplexity(train, test, V, order=order, k=k) == pytest.approx(expected, rel=1e-12)


def test_training_windows_reach_the_last_character(monkeypatch):
    """Found in a fault hunt: starts were drawn below N − window − 1, so the last character was never a target,
    and a text of exactly window + 1 characters (one window) was refused by torch.randint."""
    vocabulary = Vocabulary("abcdefghij")
    ids = vocabulary.encode("abcdefghij")                                 # 10 ids: window 9 fits once
    torch.manual_seed(0)
    model = CharLSTM(len(vocabulary), hidden_size=4, num_layers=1, embedding_size=3)
    seen = []
    original = torch.randint

    def recording(low, high, size, generator=None):
        starts = original(low, high, size, generator=generator)
        seen.extend(starts.tolist())
        return starts
    monkeypatch.setattr(torch, "randint", recording)
    train_char_lstm(model, ids, steps=2, window=9, batch=4)
    train_char_lstm(model, ids, steps=20, window=5, batch=8)
    monkeypatch.undo()
    assert set(seen[:8]) == {0} and set(seen[8:]) == set(range(5))         # starts 0 .. N − window − 1, all drawn
    with pytest.raises(ValueError, match=r"^train_char_lstm: ids has 10 characters; a window of 10 needs at least 11"):
        train_char_lstm(model, ids, steps=1, window=10)


def test_sampling_at_temperature_zero_takes_the_most_likely_character():
    vocabulary = Vocabulary(TEXT)
    torch.manual_seed(0)
    model = CharLSTM(len(vocabulary), hidden_size=8, num_layers=1, embedding_size=4)
    greedy = sample(model, vocabulary, "the", 12, temperature=0)
    with torch.no_grad():                                               # the same, one argmax at a time
        text = "the"
        for _ in range(12):
            logits, _ = model(vocabulary.encode(text).unsqueeze(1))
            text += vocabulary.chars[int(logits[-1, 0].argmax())]
    assert greedy == text
    assert sample(model, vocabulary, "the", 0) == "the"


@pytest.mark.parametrize("call, message", [
    (lambda m, v: sample(m, v, "the", 5, temperature=-1.0), r"temperature must be a finite number >= 0"),
    (lambda m, v: sample(m, v, "the", 5, temperature=math.inf), r"temperature must be a finite number >= 0"),
    (lambda m, v: sample(m, v, "the", -3), r"^sample: length must be an integer >= 0, got -3$"),
    (lambda m, v: sample(m, v, "the", 2.5), r"^sample: length must be an integer >= 0, got 2.5$"),
    (lambda m, v: sample(m, v, "", 5), r"^sample: prompt must have at least one character"),
    (lambda m, v: sample(m, v, "xyz", 5), r"^Vocabulary.encode: 'x' is not among the vocabulary's \d+ characters$"),
    (lambda m, v: perplexity(m, v.encode("t")), r"^perplexity: ids has 1 characters; at least 2"),
    (lambda m, v: ngram_perplexity(v.encode("the"), v.encode("cat"), len(v), order=0), r"order must be an integer >= 1"),
    (lambda m, v: ngram_perplexity(v.encode("the"), v.encode("cat"), len(v), k=0), r"k must be > 0"),
    (lambda m, v: ngram_perplexity(v.encode("the"), v.encode("ca"), len(v), order=3),
     r"^ngram_perplexity: test_ids has 2 ids; order 3 needs at least 3"),
], ids=["negative temperature", "infinite temperature", "negative length", "fractional length", "empty prompt",
        "unknown character", "one character", "order 0", "k 0", "test shorter than order"])
def test_what_no_model_can_do_is_refused_in_one_line(call, message):
    vocabulary = Vocabulary(TEXT)
    model = CharLSTM(len(vocabulary), hidden_size=4, num_layers=1, embedding_size=3)
    with pytest.raises(ValueError, match=message):
        call(model, vocabulary)
