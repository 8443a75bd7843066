"""One small run of ``tinygrad-cnn train`` (LeNet, 2 epochs on 1,000 images), shared by the report tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tinygrad_cnn.testing.command import run_command

REPO = Path(__file__).resolve().parents[2]
MNIST = REPO / "data" / "mnist"


@pytest.fixture(scope="session")
def run_cli():
    """The command line in-process: ``run_cli("report", folder)`` -> (status, stdout, stderr)."""
    return run_command


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """(run folder, train's stdout) of a LeNet trained for 2 epochs on the first 1,000 images."""
    pytest.importorskip("matplotlib", reason="the report needs the train extra (matplotlib)")
    out = tmp_path_factory.mktemp("report") / "lenet"
    status, stdout, stderr = run_command("train", "--epochs", 2, "--limit", 1000, "--data", MNIST, "--out", out, "--quiet")
    assert status == 0, stderr
    return out, stdout
