"""The colour functionals and classes against torchvision's definitions: PIL inputs give what the same PIL
calls give; Tensor/ndarray inputs equal torchvision's tensor formulas, computed here independently in NumPy
(colorsys for hue) on a CIFAR-like random image and a photo-like gradient; the PIL and tensor paths agree
where torchvision's do; dtypes, errors, seeded draws and reprs as torchvision's."""

import colorsys

import numpy as np
import pytest
from PIL import Image, ImageEnhance, ImageOps

from tinygrad_cnn import Tensor, manual_seed
from tinygrad_cnn.vision import transforms as T
from tinygrad_cnn.vision.transforms import functional as F

F32 = np.float32
RAND = np.random.default_rng(0).integers(0, 256, (3, 32, 32), dtype=np.uint8)  # CIFAR-like
_yy, _xx = np.mgrid[0:48, 0:40]
GRAD = np.stack([_xx * 255 / 39, _yy * 255 / 47, (_xx + _yy) * 255 / 86]).astype(np.uint8)  # smooth, photo-like
IMAGES = {"random": RAND, "gradient": GRAD}


def pil(chw):
    return Image.fromarray(np.ascontiguousarray(chw.transpose(1, 2, 0)))


def chw(image):
    a = np.asarray(image)
    return a[None] if a.ndim == 2 else a.transpose(2, 0, 1)


def gray_formula(x):
    """torchvision's luma: float32 0.2989 R + 0.587 G + 0.114 B, truncated to the dtype, (..., 1, H, W)."""
    r, g, b = (x[..., k, :, :].astype(F32) for k in range(3))
    return (F32(0.2989) * r + F32(0.587) * g + F32(0.114) * b).astype(x.dtype)[..., None, :, :]


def blend_formula(x, other, factor):
    bound = 255 if x.dtype == np.uint8 else 1
    out = F32(factor) * x.astype(F32) + F32(1 - factor) * np.asarray(other).astype(F32)
    return np.clip(out, 0, bound).astype(x.dtype)


@pytest.mark.parametrize("name", IMAGES)
def test_grayscale_tensor_formula_pil_convert_and_classes(name):
    x = IMAGES[name]
    out = F.rgb_to_grayscale(Tensor(x))
    assert isinstance(out, Tensor) and out.dtype == np.uint8 and out.shape == (1,) + x.shape[1:]
    np.testing.assert_array_equal(out.numpy(), gray_formula(x))
    three = T.Grayscale(num_output_channels=3)(x)
    assert three.shape == x.shape and (three == gray_formula(x)).all()
    batch = np.stack([x, 255 - x]).astype(F32) / 255  # float batches keep their dtype, no truncation
    np.testing.assert_allclose(F.rgb_to_grayscale(batch), gray_formula(batch), rtol=1e-6)
    # PIL: Image.convert("L") (ITU-R 601-2, rounded), 3 channels r = g = b; within 1 of the tensor formula
    gray = T.Grayscale()(pil(x))
    assert gray.mode == "L" and np.array_equal(np.asarray(gray), np.asarray(pil(x).convert("L")))
    assert np.abs(np.asarray(gray).astype(int) - gray_formula(x)[0].astype(int)).max() <= 1
    rgb = F.to_grayscale(pil(x), 3)
    assert rgb.mode == "RGB" and all(np.array_equal(np.asarray(rgb)[..., k], np.asarray(gray)) for k in range(3))


