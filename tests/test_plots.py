"""tinygrad_cnn.plots from Python: the confusion matrix, its text table, and the PNG writers."""

import numpy as np
import pytest

from tinygrad_cnn.plots import confusion_matrix, format_confusion, plot_confusion, plot_history
from tinygrad_cnn.train import History


def test_confusion_matrix_counts_true_rows_and_predicted_columns():
    matrix = confusion_matrix(np.array([0, 0, 1, 2, 2, 2]), np.array([0, 1, 1, 2, 0, 2]), num_classes=3)
    np.testing.assert_array_equal(matrix, [[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    lines = format_confusion(matrix).splitlines()
    assert lines[0].split()[-1] == "recall"
    assert lines[1].split() == ["0", "1", "1", "0", "50.00%"] and lines[3].split()[-1] == "66.67%"


def test_the_pictures_are_png_files(tmp_path):
    pytest.importorskip("matplotlib")
    history = History(train_loss=[0.9, 0.5], train_acc=[0.7, 0.8], val_loss=[None, 0.6], val_acc=[None, 0.75],
                      seconds=[1.0, 1.0], lr=[1e-3, 1e-3])
    for path in (plot_history(history, tmp_path / "curves.png"),
                 plot_confusion(np.array([[3, 1], [0, 4]]), tmp_path / "confusion.png")):
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["confusion.png", "curves.png"]
