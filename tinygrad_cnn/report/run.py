"""A run folder as the report reads it: history.json, and the best checkpoint's test predictions.

``tinygrad-cnn train`` writes, next to its checkpoints, ``history.json`` (the configuration,
every epoch's figures, the image counts and the test results) and ``predictions.npz``, the
best checkpoint's class probabilities on the test set. ``predictions.npz`` holds

- ``labels`` (N,) int64 and ``probs`` (N, classes) float32: each test image's true class and
  the best checkpoint's softmax, in test-set order (the first N images with --limit);
- ``worst`` (M,) int64 and ``worst_images`` (M, H, W) uint8: the test images misclassified with
  the highest confidence, most confident first, and their pixels (so the report needs no data);
- ``checkpoint_sha256`` and ``epoch``: which best.npz they came from. When best.npz changes (a
  resumed run), the predictions are stale, and ``write_report`` computes them again.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tinygrad_cnn.fileio import atomic_write, file_digest
from tinygrad_cnn.train import History

HISTORY = "history.json"
BEST = "best.npz"
PREDICTIONS = "predictions.npz"
WORST = 24


class RunFolderError(ValueError):
    """A folder that is not a run written by ``tinygrad-cnn train``, or whose history.json is damaged."""


@dataclass
class Run:
    """What a run folder's history.json says: ``config`` (the train options), ``history`` (per
    epoch), ``images`` (counts of training, validation and test images, {} for older runs) and
    ``test`` ({"best": {"loss", "acc", "epoch"}, "last": ...}, None when the run did not finish)."""

    folder: Path
    config: dict[str, Any]
    history: History
    images: dict[str, int]
    test: dict[str, dict[str, float]] | None


def load_run(folder: str | Path) -> Run:
    """The run in ``folder``. Raises RunFolderError naming the folder when it is not a directory,
    has no history.json, or its history.json is not one ``tinygrad-cnn train`` wrote."""
    folder = Path(folder)
    if not folder.is_dir():
        raise RunFolderError(f"{folder} is not a run folder: {'no such folder' if not folder.exists() else 'a file'}")
    path = folder / HISTORY
    if not path.is_file():
        raise RunFolderError(f"{folder} is not a run folder: it has no {HISTORY} (written by `tinygrad-cnn train`)")
    try:
        data = json.loads(path.read_text())
        if not isinstance(data, dict) or not isinstance(data.get("config"), dict) or "model" not in data["config"]:
            raise ValueError("it has no run configuration naming the model")
        config, images, test = data.pop("config"), data.pop("images", {}), data.pop("test", None)
        history = History.from_dict(data)
        lengths = {name: len(values) for name, values in history.to_dict().items()
                   if name != "train_seconds" or values}  # older runs did not record it
        if len(set(lengths.values())) > 1:
            raise ValueError(f"its per-epoch lists differ in length ({lengths})")
    except (ValueError, TypeError) as exc:
        raise RunFolderError(f"{path} is not a history written by `tinygrad-cnn train`: {exc}") from None
    return Run(folder, config, history, images, test)


@dataclass
class Predictions:
    """The best checkpoint's view of the test set (see the module docstring for each field)."""

    labels: np.ndarray
    probs: np.ndarray
    worst: np.ndarray
    worst_images: np.ndarray
    checkpoint_sha256: str
    epoch: int

    @property
    def predicted(self) -> np.ndarray:
        """The predicted class of each test image, int64 (N,)."""
        return self.probs.argmax(axis=1).astype(np.int64)


def file_sha256(path: Path) -> str:
    """The SHA-256 of the file at ``path``, as hex."""
    return file_digest(path, "sha256")


def most_confident_mistakes(labels: np.ndarray, probs: np.ndarray, count: int = WORST) -> np.ndarray:
    """Row indices (at most ``count``, int64) of the misclassified rows, highest predicted
    probability first (ties: lower index first)."""
    predicted = probs.argmax(axis=1)
    wrong = np.flatnonzero(predicted != labels)
    confidence = probs[wrong, predicted[wrong]]
    return wrong[np.argsort(-confidence, kind="stable")[:count]].astype(np.int64)


def predict_test(checkpoint_path: str | Path, images: np.ndarray, labels: np.ndarray) -> Predictions:
    """The predictions of the checkpoint at ``checkpoint_path`` on test ``images`` (N, 1, H, W)
    in [0, 1] with true ``labels`` (N,), the images normalised as the run trained
    (its config's ``normalize``). The package's random generator is not touched."""
    from tinygrad_cnn.checkpoint import load_metadata, load_model
    from tinygrad_cnn.data import standardize
    from tinygrad_cnn.train import predict_proba

    model = load_model(checkpoint_path)
    meta = load_metadata(checkpoint_path)
    norm = meta["extra"].get("config", {}).get("normalize")
    inputs = standardize(images, *norm) if norm else images
    probs = predict_proba(model, inputs, batch_size=1000).astype(np.float32)
    labels = np.asarray(labels, dtype=np.int64)
    worst = most_confident_mistakes(labels, probs)
    pixels = np.round(np.clip(images[worst, 0], 0, 1) * 255).astype(np.uint8)
    return Predictions(labels, probs, worst, pixels, file_sha256(Path(checkpoint_path)), int(meta["epoch"] or 0))


def save_predictions(path: str | Path, predictions: Predictions) -> Path:
    """``predictions`` as a .npz file at ``path`` (no pickles), written atomically."""
    buffer = io.BytesIO()
    np.savez_compressed(buffer, labels=predictions.labels, probs=predictions.probs, worst=predictions.worst,
                        worst_images=predictions.worst_images,
                        checkpoint_sha256=np.array(predictions.checkpoint_sha256), epoch=np.array(predictions.epoch))
    return atomic_write(path, buffer.getvalue())


def load_predictions(path: str | Path) -> Predictions | None:
    """The predictions saved at ``path``, or None when the file is missing or unreadable."""
    try:
        with np.load(path, allow_pickle=False) as f:
            return Predictions(f["labels"], f["probs"], f["worst"], f["worst_images"], str(f["checkpoint_sha256"]),
                               int(f["epoch"]))
    except (OSError, ValueError, KeyError):
        return None


def run_predictions(run: Run, test_set: tuple[np.ndarray, np.ndarray] | None = None,
                    data: str | None = None) -> Predictions | None:
    """The run's test predictions: predictions.npz when it belongs to the current best.npz, else
    computed from best.npz on ``test_set`` (images, labels), by default the MNIST test set
    (``load_mnist(data)``, its first ``limit`` images as the run used), and saved to
    predictions.npz. None when the run has no best.npz."""
    best = run.folder / BEST
    if not best.is_file():
        return None
    saved = load_predictions(run.folder / PREDICTIONS)
    if saved is not None and saved.checkpoint_sha256 == file_sha256(best):
        return saved
    if test_set is None:
        from tinygrad_cnn.data import load_mnist

        _, _, images, labels = load_mnist(data)
        limit = run.config.get("limit")
        test_set = (images[:limit], labels[:limit]) if limit else (images, labels)
    predictions = predict_test(best, *test_set)
    save_predictions(run.folder / PREDICTIONS, predictions)
    return predictions