def test_grayscale_errors_and_random_grayscale():
    with pytest.raises(ValueError, match="num_output_channels should be either 1 or 3"):
        F.rgb_to_grayscale(RAND, 2)
    with pytest.raises(TypeError, match=r"permitted channel values are \[1, 3\], but found 4"):
        F.rgb_to_grayscale(np.zeros((4, 2, 2), np.uint8))
    with pytest.raises(TypeError, match="at least 3 dimensions"):
        F.rgb_to_grayscale(np.zeros((2, 2), np.uint8))
    with pytest.raises(TypeError, match="Input should be PIL Image"):
        F.to_grayscale(RAND)
    assert np.array_equal(T.RandomGrayscale(p=1.0)(RAND), np.repeat(gray_formula(RAND), 3, axis=0))
    assert T.RandomGrayscale(p=0.0)(RAND) is RAND
    one = RAND[:1]
    assert np.array_equal(T.RandomGrayscale(p=1.0)(one), one)  # a 1-channel image stays 1-channel
    assert T.RandomGrayscale(p=1.0)(pil(RAND)).mode == "RGB"
    assert repr(T.Grayscale(3)) == "Grayscale(num_output_channels=3)"
    assert repr(T.RandomGrayscale()) == "RandomGrayscale(p=0.1)"


@pytest.mark.parametrize("name", IMAGES)
@pytest.mark.parametrize("factor", [0.0, 0.35, 1.0, 1.8])
def test_brightness_contrast_saturation_tensor_formulas(name, factor):
    x = IMAGES[name]
    np.testing.assert_array_equal(F.adjust_brightness(x, factor), blend_formula(x, 0, factor))
    mean = gray_formula(x).astype(np.float64).mean()
    np.testing.assert_array_equal(F.adjust_contrast(x, factor), blend_formula(x, F32(mean), factor))
    np.testing.assert_array_equal(F.adjust_saturation(x, factor), blend_formula(x, gray_formula(x), factor))
    xf = x.astype(F32) / 255  # float images are clamped to [0, 1]
    out = F.adjust_brightness(Tensor(xf), factor)
    assert out.dtype == np.float32 and out.numpy().max() <= 1
    np.testing.assert_allclose(out.numpy(), np.clip(factor * xf, 0, 1), rtol=1e-6)


@pytest.mark.parametrize("name", IMAGES)
def test_blends_on_pil_images_are_pils_image_enhance(name):
    image = pil(IMAGES[name])
    for fn, enhancer in ((F.adjust_brightness, ImageEnhance.Brightness), (F.adjust_contrast, ImageEnhance.Contrast),
                         (F.adjust_saturation, ImageEnhance.Color), (F.adjust_sharpness, ImageEnhance.Sharpness)):
        out = fn(image, 1.6)
        assert out.mode == "RGB" and np.array_equal(np.asarray(out), np.asarray(enhancer(image).enhance(1.6)))
        # torchvision's two backends agree to within one level (PIL rounds, the tensor path truncates)
        assert np.abs(chw(out).astype(int) - fn(IMAGES[name], 1.6).astype(int)).max() <= 1


def sharpness_formula(x, factor):
    """Blend with the image smoothed by [[1,1,1],[1,5,1],[1,1,1]] / 13 (rounded; the border kept)."""
    xf = x.astype(np.float64)
    h, w = x.shape[-2:]
    smooth = sum(xf[..., 1 + di:h - 1 + di, 1 + dj:w - 1 + dj] for di in (-1, 0, 1) for dj in (-1, 0, 1))
    smooth = (smooth + 4 * xf[..., 1:-1, 1:-1]) / 13
    degenerate = x.copy()
    degenerate[..., 1:-1, 1:-1] = np.round(smooth) if x.dtype == np.uint8 else smooth
    return blend_formula(x, degenerate, factor)


@pytest.mark.parametrize("name", IMAGES)
@pytest.mark.parametrize("factor", [0.0, 0.5, 2.0])
def test_sharpness_tensor_formula(name, factor):
    x = IMAGES[name]
    np.testing.assert_array_equal(F.adjust_sharpness(Tensor(x), factor).numpy(), sharpness_formula(x, factor))
    xf = np.stack([x, x[:, ::-1]]).astype(F32) / 255
    np.testing.assert_allclose(F.adjust_sharpness(xf, factor), sharpness_formula(xf, factor), atol=2e-7)
    tiny = np.arange(12, dtype=np.uint8).reshape(3, 2, 2)
    assert F.adjust_sharpness(tiny, factor) is tiny  # images of 2 pixels or fewer a side are returned unchanged


