"""Checkpoints: a model, its optimizer, scheduler, RNG states and history in one .npz file.

Layout of the file (plain ``numpy.load(path)`` reads it, no pickle):

- ``model/<name>``: each entry of ``model.state_dict()`` ("model/conv1.weight", ...);
- ``state/<n>``: the arrays inside the optimizer's, scheduler's and loader's state
  (Adam's moment buffers, ...), referenced from the metadata;
- ``metadata``: one JSON string with the format version, epoch, history, the model's,
  optimizer's and scheduler's class names, the optimizer/scheduler/loader states (arrays
  replaced by references, tuples and non-string dict keys encoded so they come back
  exactly), the package's random generator state and ``extra`` (anything
  JSON-serialisable the caller adds).

The file is written to a temporary name in the same folder and renamed into place, so
a crash never leaves a half-written checkpoint under the final name. Restoring all of
it and training on gives bit-identical weights to a run that never stopped. Loading
reads and checks the whole file, and checks that every part fits what it is loaded
into, before it changes anything: a damaged or unfitting file raises CheckpointError.
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
from tinygrad_cnn.tensor import Tensor

FORMAT = "tinygrad_cnn.checkpoint"
VERSION = 2
_META_KEYS = ("format", "version", "epoch", "model_class", "optimizer_class", "scheduler_class", "optimizer",
              "scheduler", "loader", "rng", "history", "extra")


class CheckpointError(RuntimeError):
    """A checkpoint file is unreadable or does not fit the model/optimizer it is loaded into."""


class _Encoder:
    """Turns nested state (dicts, lists, tuples, arrays, Tensors, numbers) into JSON plus a list of arrays."""

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}

    def encode(self, value: Any) -> Any:
        if isinstance(value, Tensor):
            return {"__tensor__": self.encode(np.array(value.numpy()))["__array__"]}
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
    if "__tensor__" in value:
        return Tensor(np.array(arrays[value["__tensor__"]]))
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
    encoder = _Encoder()
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "epoch": epoch,
        "model_class": type(model).__name__,
        "optimizer_class": None if optimizer is None else type(optimizer).__name__,
        "scheduler_class": None if scheduler is None else type(scheduler).__name__,
        "optimizer": None if optimizer is None else encoder.encode(optimizer.state_dict()),
        "scheduler": None if scheduler is None else encoder.encode(scheduler.state_dict()),
        "loader": None if loader is None else encoder.encode(loader.state_dict()),
        "rng": encoder.encode(_random.generator().bit_generator.state),
        "history": None if history is None else history.to_dict(),
        "extra": encoder.encode(extra or {}),
    }
    entries = {f"model/{name}": tensor.numpy() for name, tensor in model.state_dict().items()}
    entries.update(encoder.arrays)
    entries["metadata"] = np.array(json.dumps(meta))
    buffer = io.BytesIO()
    np.savez(buffer, **entries)
    return atomic_write(path, buffer.getvalue())


def _read(path: Path) -> tuple[dict[str, Any], dict[str, np.ndarray], dict[str, Any]]:
    """(metadata, model weights by name, decoded optimizer/scheduler/loader/rng/extra states) of the
    checkpoint at ``path``, every entry read (so a damaged one shows now) and the metadata checked."""
    def fail(problem: str) -> CheckpointError:
        return CheckpointError(f"checkpoint {path}: {problem}")

    try:
        with open(path, "rb") as file:
            if file.read(4) != b"PK\x03\x04":
                raise fail("damaged or not a .npz file (it does not start with a zip signature)")
        with np.load(path, allow_pickle=False) as archive:
            entries = {name: archive[name] for name in archive.files}
    except CheckpointError:
        raise
    except FileNotFoundError:
        raise FileNotFoundError(f"checkpoint {path} does not exist") from None
    except IsADirectoryError:
        raise fail("is a directory, not a checkpoint file") from None
    except NotADirectoryError:
        raise fail("not a directory: a part of the path is a regular file") from None
    except PermissionError:
        raise fail("cannot be read (permission denied)") from None
    except Exception as exc:  # whatever parsing damaged bytes raises (zip, zlib, the .npy headers' literals)
        raise fail(f"damaged or not a .npz file ({type(exc).__name__}: {exc})") from None
    if "metadata" not in entries:
        raise fail("no 'metadata' entry; not a tinygrad_cnn checkpoint")
    try:
        meta = json.loads(str(entries["metadata"]))
    except (ValueError, RecursionError) as exc:
        raise fail(f"metadata is not valid JSON ({exc})") from None
    if not isinstance(meta, dict):
        raise fail(f"metadata is not a JSON object but a {type(meta).__name__}")
    if meta.get("format") != FORMAT or meta.get("version") != VERSION:
        raise fail(f"format {meta.get('format')!r} version {meta.get('version')!r}, "
                   f"expected {FORMAT!r} version {VERSION}")
    missing = sorted(set(_META_KEYS) - set(meta))
    if missing:
        raise fail(f"metadata lacks {', '.join(missing)}")
    epoch = meta["epoch"]
    if epoch is not None and (isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0):
        raise fail(f"metadata is malformed (epoch {epoch!r} is not a whole number >= 0)")
    try:
        parts = {name: _decode(meta[name], entries) for name in ("optimizer", "scheduler", "loader", "rng", "extra")}
    except KeyError as exc:
        raise fail(f"metadata refers to a missing array {exc.args[0]}") from None
    except (TypeError, ValueError, AttributeError, RecursionError) as exc:
        raise fail(f"metadata is malformed ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})") from None
    if not isinstance(parts["extra"], dict):
        raise fail(f"metadata is malformed (extra is a {type(parts['extra']).__name__}, not a dict)")
    if meta["history"] is not None:
        from tinygrad_cnn.train import History

        try:
            meta["history"] = History.from_dict(meta["history"])
        except (TypeError, ValueError, AttributeError) as exc:
            raise fail(f"history: {exc}") from None
    weights = {key[len("model/"):]: array for key, array in entries.items() if key.startswith("model/")}
    return meta, weights, parts


def _kind(value: Any) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "bool"
    if isinstance(value, (int, float, np.number)):
        return "number"
    return type(value).__name__


def _misfits(saved: Any, own: Any, where: str = "") -> list[str]:
    """How the structure of a saved state differs from ``own`` (the state of the object it is loaded
    into): dict keys, list lengths, array shapes, kinds of values (None fits anything)."""
    at = f"{where}: " if where else ""
    if saved is None or own is None:
        return []
    if isinstance(own, dict):
        if not isinstance(saved, dict):
            return [f"{at}a {_kind(saved)} in the file, a dict here"]
        if saved.keys() != own.keys():
            return [f"{at}keys {sorted(map(str, saved))} in the file, {sorted(map(str, own))} here"]
        return [m for key in own for m in _misfits(saved[key], own[key], f"{where}.{key}" if where else str(key))]
    if isinstance(own, (list, tuple)):
        if not isinstance(saved, (list, tuple)) or len(saved) != len(own):
            size = f"{len(saved)} items" if isinstance(saved, (list, tuple)) else f"a {_kind(saved)}"
            return [f"{at}{size} in the file, {len(own)} items here"]
        return [m for i, (s, o) in enumerate(zip(saved, own)) for m in _misfits(s, o, f"{where}[{i}]")]
    if isinstance(own, np.ndarray):
        if not isinstance(saved, np.ndarray) or saved.shape != own.shape:
            shape = saved.shape if isinstance(saved, np.ndarray) else f"a {_kind(saved)}"
            return [f"{at}shape {shape} in the file, {tuple(own.shape)} here"]
        return []
    if _kind(saved) != _kind(own):
        return [f"{at}a {_kind(saved)} in the file, a {_kind(own)} here"]
    if isinstance(own, (int, np.integer)) and not isinstance(own, bool) and not float(saved).is_integer():
        return [f"{at}{saved!r} in the file, an integer here"]
    return []


def _optimizer_misfits(saved: dict[str, Any], optimizer: Any) -> list[str]:
    """What in a saved optimizer state would fail in ``optimizer``, at load or at its next step:
    the kinds of the groups' values, their hyper-parameters (``check_group_hyperparameters``),
    step counts that are not whole numbers >= 0, buffers that are not arrays of numbers. (The
    optimizer's ``load_state_dict`` checks the group sizes and buffer shapes.)"""
    from tinygrad_cnn.optim.optimizer import check_group_hyperparameters

    groups, state = saved.get("param_groups"), saved.get("state")
    own = optimizer.state_dict()["param_groups"]
    if not isinstance(groups, list) or not isinstance(state, dict) or not all(isinstance(g, dict) for g in groups):
        return ["not a dict of 'state' and a list of 'param_groups'"]
    if len(groups) != len(own):
        return [f"{len(groups)} parameter group(s) in the file, {len(own)} here"]
    problems = []
    for g, (group, mine) in enumerate(zip(groups, own)):
        shared = sorted((group.keys() & mine.keys()) - {"params"})
        problems += _misfits({k: group[k] for k in shared}, {k: mine[k] for k in shared}, f"param_groups[{g}]")
        try:
            check_group_hyperparameters(f"param_groups[{g}]", {**mine, **group})
        except (TypeError, ValueError) as exc:
            problems.append(str(exc))
    for key, buffers in state.items():
        for name, value in (buffers.items() if isinstance(buffers, dict) else [("", buffers)]):
            array = np.asarray(value.numpy() if isinstance(value, Tensor) else value)
            numeric = np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)
            if name == "step" and not (numeric and array.size == 1 and np.isfinite(array).all()
                                       and array.item() >= 0 and float(array.item()).is_integer()):
                problems.append(f"state[{key}].step is {value!r}, not a whole number of steps >= 0")
            elif name != "step" and value is not None and not numeric:
                problems.append(f"state[{key}].{name or '(buffers)'}: {_kind(value)} {value!r:.60} in the file, "
                                "an array of numbers expected")
    return problems


