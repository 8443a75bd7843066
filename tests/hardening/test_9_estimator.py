"""Class 9 of issue 16: the estimator refuses, at predict time, input whose layout differs
from the one it was fitted on, instead of silently reshaping it."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_cnn.estimator import CNNClassifier


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(0)
    X = rng.random((12, 3, 8, 8), dtype=np.float32)
    y = np.arange(12) % 2
    return CNNClassifier(epochs=1, batch_size=6, random_state=0).fit(X, y), X


@given(st.permutations([0, 1, 2]).filter(lambda p: p != [0, 1, 2]))
@settings(max_examples=5)
def test_predict_refuses_a_permuted_layout(fitted, perm):
    clf, X = fitted
    moved = np.ascontiguousarray(X.transpose((0,) + tuple(1 + i for i in perm)))
    if moved.shape[1:] == X.shape[1:]:
        return
    for method in (clf.predict, clf.predict_proba):
        with pytest.raises(ValueError, match=r"fitted on samples of shape \(3, 8, 8\)"):
            method(moved)


def test_partial_fit_refuses_a_different_layout_and_keeps_the_model(fitted):
    clf, X = fitted
    before = clf.predict_proba(X)
    with pytest.raises(ValueError, match="fitted on"):
        clf.partial_fit(X.transpose(0, 2, 3, 1).copy(), np.arange(12) % 2)
    np.testing.assert_array_equal(clf.predict_proba(X), before)


def test_matching_layouts_still_work(fitted):
    clf, X = fitted
    assert clf.predict(X).shape == (12,)
    assert clf.predict(X.reshape(12, -1)).shape == (12,)


def test_single_channel_fit_accepts_n_h_w():
    rng = np.random.default_rng(1)
    X = rng.random((8, 1, 8, 8), dtype=np.float32)
    clf = CNNClassifier(epochs=1, batch_size=4, random_state=0).fit(X, np.arange(8) % 2)
    assert clf.predict(X[:, 0]).shape == (8,)
    with pytest.raises(ValueError, match="fitted on"):
        clf.predict(X.transpose(0, 2, 3, 1).copy())
