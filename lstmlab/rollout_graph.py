"""Closed-loop generation on a CUDA GPU: the step-by-step loop captured once in a CUDA graph, then replayed.

On a GPU one generated step is about a dozen small kernels (two GEMMs, the gate math and the feedback
per layer), each launched from Python through torch's dispatcher: ~5-10 µs of CPU time apiece, far
more than the GPU needs to run them. A CUDA graph records the kernels of CHUNK whole steps once
("capture") and then launches all of them with one call ("replay"): the GPU runs them back to back,
with no Python, dispatcher or launch cost in between.

    capture (once):   x, h, c  ->  CHUNK × (h, c = LSTM.step(x, (h, c));  x = feedback(h))  ->  x, h, c, outputs
    replay:           ⌊n / CHUNK⌋ times, each chunk's outputs copied out; the last n mod CHUNK steps run in the loop

A graph reads and writes fixed addresses, so the chunk works on static buffers (``StepChunk``): the
state goes in by ``load``, each replay continues from where the last one stopped, and what it made is
in ``outputs``. It is the same Python as the step-by-step path (lstmlab.rollout.rollout_steps), so the
graph runs the same kernels on the same values. The weights are read where they lie: an optimizer's
in-place update is seen at the next replay; a weight replaced by another tensor (another address)
makes a new capture (``_graph_key``).

Verified on the CPU: the chunked loop on static buffers, run eagerly, equals the step-by-step path bit
for bit (tests/test_rollout.py). The capture itself needs a GPU (tests/test_cuda.py), and none has run it.
"""
import torch

from .rollout import generated_step

CHUNK = 32          # steps per captured graph: one replay launches ~12 · CHUNK kernels of a 2-layer model


class StepChunk:
    """CHUNK generated steps on static buffers: value (B, I), h (L, B, P), c (L, B, H) -> outputs (CHUNK, B, I).

    ``replay`` runs the chunk eagerly here; GraphedChunk replays a captured CUDA graph of it instead."""

    def __init__(self, lstm, feedback, value, state, chunk=CHUNK):
        self.lstm, self.feedback, self.chunk = lstm, feedback, chunk
        self.value = value.detach().clone()                            # (B, I) the next input
        self.h, self.c = state[0].detach().clone(), state[1].detach().clone()
        self.outputs = value.new_empty(chunk, *value.shape)            # (CHUNK, B, I)

    def run(self):
        value, state = self.value, (self.h, self.c)
        for k in range(self.chunk):
            value, state = generated_step(self.lstm, self.feedback, value, state)   # (B, I)
            self.outputs[k].copy_(value)
        self.value.copy_(value)
        self.h.copy_(state[0])
        self.c.copy_(state[1])

    replay = run

    def load(self, value, state):
        self.value.copy_(value)
        self.h.copy_(state[0])
        self.c.copy_(state[1])


class GraphedChunk(StepChunk):
    """StepChunk captured in a CUDA graph: ``replay`` launches all of its kernels at once."""

    def __init__(self, lstm, feedback, value, state, chunk=CHUNK):
        super().__init__(lstm, feedback, value, state, chunk)
        # Warm up on a side stream first (torch's recipe), the stream the capture then uses: cuBLAS
        # handles and workspaces, cached per stream, are made outside the capture. The warm-up moves
        # the static state on; generate() loads it again.
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            self.run()
        torch.cuda.current_stream().wait_stream(side)
        self.graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.graph, stream=side):
            self.run()

    def replay(self):
        self.graph.replay()


def replay_chunks(chunk, value, state, steps):
    """As many whole chunks of the ``steps`` as fit, from value (B, I) and state, by replays of ``chunk``.
    -> outputs (k · CHUNK, B, I), (h, c); the step loop (rollout.rollout_steps) makes the rest."""
    if steps < chunk.chunk:
        return value.new_empty(0, *value.shape), state
    chunk.load(value, state)
    outputs = []
    for _ in range(steps // chunk.chunk):
        chunk.replay()
        outputs.append(chunk.outputs.clone())
    return torch.cat(outputs), (chunk.h.clone(), chunk.c.clone())


def _graph_key(lstm, feedback, tensors, value, state, chunk):
    """What a captured graph is bound to: the shapes, dtype and device of its buffers, the feedback
    module, and the address and shape of every weight it reads."""
    return (tuple(value.shape), tuple(state[1].shape), value.dtype, value.device, chunk,
            id(feedback) if isinstance(feedback, torch.nn.Module) else "pair",
            tuple((t.data_ptr(), tuple(t.shape)) for t in tensors))


def graphed_chunk(lstm, feedback, tensors, value, state, chunk=CHUNK, kind=GraphedChunk):
    """The captured chunk for these shapes and weights, kept on the module (a capture costs as much as
    dozens of replays); a new one when the shapes or a weight's address changed."""
    key = _graph_key(lstm, feedback, tensors, value, state, chunk)
    cached = lstm.__dict__.get("_rollout_graph")
    if cached is None or cached[0] != key:
        cached = (key, kind(lstm, feedback, value, state, chunk))
        lstm.__dict__["_rollout_graph"] = cached
    return cached[1]
