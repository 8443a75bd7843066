"""What the report's tables and thumbnails are made of: plots.class_scores (against scikit-learn) and
imaging.to_png (against Pillow's decoder). plots.history_png / confusion_png: tests/test_plots.py."""

from __future__ import annotations

import io

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from tinygrad_cnn.imaging import to_png
from tinygrad_cnn.plots import class_scores


@given(st.integers(2, 6).flatmap(lambda k: arrays(np.int64, (k, k), elements=st.integers(0, 6))))
def test_class_scores_are_scikit_learns(matrix):
    metrics = pytest.importorskip("sklearn.metrics")
    k = len(matrix)
    true = np.repeat(np.repeat(np.arange(k), k), matrix.reshape(-1))
    pred = np.repeat(np.tile(np.arange(k), k), matrix.reshape(-1))
    if not len(true):
        return
    expected = metrics.precision_recall_fscore_support(true, pred, labels=np.arange(k), zero_division=0)
    scores = class_scores(matrix)
    for name, want in zip(("precision", "recall", "f1", "support"), expected):
        np.testing.assert_allclose(scores[name], want, rtol=1e-12, err_msg=name)
    assert scores["support"].dtype == np.int64


@given(arrays(np.uint8, st.tuples(st.integers(1, 40), st.integers(1, 40))))
def test_to_png_round_trips_through_pillow(image):
    from PIL import Image

    with Image.open(io.BytesIO(to_png(image))) as decoded:
        assert decoded.mode == "L"
        np.testing.assert_array_equal(np.asarray(decoded), image)


def test_to_png_takes_floats_as_zero_to_one_and_refuses_other_shapes():
    from PIL import Image

    floats = np.array([[0.0, 0.5, 1.0, 2.0, -1.0]], np.float32)
    with Image.open(io.BytesIO(to_png(floats))) as decoded:
        assert np.asarray(decoded).tolist() == [[0, 128, 255, 255, 0]]
    for bad in (np.zeros((2, 2, 3)), np.zeros(4), np.zeros((0, 3))):
        with pytest.raises(ValueError, match=r"to_png: .*shape \("):
            to_png(bad)
