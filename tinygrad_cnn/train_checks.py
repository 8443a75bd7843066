"""What ``train.fit`` checks before and while it trains, so that it fails early: the labels of
its loaders against the model's outputs, the finiteness of each step's gradients, whether a
loader has a length."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from tinygrad_cnn.data.augment import RandomShifts, Standardize
from tinygrad_cnn.tensor import Tensor
from tinygrad_cnn.utils.data import (BatchSampler, ConcatDataset, DataLoader, RandomSampler, SequentialSampler, Subset,
                                     TensorDataset)
from tinygrad_cnn.utils.data._utils.collate import default_collate


def sized(loader: Any) -> bool:
    """True when ``len(loader)`` answers (a DataLoader over an IterableDataset without len does not)."""
    try:
        len(loader)
    except TypeError:
        return False
    return True


def check_finite_gradients(optimizer: Any, epoch: int, step: int, loss: float) -> None:
    """Stop before a step whose gradients hold NaN/inf though the loss was finite."""
    for group in optimizer.param_groups:
        for p in group["params"]:
            if p.grad is not None and not np.isfinite(p.grad.numpy()).all():
                raise FloatingPointError(
                    f"fit: the gradient of a parameter of shape {tuple(p.shape)} became non-finite at step {step} of "
                    f"epoch {epoch} (loss {loss:.4g}); lower the learning rate ({ROLLED_BACK.format(epoch=epoch)})"
                )


ROLLED_BACK = "the model, optimizer and history are back as they were before epoch {epoch}"


def dataset_labels(dataset: Any) -> np.ndarray | None:
    """Every label of a map-style ``dataset`` of (input, label) pairs, when it can be read without
    fetching a sample (a TensorDataset of two tensors, a Subset or ConcatDataset of such, the
    batch transforms of ``data.augment``, a vision dataset's ``targets`` without a
    target_transform); None otherwise."""
    if isinstance(dataset, TensorDataset):
        return dataset.tensors[1].numpy() if len(dataset.tensors) == 2 else None
    if isinstance(dataset, Subset):
        labels = dataset_labels(dataset.dataset)
        return None if labels is None else labels[np.asarray(dataset.indices, dtype=np.int64)]
    if isinstance(dataset, (Standardize, RandomShifts)):
        return dataset_labels(dataset.dataset)
    if isinstance(dataset, ConcatDataset):
        parts = [dataset_labels(d) for d in dataset.datasets]
        return None if any(p is None for p in parts) else np.concatenate(parts)
    targets = getattr(dataset, "targets", None)
    if targets is not None and getattr(dataset, "target_transform", None) is None:
        return np.asarray(targets.numpy() if isinstance(targets, Tensor) else targets)
    return None


def loader_labels(loader: Any) -> np.ndarray | None:
    """The labels ``loader`` can yield (those of its whole dataset), when a DataLoader with the
    default sampler and collate_fn holds them readably (``dataset_labels``); else None."""
    if not isinstance(loader, DataLoader) or loader.collate_fn is not default_collate:
        return None
    if type(loader.sampler) not in (SequentialSampler, RandomSampler) or type(loader.batch_sampler) is not BatchSampler:
        return None
    return dataset_labels(loader.dataset)


def check_labels(out: Tensor, labels: dict[str, np.ndarray | None], loss_fn: Callable[[Tensor, Tensor], Tensor]) -> None:
    """Refuse class labels outside the model's ``out.shape[1]`` outputs (but for the loss's
    ignore_index, -100 by default), in every loader whose labels are known."""
    if out.ndim != 2:
        return
    classes, ignore = out.shape[1], getattr(loss_fn, "ignore_index", -100)
    for name, values in labels.items():
        if values is None or values.ndim != 1 or not np.issubdtype(values.dtype, np.integer):
            continue
        bad = ((values < 0) | (values >= classes)) & (values != ignore)
        if bad.any():
            first = int(np.flatnonzero(bad)[0])
            wrong = np.unique(values[bad])
            raise ValueError(f"fit: {name} has labels outside the model's {classes} classes [0, {classes - 1}]: "
                             f"{wrong[:10].tolist()}{' ...' if len(wrong) > 10 else ''} (the first at sample "
                             f"{first} of its dataset); nothing was trained")