def hue_formula(x, hue):
    """Each pixel through colorsys's HSV, its hue shifted mod 1, back to RGB (float64)."""
    xf = x.astype(np.float64) / 255 if x.dtype == np.uint8 else x.astype(np.float64)
    flat = xf.reshape(3, -1).T
    out = np.array([colorsys.hsv_to_rgb((hh + hue) % 1.0, s, v) for hh, s, v in
                    (colorsys.rgb_to_hsv(*p) for p in flat)])
    return out.T.reshape(x.shape)


@pytest.mark.parametrize("name", IMAGES)
@pytest.mark.parametrize("hue", [-0.5, -0.2, 0.07, 0.5])
def test_hue_against_colorsys_and_pil_hsv(name, hue):
    x = IMAGES[name][:, :16, :16]
    expected = hue_formula(x, hue)
    out = F.adjust_hue(Tensor(x), hue)
    assert out.dtype == np.uint8
    # float32 HSV then x * 255.999 truncated: within one level of the float64 colorsys value, mostly on it
    diff = out.numpy().astype(np.float64) - np.floor(expected * 255.999)
    assert np.abs(diff).max() <= 1 and (diff == 0).mean() > 0.97
    np.testing.assert_allclose(F.adjust_hue(x.astype(F32) / 255, hue), expected, atol=2e-6)
    # PIL: the H band of PIL's 8-bit HSV shifted by int(hue * 255), wrapping
    image = pil(x)
    h, s, v = image.convert("HSV").split()
    shifted = (np.asarray(h).astype(int) + int(hue * 255)) % 256
    want = Image.merge("HSV", (Image.fromarray(shifted.astype(np.uint8)), s, v)).convert("RGB")
    assert np.array_equal(np.asarray(F.adjust_hue(image, hue)), np.asarray(want))


def test_hue_single_channel_and_errors():
    gray = RAND[:1]
    assert F.adjust_hue(gray, 0.3) is gray and F.adjust_saturation(gray, 0.3) is gray
    grey_pil = pil(RAND).convert("L")
    assert F.adjust_hue(grey_pil, 0.3) is grey_pil
    with pytest.raises(ValueError, match=r"hue_factor \(0.6\) is not in \[-0.5, 0.5\]."):
        F.adjust_hue(RAND, 0.6)
    for fn, name in ((F.adjust_brightness, "brightness"), (F.adjust_contrast, "contrast"),
                     (F.adjust_saturation, "saturation"), (F.adjust_sharpness, "sharpness")):
        with pytest.raises(ValueError, match=rf"{name}_factor \(-0.1\) is not non-negative."):
            fn(RAND, -0.1)
    with pytest.raises(TypeError, match="Tensor is not a torch image"):
        F.adjust_brightness(np.zeros(3, np.uint8), 1.0)
    with pytest.raises(TypeError, match="img should be PIL Image, Tensor or ndarray"):
        F.adjust_contrast([[1, 2]], 1.0)


@pytest.mark.parametrize("name", IMAGES)
@pytest.mark.parametrize("gamma, gain", [(0.45, 1.0), (1.0, 1.0), (2.2, 0.8), (3.0, 1.3)])
def test_gamma_formula_and_pil_point_table(name, gamma, gain):
    x = IMAGES[name]
    expected = (np.clip(F32(gain) * (x.astype(F32) / F32(255)) ** F32(gamma), 0, 1) * F32(255.999)).astype(np.uint8)
    np.testing.assert_array_equal(F.adjust_gamma(x, gamma, gain), expected)
    xf = x.astype(np.float64) / 255
    np.testing.assert_allclose(F.adjust_gamma(xf, gamma, gain), np.clip(gain * xf ** gamma, 0, 1), rtol=1e-12)
    table = [int(255.999 * gain * (v / 255.0) ** gamma) for v in range(256)]
    out = F.adjust_gamma(pil(x), gamma, gain)
    assert out.mode == "RGB" and np.array_equal(chw(out), np.minimum(np.array(table), 255)[x])
    with pytest.raises(ValueError, match="Gamma should be a non-negative real number"):
        F.adjust_gamma(x, -1.0)


