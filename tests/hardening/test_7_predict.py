"""Class 7 of issue 16: ``predict`` judges its input. Real MNIST digits saved as PNG files of every
kind Pillow writes (grey, inverted, ink kept in the alpha channel, RGBA on white, LA, 16-bit grey,
palette with and without transparency) come back as the same MNIST digit and get the same
prediction; an image that looks empty is a warning; all-NaN, zero-size, decompression bombs, too
many pixels and wrong shapes are errors naming the file and the shape or value, one line from the
command with a non-zero exit; ``--topk K`` shows the K most likely classes."""

import struct
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_cnn import imaging
from tinygrad_cnn.testing.command import run_command as run
from tinygrad_cnn.data import load_mnist
from tinygrad_cnn.imaging import EmptyImageWarning, load_image, to_mnist

Image = pytest.importorskip("PIL.Image")
MNIST = Path(__file__).resolve().parents[2] / "data"
DIGITS = 10



@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """A LeNet trained by the command on 2,000 images for one epoch."""
    out = tmp_path_factory.mktemp("run")
    status, _, stderr = run("train", "--limit", 2000, "--epochs", 1, "--data", MNIST, "--out", out, "--quiet")
    assert status == 0, stderr
    return out / "last.npz"


@pytest.fixture(scope="module")
def digits():
    """The first test digits as uint8 (N, 28, 28), white ink on black, and their labels."""
    _, _, X_test, y_test = load_mnist(MNIST)
    return (X_test[:DIGITS, 0] * 255).round().astype(np.uint8), y_test[:DIGITS]


def variants(d: np.ndarray) -> dict[str, tuple["Image.Image", np.ndarray]]:
    """The digit ``d`` (white on black, uint8) as Pillow images of many modes, each with the
    MNIST digit it must come back as."""
    zeros, full, mnist = np.zeros_like(d), np.full_like(d, 255), d / 255
    binary = Image.fromarray((d > 127).astype(np.uint8), "P")
    binary.putpalette([255, 255, 255, 0, 0, 0])
    binary.info["transparency"] = 0  # palette entry 0 (the white background) is transparent
    return {
        "grey": (Image.fromarray(d), mnist),
        "black ink on white": (Image.fromarray(255 - d), mnist),
        "black ink in alpha": (Image.fromarray(np.dstack([zeros] * 3 + [d]), "RGBA"), mnist),
        "white ink in alpha": (Image.fromarray(np.dstack([full] * 3 + [d]), "RGBA"), mnist),
        "RGBA on white": (Image.fromarray(np.dstack([255 - d] * 3 + [full]), "RGBA"), mnist),
        "LA ink in alpha": (Image.fromarray(np.dstack([zeros, d]), "LA"), mnist),
        "16-bit grey": (Image.fromarray(d.astype(np.uint16) * 257), mnist),
        "palette": (Image.fromarray(255 - d).convert("P"), mnist),
        "palette, transparent background": (binary, (d > 127).astype(np.float64)),
    }


def test_every_kind_of_png_comes_back_as_the_mnist_digit(digits, tmp_path):
    for i, d in enumerate(digits[0][:3]):
        for name, (image, expected) in variants(d).items():
            path = tmp_path / f"{i}-{name}.png"
            image.save(path)
            with Image.open(path) as reread:
                assert reread.mode == image.mode, name  # the file really is of this kind
            np.testing.assert_allclose(to_mnist(load_image(path)), expected, atol=1e-6, err_msg=name)


