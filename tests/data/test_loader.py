"""standardize (the recipe's normalisation, once over the array) and load_digits; batching itself is
tested with utils.data (tests/utils)."""

import numpy as np
import pytest

from tinygrad_cnn import Tensor
from tinygrad_cnn.data import DataLoader, TensorDataset, load_digits, standardize
from tinygrad_cnn.utils import data as utils_data
from tinygrad_cnn.vision import transforms as T


def test_standardize_uses_mnist_stats_by_default_and_leaves_the_source_alone():
    X = np.array([[0.0], [0.1307], [1.0]], dtype=np.float32)
    out = standardize(X)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.ravel(), [-0.1307 / 0.3081, 0.0, (1 - 0.1307) / 0.3081], rtol=1e-6)
    np.testing.assert_allclose(standardize(X, 0.5, 0.25).ravel(), [-2.0, (0.1307 - 0.5) / 0.25, 2.0], rtol=1e-6)
    assert X[1, 0] == np.float32(0.1307)


def test_standardize_equals_normalize_per_image_bit_for_bit():
    X = np.random.default_rng(0).random((5, 1, 4, 4), dtype=np.float32)
    per_image = np.stack([T.Normalize((0.1307,), (0.3081,))(Tensor(x)).numpy() for x in X])
    np.testing.assert_array_equal(standardize(X), per_image)


def test_standardize_turns_integer_pixels_into_float32_and_keeps_float64():
    assert standardize(np.array([[0], [255]], dtype=np.uint8), 0, 255).tolist() == [[0.0], [1.0]]
    assert standardize(np.array([[0], [255]], dtype=np.uint8), 0, 255).dtype == np.float32
    assert standardize(Tensor(np.zeros((2, 1)))).dtype == np.float64
    with pytest.raises(ValueError, match="std must be positive"):
        standardize(np.zeros(2), 0.1, 0.0)


def test_data_reexports_the_one_dataloader():
    assert DataLoader is utils_data.DataLoader and TensorDataset is utils_data.TensorDataset


def test_load_digits_shapes_and_range():
    pytest.importorskip("sklearn", reason="load_digits reads scikit-learn's digits data set")
    X, y = load_digits()
    assert X.shape == (1797, 1, 8, 8) and X.dtype == np.float32
    assert y.shape == (1797,) and y.dtype == np.int64
    assert X.min() == 0.0 and X.max() == 1.0
    assert sorted(set(y.tolist())) == list(range(10))