def _generator_misfit(saved: Any, own: dict[str, Any]) -> list[str]:
    """Why ``saved`` is not a state of the kind of bit generator whose state is ``own`` (tried on a new one)."""
    probe = getattr(np.random, own["bit_generator"])()
    try:
        probe.state = saved
    except (TypeError, ValueError, KeyError, OverflowError) as exc:
        return [str(exc) or type(exc).__name__]
    return []


def load_metadata(path: str | os.PathLike) -> dict[str, Any]:
    """The checkpoint's metadata (epoch, model_class, history dict, extra, ...) without a model.

    The whole file is read and checked: CheckpointError when it is damaged.
    """
    meta, _, parts = _read(Path(path))
    history = meta["history"]
    return {**meta, "extra": parts["extra"], "history": None if history is None else history.to_dict()}


def load(path: str | os.PathLike, model: Any, optimizer: Any = None, *, scheduler: Any = None,
         loader: Any = None, restore_rng: bool = True) -> dict[str, Any]:
    """Restore ``model`` (and optimizer, scheduler, loader, RNG) from the checkpoint at ``path``.

    Everything is checked before anything changes: the file must be intact; the model's
    parameter names and shapes must match the file's exactly; a component passed here must
    have been saved, from the same optimizer/scheduler class, with state of the same
    structure (keys, sizes, shapes). Otherwise CheckpointError names the file and the
    problem, and nothing was modified. Returns the metadata: ``epoch``, ``history`` (a
    train.History or None), ``extra`` and the rest.
    """
    path = Path(path)
    meta, weights, parts = _read(path)
    own = dict(model.state_dict())
    problems = [f"missing from the file: {k} {tuple(own[k].shape)}" for k in own if k not in weights]
    problems += [f"not in the model: {k} {tuple(weights[k].shape)}" for k in weights if k not in own]
    problems += [f"shape of {k}: file {tuple(weights[k].shape)}, model {tuple(own[k].shape)}"
                 for k in own if k in weights and weights[k].shape != own[k].shape]
    problems += [f"dtype of {k}: file {weights[k].dtype} is not an integer or floating type"
                 for k in own if k in weights and not (np.issubdtype(weights[k].dtype, np.integer)
                                                       or np.issubdtype(weights[k].dtype, np.floating))]
    if problems:
        raise CheckpointError(
            f"checkpoint {path} (saved from {meta['model_class']}) does not fit this {type(model).__name__}:\n  "
            + "\n  ".join(problems)
        )
    for name, component in (("optimizer", optimizer), ("scheduler", scheduler), ("loader", loader)):
        if component is not None and parts[name] is None:
            raise CheckpointError(f"checkpoint {path} holds no {name} state to restore")
    for name, component in (("optimizer", optimizer), ("scheduler", scheduler)):
        if component is not None and meta[f"{name}_class"] != type(component).__name__:
            raise CheckpointError(f"checkpoint {path} holds {meta[f'{name}_class']} state, cannot load it into "
                                  f"{type(component).__name__}")
    states = {name: component.state_dict() for name, component in (("scheduler", scheduler), ("loader", loader))
              if component is not None}
    if restore_rng:
        states["rng"] = _random.generator().bit_generator.state
    misfits = {name: _misfits(parts[name], state) for name, state in states.items()}
    if optimizer is not None:
        misfits["optimizer"] = _optimizer_misfits(parts["optimizer"], optimizer)
    for name, saved, own in (("rng", parts["rng"], states.get("rng")),
                             ("loader", (parts["loader"] or {}).get("generator"), states.get("loader", {}).get("generator"))):
        if own is not None and not misfits[name]:
            misfits[name] = _generator_misfit(saved, own)
    for name, found in misfits.items():
        if found:
            raise CheckpointError(f"checkpoint {path}: {name} state does not fit: " + "; ".join(found))
    try:  # the structure left to the component itself: Optimizer.load_state_dict changes nothing when it fails
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
    return {**meta, **parts}