@given(ink=st.integers(0, 60) | st.integers(200, 255), hidden=st.integers(0, 255), mode=st.sampled_from(["RGBA", "LA"]))
def test_ink_kept_in_alpha_comes_out_white_on_black_whatever_the_hidden_colour(ink, hidden, mode):
    """Strokes drawn in one shade through the alpha channel; the colour stored under fully
    transparent pixels (often white, black or garbage) must not matter."""
    stroke = np.zeros((40, 30), dtype=np.uint8)
    stroke[8:32, 12:18] = 255
    stroke[8:12, 6:24] = 180  # antialiased: half-transparent ink
    shade = np.where(stroke > 0, ink, hidden).astype(np.uint8)
    layers = [shade] * (3 if mode == "RGBA" else 1) + [stroke]
    grey = imaging._picture_grey(Image.fromarray(np.dstack(layers), mode), "stroke")
    digit = to_mnist(grey)
    assert digit[0].max() == 0 and digit[:, 0].max() == 0  # black background
    rows, cols = np.nonzero(digit > 0.5)
    assert rows.max() - rows.min() + 1 == 20  # the stroke, scaled to MNIST's 20-pixel box


def test_predictions_on_real_digits_stay_right_in_every_format(checkpoint, digits, tmp_path):
    """The model's answers on the true arrays are its answers on every PNG kind (the 7 of 10 it
    reads right stay right)."""
    d, labels = digits
    arrays = []
    for i, digit in enumerate(d):
        np.save(tmp_path / f"{i}.npy", digit)
        arrays.append(tmp_path / f"{i}.npy")
    status, stdout, _ = run("predict", checkpoint, *arrays)
    reference = [int(line.split()[1]) for line in stdout.splitlines()]
    assert sum(r == y for r, y in zip(reference, labels)) >= 7  # a model trained on 2,000 images
    for name in variants(d[0]):
        paths = []
        for i, digit in enumerate(d):
            paths.append(tmp_path / f"{i}-{name.replace(' ', '_').replace(',', '')}.png")
            variants(digit)[name][0].save(paths[-1])
        status, stdout, stderr = run("predict", checkpoint, *paths)
        assert status == 0 and stderr == "", name
        predicted = [int(line.split()[1]) for line in stdout.splitlines()]
        if name.startswith("palette, transparent"):  # binarised: most digits keep their class
            assert sum(p == r for p, r in zip(predicted, reference)) >= DIGITS - 2, name
        else:
            assert predicted == reference, name


def blank_images(tmp_path):
    rng = np.random.default_rng(0)
    Image.new("L", (50, 40), 255).save(tmp_path / "white.png")
    Image.fromarray(rng.integers(245, 256, (60, 60), dtype=np.uint8)).save(tmp_path / "paper.png")
    Image.new("RGBA", (28, 28), (0, 0, 0, 0)).save(tmp_path / "transparent.png")
    np.save(tmp_path / "zeros.npy", np.zeros((28, 28)))
    return [tmp_path / n for n in ("white.png", "paper.png", "transparent.png", "zeros.npy")]


def test_an_empty_looking_image_is_a_warning(tmp_path):
    for path in blank_images(tmp_path):
        with pytest.warns(EmptyImageWarning, match=f"{path.name}: this image looks empty"):
            load_image(path)
    np.save(tmp_path / "faint.npy", np.pad(np.full((10, 10), 0.3), 9))  # faint, but a drawing
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_image(tmp_path / "faint.npy")


def test_the_command_prints_the_empty_warning_as_one_line_and_still_predicts(checkpoint, tmp_path):
    paths = blank_images(tmp_path)
    status, stdout, stderr = run("predict", checkpoint, *paths)
    assert status == 0 and "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == len(paths) and all(line.startswith("tinygrad-cnn: warning: ") for line in lines)
    assert all(p.name in line and "looks empty" in line for p, line in zip(paths, lines))
    assert len(stdout.splitlines()) == len(paths)


