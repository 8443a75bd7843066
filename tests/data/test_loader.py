"""DataLoader batching, shuffling, normalisation and state; load_digits."""

import numpy as np
import pytest

import tinygrad_cnn
from tinygrad_cnn import Tensor
from tinygrad_cnn.data import DataLoader, load_digits


def toy(n=10):
    X = np.arange(n * 4, dtype=np.float32).reshape(n, 1, 2, 2)
    y = np.arange(n, dtype=np.int64)
    return X, y


@pytest.mark.parametrize("n,batch,drop_last,sizes", [
    (10, 4, False, [4, 4, 2]),
    (10, 4, True, [4, 4]),
    (8, 4, False, [4, 4]),
    (3, 64, False, [3]),
    (3, 64, True, []),
])
def test_batch_sizes_and_len(n, batch, drop_last, sizes):
    X, y = toy(n)
    loader = DataLoader(X, y, batch_size=batch, drop_last=drop_last)
    batches = list(loader)
    assert len(loader) == len(sizes)
    assert [len(xb) for xb, _ in batches] == sizes
    assert loader.num_samples == sum(sizes)
    for xb, yb in batches:
        assert isinstance(xb, Tensor) and isinstance(yb, Tensor)
        assert xb.dtype == np.float32 and yb.dtype == np.int64
        np.testing.assert_array_equal(xb.numpy(), X[yb.numpy()])


def test_unshuffled_batches_are_views_not_copies():
    X, y = toy(10)
    xb, yb = next(iter(DataLoader(X, y, batch_size=4)))
    assert np.shares_memory(xb.numpy(), X) and np.shares_memory(yb.numpy(), y)
    assert yb.tolist() == [0, 1, 2, 3]


def test_shuffle_visits_every_sample_once_and_reshuffles_each_epoch():
    X, y = toy(50)
    loader = DataLoader(X, y, batch_size=8, shuffle=True, seed=3)
    epochs = [np.concatenate([yb.numpy() for _, yb in loader]) for _ in range(3)]
    for order in epochs:
        assert sorted(order.tolist()) == list(range(50))
    assert not np.array_equal(epochs[0], epochs[1]) and not np.array_equal(epochs[1], epochs[2])
    again = DataLoader(X, y, batch_size=8, shuffle=True, seed=3)
    for order in epochs:
        np.testing.assert_array_equal(np.concatenate([yb.numpy() for _, yb in again]), order)


def test_seed_none_follows_manual_seed():
    X, y = toy(40)

    def first_epoch():
        return np.concatenate([yb.numpy() for _, yb in DataLoader(X, y, batch_size=8, shuffle=True)])

    tinygrad_cnn.manual_seed(11)
    a = first_epoch()
    tinygrad_cnn.manual_seed(11)
    b = first_epoch()
    tinygrad_cnn.manual_seed(12)
    c = first_epoch()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_state_dict_resumes_the_shuffle_sequence():
    X, y = toy(30)
    loader = DataLoader(X, y, batch_size=7, shuffle=True, seed=0)
    list(loader)
    state = loader.state_dict()
    expected = [yb.tolist() for _, yb in loader]
    fresh = DataLoader(X, y, batch_size=7, shuffle=True, seed=99)
    fresh.load_state_dict(state)
    assert [yb.tolist() for _, yb in fresh] == expected


def test_normalize_standardises_each_batch():
    X = np.array([[0.0], [0.1307], [1.0]], dtype=np.float32)
    y = np.zeros(3, dtype=np.int64)
    xb, _ = next(iter(DataLoader(X, y, batch_size=3, normalize=True)))
    assert xb.dtype == np.float32
    np.testing.assert_allclose(xb.numpy().ravel(), [-0.1307 / 0.3081, 0.0, (1 - 0.1307) / 0.3081], rtol=1e-6)
    xb, _ = next(iter(DataLoader(X, y, batch_size=3, normalize=(0.5, 0.25))))
    np.testing.assert_allclose(xb.numpy().ravel(), [-2.0, (0.1307 - 0.5) / 0.25, 2.0], rtol=1e-6)
    assert X[1, 0] == np.float32(0.1307)  # the source array is untouched


def test_normalize_turns_integer_pixels_into_float32_and_keeps_float64():
    y = np.zeros(2, dtype=np.int64)
    xb, _ = next(iter(DataLoader(np.array([[0], [255]], dtype=np.uint8), y, normalize=(0, 255))))
    assert xb.dtype == np.float32 and xb.tolist() == [[0.0], [1.0]]
    xb, _ = next(iter(DataLoader(np.zeros((2, 1)), y, normalize=True)))
    assert xb.dtype == np.float64


def test_tensor_inputs_are_accepted():
    X, y = toy(6)
    loader = DataLoader(Tensor(X), Tensor(y), batch_size=6)
    xb, yb = next(iter(loader))
    np.testing.assert_array_equal(xb.numpy(), X)


@pytest.mark.parametrize("kwargs,message", [
    ({"y": np.zeros(9, dtype=np.int64)}, "same N"),
    ({"batch_size": 0}, "batch_size"),
    ({"batch_size": 2.5}, "batch_size"),
    ({"normalize": (0.1, 0.0)}, "std"),
])
def test_bad_arguments_raise(kwargs, message):
    X, y = toy(10)
    args = {"X": X, "y": y, **kwargs}
    with pytest.raises(ValueError, match=message):
        DataLoader(**args)


def test_load_digits_shapes_and_range():
    pytest.importorskip("sklearn", reason="load_digits reads scikit-learn's digits data set")
    X, y = load_digits()
    assert X.shape == (1797, 1, 8, 8) and X.dtype == np.float32
    assert y.shape == (1797,) and y.dtype == np.int64
    assert X.min() == 0.0 and X.max() == 1.0
    assert sorted(set(y.tolist())) == list(range(10))
