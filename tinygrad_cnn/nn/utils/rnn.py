"""torch.nn.utils.rnn: batches of variable-length sequences, padded to one length or packed.

A PackedSequence holds the time steps of B sequences sorted by decreasing length, step by
step: ``data`` (sum of the lengths, *) has the first step of every sequence, then the second
of those that have one, ...; ``batch_sizes[t]`` is how many sequences have step t.
``sorted_indices`` (None when the input was already sorted) lists the original batch
positions in that order, ``unsorted_indices`` is its inverse. nn.RNN/LSTM/GRU accept and
return PackedSequences. Every conversion is a gather, so gradients flow through all of them.
"""

from __future__ import annotations

from typing import Any, Iterable, NamedTuple

import numpy as np

from tinygrad_cnn.functions import cat
from tinygrad_cnn.tensor import Tensor

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence", "pad_packed_sequence", "pad_sequence",
           "unpad_sequence", "pack_sequence", "unpack_sequence"]


class PackedSequence_(NamedTuple):
    """The four fields of a PackedSequence, in torch's order."""

    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None
    unsorted_indices: Tensor | None


class PackedSequence(PackedSequence_):
    """Packed variable-length sequences: (data, batch_sizes, sorted_indices, unsorted_indices),
    see the module's docstring. Made by pack_padded_sequence / pack_sequence; ``unsorted_indices``
    is derived from ``sorted_indices`` when not given, and ``data`` may be a (data, batch_sizes) pair."""

    def __new__(cls, data: Any, batch_sizes: Tensor | None = None, sorted_indices: Tensor | None = None,
                unsorted_indices: Tensor | None = None) -> "PackedSequence":
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:
            if not (isinstance(data, (list, tuple)) and len(data) == 2):
                raise AssertionError("PackedSequence: Expected data to be a list or tuple of length 2 "
                                     "(data, batch_sizes) when batch_sizes is not given")
            data, batch_sizes = data
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args: Any, **kwargs: Any) -> "PackedSequence":
        """The same sequences with ``data`` converted as ``Tensor.to`` does (self when nothing changes)."""
        data = self.data.to(*args, **kwargs)
        return self if data is self.data else type(self)(data, self.batch_sizes, self.sorted_indices,
                                                          self.unsorted_indices)

    def cpu(self) -> "PackedSequence":
        """self: the data already lives on the CPU."""
        return self

    def double(self) -> "PackedSequence":
        """``data`` as float64."""
        return self.to(np.float64)

    def float(self) -> "PackedSequence":
        """``data`` as float32."""
        return self.to(np.float32)

    def half(self) -> "PackedSequence":
        """``data`` as float16."""
        return self.to(np.float16)

    def long(self) -> "PackedSequence":
        """``data`` as int64."""
        return self.to(np.int64)

    def int(self) -> "PackedSequence":
        """``data`` as int32."""
        return self.to(np.int32)

    @property
    def is_cuda(self) -> bool:
        """False: the data lives on the CPU."""
        return False

    def is_pinned(self) -> bool:
        """False: no pinned memory here."""
        return False


def _index_tensor(values: np.ndarray) -> Tensor:
    return Tensor(np.asarray(values, dtype=np.int64))


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    """The inverse of the 1-D ``permutation`` (out[permutation[i]] = i), or None for None."""
    if permutation is None:
        return None
    order = np.asarray(permutation.numpy(), dtype=np.int64)
    inverse = np.empty_like(order)
    inverse[order] = np.arange(order.size)
    return _index_tensor(inverse)


def _lengths(lengths: Tensor | Iterable[int], op: str) -> np.ndarray:
    if isinstance(lengths, Tensor):
        if lengths.ndim != 1:
            raise RuntimeError(f"{op}: 'lengths' argument should be a 1D CPU int64 tensor, but got "
                               f"{lengths.ndim}D tensor")
        return lengths.numpy().astype(np.int64)
    return np.asarray(list(lengths), dtype=np.int64).reshape(-1)


