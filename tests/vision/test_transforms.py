"""The deterministic transforms against torchvision's documented behaviour on small hand-made images
(exact values), PIL and array inputs alike; Resize also against torch's interpolate where torch imports."""

import numpy as np

import tinygrad_cnn as tg
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from tinygrad_cnn import Tensor
from tinygrad_cnn.vision import transforms as T
from tinygrad_cnn.vision.transforms import functional as F

HWC = np.arange(2 * 3 * 2, dtype=np.uint8).reshape(2, 3, 2) * 10  # H=2, W=3, C=2


def grey(array) -> Image.Image:
    return Image.fromarray(np.asarray(array, dtype=np.uint8))


def test_to_tensor_scales_uint8_hwc_to_chw_float():
    out = T.ToTensor()(HWC)
    assert isinstance(out, Tensor) and out.dtype == np.float32 and out.shape == (2, 2, 3)
    np.testing.assert_array_equal(out.numpy(), HWC.transpose(2, 0, 1).astype(np.float32) / np.float32(255))
    pil = T.ToTensor()(grey([[0, 255], [51, 102]]))
    np.testing.assert_array_equal(pil.numpy(), np.array([[[0.0, 1.0], [0.2, 0.4]]], np.float32))
    rgb = T.ToTensor()(Image.fromarray(np.full((1, 2, 3), (255, 0, 51), np.uint8)))
    assert rgb.shape == (3, 1, 2) and rgb.numpy()[:, 0, 0].tolist() == [1.0, 0.0, pytest.approx(0.2)]
    f64 = T.ToTensor()(np.ones((2, 2), np.float64) * 7)  # other dtypes are kept, unscaled
    assert f64.dtype == np.float64 and f64.shape == (1, 2, 2) and f64.numpy().max() == 7
    with pytest.raises(TypeError, match="pic should be PIL Image or ndarray"):
        T.ToTensor()([1, 2])
    with pytest.raises(ValueError, match="2/3 dimensional"):
        T.ToTensor()(np.zeros((1, 2, 2, 2), np.uint8))


def test_pil_to_tensor_keeps_uint8_and_convert_image_dtype_rescales():
    out = T.PILToTensor()(Image.fromarray(HWC[..., 0]))
    assert out.dtype == np.uint8 and out.shape == (1, 2, 3)
    np.testing.assert_array_equal(out.numpy()[0], HWC[..., 0])
    as_float = T.ConvertImageDtype(np.float32)(out)
    np.testing.assert_allclose(as_float.numpy(), out.numpy() / 255.0, rtol=1e-7)
    back = T.ConvertImageDtype(np.uint8)(Tensor(np.array([0.0, 0.5, 1.0], np.float32)))
    assert back.numpy().tolist() == [0, 127, 255]  # x * (255 + 1 - 1e-3), truncated
    with pytest.raises(TypeError, match="pic should be PIL Image"):
        T.PILToTensor()(HWC)


def test_normalize_per_channel_exact_and_not_in_place_by_default():
    x = Tensor(np.array([[[0.0, 1.0]], [[0.5, 0.25]]], np.float32))
    before = x.numpy().copy()
    out = T.Normalize(mean=(0.5, 0.25), std=(0.5, 0.25))(x)
    np.testing.assert_array_equal(out.numpy(), [[[-1.0, 1.0]], [[1.0, 0.0]]])
    np.testing.assert_array_equal(x.numpy(), before)
    same = T.Normalize((0.5,), (2.0,), inplace=True)(x)
    assert same is x and x.numpy().tolist() == [[[-0.25, 0.25]], [[0.0, -0.125]]]
    batch = np.ones((4, 2, 3, 3), np.float32)  # leading batch dims broadcast
    assert T.Normalize((1.0, 0.0), (1.0, 0.5))(batch)[:, 1].max() == 2.0
    with pytest.raises(TypeError, match="float tensor"):
        T.Normalize((0.5,), (0.5,))(Tensor(np.zeros((1, 2, 2), np.uint8)))
    with pytest.raises(ValueError, match="std evaluated to zero"):
        T.Normalize((0.5,), (0.0,))(x)
    with pytest.raises(ValueError, match=r"size \(..., C, H, W\)"):
        T.Normalize((0.5,), (0.5,))(Tensor(np.zeros((2, 2), np.float32)))
    with pytest.raises(TypeError, match="Tensor Image"):
        T.Normalize((0.5,), (0.5,))(grey([[1]]))


