"""The remaining geometric transforms (RandomResizedCrop, RandomVerticalFlip, Five/TenCrop, perspective,
Gaussian blur, elastic) and the composition ones (RandomApply/Choice/Order, LinearTransformation) against
torchvision's definitions: exact crops, PIL's own transform for PIL inputs, torchvision's tensor
formulas recomputed here (NumPy, and torch's grid_sample where torch imports), seeded draws, errors, reprs."""

import numpy as np
import pytest
from PIL import Image

from tinygrad_cnn import Tensor, manual_seed
from tinygrad_cnn.random import generator
from tinygrad_cnn.vision import transforms as T
from tinygrad_cnn.vision.transforms import functional as F
from tinygrad_cnn.vision.transforms.warp import perspective_coeffs

F32 = np.float32
RAND = np.random.default_rng(1).integers(0, 256, (3, 32, 32), dtype=np.uint8)
_yy, _xx = np.mgrid[0:24, 0:20]
GRAD = np.stack([_xx * 255 / 19, _yy * 255 / 23, (_xx + _yy) * 255 / 42]).astype(np.uint8)
IDX = np.arange(6 * 8, dtype=np.float32).reshape(1, 6, 8)


def pil(chw):
    return Image.fromarray(np.ascontiguousarray(chw.transpose(1, 2, 0)))


def test_random_resized_crop_params_are_seeded_in_range_and_fall_back_to_the_centre():
    manual_seed(4)
    draws = [T.RandomResizedCrop.get_params(RAND, [0.2, 0.6], [0.5, 2.0]) for _ in range(40)]
    manual_seed(4)
    assert draws == [T.RandomResizedCrop.get_params(RAND, [0.2, 0.6], [0.5, 2.0]) for _ in range(40)]
    for i, j, h, w in draws:
        assert 0 <= i <= 32 - h and 0 <= j <= 32 - w
        assert 0.2 * 1024 * 0.8 <= h * w <= 0.6 * 1024 * 1.2 and 0.5 / 1.3 <= w / h <= 2.0 * 1.3
    assert len(set(draws)) > 30
    wide = np.zeros((1, 10, 40), np.uint8)  # no crop of this area fits: the centre crop clamped to ratio
    assert T.RandomResizedCrop.get_params(wide, [2.0, 3.0], [0.75, 1.333]) == (0, 13, 10, 13)
    assert T.RandomResizedCrop.get_params(np.zeros((1, 40, 10)), [2.0, 3.0], [0.75, 1.333]) == (13, 0, 13, 10)
    assert T.RandomResizedCrop.get_params(np.zeros((1, 10, 10)), [2.0, 3.0], [0.75, 1.333]) == (0, 0, 10, 10)


def test_random_resized_crop_output_is_the_resized_crop():
    transform = T.RandomResizedCrop((8, 6), scale=(0.3, 0.9), interpolation=T.InterpolationMode.NEAREST)
    manual_seed(9)
    i, j, h, w = T.RandomResizedCrop.get_params(RAND, transform.scale, transform.ratio)
    manual_seed(9)
    out = transform(Tensor(RAND))
    assert isinstance(out, Tensor) and out.shape == (3, 8, 6) and out.dtype == np.uint8
    nearest = F.resize(RAND[:, i:i + h, j:j + w], [8, 6], T.InterpolationMode.NEAREST)
    np.testing.assert_array_equal(out.numpy(), nearest)
    manual_seed(9)
    image = pil(RAND)
    expected = image.crop((j, i, j + w, i + h)).resize((6, 8), Image.Resampling.BILINEAR)
    got = T.RandomResizedCrop((8, 6), scale=(0.3, 0.9))(image)
    assert got.size == (6, 8) and np.array_equal(np.asarray(got), np.asarray(expected))
    np.testing.assert_array_equal(F.resized_crop(IDX, 1, 2, 4, 4, [2, 2], T.InterpolationMode.NEAREST),
                                  IDX[:, 1:5:2, 2:6:2])
    assert repr(T.RandomResizedCrop(5)) == ("RandomResizedCrop(size=(5, 5), scale=(0.08, 1.0), ratio=(0.75, 1.3333), "
                                            "interpolation=bilinear, antialias=True)")
    with pytest.raises(TypeError, match="Scale should be a sequence"):
        T.RandomResizedCrop(5, scale=0.5)
    with pytest.raises(TypeError, match="Ratio should be a sequence"):
        T.RandomResizedCrop(5, ratio=1.0)
    with pytest.warns(UserWarning, match="Scale and ratio should be of kind"):
        T.RandomResizedCrop(5, scale=(0.9, 0.1))
    with pytest.raises(ValueError, match="Please provide only two dimensions"):
        T.RandomResizedCrop((1, 2, 3))


