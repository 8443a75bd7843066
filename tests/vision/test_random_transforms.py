"""The random transforms: seeded by manual_seed, the documented geometry on small images (exact where
the operation is exact: crops, flips, quarter turns, whole-pixel shifts), arguments checked as torchvision."""

import numpy as np
import pytest
from PIL import Image

from tinygrad_cnn import Tensor, manual_seed
from tinygrad_cnn.vision import transforms as T

IMG = np.arange(36, dtype=np.float32).reshape(1, 6, 6)


def seeded_runs(transform, img, seed=3, n=6):
    manual_seed(seed)
    outs = [transform(img) for _ in range(n)]
    return [o.numpy() if isinstance(o, Tensor) else np.asarray(o) for o in outs]


def test_random_crop_is_a_window_of_the_padded_image_and_reproducible():
    crop = T.RandomCrop(4, padding=1)
    first, again = seeded_runs(crop, IMG), seeded_runs(crop, IMG)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert len({a.tobytes() for a in first}) > 1  # different draws give different windows
    padded = np.pad(IMG[0], 1)
    windows = [padded[i:i + 4, j:j + 4] for i in range(5) for j in range(5)]
    for out in first:
        assert out.shape == (1, 4, 4) and any(np.array_equal(out[0], w) for w in windows)
    pil = T.RandomCrop((2, 3))(Image.fromarray(IMG[0].astype(np.uint8)))
    assert pil.size == (3, 2)


def test_random_crop_pad_if_needed_and_too_large():
    out = T.RandomCrop((8, 7), pad_if_needed=True, fill=5)(IMG)
    assert out.shape == (1, 8, 7) and out[0, 0, 0] == 5 and np.isin(IMG, out).all()
    with pytest.raises(ValueError, match=r"Required crop size \(7, 7\) is larger than input image size \(6, 6\)"):
        T.RandomCrop(7)(IMG)
    assert np.array_equal(T.RandomCrop(6)(IMG), IMG)


def test_random_horizontal_flip_probability_ends_and_seed():
    assert np.array_equal(T.RandomHorizontalFlip(p=1.0)(IMG), IMG[..., ::-1])
    assert np.array_equal(T.RandomHorizontalFlip(p=0.0)(IMG), IMG)
    pil = Image.fromarray(IMG[0].astype(np.uint8))
    assert np.array_equal(np.asarray(T.RandomHorizontalFlip(p=1.0)(pil)), IMG[0, :, ::-1])
    flips = [bool(np.array_equal(o, IMG[..., ::-1])) for o in seeded_runs(T.RandomHorizontalFlip(), Tensor(IMG), n=40)]
    assert flips == [bool(np.array_equal(o, IMG[..., ::-1])) for o in seeded_runs(T.RandomHorizontalFlip(), Tensor(IMG), n=40)]
    assert 5 < sum(flips) < 35


@pytest.mark.parametrize("as_pil", [False, True])
def test_quarter_turn_rotation_is_exact_and_counter_clockwise(as_pil):
    img = Image.fromarray(IMG[0].astype(np.uint8)) if as_pil else IMG
    out = np.asarray(T.RandomRotation((90, 90))(img))
    np.testing.assert_array_equal(out if as_pil else out[0], np.rot90(IMG[0]))  # rot90 turns counter-clockwise


def test_rotation_expand_fill_and_pil_array_agreement():
    manual_seed(0)
    rotation = T.RandomRotation(30, expand=True, fill=7)
    out = rotation(np.ones((1, 6, 6), np.float32))
    assert out.shape[1] > 6 and out.shape[2] > 6 and out[0, 0, 0] == 7
    img = (np.random.default_rng(0).random((10, 12)) * 255).astype(np.uint8)
    manual_seed(5)
    from_pil = np.asarray(T.RandomRotation(40)(Image.fromarray(img)))
    manual_seed(5)
    from_array = T.RandomRotation(40)(img[None])[0]
    np.testing.assert_array_equal(from_pil, from_array)
    with pytest.raises(ValueError, match="must be positive"):
        T.RandomRotation(-3)
    rgb = T.RandomRotation((45, 45), fill=(1, 2, 3))(np.zeros((2, 3, 8, 8), np.float32))
    assert rgb.shape == (2, 3, 8, 8) and rgb[1, :, 0, 0].tolist() == [1, 2, 3]
    with pytest.raises(ValueError, match=r"fill.*\(3 != 1\)"):
        T.RandomRotation(5, fill=(1, 2, 3))(IMG)