ROW = np.array([[1, 2, 3]], dtype=np.uint8)


@pytest.mark.parametrize("mode, expected", [
    ("constant", [9, 9, 1, 2, 3, 9, 9]),
    ("edge", [1, 1, 1, 2, 3, 3, 3]),
    ("reflect", [3, 2, 1, 2, 3, 2, 1]),
    ("symmetric", [2, 1, 1, 2, 3, 3, 2]),
])
def test_pad_modes_on_arrays_tensors_and_pil(mode, expected):
    transform = T.Pad((2, 0), fill=9, padding_mode=mode)
    assert transform(ROW[None]).tolist() == [[expected]]
    assert transform(Tensor(ROW[None])).numpy().tolist() == [[expected]]
    assert np.asarray(transform(grey(ROW))).tolist() == [expected]


def test_pad_left_top_right_bottom_and_rgb_fill():
    out = T.Pad((1, 2, 0, 1))(np.ones((1, 1, 2), np.float32))
    assert out.shape == (1, 4, 3)
    assert out[0].tolist() == [[0, 0, 0], [0, 0, 0], [0, 1, 1], [0, 0, 0]]
    rgb = Image.fromarray(np.zeros((1, 1, 3), np.uint8))
    padded = np.asarray(T.Pad(1, fill=(10, 20, 30))(rgb))
    assert padded.shape == (3, 3, 3) and padded[0, 0].tolist() == [10, 20, 30] and padded[1, 1].tolist() == [0, 0, 0]
    chw = T.Pad(1, fill=(10, 20, 30))(Tensor(np.zeros((3, 1, 1), np.float32))).numpy()
    assert chw[:, 0, 0].tolist() == [10, 20, 30]
    with pytest.raises(ValueError, match="1, 2, or 4 element tuple, not a 3"):
        T.Pad((1, 2, 3))
    with pytest.raises(ValueError, match="Padding mode"):
        T.Pad(1, padding_mode="wrap")
    with pytest.raises(TypeError, match="padding"):
        T.Pad("1")


def test_center_crop_picks_the_middle_and_pads_when_small():
    img = np.arange(25, dtype=np.float32).reshape(1, 5, 5)
    assert T.CenterCrop(3)(img)[0].tolist() == [[6, 7, 8], [11, 12, 13], [16, 17, 18]]
    # Python's round, half to even: top = round(0.5) = 0, left = round(1.5) = 2
    assert T.CenterCrop((4, 2))(img)[0].tolist() == [[2, 3], [7, 8], [12, 13], [17, 18]]
    big = T.CenterCrop((3, 4))(np.ones((1, 1, 1), np.float32))[0]
    assert big.tolist() == [[0, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 0]]
    pil = T.CenterCrop(3)(grey(img[0]))
    assert pil.size == (3, 3) and np.asarray(pil).tolist() == [[6, 7, 8], [11, 12, 13], [16, 17, 18]]
    assert T.CenterCrop((3, 4))(grey([[1]])).size == (4, 3)


