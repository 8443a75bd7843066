"""Class 6 of issue 16 (output folder part): train finds --out problems before it loads data or
trains, refuses to overwrite an earlier run without --overwrite, and --resume writes into the
checkpoint's own folder; each mistake is one line on stderr and a non-zero exit."""

import contextlib
import io
import os
from pathlib import Path

import pytest

from tinygrad_cnn.cli import main

MNIST = Path(__file__).resolve().parents[2] / "data"
TRAIN = ("train", "--limit", 200, "--epochs", 1, "--data", MNIST, "--quiet")


def run(*argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main([str(a) for a in argv])
    return status, out.getvalue(), err.getvalue()


def one_line_error(status, stderr, *words):
    assert status != 0 and "Traceback" not in stderr and len(stderr.strip().splitlines()) == 1
    for word in words:
        assert word in stderr


@pytest.mark.parametrize("below", [False, True])
def test_out_that_is_or_lies_below_a_file_is_refused_before_data_loads(tmp_path, below):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    status, stdout, stderr = run(*TRAIN, "--data", tmp_path / "no-data-here", "--out",
                                 blocker / "run" if below else blocker)
    one_line_error(status, stderr, "not a directory", str(blocker))
    assert blocker.read_text() == "x"


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_read_only_out_is_refused(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir(mode=0o500)
    status, _, stderr = run(*TRAIN, "--out", folder)
    one_line_error(status, stderr, "not writable")


def test_an_earlier_run_is_not_overwritten_without_overwrite(tmp_path, monkeypatch):
    out = tmp_path / "run"
    status, _, stderr = run(*TRAIN, "--out", out)
    assert status == 0, stderr
    before = (out / "last.npz").read_bytes()
    status, _, stderr = run(*TRAIN, "--out", out)
    one_line_error(status, stderr, "--overwrite", str(out))
    assert (out / "last.npz").read_bytes() == before
    status, _, stderr = run(*TRAIN, "--out", out, "--overwrite")
    assert status == 0, stderr
    resumed_into = tmp_path / "elsewhere"
    monkeypatch.chdir(tmp_path)  # runs/MODEL would be the old default: --resume must keep to the checkpoint's folder
    status, _, stderr = run("train", "--resume", out / "last.npz", "--epochs", 2, "--data", MNIST, "--quiet")
    assert status == 0, stderr
    assert not (tmp_path / "runs").exists() and not resumed_into.exists()
    from tinygrad_cnn.checkpoint import load_metadata
    assert load_metadata(out / "last.npz")["epoch"] == 2