def test_vertical_flip_and_five_ten_crops_are_exact():
    assert np.array_equal(T.RandomVerticalFlip(p=1.0)(IDX), IDX[:, ::-1])
    assert T.RandomVerticalFlip(p=0.0)(IDX) is IDX
    assert np.array_equal(np.asarray(T.RandomVerticalFlip(p=1.0)(pil(RAND))), RAND.transpose(1, 2, 0)[::-1])
    manual_seed(0)
    flips = [T.RandomVerticalFlip()(IDX) is not IDX for _ in range(40)]
    assert 8 < sum(flips) < 32
    tl, tr, bl, br, center = T.FiveCrop((2, 3))(IDX)
    for got, want in ((tl, IDX[:, :2, :3]), (tr, IDX[:, :2, 5:]), (bl, IDX[:, 4:, :3]), (br, IDX[:, 4:, 5:]),
                      (center, IDX[:, 2:4, 2:5])):
        np.testing.assert_array_equal(got, want)
    ten = T.TenCrop(2)(Tensor(IDX))
    assert len(ten) == 10 and all(isinstance(t, Tensor) and t.shape == (1, 2, 2) for t in ten)
    for got, want in zip(ten[5:], F.five_crop(IDX[..., ::-1], 2)):
        np.testing.assert_array_equal(got.numpy(), want)
    vertical = F.ten_crop(pil(RAND), [4], vertical_flip=True)
    flipped = pil(np.ascontiguousarray(RAND[:, ::-1]))
    assert np.array_equal(np.asarray(vertical[5]), np.asarray(flipped.crop((0, 0, 4, 4))))
    with pytest.raises(ValueError, match=r"Requested crop size \(7, 3\) is bigger than input size \(6, 8\)"):
        F.five_crop(IDX, (7, 3))
    assert repr(T.FiveCrop(3)) == "FiveCrop(size=(3, 3))"
    assert repr(T.TenCrop((3, 4), vertical_flip=True)) == "TenCrop(size=(3, 4), vertical_flip=True)"


CORNERS = ([[0, 0], [19, 0], [19, 23], [0, 23]], [[2, 1], [17, 3], [18, 21], [1, 22]])


def test_perspective_coefficients_map_endpoints_to_startpoints_and_pil_transforms():
    start, end = CORNERS
    a, b, c, d, e, f, g, h = perspective_coeffs(start, end)
    for (x, y), (sx, sy) in zip(end, start):
        den = g * x + h * y + 1
        assert abs((a * x + b * y + c) / den - sx) < 1e-3 and abs((d * x + e * y + f) / den - sy) < 1e-3
    image = pil(GRAD)
    out = F.perspective(image, start, end, T.InterpolationMode.NEAREST, fill=[9, 8, 7])
    expected = image.transform(image.size, Image.Transform.PERSPECTIVE, [a, b, c, d, e, f, g, h],
                               Image.Resampling.NEAREST, fillcolor=(9, 8, 7))
    assert np.array_equal(np.asarray(out), np.asarray(expected)) and np.asarray(out)[0, 0].tolist() == [9, 8, 7]
    with pytest.raises(ValueError, match="Please provide exactly four corners, got 3 startpoints and 4 endpoints."):
        F.perspective(GRAD, start[:3], end)


def grid_sample_oracle(x, grid, mode, fill=None):
    """torchvision's tensor warp: torch's grid_sample (zeros, align_corners=False) plus its mask-channel fill."""
    torch = pytest.importorskip("torch", reason="torch is the optional oracle (pip install -e .[oracle])")
    dtype = np.float64 if x.dtype == np.float64 else F32
    img = torch.from_numpy(x.astype(dtype)).reshape(-1, *x.shape[-3:])
    if fill is not None:
        img = torch.cat([img, torch.ones_like(img[:, :1])], 1)
    g = torch.from_numpy(grid.astype(dtype))[None].expand(img.shape[0], -1, -1, -1)
    out = torch.nn.functional.grid_sample(img, g, mode=mode, padding_mode="zeros", align_corners=False)
    if fill is not None:
        mask, out = out[:, -1:], out[:, :-1]
        fills = torch.tensor(fill, dtype=out.dtype).view(1, -1, 1, 1).expand_as(out)
        if mode == "nearest":
            out = torch.where(mask.expand_as(out) < 0.5, fills, out)
        else:
            out = out * mask + (1 - mask) * fills
    out = out.numpy().reshape(x.shape)
    return np.round(out).astype(x.dtype) if x.dtype == np.uint8 else out