def test_resize_nearest_exact_values_and_output_sizes():
    img = np.array([[[1, 2], [3, 4]]], np.uint8)
    up = T.Resize((4, 4), interpolation=T.InterpolationMode.NEAREST)
    assert up(img)[0].tolist() == [[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]]
    assert np.asarray(up(grey(img[0]))).tolist() == up(img)[0].tolist()
    down = np.arange(16, dtype=np.float32).reshape(1, 4, 4)
    assert T.Resize(2, interpolation=T.InterpolationMode.NEAREST)(down)[0].tolist() == [[0, 2], [8, 10]]
    # an int sets the smaller edge, keeping the aspect ratio; max_size caps the longer one
    assert T.Resize(4)(np.zeros((3, 8, 16), np.float32)).shape == (3, 4, 8)
    assert T.Resize(4, max_size=6)(np.zeros((1, 8, 16), np.float32)).shape == (1, 3, 6)
    assert T.Resize([4])(grey(np.zeros((16, 8)))).size == (4, 8)
    with pytest.raises(ValueError, match="max_size = 4 must be strictly greater"):
        T.Resize(4, max_size=4)(down)
    with pytest.raises(ValueError, match="max_size should only be passed"):
        T.Resize((2, 2), max_size=9)(down)
    with pytest.raises(ValueError, match="1 or 2 values"):
        T.Resize((1, 2, 3))


def test_bilinear_without_antialias_is_half_pixel_interpolation():
    img = np.array([[[0.0, 1.0]]], np.float32)
    out = T.Resize((1, 4), antialias=False)(img)
    np.testing.assert_allclose(out[0, 0], [0.0, 0.25, 0.75, 1.0])
    smooth = T.Resize((8, 8))(grey(np.tile([0, 255], (8, 4))))  # PIL path: antialiased, values in range
    assert smooth.size == (8, 8) and 0 < np.asarray(smooth).mean() < 255


@pytest.mark.oracle
@pytest.mark.parametrize("size", [(7, 9), (26, 30), (13, 40)])
@pytest.mark.parametrize("mode, antialias", [("nearest", False), ("nearest-exact", False), ("bilinear", False),
                                             ("bilinear", True), ("bicubic", True)])
def test_resize_on_tensors_matches_torch_interpolate(size, mode, antialias):
    torch = pytest.importorskip("torch", reason="torch is the optional oracle (pip install -e .[oracle])")
    x = np.random.default_rng(0).random((2, 3, 13, 17)).astype(np.float32)
    ours = T.Resize(size, interpolation=T.InterpolationMode(mode), antialias=antialias)(Tensor(x)).numpy()
    extra = {} if mode.startswith("nearest") else {"align_corners": False, "antialias": antialias}
    expected = torch.nn.functional.interpolate(torch.from_numpy(x), size=size, mode=mode, **extra).numpy()
    np.testing.assert_allclose(ours, expected, rtol=0, atol=2e-6)


@pytest.mark.oracle
def test_nearest_rounding_and_float64_bilinear_match_torch_on_every_size():
    torch = pytest.importorskip("torch", reason="torch is the optional oracle (pip install -e .[oracle])")
    for n_in in (3, 5, 7, 13, 17):
        x = np.random.default_rng(n_in).random((1, 1, 2, n_in))
        for n_out in range(1, 60):
            for mode, antialias in (("nearest", False), ("nearest-exact", False), ("bilinear", False)):
                ours = T.Resize((2, n_out), interpolation=T.InterpolationMode(mode), antialias=antialias)(x)
                extra = {} if mode.startswith("nearest") else {"align_corners": False}
                expected = torch.nn.functional.interpolate(torch.from_numpy(x), size=(2, n_out), mode=mode, **extra)
                assert ours.dtype == np.float64
                np.testing.assert_allclose(ours, expected.numpy(), rtol=1e-6, atol=1e-12, err_msg=f"{mode} {n_in}->{n_out}")


def test_compose_lambda_and_the_batch_fast_path():
    images = np.random.default_rng(1).integers(0, 256, (3, 4, 5, 2), dtype=np.uint8)
    pipeline = T.Compose([T.ToTensor(), T.Normalize((0.5, 0.1), (0.2, 0.3))])
    expected = np.stack([pipeline(im).numpy() for im in images])
    np.testing.assert_array_equal(T.apply_to_batch(pipeline, images).numpy(), expected)
    assert T.apply_to_batch(T.Compose([T.ToTensor(), T.Lambda(lambda x: x)]), images) is None
    assert T.apply_to_batch(T.Normalize((0.5,), (0.5,)), images) is None
    assert T.Compose([T.Lambda(lambda x: x + 1), T.Lambda(lambda x: x * 2)])(3) == 8
    with pytest.raises(TypeError, match="lambd should be callable, got 'int'"):
        T.Lambda(3)