def load_model(path: str | os.PathLike) -> Any:
    """The model saved in the checkpoint at ``path`` (as written by ``tinygrad-cnn train``), ready for
    inference: built from the ``models`` registry, its weights loaded, in eval mode.

    The package's global random generator is left exactly as it was (building the model draws
    its initial weights from a private state that is put back). The input normalisation the
    model was trained with is ``load_metadata(path)["extra"]["config"]["normalize"]`` (mean,
    std), applied by ``DataLoader(..., normalize=...)``. A damaged file, or one that holds no
    registered model, raises CheckpointError::

        from tinygrad_cnn.checkpoint import load_model
        model = load_model("runs/lenet/best.npz")
        probabilities = model(x).softmax(dim=1)    # x: (N, 1, 28, 28), normalised
    """
    from tinygrad_cnn.models import MODELS

    meta = load_metadata(path)
    name = meta["extra"].get("config", {}).get("model")
    cls = MODELS.get(name) or next((c for c in MODELS.values() if c.__name__ == meta["model_class"]), None)
    if cls is None:
        raise CheckpointError(f"checkpoint {path} holds a {meta['model_class']}, which is not one of the models "
                              f"{sorted(MODELS)}")
    state = _random.generator().bit_generator.state
    try:
        model = cls()
    finally:
        _random.generator().bit_generator.state = state
    load(path, model, restore_rng=False)
    return model.eval()