def perspective_grid(coeffs, w, h):
    """The normalised source position of every output pixel centre under the 8 coefficients (float64)."""
    a, b, c, d, e, f, g, hh = coeffs
    y, x = np.mgrid[0:h, 0:w] + 0.5
    den = g * x + hh * y + 1
    return np.stack([(a * x + b * y + c) / den / (0.5 * w) - 1, (d * x + e * y + f) / den / (0.5 * h) - 1], -1)


@pytest.mark.parametrize("mode", ["nearest", "bilinear"])
@pytest.mark.parametrize("fill", [None, [10.0, 60.0, 200.0]])
def test_perspective_on_tensors_is_torchvisions_grid_sample(mode, fill):
    start, end = CORNERS
    grid = perspective_grid(perspective_coeffs(start, end), 20, 24)
    out = F.perspective(Tensor(GRAD), start, end, T.InterpolationMode(mode), fill)
    assert isinstance(out, Tensor) and out.dtype == np.uint8 and out.shape == GRAD.shape
    assert np.abs(out.numpy().astype(int) - grid_sample_oracle(GRAD, grid, mode, fill).astype(int)).max() <= 1
    batch = np.stack([GRAD, 255 - GRAD]).astype(np.float64) / 255
    got = F.perspective(batch, start, end, T.InterpolationMode(mode), None if fill is None else [0.1, 0.2, 0.3])
    assert got.dtype == np.float64 and got.shape == batch.shape
    want = grid_sample_oracle(batch, grid, mode, None if fill is None else [0.1, 0.2, 0.3])
    np.testing.assert_allclose(got, want, atol=1e-4 if mode == "bilinear" else 0)


def test_random_perspective_draws_fill_and_errors():
    manual_seed(5)
    for _ in range(20):
        start, end = T.RandomPerspective.get_params(20, 24, 0.5)
        assert start == [[0, 0], [19, 0], [19, 23], [0, 23]]
        (x0, y0), (x1, y1), (x2, y2), (x3, y3) = end
        assert 0 <= x0 <= 5 and 0 <= y0 <= 6 and 14 <= x1 <= 19 and 0 <= y1 <= 6
        assert 14 <= x2 <= 19 and 17 <= y2 <= 23 and 0 <= x3 <= 5 and 17 <= y3 <= 23
    transform = T.RandomPerspective(distortion_scale=0.6, p=1.0, fill=50)
    manual_seed(2)
    generator().random()  # the p draw comes first, then the corners
    start, end = T.RandomPerspective.get_params(20, 24, 0.6)
    manual_seed(2)
    out = transform(GRAD)
    np.testing.assert_array_equal(out, F.perspective(GRAD, start, end, fill=[50.0, 50.0, 50.0]))
    assert T.RandomPerspective(p=0.0)(GRAD) is GRAD
    assert T.RandomPerspective(p=1.0)(pil(GRAD)).size == (20, 24)
    assert repr(T.RandomPerspective()) == "RandomPerspective(p=0.5)"
    with pytest.raises(TypeError, match="Fill should be either a sequence or a number."):
        T.RandomPerspective(fill={"r": 255})
    with pytest.raises(ValueError, match="Interpolation mode 'bicubic' is unsupported with Tensor input"):
        F.perspective(GRAD, *CORNERS, T.InterpolationMode.BICUBIC)
    with pytest.raises(ValueError, match=r"cannot broadcast to match the number of channels of the image \(2 != 3\)"):
        F.perspective(GRAD, *CORNERS, fill=[1.0, 2.0])


