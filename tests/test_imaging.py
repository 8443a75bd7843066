"""tinygrad_cnn.imaging from Python: load_image's errors and formats (the CLI's predict uses it too)."""

import numpy as np
import pytest

from tinygrad_cnn.imaging import load_image


def test_load_image_reads_npy_grey_and_rgb_in_either_range(tmp_path):
    grey = np.arange(12, dtype=np.float64).reshape(3, 4) * 20  # 0..220: read as 0-255
    np.save(tmp_path / "grey.npy", grey)
    np.testing.assert_allclose(load_image(tmp_path / "grey.npy"), grey / 255, rtol=1e-6)
    rgb = np.stack([grey / 255] * 3, axis=-1)
    np.save(tmp_path / "rgb.npy", rgb)
    out = load_image(tmp_path / "rgb.npy")
    assert out.dtype == np.float32 and out.shape == (3, 4)
    np.testing.assert_allclose(out, grey / 255, rtol=1e-5)


def test_load_image_names_the_file_it_cannot_use(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.png does not exist"):
        load_image(tmp_path / "missing.png")
    np.save(tmp_path / "cube.npy", np.zeros((2, 3, 4, 5)))
    with pytest.raises(ValueError, match=r"cube.npy: expected a 2-D .* got shape \(2, 3, 4, 5\)"):
        load_image(tmp_path / "cube.npy")
    (tmp_path / "bad.png").write_bytes(b"not a png")
    pytest.importorskip("PIL")
    with pytest.raises(ValueError, match="bad.png: not an image Pillow can read"):
        load_image(tmp_path / "bad.png")