def pack_padded_sequence(input: Tensor, lengths: Tensor | Iterable[int], batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """Pack ``input`` (T, B, *) (``batch_first``: (B, T, *)) holding B sequences of the given
    ``lengths`` (each in 1..T), padded to T. With ``enforce_sorted`` the lengths must be
    decreasing; otherwise the batch is sorted (stably) by decreasing length first and the
    order kept in sorted_indices."""
    op = "pack_padded_sequence"
    sizes = _lengths(lengths, op)
    if input.ndim < 2:
        raise IndexError(f"{op}: input must have at least 2 dimensions (time and batch), got shape {tuple(input.shape)}")
    steps, batch = (input.shape[1], input.shape[0]) if batch_first else input.shape[:2]
    if sizes.size != batch:
        raise RuntimeError(f"{op}: Expected `len(lengths)` to be equal to batch_size, but got {sizes.size} "
                           f"(batch_size={batch})")
    if enforce_sorted and np.any(np.diff(sizes) > 0):
        raise RuntimeError(f"{op}: `lengths` array must be sorted in decreasing order when `enforce_sorted` is "
                           f"True, got {sizes.tolist()}. You can pass `enforce_sorted=False` to pack_padded_sequence "
                           "and/or pack_sequence to sidestep this requirement if you do not need ONNX exportability.")
    if sizes.min() <= 0:
        raise RuntimeError(f"{op}: Length of all samples has to be greater than 0, but found an element in "
                           f"'lengths' that is <= 0: {sizes.tolist()}")
    if sizes.max() > steps:
        raise RuntimeError(f"{op}: every length must be at most the padded length {steps}, got {sizes.tolist()}")
    order = np.arange(batch) if enforce_sorted else np.argsort(-sizes, kind="stable")
    sizes = sizes[order]
    batch_sizes = (sizes[None, :] > np.arange(sizes[0])[:, None]).sum(1)
    # the row of each packed element in input flattened over (time, batch) or (batch, time)
    t, b = np.nonzero(np.arange(sizes[0])[:, None] < sizes[None, :])
    rows = order[b] * steps + t if batch_first else t * batch + order[b]
    data = input.reshape((steps * batch,) + tuple(input.shape[2:]))[rows]
    sorted_indices = None if enforce_sorted else _index_tensor(order)
    return PackedSequence(data, _index_tensor(batch_sizes), sorted_indices, None)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False, padding_value: float = 0.0,
                        total_length: int | None = None) -> tuple[Tensor, Tensor]:
    """Undo pack_padded_sequence: (padded (T, B, *) (``batch_first``: (B, T, *)) with
    ``padding_value`` after each sequence's end, lengths (B,) int64), in the original batch
    order; T is the longest length, or ``total_length`` (which may not be shorter)."""
    batch_sizes = np.asarray(sequence.batch_sizes.numpy(), dtype=np.int64)
    steps = batch_sizes.size
    if total_length is not None:
        if total_length < steps:
            raise ValueError("pad_packed_sequence: Expected total_length to be at least the length of the longest "
                             f"sequence in input, but got total_length={total_length} and max sequence length "
                             f"being {steps}")
        steps = total_length
    data, batch = sequence.data, int(batch_sizes[0])
    lengths = (batch_sizes[None, :] > np.arange(batch)[:, None]).sum(1)
    starts = np.concatenate([[0], np.cumsum(batch_sizes)])
    t, b = np.arange(steps)[:, None], np.arange(batch)[None, :]
    inside = t < lengths[None, :]
    rows = np.where(inside, starts[np.minimum(t, batch_sizes.size - 1)] + b, data.shape[0])  # (T, B); pad row last
    if batch_first:
        rows = rows.T
    if sequence.unsorted_indices is not None:  # back to the original batch order
        order = np.asarray(sequence.unsorted_indices.numpy(), dtype=np.int64)
        rows, lengths = (rows[order] if batch_first else rows[:, order]), lengths[order]
    filler = Tensor(np.full((1,) + tuple(data.shape[1:]), padding_value, dtype=data.dtype))
    padded = cat([data, filler])[rows.reshape(-1)].reshape(rows.shape + tuple(data.shape[1:]))
    return padded, _index_tensor(lengths)


def pad_sequence(sequences: Tensor | Iterable[Tensor], batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """Stack B sequences of shapes (L_i, *) into (T, B, *) (``batch_first``: (B, T, *)), T the
    longest L_i, filling with ``padding_value`` after each (``padding_side="left"``: before).
    The result has the first sequence's dtype."""
    op = "pad_sequence"
    if not isinstance(sequences, Iterable):
        raise RuntimeError(f"{op}: Expected iterable for input sequences, but got arg of type: {type(sequences)}")
    items = tuple(sequences)
    if padding_side not in ("left", "right"):
        raise RuntimeError(f"{op}: Expected padding_side to be one of left or right, but got {padding_side}.")
    if not items:
        raise RuntimeError(f"{op}: received an empty list of sequences")
    for i, s in enumerate(items):
        if not isinstance(s, Tensor):
            raise TypeError(f"{op}: expected Tensor as element {i} in argument 0, but got {type(s).__name__}")
        if s.ndim == 0 or tuple(s.shape[1:]) != tuple(items[0].shape[1:]):
            raise RuntimeError(f"{op}: every sequence must be (length, *) with the same trailing shape as the "
                               f"first's {tuple(items[0].shape)}, but element {i} has shape {tuple(s.shape)}")
    dtype, rest = items[0].dtype, tuple(items[0].shape[1:])
    lengths = np.array([s.shape[0] for s in items], dtype=np.int64)
    steps, starts = int(lengths.max()), np.concatenate([[0], np.cumsum(lengths)])
    t = np.arange(steps)[:, None]
    shift = 0 if padding_side == "right" else steps - lengths[None, :]
    inside = (t >= shift) & (t < shift + lengths[None, :])
    rows = np.where(inside, starts[:-1][None, :] + t - shift, starts[-1])  # (T, B); the pad row last
    if batch_first:
        rows = rows.T
    filler = Tensor(np.full((1,) + rest, padding_value).astype(dtype))
    flat = cat([s.to(dtype) for s in items] + [filler])
    return flat[rows.reshape(-1)].reshape(rows.shape + rest)


def unpad_sequence(padded_sequences: Tensor, lengths: Tensor | Iterable[int],
                   batch_first: bool = False) -> list[Tensor]:
    """Split a padded batch (T, B, *) (``batch_first``: (B, T, *)) into B tensors (lengths[i], *)."""
    sizes = _lengths(lengths, "unpad_sequence")
    if batch_first:
        return [padded_sequences[i, :n] for i, n in enumerate(sizes.tolist())]
    return [padded_sequences[:n, i] for i, n in enumerate(sizes.tolist())]


def pack_sequence(sequences: Iterable[Tensor], enforce_sorted: bool = True) -> PackedSequence:
    """Pack sequences of shapes (L_i, *): pad_sequence then pack_padded_sequence."""
    items = list(sequences)
    return pack_padded_sequence(pad_sequence(items), [s.shape[0] for s in items], enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list[Tensor]:
    """The sequences of a PackedSequence as a list of (L_i, *) tensors, in the original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
