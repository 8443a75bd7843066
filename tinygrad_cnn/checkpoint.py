"""Checkpoints: a model, its optimizer, scheduler, RNG states and history in one .npz file.

Layout of the file (plain ``numpy.load(path)`` reads it, no pickle):

- ``model/<name>``: each entry of ``model.state_dict()`` ("model/conv1.weight", ...);
- ``state/<n>``: the arrays inside the optimizer's, scheduler's and loader's state
  (Adam's moment buffers, ...), referenced from the metadata;
- ``metadata``: one JSON string with the format version, epoch, history, the
  optimizer/scheduler/loader states (arrays replaced by references, tuples and
  non-string dict keys encoded so they come back exactly), the package's random
  generator state and ``extra`` (anything JSON-serialisable the caller adds).

The file is written to a temporary name in the same folder and renamed into place, so
a crash never leaves a half-written checkpoint under the final name. Restoring all of
it and training on gives bit-identical weights to a run that never stopped.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from tinygrad_cnn import random as _random
from tinygrad_cnn.fileio import atomic_write

FORMAT = "tinygrad_cnn.checkpoint"
VERSION = 1


class CheckpointError(RuntimeError):
    """A checkpoint file is unreadable or does not fit the model/optimizer it is loaded into."""


class _Encoder:
    """Turns nested state (dicts, lists, tuples, arrays, numbers) into JSON plus a list of arrays."""

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}

    def encode(self, value: Any) -> Any:
        if isinstance(value, np.ndarray):
            key = f"state/{len(self.arrays)}"
            self.arrays[key] = value
            return {"__array__": key}
        if isinstance(value, np.generic):
            return self.encode(value.item())
        if isinstance(value, tuple):
            return {"__tuple__": [self.encode(v) for v in value]}
        if isinstance(value, list):
            return [self.encode(v) for v in value]
        if isinstance(value, dict):
            if all(isinstance(k, str) and not k.startswith("__") for k in value):
                return {k: self.encode(v) for k, v in value.items()}
            return {"__items__": [[self.encode(k), self.encode(v)] for k, v in value.items()]}
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        raise TypeError(f"checkpoint: cannot store a value of type {type(value).__name__}: {value!r}")


def _decode(value: Any, arrays: Any) -> Any:
    if isinstance(value, list):
        return [_decode(v, arrays) for v in value]
    if not isinstance(value, dict):
        return value
    if "__array__" in value:
        return np.array(arrays[value["__array__"]])
    if "__tuple__" in value:
        return tuple(_decode(v, arrays) for v in value["__tuple__"])
    if "__items__" in value:
        return {_freeze(_decode(k, arrays)): _decode(v, arrays) for k, v in value["__items__"]}
    return {k: _decode(v, arrays) for k, v in value.items()}


def _freeze(key: Any) -> Any:
    return tuple(key) if isinstance(key, list) else key


def save(path: str | os.PathLike, model: Any, optimizer: Any = None, *, epoch: int | None = None,
         history: Any = None, scheduler: Any = None, loader: Any = None, extra: dict[str, Any] | None = None) -> Path:
    """Write a checkpoint of ``model`` (and whatever else is given) to ``path`` (.npz), atomically.

    ``optimizer``, ``scheduler`` and ``loader`` (a shuffling DataLoader) are saved through
    their ``state_dict()``; ``history`` is a train.History; ``extra`` is any JSON-ready dict
    (the CLI keeps the model name and training options there). The package's random
    generator state is always saved. Returns the path written.
    """
    path = Path(path)
    encoder = _Encoder()
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "epoch": epoch,
        "model_class": type(model).__name__,
        "optimizer_class": None if optimizer is None else type(optimizer).__name__,
        "optimizer": None if optimizer is None else encoder.encode(optimizer.state_dict()),
        "scheduler": None if scheduler is None else encoder.encode(scheduler.state_dict()),
        "loader": None if loader is None else encoder.encode(loader.state_dict()),
        "rng": encoder.encode(_random.generator().bit_generator.state),
        "history": None if history is None else history.to_dict(),
        "extra": encoder.encode(extra or {}),
    }
    entries = {f"model/{name}": array for name, array in model.state_dict().items()}
    entries.update(encoder.arrays)
    entries["metadata"] = np.array(json.dumps(meta))
    buffer = io.BytesIO()
    np.savez(buffer, **entries)
    return atomic_write(path, buffer.getvalue())


def _open(path: Path) -> tuple[Any, dict[str, Any]]:
    try:
        archive = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise FileNotFoundError(f"checkpoint {path} does not exist") from None
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"checkpoint {path}: not a readable .npz file ({exc})") from None
    if "metadata" not in archive.files:
        raise CheckpointError(f"checkpoint {path}: no 'metadata' entry; not a tinygrad_cnn checkpoint")
    meta = json.loads(str(archive["metadata"]))
    if meta.get("format") != FORMAT or meta.get("version") != VERSION:
        raise CheckpointError(
            f"checkpoint {path}: format {meta.get('format')!r} version {meta.get('version')!r}, "
            f"expected {FORMAT!r} version {VERSION}"
        )
    return archive, meta


def load_metadata(path: str | os.PathLike) -> dict[str, Any]:
    """The checkpoint's metadata (epoch, model_class, history dict, extra, ...) without a model."""
    archive, meta = _open(Path(path))
    with archive:
        meta["extra"] = _decode(meta["extra"], archive)
    return meta


