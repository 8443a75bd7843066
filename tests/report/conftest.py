"""One small run of ``tinygrad-cnn train`` (LeNet, 2 epochs on 1,000 images), shared by the report tests."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MNIST = REPO / "data" / "mnist"


def _run_cli(*argv: object) -> tuple[int, str, str]:
    """``tinygrad_cnn.cli.main(argv)`` with stdout and stderr captured: (status, stdout, stderr)."""
    from tinygrad_cnn.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main([str(a) for a in argv])
    return status, out.getvalue(), err.getvalue()


@pytest.fixture(scope="session")
def run_cli():
    """The command line in-process: ``run_cli("report", folder)`` -> (status, stdout, stderr)."""
    return _run_cli


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """(run folder, train's stdout) of a LeNet trained for 2 epochs on the first 1,000 images."""
    pytest.importorskip("matplotlib", reason="the report needs the train extra (matplotlib)")
    out = tmp_path_factory.mktemp("report") / "lenet"
    status, stdout, stderr = _run_cli("train", "--epochs", 2, "--limit", 1000, "--data", MNIST, "--out", out, "--quiet")
    assert status == 0, stderr
    return out, stdout
