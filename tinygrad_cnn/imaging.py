"""Images of handwritten digits for a model trained on MNIST, for the CLI's ``predict`` and for Python users.

```python
import numpy as np
from tinygrad_cnn.imaging import load_image, to_mnist

digits = np.stack([to_mnist(load_image(p)) for p in ["digit.png", "scan.npy"]])[:, None]  # (N, 1, 28, 28)
```

``load_image`` reads PNG/JPEG/... through Pillow (imported when called) or .npy arrays;
``to_mnist`` makes any grey image look like an MNIST digit (Pillow for the resizing);
``to_png`` encodes a grey image as PNG bytes (NumPy and zlib only), as the run report shows digits.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np


def load_image(path: str | Path) -> np.ndarray:
    """An image file (PNG/JPEG/... via Pillow, or .npy) as grey float32 (H, W) in [0, 1].

    A .npy array may be (H, W) or H x W x 3/4 (turned grey with the ITU-R 601 weights), in
    [0, 1] or [0, 255]. Raises FileNotFoundError for a missing file and ValueError for one
    that is not a readable image, each naming the file.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"image {path} does not exist")
    if path.suffix.lower() == ".npy":
        try:
            array = np.load(path, allow_pickle=False)
        except (ValueError, OSError, EOFError) as exc:
            raise ValueError(f"image {path}: not a readable .npy array ({exc})") from None
        array = np.squeeze(array)
        if array.ndim == 3 and array.shape[-1] in (3, 4):
            array = array[..., :3] @ np.array([0.299, 0.587, 0.114])
        if array.ndim != 2 or not np.issubdtype(array.dtype, np.number):
            raise ValueError(f"image {path}: expected a 2-D (grey) or H x W x 3 array, got shape {array.shape}")
        array = array.astype(np.float32)
        return array / 255 if array.max() > 1 else array
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            return np.asarray(image.convert("L"), dtype=np.float32) / 255
    except UnidentifiedImageError:
        raise ValueError(f"image {path}: not an image Pillow can read") from None
    except OSError as exc:
        raise ValueError(f"image {path}: unreadable ({exc})") from None


def to_mnist(image: np.ndarray) -> np.ndarray:
    """A grey image (H, W) in [0, 1] turned into a 28x28 MNIST-style digit: white on black
    (inverted when the border is light), the ink's bounding box scaled to fit 20x20 and
    centred by its centre of mass, as the MNIST images were made. 28x28 input is kept as is
    (after the inversion check)."""
    from PIL import Image

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
        raise ValueError(f"to_png: expected a non-empty grey (H, W) image, got shape {array.shape}")
    if array.dtype != np.uint8:
        array = np.round(np.clip(array.astype(np.float64), 0.0, 1.0) * 255).astype(np.uint8)
    height, width = array.shape
    rows = np.hstack([np.zeros((height, 1), np.uint8), array])  # each row led by filter type 0 (none)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8 bits, greyscale, no interlace
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows.tobytes(), 9))
            + chunk(b"IEND", b""))
