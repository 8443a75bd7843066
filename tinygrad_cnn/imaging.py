"""Images of handwritten digits for a model trained on MNIST, for the CLI's ``predict`` and for Python users.

```python
import numpy as np
from tinygrad_cnn.imaging import load_image, to_mnist

digits = np.stack([to_mnist(load_image(p)) for p in ["digit.png", "scan.npy"]])[:, None]  # (N, 1, 28, 28)
```

``load_image`` reads PNG/JPEG/... through Pillow (imported when called) or .npy arrays and judges
what it read: transparency is composited onto the background that keeps the ink visible, 16-bit
images keep their range, and a file that cannot be a digit (empty, not finite, too large, the
wrong shape) is a ValueError naming it; an image that looks empty is an ``EmptyImageWarning``.
``to_mnist`` makes any grey image look like an MNIST digit (Pillow for the resizing);
``to_png`` encodes a grey image as PNG bytes (NumPy and zlib only), as the run report shows digits.
"""

from __future__ import annotations

import struct
import warnings
import zlib
from pathlib import Path

import numpy as np

MAX_PIXELS = 40_000_000  # a 40-megapixel photo; beyond it an image is refused before it is decoded
EMPTY_CONTRAST = 0.1  # an image whose pixels all lie within this of each other looks empty
_LUMA = np.array([0.299, 0.587, 0.114])  # ITU-R 601, as Pillow's convert("L")
_SIXTEEN_BIT = ("I;16", "I;16L", "I;16B", "I;16N")


class EmptyImageWarning(UserWarning):
    """An image is blank or nearly constant: whatever digit is predicted for it means little."""


def load_image(path: str | Path) -> np.ndarray:
    """An image file (PNG/JPEG/... via Pillow, or .npy) as grey float32 (H, W) in [0, 1].

    Transparent images (RGBA, LA, palette with transparency) are composited onto a background:
    when what is drawn has one colour (ink kept in the alpha channel) the background is the
    opposite shade, otherwise the drawn pixels' median shade. 16-bit grey images are scaled by
    65535. A .npy array may be (H, W) or H x W x 3/4 (grey by the ITU-R 601 weights, the fourth
    channel being alpha), in [0, 1] or [0, 255] (uint16: [0, 65535]); size-1 dimensions are
    dropped. Raises FileNotFoundError for a missing file and ValueError naming the file and the
    shape or values for one that is unreadable, empty (zero size), not finite, out of range, of
    another shape, or larger than ``MAX_PIXELS`` pixels (or a Pillow decompression bomb). Warns
    ``EmptyImageWarning`` when every pixel lies within ``EMPTY_CONTRAST`` of the others.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"image {path} does not exist")
    name = f"image {path}"
    grey = _read_npy(path, name) if path.suffix.lower() == ".npy" else _read_picture(path, name)
    low, high = float(grey.min()), float(grey.max())
    if high - low < EMPTY_CONTRAST:
        warnings.warn(f"{name}: this image looks empty (every pixel is between {low:.2f} and {high:.2f}); "
                      "the predicted digit means little", EmptyImageWarning, stacklevel=2)
    return grey


def _check_pixels(shape: tuple[int, ...], name: str) -> None:
    if int(np.prod(shape)) == 0:
        raise ValueError(f"{name}: the image is empty (shape {shape}, no pixels)")
    if int(np.prod(shape[:2])) > MAX_PIXELS:
        raise ValueError(f"{name}: {shape[0]} x {shape[1]} = {int(np.prod(shape[:2])):,} pixels is more than the "
                         f"limit of {MAX_PIXELS:,} (tinygrad_cnn.imaging.MAX_PIXELS); scale it down first")


def _read_npy(path: Path, name: str) -> np.ndarray:
    try:  # memory-mapped: the shape is judged before the data is read
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise ValueError(f"{name}: not a readable .npy array ({exc})") from None
    if not isinstance(array, np.ndarray):
        raise ValueError(f"{name}: not a .npy array (an .npz archive?)")
    shape = array.shape
    array = np.squeeze(array)
    if array.ndim == 3 and array.shape[-1] not in (3, 4) or array.ndim not in (2, 3):
        raise ValueError(f"{name}: expected a 2-D (grey) or H x W x 3/4 array, got shape {shape}"
                         + ("; reshape a flattened digit to (28, 28)" if array.shape == (784,) else ""))
    _check_pixels(array.shape, name)
    return _grey(np.asarray(array), name, shape)


def _grey(array: np.ndarray, name: str, shape: tuple[int, ...], scale: float | None = None) -> np.ndarray:
    """Pixel values (H, W) or (H, W, 3/4) of any real dtype, read from a file whose array had
    ``shape``, divided by ``scale`` (None: 65535 for uint16, else 255 when any value is above 1)
    as grey float32 (H, W) in [0, 1]; ValueError naming the file when they cannot be."""
    if array.dtype != np.bool_ and array.dtype.kind not in "uif":
        raise ValueError(f"{name}: expected real numbers, got dtype {array.dtype} (shape {shape})")
    values = array.astype(np.float64)
    finite = np.isfinite(values)
    if not finite.all():
        bad = values.size - int(finite.sum())
        what = "all values are NaN" if np.isnan(values).all() else f"{bad} of {values.size} values are NaN or inf"
        raise ValueError(f"{name}: {what} (shape {shape})")
    low, high = values.min(), values.max()
    if scale is None:
        scale = 65535.0 if array.dtype == np.uint16 else 255.0 if high > 1 else 1.0
    if low < 0 or high > scale:
        raise ValueError(f"{name}: values must lie in [0, 1] or [0, 255] (uint16: [0, 65535]), "
                         f"got [{low:g}, {high:g}] (shape {shape}, dtype {array.dtype})")
    values /= scale
    if values.ndim == 3:
        alpha = values[..., 3] if values.shape[-1] == 4 else np.ones(values.shape[:2])
        values = _composite(values[..., :3] @ _LUMA, alpha)
    return values.astype(np.float32)


def _read_picture(path: Path, name: str) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    unreadable = (OSError, SyntaxError, EOFError, struct.error, zlib.error)  # what Pillow raises on broken files
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(path)
        except UnidentifiedImageError:
            raise ValueError(f"{name}: not an image Pillow can read") from None
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise ValueError(f"{name}: refused as a possible decompression bomb ({exc})") from None
        except unreadable as exc:
            raise ValueError(f"{name}: unreadable ({exc})") from None
        with image:
            _check_pixels((image.height, image.width), name)
            try:
                image.load()
                return _picture_grey(image, name)
            except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
                raise ValueError(f"{name}: refused as a possible decompression bomb ({exc})") from None
            except unreadable as exc:
                raise ValueError(f"{name}: unreadable ({exc})") from None


def _picture_grey(image, name: str) -> np.ndarray:
    """A loaded Pillow image as grey float32 (H, W) in [0, 1]."""
    shape = (image.height, image.width)
    if image.mode in _SIXTEEN_BIT or image.mode in ("I", "F"):  # convert("L") would clip at 255
        values = np.asarray(image)
        sixteen = image.mode in _SIXTEEN_BIT or (image.mode == "I" and values.max() > 255)  # "I": older Pillows
        return _grey(values, name, shape, 65535.0 if sixteen else None)
    if image.mode in ("LA", "La", "PA", "RGBA", "RGBa") or "transparency" in image.info:
        return _grey(np.asarray(image.convert("RGBA")), name, shape, 255.0)
    return np.asarray(image.convert("L"), dtype=np.float32) / 255


def _composite(shade: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Grey ``shade`` (H, W) with opacity ``alpha`` over a background chosen to keep the ink visible:
    when the drawn pixels share one shade (ink kept in the alpha channel: the ink's shade drawn
    everywhere, its strokes in alpha) the background is the opposite extreme, else it is the drawn
    pixels' median shade (a picture with a transparent margin)."""
    if alpha.min() == 1:
        return shade
    drawn = shade[alpha > 0.5] if (alpha > 0.5).any() else shade[alpha > 0]
    if drawn.size == 0:  # fully transparent: nothing is drawn
        return np.zeros_like(shade)
    if np.ptp(drawn) < 0.25:
        background = 1.0 if drawn.mean() < 0.5 else 0.0
    else:
        background = float(np.median(drawn))
    return alpha * shade + (1 - alpha) * background