def png_header(width: int, height: int) -> bytes:
    """A PNG whose header says width x height grey pixels, with one tiny IDAT: only a decoder
    that trusted the header would allocate the image."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def bad_inputs(tmp_path):
    """(file, words its error must contain) for every input predict must refuse."""
    cases = []

    def npy(name, array, *words):
        np.save(tmp_path / name, array)
        cases.append((tmp_path / name, words))

    npy("nan.npy", np.full((28, 28), np.nan), "all values are NaN", "(28, 28)")
    npy("some-inf.npy", np.where(np.eye(28) > 0, np.inf, 0.5), "28 of 784 values are NaN or inf")
    npy("empty.npy", np.zeros((0, 28)), "empty", "(0, 28)")
    npy("no-columns.npy", np.zeros((28, 0, 3)), "empty", "(28, 0, 3)")
    npy("nothing.npy", np.zeros(0), "shape (0,)")
    npy("flat.npy", np.zeros(784), "shape (784,)", "reshape")
    npy("stack.npy", np.zeros((2, 28, 28)), "shape (2, 28, 28)")
    npy("two-channels.npy", np.zeros((28, 28, 2)), "shape (28, 28, 2)")
    npy("cube.npy", np.zeros((2, 3, 4, 5)), "shape (2, 3, 4, 5)")
    npy("complex.npy", np.zeros((28, 28), complex), "dtype complex128")
    npy("negative.npy", np.full((28, 28), -1.0), "[-1, -1]")
    npy("too-bright.npy", np.full((28, 28), 300.0), "[300, 300]")
    for name, size, words in [("huge.png", 7000, ("7000 x 7000", "49,000,000 pixels", "limit")),
                              ("bomb-warning.png", 10000, ("decompression bomb", "100000000 pixels")),
                              ("bomb-error.png", 14000, ("decompression bomb", "196000000 pixels"))]:
        (tmp_path / name).write_bytes(png_header(size, size))
        cases.append((tmp_path / name, words))
    return cases


def test_each_bad_input_is_a_value_error_naming_the_file_and_the_fault(tmp_path):
    assert imaging.MAX_PIXELS < 49_000_000 < Image.MAX_IMAGE_PIXELS < 100_000_000 < 2 * Image.MAX_IMAGE_PIXELS < 196_000_000
    for path, words in bad_inputs(tmp_path):
        with pytest.raises(ValueError) as info:
            load_image(path)
        assert path.name in str(info.value), path
        for word in words:
            assert word in str(info.value), (path, str(info.value))


def test_the_command_shows_each_bad_input_as_one_line_and_a_non_zero_exit(checkpoint, tmp_path):
    for path, words in bad_inputs(tmp_path):
        status, stdout, stderr = run("predict", checkpoint, path)
        assert status != 0 and stdout == "" and "Traceback" not in stderr, path
        assert len(stderr.strip().splitlines()) == 1 and path.name in stderr and words[0] in stderr


def test_to_mnist_refuses_arrays_it_cannot_centre():
    for array, word in [(np.full((28, 28), np.nan), "NaN"), (np.zeros((0, 5)), "(0, 5)"), (np.zeros(5), "(5,)")]:
        with pytest.raises(ValueError, match=f"to_mnist: .*{word}"):
            to_mnist(array)


@pytest.mark.parametrize("k", [1, 3, 10])
def test_topk_shows_k_classes_most_likely_first(checkpoint, tmp_path, k):
    image = tmp_path / "digit.npy"
    np.save(image, np.random.default_rng(0).random((28, 28)).astype(np.float32))
    status, stdout, _ = run("predict", checkpoint, image, "--topk", k)
    assert status == 0
    fields = stdout.split()[1:]
    digits = [int(d) for d in fields[0::2]]
    probs = [float(p.strip("(%)")) for p in fields[1::2]]
    assert len(digits) == k == len(set(digits))
    assert probs == sorted(probs, reverse=True)
    if k == 10:
        assert abs(sum(probs) - 100) < 1


@pytest.mark.parametrize("k", [0, 11, -1])
def test_topk_out_of_range_is_one_line_and_non_zero(checkpoint, tmp_path, k):
    image = tmp_path / "digit.npy"
    np.save(image, np.random.default_rng(0).random((28, 28)).astype(np.float32))
    status, _, stderr = run("predict", checkpoint, image, "--topk", k)
    assert status != 0 and "--topk" in stderr and "Traceback" not in stderr