def test_reprs_are_torchvisions():
    assert repr(T.Compose([T.ToTensor(), T.Normalize((0.1307,), (0.3081,))])) == (
        "Compose(\n    ToTensor()\n    Normalize(mean=(0.1307,), std=(0.3081,))\n)")
    assert repr(T.Resize(4)) == "Resize(size=4, interpolation=bilinear, max_size=None, antialias=True)"
    assert repr(T.CenterCrop(3)) == "CenterCrop(size=(3, 3))"
    assert repr(T.Pad(2)) == "Pad(padding=2, fill=0, padding_mode=constant)"
    assert repr(T.RandomCrop(28, padding=4)) == "RandomCrop(size=(28, 28), padding=4)"
    assert repr(T.RandomHorizontalFlip()) == "RandomHorizontalFlip(p=0.5)"
    assert repr(T.RandomRotation(10)) == "RandomRotation(degrees=[-10.0, 10.0], interpolation=nearest, expand=False, fill=0)"
    assert repr(T.RandomAffine(0, translate=(0.1, 0.1))) == "RandomAffine(degrees=[0.0, 0.0], translate=(0.1, 0.1))"
    assert repr(T.RandomAffine(5, scale=(0.9, 1.1), shear=3, fill=1)) == (
        "RandomAffine(degrees=[-5.0, 5.0], scale=(0.9, 1.1), shear=[-3.0, 3.0], fill=1)")
    assert repr(T.RandomErasing()) == "RandomErasing(p=0.5, scale=(0.02, 0.33), ratio=(0.3, 3.3), value=0, inplace=False)"
    assert [repr(t) for t in (T.ToTensor(), T.PILToTensor(), T.Lambda(abs))] == ["ToTensor()", "PILToTensor()", "Lambda()"]
    assert F.InterpolationMode.BICUBIC.value == "bicubic" and T.Resize(2, interpolation=3).interpolation.value == "bicubic"


@given(h=st.integers(1, 9), w=st.integers(1, 9), ltrb=st.tuples(*[st.integers(0, 4)] * 4),
       mode=st.sampled_from(["constant", "edge", "reflect", "symmetric"]), crop=st.tuples(st.integers(1, 12), st.integers(1, 12)),
       seed=st.integers(0, 2**16))
def test_pil_and_array_paths_agree(h, w, ltrb, mode, crop, seed):
    """The same pixels as a PIL 'L' image and as a (1, H, W) uint8 array give the same result."""
    img = np.random.default_rng(seed).integers(0, 256, (h, w), dtype=np.uint8)
    pil, arr = grey(img), img[None]
    # (Resize is left out: at exact half-pixel ties PIL's nearest and torch's nearest-exact round apart,
    # and torchvision itself sends PIL images to PIL and tensors to torch; see the oracle test above.)
    ops = [T.Pad(list(ltrb), fill=7, padding_mode=mode), T.CenterCrop(crop), F.hflip, F.vflip,
           lambda x: F.crop(x, -1, 2, *crop), lambda x: F.rotate(x, 90.0 * (seed % 4), expand=True)]
    for op in ops:
        np.testing.assert_array_equal(np.asarray(op(pil)), op(arr)[0])


def test_make_grid_tiles_a_batch_as_torchvision():
    from tinygrad_cnn.vision.utils import make_grid

    batch = tg.Tensor(np.arange(5 * 1 * 2 * 3, dtype=np.float32).reshape(5, 1, 2, 3))
    grid = make_grid(batch, nrow=2, padding=1)
    assert grid.shape == (3, 3 * 3 + 1, 2 * 4 + 1)
    np.testing.assert_array_equal(grid.numpy()[0, 1:3, 1:4], batch.numpy()[0, 0])
    np.testing.assert_array_equal(grid.numpy()[2, 4:6, 5:8], batch.numpy()[3, 0])
    assert grid.numpy()[:, 7:9, 5:8].max() == 0  # the sixth place is padding
