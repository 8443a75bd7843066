"""Published PyTorch programs (tests/compat/programs, sources and licences in SOURCES.md), run
unmodified under ``tinygrad-cnn run``; where a program prints losses or accuracies, the same
numbers as the same program under real PyTorch started from the same weights.

Programs are shortened only through their own options or the documented variables:
TINYGRAD_CNN_DATASET_LIMIT (first N samples of each split), TINYGRAD_CNN_SYNTHETIC_DATA=1
(random images where a dataset's files are absent: FashionMNIST and CIFAR-10 are not on this
machine) and TINYGRAD_CNN_INITIAL_STATE (start from PyTorch's initial weights).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent
PROGRAMS = HERE / "programs"
REPO = HERE.parents[1]

# program -> (its own arguments, dataset limit or None, a line its output must contain)
CASES = {
    "mnist_main.py": (["--epochs", "1", "--dry-run"], 640, r"Test set: Average loss: [\d.]+, Accuracy: \d+/640"),
    "blitz_tensor_tutorial.py": ([], None, r"tensor\("),
    "blitz_autograd_tutorial.py": ([], None, r"True"),
    "blitz_neural_networks_tutorial.py": ([], None, r"conv1\.bias\.grad after backward"),
    "blitz_cifar10_tutorial.py": ([], 64, r"Accuracy for class: truck"),
    "basics_quickstart_tutorial.py": ([], 128, r"Saved PyTorch Model State to model\.pth"),
    "basics_tensorqs_tutorial.py": ([], None, r"tensor\("),
    "basics_buildmodel_tutorial.py": ([], None, r"Layer: linear_relu_stack"),
    "basics_autogradqs_tutorial.py": ([], None, r"tensor\("),
    "basics_optimization_tutorial.py": ([], 128, r"Done!"),
    "polynomial_autograd.py": ([], None, r"Result: y = "),
    "polynomial_custom_function.py": ([], None, r"Result: y = "),
    "two_layer_net_autograd.py": ([], None, r"^499 "),
    "polynomial_nn.py": ([], None, r"Result: y = "),
    "polynomial_optim.py": ([], None, r"Result: y = "),
}

# PyTorch on one thread: these programs' tensors are too small to gain from more, and an idle
# OpenMP pool spins on the second core
TORCH_THREADS = {"OMP_NUM_THREADS": "1"}

NUMBER = re.compile(r"-?\d+\.\d+(?:e[-+]?\d+)?|-?\d+e[-+]?\d+")


def workdir(tmp_path: Path) -> Path:
    """A working folder whose ../data and ./data hold torchvision's MNIST layout (the repo's files)."""
    work = tmp_path / "work"
    work.mkdir(parents=True)
    for root in (tmp_path / "data", work / "data"):
        raw = root / "MNIST" / "raw"
        raw.mkdir(parents=True)
        for gz in (REPO / "data" / "mnist").glob("*.gz"):
            (raw / gz.name).symlink_to(gz)
    return work


def environment(limit: int | None, **extra: str) -> dict[str, str]:
    env = {**os.environ, "MPLBACKEND": "Agg", "TINYGRAD_CNN_SYNTHETIC_DATA": "1", **extra}
    env.pop("TINYGRAD_CNN_DATASET_LIMIT", None)
    if limit is not None:
        env["TINYGRAD_CNN_DATASET_LIMIT"] = str(limit)
    return env


def run_ours(name: str, tmp_path: Path, **extra: str) -> subprocess.CompletedProcess:
    args, limit, _ = CASES[name]
    return subprocess.run([sys.executable, "-m", "tinygrad_cnn", "run", str(PROGRAMS / name), *args],
                          capture_output=True, text=True, cwd=workdir(tmp_path), env=environment(limit, **extra),
                          timeout=600)


def run_torch(name: str, tmp_path: Path, state_out: Path) -> subprocess.CompletedProcess:
    args, limit, _ = CASES[name]
    env = environment(limit, **TORCH_THREADS, PYTHONPATH=os.pathsep.join([str(HERE / "torch_side"), str(REPO),
                                                                           os.environ.get("PYTHONPATH", "")]))
    return subprocess.run([sys.executable, str(HERE / "torch_side" / "run_torch.py"), str(state_out),
                           str(PROGRAMS / name), *args], capture_output=True, text=True, cwd=workdir(tmp_path),
                          env=env, timeout=600)


def numbers(text: str) -> np.ndarray:
    return np.array([float(x) for x in NUMBER.findall(text)])


@pytest.fixture(scope="module")
def plain_run(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], subprocess.CompletedProcess]:
    """``run_ours(name)`` without extra variables, run once per program for the module's tests."""
    runs: dict[str, subprocess.CompletedProcess] = {}

    def run(name: str) -> subprocess.CompletedProcess:
        if name not in runs:
            runs[name] = run_ours(name, tmp_path_factory.mktemp(Path(name).stem))
        return runs[name]
    return run


@pytest.mark.parametrize("name", sorted(CASES))
def test_program_runs_unmodified(name, plain_run):
    result = plain_run(name)
    assert result.returncode == 0, f"{name} failed:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}"
    assert re.search(CASES[name][2], result.stdout, re.M), result.stdout[-2000:]


def test_a_program_without_randomness_prints_pytorchs_numbers(plain_run):
    torch = pytest.importorskip("torch")  # noqa: F841
    name = "polynomial_custom_function.py"
    theirs = subprocess.run([sys.executable, str(PROGRAMS / name)], capture_output=True, text=True, timeout=600,
                            env={**os.environ, **TORCH_THREADS})
    ours = plain_run(name)
    assert theirs.returncode == 0 and ours.returncode == 0, ours.stderr
    expected, got = numbers(theirs.stdout), numbers(ours.stdout)
    assert len(got) == len(expected) > 20
    np.testing.assert_allclose(got, expected, rtol=2e-4, atol=1e-5)


@pytest.mark.parametrize("name", ["basics_quickstart_tutorial.py", "basics_optimization_tutorial.py"])
def test_a_training_program_from_pytorchs_weights_prints_pytorchs_losses(name, tmp_path):
    pytest.importorskip("torch")
    state = tmp_path / "initial.pt"
    theirs = run_torch(name, tmp_path / "torch", state)
    assert theirs.returncode == 0, theirs.stderr[-3000:]
    ours = run_ours(name, tmp_path / "ours", TINYGRAD_CNN_INITIAL_STATE=str(state))
    assert ours.returncode == 0, ours.stderr[-3000:]
    expected, got = numbers(theirs.stdout), numbers(ours.stdout)
    assert len(got) == len(expected) > 5
    np.testing.assert_allclose(got, expected, rtol=1e-3, atol=1e-4)