def load(path: str | os.PathLike, model: Any, optimizer: Any = None, *, scheduler: Any = None,
         loader: Any = None, restore_rng: bool = True) -> dict[str, Any]:
    """Restore ``model`` (and optimizer, scheduler, loader, RNG) from the checkpoint at ``path``.

    Everything is checked before anything changes: the model's parameter names and
    shapes must match the file's exactly, and a component passed here must have been
    saved (CheckpointError otherwise, naming the file and the mismatch). Returns the
    metadata: ``epoch``, ``history`` (a train.History or None), ``extra`` and the rest.
    """
    from tinygrad_cnn.train import History

    path = Path(path)
    archive, meta = _open(path)
    with archive:
        weights = {key[len("model/"):]: archive[key] for key in archive.files if key.startswith("model/")}
        parts = {name: _decode(meta[name], archive) for name in ("optimizer", "scheduler", "loader", "rng", "extra")}
    own = dict(model.state_dict())
    problems = [f"missing from the file: {k} {own[k].shape}" for k in own if k not in weights]
    problems += [f"not in the model: {k} {weights[k].shape}" for k in weights if k not in own]
    problems += [f"shape of {k}: file {weights[k].shape}, model {own[k].shape}"
                 for k in own if k in weights and weights[k].shape != own[k].shape]
    if problems:
        raise CheckpointError(
            f"checkpoint {path} (saved from {meta['model_class']}) does not fit this {type(model).__name__}:\n  "
            + "\n  ".join(problems)
        )
    for name, component in (("optimizer", optimizer), ("scheduler", scheduler), ("loader", loader)):
        if component is not None and parts[name] is None:
            raise CheckpointError(f"checkpoint {path} holds no {name} state to restore")
    if optimizer is not None and meta["optimizer_class"] != type(optimizer).__name__:
        raise CheckpointError(
            f"checkpoint {path} holds {meta['optimizer_class']} state, cannot load it into {type(optimizer).__name__}"
        )
    try:
        if optimizer is not None:
            optimizer.load_state_dict(parts["optimizer"])
    except (ValueError, KeyError, TypeError) as exc:
        raise CheckpointError(f"checkpoint {path}: optimizer state does not fit: {exc}") from None
    model.load_state_dict(weights)
    if scheduler is not None:
        scheduler.load_state_dict(parts["scheduler"])
    if loader is not None:
        loader.load_state_dict(parts["loader"])
    if restore_rng:
        _random.generator().bit_generator.state = parts["rng"]
    history = meta["history"]
    return {**meta, **parts, "history": None if history is None else History.from_dict(history)}
