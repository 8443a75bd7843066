"""RandomShifts / random_shifts: each image moved by whole pixels, as a per-image pad-and-crop."""

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn import Tensor
from tinygrad_cnn.data.augment import RandomShifts, random_shifts
from tinygrad_cnn.utils.data import DataLoader, TensorDataset


def test_random_shifts_is_a_pad_and_crop_per_image():
    images = np.random.default_rng(0).random((9, 2, 5, 6), dtype=np.float32)
    out = random_shifts(images, 2, -1.0, np.random.default_rng(3))
    dy, dx = np.random.default_rng(3).integers(0, 5, size=(2, 9))
    for k in range(9):
        padded = np.pad(images[k], ((0, 0), (2, 2), (2, 2)), constant_values=-1.0)
        np.testing.assert_array_equal(out[k], padded[:, dy[k]:dy[k] + 5, dx[k]:dx[k] + 6])
    assert out.dtype == np.float32 and out.shape == images.shape
    np.testing.assert_array_equal(random_shifts(images, 0, 0.0, np.random.default_rng(0)), images)


def test_random_shifts_dataset_draws_from_manual_seed_and_keeps_labels():
    X = np.arange(4 * 16, dtype=np.float32).reshape(4, 1, 4, 4)
    shifted = RandomShifts(TensorDataset(Tensor(X), Tensor(np.arange(4))), max_shift=1, fill=0.0)

    def epoch():
        tg.manual_seed(0)
        return [(x.numpy().copy(), y.numpy().tolist()) for x, y in DataLoader(shifted, batch_size=2)]

    first, second = epoch(), epoch()
    assert [y for _, y in first] == [[0, 1], [2, 3]]
    for (a, _), (b, _) in zip(first, second):
        np.testing.assert_array_equal(a, b)
    assert len(shifted) == 4 and shifted[2][0].shape == (1, 4, 4)
    with pytest.raises(ValueError, match="max_shift"):
        RandomShifts(shifted.dataset, max_shift=-1)
    with pytest.raises(TypeError, match="batch"):
        RandomShifts([1, 2], max_shift=1)


def test_standardize_per_batch_equals_standardizing_the_array_once():
    from tinygrad_cnn.data import standardize
    from tinygrad_cnn.data.augment import Standardize

    X = np.random.default_rng(1).random((10, 1, 3, 3), dtype=np.float32)
    data = Standardize(TensorDataset(Tensor(X), Tensor(np.arange(10))), 0.1307, 0.3081)
    xb, yb = next(iter(DataLoader(data, batch_size=4, sampler=[9, 0, 3, 5])))
    np.testing.assert_array_equal(xb.numpy(), standardize(X)[[9, 0, 3, 5]])
    assert yb.numpy().tolist() == [9, 0, 3, 5] and len(data) == 10
    with pytest.raises(ValueError, match="std must be positive"):
        Standardize(data.dataset, 0.0, 0.0)
