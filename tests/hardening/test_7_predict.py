"""Class 7 of issue 16 (the --topk part): ``predict --topk K`` shows the K most likely classes,
most likely first; a K outside 1..10 is one clear line and a non-zero exit."""

import contextlib
import io
from pathlib import Path

import numpy as np
import pytest

from tinygrad_cnn.cli import main

MNIST = Path(__file__).resolve().parents[2] / "data"


def run(*argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main([str(a) for a in argv])
    return status, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def checkpoint_and_image(tmp_path_factory):
    pytest.importorskip("PIL")
    out = tmp_path_factory.mktemp("run")
    status, _, stderr = run("train", "--limit", 300, "--epochs", 1, "--data", MNIST, "--out", out, "--quiet")
    assert status == 0, stderr
    image = out / "digit.npy"
    np.save(image, np.random.default_rng(0).random((28, 28)).astype(np.float32))
    return out / "last.npz", image


@pytest.mark.parametrize("k", [1, 3, 10])
def test_topk_shows_k_classes_most_likely_first(checkpoint_and_image, k):
    ckpt, image = checkpoint_and_image
    status, stdout, _ = run("predict", ckpt, image, "--topk", k)
    assert status == 0
    fields = stdout.split()[1:]
    digits = [int(d) for d in fields[0::2]]
    probs = [float(p.strip("(%)")) for p in fields[1::2]]
    assert len(digits) == k == len(set(digits))
    assert probs == sorted(probs, reverse=True)
    if k == 10:
        assert abs(sum(probs) - 100) < 1


@pytest.mark.parametrize("k", [0, 11, -1])
def test_topk_out_of_range_is_one_line_and_non_zero(checkpoint_and_image, k):
    ckpt, image = checkpoint_and_image
    status, _, stderr = run("predict", ckpt, image, "--topk", k)
    assert status != 0 and "--topk" in stderr and "Traceback" not in stderr
