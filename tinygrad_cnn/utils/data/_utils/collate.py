"""default_collate and default_convert, PyTorch's rules for turning samples into a batch."""

from __future__ import annotations

import collections.abc
import copy
import re
from typing import Any, Sequence

import numpy as np

from tinygrad_cnn.tensor import Tensor

_STRING_OR_OBJECT = re.compile(r"[SaUO]")
_ERROR = "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"


def _rebuild(template: Any, values: dict | list) -> Any:
    """``values`` in ``template``'s container type where that type can be rebuilt, else as dict/list."""
    kind = type(template)
    try:
        if isinstance(values, dict):
            if isinstance(template, collections.abc.MutableMapping):
                clone = copy.copy(template)
                clone.update(values)
                return clone
            return kind(values)
        if isinstance(template, collections.abc.MutableSequence):
            clone = copy.copy(template)
            for i, value in enumerate(values):
                clone[i] = value
            return clone
        return kind(values)
    except TypeError:
        return values


def default_convert(data: Any) -> Any:
    """One sample with its NumPy arrays and NumPy scalars turned into Tensors (sharing memory),
    recursively through dicts, namedtuples, tuples (which become lists) and sequences; anything
    else, and string/object arrays, unchanged. The DataLoader's collate_fn when batch_size=None."""
    kind = type(data)
    if isinstance(data, Tensor):
        return data
    if kind.__module__ == "numpy" and kind.__name__ not in ("str_", "bytes_"):
        if isinstance(data, np.ndarray) and _STRING_OR_OBJECT.search(data.dtype.str):
            return data
        return Tensor(np.asarray(data))
    if isinstance(data, collections.abc.Mapping):
        return _rebuild(data, {key: default_convert(data[key]) for key in data})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return kind(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return _rebuild(data, [default_convert(d) for d in data])
    return data


def default_collate(batch: Sequence[Any]) -> Any:
    """Collate a list of samples into a batch, with PyTorch's rules (recursively):

    - Tensors -> one Tensor stacked on a new first dimension (B, *shape);
    - NumPy arrays -> the same (string/object arrays raise TypeError); NumPy scalars -> a (B,)
      Tensor of their dtype;
    - Python floats -> float64 (B,), ints -> int64 (B,), bools -> bool (B,);
    - strings and bytes -> the list unchanged;
    - dicts -> a dict of collated values per key; namedtuples -> the namedtuple of collated
      fields; tuples -> a list of collated fields; other sequences (all of one length, else
      RuntimeError) -> the same type of collated positions.

    Anything else raises TypeError.
    """
    elem = batch[0]
    kind = type(elem)
    if isinstance(elem, Tensor):
        return Tensor(np.stack([t.numpy() for t in batch]))
    if kind.__module__ == "numpy" and kind.__name__ not in ("str_", "bytes_"):
        if isinstance(elem, np.ndarray):
            if _STRING_OR_OBJECT.search(elem.dtype.str):
                raise TypeError(_ERROR.format(elem.dtype))
            return Tensor(np.stack(batch))
        if elem.shape == ():
            return Tensor(np.asarray(batch))
    if isinstance(elem, bool):
        return Tensor(np.asarray(batch, dtype=np.bool_))
    if isinstance(elem, float):
        return Tensor(np.asarray(batch, dtype=np.float64))
    if isinstance(elem, int):
        return Tensor(np.asarray(batch, dtype=np.int64))
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        return _rebuild(elem, {key: default_collate([d[key] for d in batch]) for key in elem})
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):
        return kind(*(default_collate(samples) for samples in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if not all(len(e) == size for e in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        transposed = [default_collate(list(samples)) for samples in zip(*batch)]
        return transposed if isinstance(elem, tuple) else _rebuild(elem, transposed)
    raise TypeError(_ERROR.format(kind))