@pytest.mark.parametrize("name", IMAGES)
def test_point_operations_formulas_and_pil_agreement(name):
    x = IMAGES[name]
    np.testing.assert_array_equal(F.invert(x), 255 - x)
    np.testing.assert_allclose(F.invert(x.astype(F32) / 255), 1 - x.astype(F32) / 255)
    for bits in (0, 1, 4, 8):
        np.testing.assert_array_equal(F.posterize(x, bits), (x >> (8 - bits)) << (8 - bits))
    np.testing.assert_array_equal(F.solarize(x, 128), np.where(x >= 128, 255 - x, x))
    xf = x.astype(F32) / 255
    np.testing.assert_array_equal(F.solarize(xf, 0.5), np.where(xf >= 0.5, 1 - xf, xf))
    lo, hi = x.min(axis=(1, 2), keepdims=True).astype(F32), x.max(axis=(1, 2), keepdims=True).astype(F32)
    stretched = np.clip((x - lo) * (F32(255) / (hi - lo)), 0, 255).astype(np.uint8)
    np.testing.assert_array_equal(F.autocontrast(x), stretched)
    flat = np.full((3, 4, 4), 7, np.uint8)
    assert np.array_equal(F.autocontrast(flat), flat)  # constant channels are left as they are
    image = pil(x)  # PIL's ImageOps, which the tensor path reproduces exactly
    for fn, ops, args in ((F.invert, ImageOps.invert, ()), (F.posterize, ImageOps.posterize, (3,)),
                          (F.solarize, ImageOps.solarize, (100,)), (F.autocontrast, ImageOps.autocontrast, ()),
                          (F.equalize, ImageOps.equalize, ())):
        out = fn(image, *args)
        assert np.array_equal(np.asarray(out), np.asarray(ops(image, *args)))
        assert np.array_equal(chw(out), fn(Tensor(x), *args).numpy())


