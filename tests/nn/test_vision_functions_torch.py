"""interpolate (every mode it has, by size and by factor, align_corners both ways), the Upsample
layers, pixel_shuffle / pixel_unshuffle / channel_shuffle and their layers, affine_grid and
grid_sample, against PyTorch:
values, gradients, reprs and the argument errors (skipped without torch)."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn as tg
import tinygrad_cnn.nn as nn
import tinygrad_cnn.nn.functional as F
from tinygrad_cnn.testing.oracle import check_against_torch

torch = pytest.importorskip("torch", reason="the oracle tests compare with PyTorch (pip install .[oracle])")
TF = torch.nn.functional

pytestmark = pytest.mark.oracle

RNG = np.random.default_rng(0)
INPUTS = {1: RNG.normal(size=(2, 3, 6)), 2: RNG.normal(size=(2, 3, 5, 7)), 3: RNG.normal(size=(1, 2, 3, 4, 5))}
RESIZES = [dict(scale_factor=2), dict(scale_factor=3.5), dict(scale_factor=0.6), dict(size=4), dict(size=1),
           dict(scale_factor=1.3), dict(scale_factor=2, recompute_scale_factor=True)]


@pytest.mark.parametrize("resize", RESIZES)
@pytest.mark.parametrize("mode, dims, align_corners", [
    ("nearest", 1, None), ("nearest", 2, None), ("nearest", 3, None), ("nearest-exact", 2, None),
    ("linear", 1, False), ("linear", 1, True), ("bilinear", 2, None), ("bilinear", 2, True),
    ("trilinear", 3, False), ("trilinear", 3, True)])
def test_interpolate_matches_torch(resize, mode, dims, align_corners):
    if "nearest" in mode and resize.get("scale_factor") == 1.3:
        pytest.skip("a factor that keeps a dim's size: torch's own nearest kernels disagree (see interpolate)")
    kwargs = dict(resize, mode=mode, align_corners=align_corners)
    check_against_torch(lambda t: F.interpolate(t, **kwargs), lambda t: TF.interpolate(t, **kwargs), [INPUTS[dims]])


def test_interpolate_area_is_adaptive_average_pooling_as_torchs():
    for kwargs in (dict(size=(2, 3)), dict(scale_factor=0.5)):
        check_against_torch(lambda t: F.interpolate(t, mode="area", **kwargs),
                            lambda t: TF.interpolate(t, mode="area", **kwargs), [INPUTS[2]])


def test_interpolate_refuses_what_torch_refuses():
    for lib, functional in ((tg, F), (torch, TF)):
        x = lib.ones(1, 1, 4, 4)
        with pytest.raises(ValueError, match="only one of size or scale_factor"):
            functional.interpolate(x, size=2, scale_factor=2)
        with pytest.raises(ValueError, match="either size or scale_factor"):
            functional.interpolate(x)
        with pytest.raises(ValueError, match="align_corners option can only be set"):
            functional.interpolate(x, scale_factor=2, align_corners=True)
        with pytest.raises(NotImplementedError, match="Got 3D input, but bilinear mode needs 4D input"):
            functional.interpolate(lib.ones(1, 1, 4), scale_factor=2, mode="bilinear")


@pytest.mark.parametrize("make", [
    lambda lib: lib.nn.Upsample(scale_factor=2), lambda lib: lib.nn.Upsample(size=(3, 4), mode="bilinear",
                                                                             align_corners=True),
    lambda lib: lib.nn.Upsample(scale_factor=(2, 3)), lambda lib: lib.nn.UpsamplingNearest2d(scale_factor=2),
    lambda lib: lib.nn.UpsamplingBilinear2d(size=5)])
def test_upsample_layers_match_torch(make):
    ours, theirs = make(tg), make(torch)
    assert repr(ours) == repr(theirs)
    check_against_torch(lambda t: ours(t), lambda t: theirs(t), [INPUTS[2]])


@pytest.mark.parametrize("name, layer, factor, shape", [
    ("pixel_shuffle", "PixelShuffle", 2, (2, 8, 3, 4)), ("pixel_shuffle", "PixelShuffle", 3, (9, 3, 2)),
    ("pixel_unshuffle", "PixelUnshuffle", 2, (2, 2, 6, 4)), ("channel_shuffle", "ChannelShuffle", 3, (2, 6, 3, 2))])
def test_shuffles_match_torch(name, layer, factor, shape):
    x = RNG.normal(size=shape)
    check_against_torch(lambda t: getattr(F, name)(t, factor), lambda t: getattr(TF, name)(t, factor), [x])
    ours, theirs = getattr(nn, layer)(factor), getattr(torch.nn, layer)(factor)
    assert repr(ours) == repr(theirs)
    check_against_torch(lambda t: ours(t), lambda t: theirs(t), [x])


def test_shuffles_refuse_what_torch_refuses():
    for lib, functional in ((tg, F), (torch, TF)):
        with pytest.raises(RuntimeError, match="divisible by the square of upscale_factor"):
            functional.pixel_shuffle(lib.ones(1, 6, 2, 2), 2)
        with pytest.raises(RuntimeError, match="at least 3 dimensions"):
            functional.pixel_shuffle(lib.ones(4, 2), 2)
        with pytest.raises(RuntimeError, match="divisible by downscale_factor"):
            functional.pixel_unshuffle(lib.ones(1, 1, 3, 4), 2)


@pytest.mark.parametrize("align_corners", [False, True])
def test_affine_grid_matches_torch(align_corners):
    theta = RNG.normal(size=(2, 2, 3)) * 0.5 + np.array([[1, 0, 0], [0, 1, 0]])
    check_against_torch(lambda t: F.affine_grid(t, (2, 3, 5, 4), align_corners=align_corners),
                        lambda t: TF.affine_grid(t, (2, 3, 5, 4), align_corners=align_corners), [theta])


@pytest.mark.parametrize("padding_mode", ["zeros", "border"])
@pytest.mark.parametrize("align_corners", [False, True])
def test_grid_sample_matches_torch_in_the_input_and_the_grid(padding_mode, align_corners):
    x, grid = RNG.normal(size=(2, 3, 5, 4)), RNG.uniform(-1.2, 1.2, size=(2, 6, 7, 2))  # some points outside
    check_against_torch(lambda a, g: F.grid_sample(a, g, "bilinear", padding_mode, align_corners),
                        lambda a, g: TF.grid_sample(a, g, "bilinear", padding_mode, align_corners), [x, grid])
    check_against_torch(lambda a: F.grid_sample(a, tg.tensor(grid), "nearest", padding_mode, align_corners),
                        lambda a: TF.grid_sample(a, torch.tensor(grid), "nearest", padding_mode, align_corners), [x])


def test_an_identity_transform_samples_the_image_back():
    image = RNG.normal(size=(1, 2, 6, 5))
    identity = tg.tensor(np.array([[[1.0, 0, 0], [0, 1.0, 0]]]))
    resampled = F.grid_sample(tg.tensor(image), F.affine_grid(identity, (1, 2, 6, 5), align_corners=False),
                              align_corners=False)
    np.testing.assert_allclose(resampled.numpy(), image, atol=1e-12)
