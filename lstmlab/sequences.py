"""Sequence bookkeeping shared by every backend: packed ↔ padded, and time reversal.

A PackedSequence stores, for each time step t, the rows of the batch_sizes[t] sequences that are
still running (sorted longest first). lstmlab runs every layer on a padded, time-major tensor
(T, B, F) instead and keeps the per-row lengths:
- forward in time, row b's final state is the state at step lengths[b] − 1;
- backward in time, each row must start at its *own* last element, so the reverse direction reads
  x[lengths[b] − 1 − t, b] — a reversal within each row's length, not a plain flip.
Steps past a row's length compute values nobody reads, so they get zero gradient.
"""
import torch


def packed_positions(batch_sizes, device):
    """(time_index, batch_index) of every packed row, in packed order, and the lengths (B,)."""
    max_batch = int(batch_sizes[0])
    running = torch.arange(max_batch)[None, :] < batch_sizes[:, None]    # (T, B) row b still running at t
    time_index, batch_index = running.nonzero(as_tuple=True)              # row-major = packed order
    lengths = running.sum(dim=0)                                          # (B,) non-increasing
    return time_index.to(device), batch_index.to(device), lengths.to(device)


def packed_to_padded(data, batch_sizes):
    """data: (N, F) packed rows -> padded (T, B, F), lengths (B,), positions to pack back with."""
    time_index, batch_index, lengths = packed_positions(batch_sizes, data.device)
    padded = data.new_zeros(len(batch_sizes), int(batch_sizes[0]), data.size(-1))   # (T, B, F)
    padded = padded.index_put((time_index, batch_index), data)                       # differentiable
    return padded, lengths, (time_index, batch_index)


def padded_to_packed(padded, positions):
    """padded: (T, B, F) -> (N, F) rows in packed order."""
    time_index, batch_index = positions
    return padded[time_index, batch_index]


def reverse_time(x, lengths=None):
    """x: (T, B, F) -> x with each row's first lengths[b] steps in reverse order.

    Applying it twice gives x back, so the same call maps a reverse-direction output back to
    input time order. Steps past a row's length stay where they are.
    """
    if lengths is None:
        return x.flip(0)
    steps = torch.arange(x.size(0), device=x.device)[:, None]            # (T, 1)
    source = torch.where(steps < lengths, lengths - 1 - steps, steps)    # (T, B)
    return x.gather(0, source[:, :, None].expand_as(x))                   # (T, B, F)


def last_step(x, lengths=None):
    """x: (T, B, F) -> (B, F), the value at each row's last step."""
    if lengths is None:
        return x[-1]
    return x[lengths - 1, torch.arange(x.size(1), device=x.device)]


def dropout_packed(x, lengths, p):
    """Dropout on a padded (T, B, F) layer output that came from a PackedSequence, drawn as torch's packed
    LSTM draws it: one (N, F) mask over the N rows the PackedSequence holds, in its order — a (T, B, F)
    mask would use other random numbers, and seeded runs would differ from torch's. Steps past a row's
    length keep their values (nobody reads them)."""
    running = torch.arange(x.size(0), device=x.device)[:, None] < lengths[None, :]    # (T, B)
    time_index, batch_index = running.nonzero(as_tuple=True)                          # packed order
    dropped = torch.nn.functional.dropout(x[time_index, batch_index], p, training=True)   # (N, F)
    return x.index_put((time_index, batch_index), dropped)
