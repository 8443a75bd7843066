"""Pictures of a run, for the CLI and for Python users: training curves and the confusion matrix.

```python
from tinygrad_cnn.plots import class_scores, confusion_matrix, format_confusion, plot_confusion, plot_history
from tinygrad_cnn.train import predict

matrix = confusion_matrix(y_test, predict(model, X_test))   # (10, 10) counts
print(format_confusion(matrix))                             # text table with each class's recall
scores = class_scores(matrix)                               # per-class precision, recall, F1, support
plot_confusion(matrix, "confusion.png")
plot_history(history, "curves.png")                         # a train.History
```

``history_png`` and ``confusion_png`` return the PNG bytes (the run report inlines them);
``plot_history`` and ``plot_confusion`` write them to a file, atomically. The pictures need
matplotlib (imported when called, with the Agg backend); ``confusion_matrix``,
``format_confusion`` and ``class_scores`` need NumPy only.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from tinygrad_cnn.fileio import atomic_write

if TYPE_CHECKING:
    from tinygrad_cnn.train import History


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _png(fig: Any) -> bytes:
    """The figure as PNG bytes; the figure is closed."""
    buffer = io.BytesIO()
    try:
        fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    finally:
        _pyplot().close(fig)
    return buffer.getvalue()


def history_png(history: History) -> bytes:
    """Loss and accuracy per epoch (train, and validation where recorded), side by side, as PNG bytes."""
    plt = _pyplot()
    epochs = np.arange(1, history.epochs + 1)
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
    for ax, train, val, title in ((ax_loss, history.train_loss, history.val_loss, "loss"),
                                  (ax_acc, history.train_acc, history.val_acc, "accuracy")):
        ax.plot(epochs, train, "o-", label="train")
        points = [(e, v) for e, v in zip(epochs, val) if v is not None]
        if points:
            ax.plot(*zip(*points), "s-", label="validation")
        ax.set_xlabel("epoch")
        ax.set_xlim(0.5, history.epochs + 0.5)  # whole epochs, also for a run of one
        ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
        ax.set_title(title)
        ax.grid(alpha=0.3)
        ax.legend()
    ax_acc.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.1%}"))
    return _png(fig)


def plot_history(history: History, path: str | Path) -> Path:
    """``history_png(history)`` written to ``path``; returns the path."""
    return atomic_write(path, history_png(history))


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int = 10) -> np.ndarray:
    """Counts (num_classes, num_classes): row = true class, column = predicted class."""
    return np.bincount(y_true * num_classes + y_pred, minlength=num_classes**2).reshape(num_classes, num_classes)


def format_confusion(matrix: np.ndarray) -> str:
    """The confusion matrix as a text table with each class's recall."""
    width = max(5, len(str(matrix.max())) + 1)
    k = len(matrix)
    lines = ["true \\ predicted".ljust(17) + "".join(str(j).rjust(width) for j in range(k)) + "  recall"]
    for i, row in enumerate(matrix):
        recall = row[i] / row.sum() if row.sum() else float("nan")
        lines.append(str(i).rjust(16) + " " + "".join(str(v).rjust(width) for v in row) + f"  {recall:7.2%}")
    return "\n".join(lines)


def class_scores(matrix: np.ndarray) -> dict[str, np.ndarray]:
    """Each class's precision, recall and F1 (float64 (K,)) and support (int64 (K,): its true
    count) from a confusion matrix (K, K), as scikit-learn's precision_recall_fscore_support
    with zero_division=0: a class never predicted has precision 0, one never present recall 0."""
    matrix = np.asarray(matrix)
    hits = np.diag(matrix).astype(np.float64)
    predicted, support = matrix.sum(axis=0), matrix.sum(axis=1)
    precision = np.divide(hits, predicted, out=np.zeros_like(hits), where=predicted > 0)
    recall = np.divide(hits, support, out=np.zeros_like(hits), where=support > 0)
    both = precision + recall
    f1 = np.divide(2 * precision * recall, both, out=np.zeros_like(hits), where=both > 0)
    return {"precision": precision, "recall": recall, "f1": f1, "support": support.astype(np.int64)}


def confusion_png(matrix: np.ndarray) -> bytes:
    """The confusion matrix as a heat map with counts (log-scaled colours), as PNG bytes."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 5.5))
    ax.imshow(np.log1p(matrix), cmap="Blues")
    k = len(matrix)
    for i in range(k):
        for j in range(k):
            ax.text(j, i, str(matrix[i, j]), ha="center", va="center", fontsize=7,
                    color="white" if i == j else "black")
    ax.set_xticks(range(k))
    ax.set_yticks(range(k))
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"confusion matrix (accuracy {np.trace(matrix) / matrix.sum():.2%})")
    return _png(fig)


def plot_confusion(matrix: np.ndarray, path: str | Path) -> Path:
    """``confusion_png(matrix)`` written to ``path``; returns the path."""
    return atomic_write(path, confusion_png(matrix))
