"""The torch/torchvision aliases, run_script, --check and the generated compatibility page.

Each case runs in a fresh interpreter: the test process may hold the real torch (the oracle)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tinygrad_cnn.compat import check_script, render_markdown, target_of

REPO = Path(__file__).resolve().parents[2]


def python(code: str, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code), *args], capture_output=True, text=True,
                          cwd=cwd, timeout=120)


def test_target_of_maps_torch_and_torchvision_names():
    assert target_of("torch") == "tinygrad_cnn"
    assert target_of("torch.nn.functional") == "tinygrad_cnn.nn.functional"
    assert target_of("torchvision.transforms") == "tinygrad_cnn.vision.transforms"
    assert target_of("torchvision.models.resnet") == "tinygrad_cnn.models.resnet"
    assert target_of("numpy") is None and target_of("torchaudio") is None


def test_install_serves_torch_and_names_what_is_missing():
    result = python("""
        import tinygrad_cnn, tinygrad_cnn.compat as compat
        compat.install()
        import torch, torch.nn as nn
        import torch.nn.functional as F
        from torchvision import transforms
        assert torch.Tensor is tinygrad_cnn.Tensor and nn.Linear is tinygrad_cnn.nn.Linear
        assert F.relu is tinygrad_cnn.nn.functional.relu and transforms.ToTensor is tinygrad_cnn.vision.transforms.ToTensor
        try:
            nn.SyncBatchNorm
        except AttributeError as e:
            print(e)
        try:
            import torch.quantum_gravity
        except ModuleNotFoundError as e:
            print(e)
        compat.uninstall()
        try:
            import torch.nn
            print("real torch" if not hasattr(torch.nn, "_target") else "still served")
        except ImportError:
            print("no torch")
    """)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "torch.nn.SyncBatchNorm is not supported by tinygrad_cnn"
    assert lines[1] == "torch.quantum_gravity is not supported by tinygrad_cnn"
    assert lines[2] in ("real torch", "no torch")


def test_run_script_behaves_as_python_would(tmp_path):
    (tmp_path / "helper_mod.py").write_text("VALUE = 41\n")
    script = tmp_path / "prog.py"
    script.write_text(textwrap.dedent("""
        import sys
        import torch
        import torch.nn as nn
        import helper_mod
        x = torch.randn(5, 3, requires_grad=True)
        layer = nn.Linear(3, 2)
        loss = layer(x).relu().sum()
        loss.backward()
        print(__name__, sys.argv[1:], helper_mod.VALUE + 1, tuple(x.grad.shape))
        sys.exit(int(sys.argv[1]))
    """))
    graph = tmp_path / "graph.dot"
    result = python("""
        import sys
        from tinygrad_cnn.compat import run_script
        print("status", run_script(sys.argv[1], ["7", "--flag"], graph=sys.argv[2]))
    """, str(script), str(graph), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["__main__ ['7', '--flag'] 42 (5, 3)", "status 7"]
    dot = graph.read_text()
    assert "linear" in dot and "relu" in dot and "sum" in dot


def test_check_lists_missing_names_with_line_numbers(tmp_path):
    script = tmp_path / "prog.py"
    script.write_text(textwrap.dedent("""\
        import torch
        import torch.nn as nn
        from torch.nn import SyncBatchNorm
        from torch.optim import SGD
        import torch.quantum_gravity

        model = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
        y = torch.not_a_function(3)
        z = nn.functional.relu(torch.zeros(2))
    """))
    findings = check_script(script)
    assert [(f.line, f.name) for f in findings] == [
        (3, "torch.nn.SyncBatchNorm"), (5, "torch.quantum_gravity"), (8, "torch.not_a_function")]
    assert str(findings[0]) == "line 3: torch.nn.SyncBatchNorm"


def test_check_refuses_a_script_that_does_not_parse(tmp_path):
    script = tmp_path / "broken.py"
    script.write_text("import torch\nif (:\n")
    with pytest.raises(SyntaxError):
        check_script(script)


def test_compatibility_page_is_current():
    page = REPO / "docs" / "torch_compat.md"
    assert page.read_text() == render_markdown(), (
        "docs/torch_compat.md is stale: run `python -m tinygrad_cnn.compat.table > docs/torch_compat.md`")


def test_the_command_runs_a_script_and_names_a_missing_api_in_one_line(tmp_path):
    script = tmp_path / "uses_missing.py"
    script.write_text("import torch\nprint('started')\nlayer = torch.nn.SyncBatchNorm()\n")
    result = subprocess.run([sys.executable, "-m", "tinygrad_cnn", "run", str(script)], capture_output=True,
                            text=True, cwd=tmp_path, timeout=120)
    assert result.returncode == 1 and result.stdout == "started\n"
    assert result.stderr == "tinygrad-cnn run: torch.nn.SyncBatchNorm is not supported by tinygrad_cnn\n"
    check = subprocess.run([sys.executable, "-m", "tinygrad_cnn", "run", "--check", str(script)],
                           capture_output=True, text=True, timeout=120)
    assert check.returncode == 1
    assert check.stdout == f"{script}:3: torch.nn.SyncBatchNorm is not supported by tinygrad_cnn\n"
