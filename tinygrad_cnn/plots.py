"""Pictures of a run, for the CLI and for Python users: training curves and the confusion matrix.

```python
from tinygrad_cnn.plots import confusion_matrix, format_confusion, plot_confusion, plot_history
from tinygrad_cnn.train import predict

matrix = confusion_matrix(y_test, predict(model, X_test))   # (10, 10) counts
print(format_confusion(matrix))                             # text table with each class's recall
plot_confusion(matrix, "confusion.png")
plot_history(history, "curves.png")                         # a train.History
```

The PNG writers need matplotlib (imported when called, with the Agg backend); files are
written atomically. ``confusion_matrix`` and ``format_confusion`` need NumPy only.
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


def _save_figure(fig: Any, path: Path) -> Path:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return atomic_write(path, buffer.getvalue())


def plot_history(history: History, path: str | Path) -> Path:
    """Loss and accuracy per epoch (train, and validation where recorded) as a PNG at ``path``."""
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
        ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
        ax.set_title(title)
        ax.grid(alpha=0.3)
        ax.legend()
    ax_acc.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.1%}"))
    try:
        return _save_figure(fig, Path(path))
    finally:
        plt.close(fig)


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


def plot_confusion(matrix: np.ndarray, path: str | Path) -> Path:
    """The confusion matrix as a PNG heat map with counts."""
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
    try:
        return _save_figure(fig, Path(path))
    finally:
        plt.close(fig)