def equalize_formula(channel):
    hist = np.bincount(channel.ravel(), minlength=256)
    step = hist[hist > 0][:-1].sum() // 255
    if step == 0:
        return channel
    lut = [0] + [min(255, (int(hist[:v].sum()) + step // 2) // step) for v in range(1, 256)]
    return np.array(lut, dtype=np.uint8)[channel]


def test_equalize_formula_batches_and_errors():
    batch = np.stack([RAND, GRAD[:, :32, :32]])
    out = F.equalize(Tensor(batch))
    assert out.dtype == np.uint8 and out.shape == batch.shape
    for n in range(2):
        for c in range(3):
            np.testing.assert_array_equal(out.numpy()[n, c], equalize_formula(batch[n, c]))
    two_levels = np.array([[[0, 255], [255, 255]]], np.uint8)  # a single non-final bin: step 0, unchanged
    assert np.array_equal(F.equalize(two_levels), two_levels)
    with pytest.raises(TypeError, match="Only torch.uint8 image tensors are supported, but found float32"):
        F.equalize(RAND.astype(F32))
    with pytest.raises(TypeError, match="3 or 4 dimensions, but found 5"):
        F.equalize(batch[None])
    with pytest.raises(TypeError, match="Only torch.uint8"):
        F.posterize(RAND.astype(F32), 3)
    with pytest.raises(ValueError, match="The number if bits should be between 0 and 8. Got 9"):
        F.posterize(RAND, 9)
    with pytest.raises(TypeError, match="Threshold should be less than bound of img."):
        F.solarize(RAND.astype(F32) / 255, 2.0)


def test_color_jitter_draw_order_ranges_and_application():
    jitter = T.ColorJitter(brightness=0.4, contrast=(0.5, 1.5), saturation=0.3, hue=0.1)
    assert (jitter.brightness, jitter.contrast, jitter.saturation, jitter.hue) == (
        (0.6, 1.4), (0.5, 1.5), (0.7, 1.3), (-0.1, 0.1))
    manual_seed(7)
    order, b, c, s, h = T.ColorJitter.get_params(jitter.brightness, jitter.contrast, jitter.saturation, jitter.hue)
    rng = np.random.default_rng(7)  # manual_seed(7) starts the package's stream from default_rng(7)
    assert order.tolist() == rng.permutation(4).tolist()
    assert [b, c, s, h] == [rng.uniform(0.6, 1.4), rng.uniform(0.5, 1.5), rng.uniform(0.7, 1.3),
                            rng.uniform(-0.1, 0.1)]
    assert T.ColorJitter.get_params(None, None, None, None)[1:] == (None, None, None, None)
    manual_seed(7)
    out = jitter(Tensor(RAND)).numpy()
    expected = RAND
    adjust = {0: (F.adjust_brightness, b), 1: (F.adjust_contrast, c), 2: (F.adjust_saturation, s),
              3: (F.adjust_hue, h)}
    for k in order.tolist():
        expected = adjust[k][0](expected, adjust[k][1])
    np.testing.assert_array_equal(out, expected)
    manual_seed(7)
    from_pil = jitter(pil(RAND))  # the same draws, applied through PIL's ImageEnhance and HSV
    expected = pil(RAND)
    for k in order.tolist():
        expected = adjust[k][0](expected, adjust[k][1])
    assert from_pil.mode == "RGB" and np.array_equal(np.asarray(from_pil), np.asarray(expected))
    assert T.ColorJitter().brightness is None and T.ColorJitter()(RAND) is RAND
    assert repr(jitter) == ("ColorJitter(brightness=(0.6, 1.4), contrast=(0.5, 1.5), saturation=(0.7, 1.3), "
                            "hue=(-0.1, 0.1))")


def test_color_jitter_argument_checks():
    with pytest.raises(ValueError, match="If brightness is a single number, it must be non negative."):
        T.ColorJitter(brightness=-0.1)
    with pytest.raises(TypeError, match="contrast should be a single number or a list/tuple with length 2."):
        T.ColorJitter(contrast=(1, 2, 3))
    with pytest.raises(ValueError, match=r"hue values should be between \(-0.5, 0.5\), but got \[-0.6, 0.6\]."):
        T.ColorJitter(hue=0.6)
    with pytest.raises(ValueError, match="saturation values should be between"):
        T.ColorJitter(saturation=(1.5, 1.0))
    assert T.ColorJitter(brightness=2.0).brightness == (0.0, 3.0)  # the lower end is clipped at 0


def test_random_point_transforms_probability_seed_and_reprs():
    cases = [(T.RandomInvert, (), F.invert), (T.RandomPosterize, (3,), lambda x: F.posterize(x, 3)),
             (T.RandomSolarize, (90,), lambda x: F.solarize(x, 90)),
             (T.RandomAdjustSharpness, (2.0,), lambda x: F.adjust_sharpness(x, 2.0)),
             (T.RandomAutocontrast, (), F.autocontrast), (T.RandomEqualize, (), F.equalize)]
    x = GRAD
    for cls, args, fn in cases:
        assert np.array_equal(cls(*args, p=1.0)(x), fn(x)) and cls(*args, p=0.0)(x) is x
        manual_seed(3)
        hits = [cls(*args)(x) is not x for _ in range(30)]
        manual_seed(3)
        assert hits == [cls(*args)(x) is not x for _ in range(30)] and 5 < sum(hits) < 25
    assert repr(T.RandomInvert()) == "RandomInvert(p=0.5)"
    assert repr(T.RandomPosterize(2)) == "RandomPosterize(bits=2,p=0.5)"
    assert repr(T.RandomSolarize(128.0, p=0.2)) == "RandomSolarize(threshold=128.0,p=0.2)"
    assert repr(T.RandomAdjustSharpness(2)) == "RandomAdjustSharpness(sharpness_factor=2,p=0.5)"
    assert repr(T.RandomAutocontrast()) == "RandomAutocontrast(p=0.5)"
    assert repr(T.RandomEqualize()) == "RandomEqualize(p=0.5)"