def blur_formula(x, kx, ky, sx, sy):
    """The (ky, kx) Gaussian kernel over the reflect-padded image, in float64."""
    def kernel(k, s):
        t = np.arange(k) - (k - 1) / 2
        p = np.exp(-0.5 * (t / s) ** 2)
        return p / p.sum()

    k2 = np.outer(kernel(ky, sy), kernel(kx, sx))
    padded = np.pad(x.astype(np.float64), [(0, 0)] * (x.ndim - 2) + [(ky // 2,) * 2, (kx // 2,) * 2], mode="reflect")
    h, w = x.shape[-2:]
    return sum(k2[i, j] * padded[..., i:i + h, j:j + w] for i in range(ky) for j in range(kx))


@pytest.mark.parametrize("ks, sigma", [(3, None), ((5, 3), (1.5, 0.6)), (7, 2.0)])
def test_gaussian_blur_formula_pil_and_dtypes(ks, sigma):
    kx, ky = (ks, ks) if isinstance(ks, int) else ks
    sx, sy = ((0.15 * kx + 0.35, 0.15 * ky + 0.35) if sigma is None
              else (sigma, sigma) if isinstance(sigma, float) else sigma)
    expected = blur_formula(RAND, kx, ky, sx, sy)
    out = F.gaussian_blur(Tensor(RAND), ks, sigma)
    assert isinstance(out, Tensor) and out.dtype == np.uint8 and out.shape == RAND.shape
    diff = out.numpy() - np.round(expected)
    assert np.abs(diff).max() <= 1 and (diff == 0).mean() > 0.999  # float32 vs float64 only at .5 ties
    xf = np.stack([RAND, 255 - RAND]).astype(F32) / 255
    np.testing.assert_allclose(F.gaussian_blur(xf, ks, sigma), blur_formula(xf, kx, ky, sx, sy), atol=1e-6)
    # PIL: torchvision's route, the pixels through the tensor blur and back to the same mode
    blurred = F.gaussian_blur(pil(RAND), ks, sigma)
    assert blurred.mode == "RGB" and np.array_equal(np.asarray(blurred), out.numpy().transpose(1, 2, 0))


def test_gaussian_blur_class_draws_sigma_and_checks_arguments():
    blur = T.GaussianBlur(5, sigma=(0.5, 1.5))
    manual_seed(8)
    sigma = T.GaussianBlur.get_params(0.5, 1.5)
    manual_seed(8)
    np.testing.assert_array_equal(blur(GRAD), F.gaussian_blur(GRAD, [5, 5], [sigma, sigma]))
    assert 0.5 <= sigma <= 1.5 and repr(blur) == "GaussianBlur(kernel_size=(5, 5), sigma=(0.5, 1.5))"
    assert T.GaussianBlur(3, 2.0).sigma == (2.0, 2.0)
    with pytest.raises(ValueError, match="Kernel size value should be an odd and positive number."):
        T.GaussianBlur(4)
    with pytest.raises(ValueError, match="If sigma is a single number, it must be positive."):
        T.GaussianBlur(3, sigma=0)
    with pytest.raises(ValueError, match=r"sigma values should be positive and of the form \(min, max\)."):
        T.GaussianBlur(3, sigma=(2.0, 1.0))
    with pytest.raises(ValueError, match=r"kernel_size should have odd and positive integers. Got \[3, 4\]"):
        F.gaussian_blur(GRAD, [3, 4])
    with pytest.raises(TypeError, match="sigma should be either float or sequence of floats"):
        F.gaussian_blur(GRAD, 3, sigma="wide")
    with pytest.raises(RuntimeError, match="Padding size should be less than the corresponding input dimension"):
        F.gaussian_blur(np.zeros((1, 2, 2), F32), 5)


def test_elastic_transform_is_the_displaced_grid_sample():
    h, w = GRAD.shape[-2:]
    assert np.array_equal(F.elastic_transform(GRAD, np.zeros((1, h, w, 2), F32)), GRAD)  # zero field: identity
    manual_seed(6)
    displacement = T.ElasticTransform.get_params([8.0, 5.0], [2.0, 3.0], [h, w])
    assert isinstance(displacement, Tensor) and displacement.shape == (1, h, w, 2) and displacement.dtype == np.float32
    manual_seed(6)
    out = T.ElasticTransform(alpha=(8.0, 5.0), sigma=(2.0, 3.0), fill=30)(Tensor(GRAD))
    ys, xs = np.mgrid[0:h, 0:w]
    identity = np.stack([(2 * xs + 1) / w - 1, (2 * ys + 1) / h - 1], -1)
    want = grid_sample_oracle(GRAD, identity + displacement.numpy()[0], "bilinear", [30.0])
    assert out.dtype == np.uint8 and np.abs(out.numpy().astype(int) - want.astype(int)).max() <= 1
    image = F.elastic_transform(pil(GRAD), displacement, T.InterpolationMode.NEAREST)
    assert image.mode == "RGB"
    np.testing.assert_array_equal(np.asarray(image).transpose(2, 0, 1),
                                  F.elastic_transform(GRAD, displacement, T.InterpolationMode.NEAREST))
    # the field: blurred uniform noise, scaled by alpha over the width (x) and height (y)
    field = np.abs(displacement.numpy())
    assert field[..., 0].max() <= 8.0 / w and field[..., 1].max() <= 5.0 / h
    assert repr(T.ElasticTransform()) == ("ElasticTransform(alpha=[50.0, 50.0], sigma=[5.0, 5.0], "
                                          "interpolation=InterpolationMode.BILINEAR, fill=[0.0])")
    with pytest.raises(TypeError, match="alpha should be float or a sequence of floats"):
        T.ElasticTransform(alpha=50)
    with pytest.raises(ValueError, match="If sigma is a sequence its length should be 2. Got 3"):
        T.ElasticTransform(sigma=(1.0, 2.0, 3.0))
    with pytest.raises(ValueError, match=r"Argument displacement shape should be \(1, 24, 20, 2\)"):
        F.elastic_transform(GRAD, np.zeros((1, 20, 20, 2), F32))
    with pytest.raises(TypeError, match="Argument displacement should be a Tensor"):
        F.elastic_transform(GRAD, [[0.0]])


def test_random_apply_choice_and_order():
    add, double = T.Lambda(lambda x: x + 1), T.Lambda(lambda x: x * 2)
    x = np.zeros(1)
    assert T.RandomApply([add, double], p=1.0)(x).tolist() == [2.0] and T.RandomApply([add], p=0.0)(x) is x
    manual_seed(1)
    applied = [T.RandomApply([add], p=0.3)(x)[0] == 1 for _ in range(200)]
    assert 35 < sum(applied) < 85
    picks = [T.RandomChoice([add, double, T.Lambda(lambda v: v - 5)], p=[0.0, 1.0, 3.0])(np.ones(1))[0]
             for _ in range(200)]
    assert set(picks) == {2.0, -4.0} and 120 < picks.count(-4.0) < 180
    manual_seed(1)
    orders = [T.RandomOrder([add, double])(x)[0] for _ in range(40)]
    assert set(orders) == {1.0, 2.0}  # double then add, or add then double
    manual_seed(1)
    assert orders == [T.RandomOrder([add, double])(x)[0] for _ in range(40)]
    assert repr(T.RandomApply([T.RandomInvert()], p=0.3)) == "RandomApply(\n    p=0.3\n    RandomInvert(p=0.5)\n)"
    assert repr(T.RandomChoice([T.RandomInvert()])) == "RandomChoice(\n    RandomInvert(p=0.5)\n)(p=None)"
    assert repr(T.RandomOrder([T.Grayscale()])) == "RandomOrder(\n    Grayscale(num_output_channels=1)\n)"
    with pytest.raises(TypeError, match="Argument transforms should be a sequence"):
        T.RandomOrder(add)
    with pytest.raises(TypeError, match="Argument p should be a sequence"):
        T.RandomChoice([add], p=1.0)
    with pytest.raises(ValueError, match="The number of weights does not match the population"):
        T.RandomChoice([add, double], p=[1.0])(x)


def test_linear_transformation_whitens_batches_and_passes_gradients():
    rng = np.random.default_rng(3)
    matrix, mean = rng.standard_normal((12, 12)).astype(F32), rng.standard_normal(12).astype(F32)
    transform = T.LinearTransformation(Tensor(matrix), Tensor(mean))
    x = Tensor(rng.standard_normal((2, 3, 2, 2)).astype(F32), requires_grad=True)
    out = transform(x)
    assert out.shape == (2, 3, 2, 2)
    expected = ((x.numpy().reshape(2, 12) - mean) @ matrix).reshape(2, 3, 2, 2)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5)
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy().reshape(2, 12), np.tile(matrix.sum(axis=1), (2, 1)), rtol=1e-5)
    assert repr(T.LinearTransformation(Tensor(np.eye(2, dtype=F32)), Tensor(np.zeros(2, F32)))) == (
        "LinearTransformation(transformation_matrix=[[1.0, 0.0], [0.0, 1.0]], mean_vector=[0.0, 0.0])")
    with pytest.raises(ValueError, match=r"transformation_matrix should be square. Got \(2, 3\) rectangular matrix."):
        T.LinearTransformation(Tensor(np.zeros((2, 3), F32)), Tensor(np.zeros(2, F32)))
    with pytest.raises(ValueError, match="mean_vector should have the same length 3"):
        T.LinearTransformation(Tensor(np.eye(2, dtype=F32)), Tensor(np.zeros(3, F32)))
    with pytest.raises(ValueError, match="Input tensors should have the same dtype"):
        T.LinearTransformation(Tensor(np.eye(2, dtype=F32)), Tensor(np.zeros(2)))
    with pytest.raises(ValueError, match=r"incompatible shape.\[1 x 2 x 2\] != 12"):
        transform(Tensor(np.zeros((1, 2, 2), F32)))