def to_mnist(image: np.ndarray) -> np.ndarray:
    """A grey image (H, W) in [0, 1] turned into a 28x28 MNIST-style digit: white on black
    (inverted when the border is light), the ink's bounding box scaled to fit 20x20 and
    centred by its centre of mass, as the MNIST images were made. 28x28 input is kept as is
    (after the inversion check). Raises ValueError naming the shape for an image that is not
    2-D, has no pixels or holds NaN/inf."""
    from PIL import Image

    image = np.asarray(image)
    if image.ndim != 2 or image.size == 0:
        raise ValueError(f"to_mnist: expected a non-empty 2-D grey image (H, W), got shape {tuple(image.shape)}")
    if not np.isfinite(image).all():
        raise ValueError(f"to_mnist: the image (shape {tuple(image.shape)}) holds NaN or inf values")
    border = np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])
    if border.mean() > 0.5:
        image = 1.0 - image
    image = np.clip(image, 0.0, 1.0).astype(np.float32)
    if image.shape == (28, 28):
        return image
    rows, cols = np.nonzero(image > 0.2 * image.max()) if image.max() > 0 else ((), ())
    if len(rows) == 0:
        return np.asarray(Image.fromarray(image).resize((28, 28), Image.Resampling.BILINEAR))
    glyph = image[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    scale = 20 / max(glyph.shape)
    size = (max(1, round(glyph.shape[1] * scale)), max(1, round(glyph.shape[0] * scale)))
    glyph = np.clip(np.asarray(Image.fromarray(glyph).resize(size, Image.Resampling.LANCZOS)), 0, 1)
    out = np.zeros((28, 28), dtype=np.float32)
    h, w = glyph.shape
    mass = glyph.sum()
    cy = (np.arange(h) @ glyph.sum(axis=1)) / mass if mass > 0 else (h - 1) / 2
    cx = (np.arange(w) @ glyph.sum(axis=0)) / mass if mass > 0 else (w - 1) / 2
    top = int(np.clip(round(13.5 - cy), 0, 28 - h))
    left = int(np.clip(round(13.5 - cx), 0, 28 - w))
    out[top:top + h, left:left + w] = glyph
    return out


def to_png(image: np.ndarray) -> bytes:
    """A grey image (H, W) as the bytes of an 8-bit greyscale PNG file: uint8 as is, floats
    taken as [0, 1] (clipped, then rounded to 0..255). Raises ValueError for another shape."""
    array = np.asarray(image)
    if array.ndim != 2 or 0 in array.shape:
        raise ValueError(f"to_png: expected a non-empty grey (H, W) image, got shape {tuple(array.shape)}")
    if array.dtype != np.uint8:
        array = np.round(np.clip(array.astype(np.float64), 0.0, 1.0) * 255).astype(np.uint8)
    height, width = array.shape
    rows = np.hstack([np.zeros((height, 1), np.uint8), array])  # each row led by filter type 0 (none)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8 bits, greyscale, no interlace
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows.tobytes(), 9))
            + chunk(b"IEND", b""))