def test_random_affine_whole_pixel_translation_and_identity():
    np.testing.assert_array_equal(T.RandomAffine(0)(IMG), IMG)
    manual_seed(11)
    outs = [T.RandomAffine(0, translate=(0.34, 0.34))(IMG)[0] for _ in range(8)]
    for out in outs:
        # a shift by (tx, ty) whole pixels with zero fill: find it and check every pixel
        shifts = [(tx, ty) for tx in range(-2, 3) for ty in range(-2, 3)
                  if np.array_equal(out, _shift(IMG[0], tx, ty))]
        assert shifts, out
    assert len({o.tobytes() for o in outs}) > 1


def _shift(a, tx, ty):
    out = np.zeros_like(a)
    h, w = a.shape
    out[max(ty, 0):h + min(ty, 0), max(tx, 0):w + min(tx, 0)] = a[max(-ty, 0):h - max(ty, 0), max(-tx, 0):w - max(tx, 0)]
    return out


def test_random_affine_params_stay_in_their_ranges_and_are_seeded():
    manual_seed(2)
    draws = [T.RandomAffine.get_params([-10.0, 20.0], (0.1, 0.2), (0.8, 1.2), [-5.0, 5.0, 1.0, 2.0], [30, 10])
             for _ in range(50)]
    manual_seed(2)
    assert draws[0] == T.RandomAffine.get_params([-10.0, 20.0], (0.1, 0.2), (0.8, 1.2), [-5.0, 5.0, 1.0, 2.0], [30, 10])
    for angle, (tx, ty), scale, (sx, sy) in draws:
        assert -10 <= angle <= 20 and abs(tx) <= 3 and abs(ty) <= 2 and 0.8 <= scale <= 1.2
        assert -5 <= sx <= 5 and 1 <= sy <= 2 and isinstance(tx, int)
    rgb = Image.fromarray(np.full((8, 8, 3), 200, np.uint8))
    out = T.RandomAffine(45, scale=(0.5, 0.5), fill=(1, 2, 3))(rgb)
    assert out.size == (8, 8) and np.asarray(out)[0, 0].tolist() == [1, 2, 3]
    with pytest.raises(ValueError, match="translation values should be between 0 and 1"):
        T.RandomAffine(0, translate=(0.5, 1.5))
    with pytest.raises(ValueError, match="scale values should be positive"):
        T.RandomAffine(0, scale=(0.0, 1.0))


def test_random_erasing_box_value_seed_and_inplace():
    x = Tensor(np.ones((3, 20, 20), np.float32))
    outs = seeded_runs(T.RandomErasing(p=1.0), x, n=10)
    for a, b in zip(outs, seeded_runs(T.RandomErasing(p=1.0), x, n=10)):
        np.testing.assert_array_equal(a, b)
    for out in outs:
        erased = out[0] == 0
        rows, cols = np.nonzero(erased)
        assert (out[:, erased] == 0).all() and (out[:, ~erased] == 1).all()
        # one axis-aligned box, its area a fraction of the image within scale
        assert erased.sum() == (np.ptp(rows) + 1) * (np.ptp(cols) + 1)
        assert 0.02 * 400 * 0.8 <= erased.sum() <= 0.33 * 400 * 1.2
    assert (x.numpy() == 1).all()
    manual_seed(0)
    rgb = T.RandomErasing(p=1.0, value=(0.5, 0.25, 0.125))(np.ones((3, 20, 20), np.float32))
    assert set(np.unique(rgb[1])) == {0.25, 1.0}
    manual_seed(0)
    noisy = T.RandomErasing(p=1.0, value="random", inplace=True)(x)
    assert noisy is x and (x.numpy() != 1).any()
    assert T.RandomErasing(p=0.0)(x) is x
    with pytest.raises(TypeError, match="Tensor Image"):
        T.RandomErasing()(Image.new("L", (4, 4)))
    with pytest.raises(ValueError, match="'random'"):
        T.RandomErasing(value="noise")
    with pytest.raises(ValueError, match="probability should be between 0 and 1"):
        T.RandomErasing(p=2)


def test_augmentation_pipeline_on_mnist_sized_pil_images_is_seeded():
    pipeline = T.Compose([T.RandomAffine(10, translate=(0.1, 0.1), scale=(0.9, 1.1)), T.RandomCrop(28, padding=2),
                          T.ToTensor(), T.Normalize((0.1307,), (0.3081,)), T.RandomErasing(p=0.5)])
    img = Image.fromarray((np.random.default_rng(0).random((28, 28)) * 255).astype(np.uint8))
    a, b = seeded_runs(pipeline, img, n=4), seeded_runs(pipeline, img, n=4)
    for x, y in zip(a, b):
        assert x.shape == (1, 28, 28) and x.dtype == np.float32
        np.testing.assert_array_equal(x, y)
