"""tinygrad-cnn export (a checkpoint to ONNX) and tinygrad-cnn sweep (a grid of train runs)."""

from pathlib import Path

import numpy as np
import pytest

from tinygrad_cnn import Tensor, checkpoint, manual_seed, no_grad
from tinygrad_cnn.testing.command import run_command as run

MNIST = Path(__file__).resolve().parents[2] / "data" / "mnist"



def test_export_writes_a_model_onnxruntime_runs(tmp_path):
    ort = pytest.importorskip("onnxruntime", reason="the onnx extra is not installed")
    from tinygrad_cnn.models import LeNet

    manual_seed(0)
    model = LeNet()
    checkpoint.save(tmp_path / "best.npz", model, extra={"config": {"model": "lenet"}})
    status, out, _ = run("export", tmp_path / "best.npz", "-o", tmp_path / "lenet.onnx")
    assert status == 0 and out == f"wrote {tmp_path / 'lenet.onnx'}\n"
    x = np.random.default_rng(0).standard_normal((5, 1, 28, 28)).astype(np.float32)
    got = ort.InferenceSession(str(tmp_path / "lenet.onnx"), providers=["CPUExecutionProvider"]).run(None, {"input": x})
    with no_grad():
        np.testing.assert_allclose(got[0], model.eval()(Tensor(x)).numpy(), atol=1e-5)
    assert run("export", tmp_path / "best.npz")[0] == 0 and (tmp_path / "best.onnx").exists()


def test_export_of_a_missing_or_damaged_checkpoint_is_one_error(tmp_path):
    pytest.importorskip("onnx", reason="the onnx extra is not installed")
    status, _, err = run("export", tmp_path / "none.npz")
    assert status == 1 and "none.npz" in err and "Traceback" not in err
    (tmp_path / "bad.npz").write_bytes(b"not a checkpoint")
    status, _, err = run("export", tmp_path / "bad.npz", "-o", tmp_path / "bad.onnx")
    assert status == 1 and err.startswith("tinygrad-cnn: error:") and not (tmp_path / "bad.onnx").exists()


def test_sweep_trains_each_configuration_and_prints_the_table(tmp_path):
    pytest.importorskip("matplotlib")
    status, out, err = run("sweep", "--param", "lr=1e-3,1e-2", "--epochs", "1", "--limit", "200", "--data", MNIST,
                           "--out", tmp_path, "--workers", "1")
    assert status == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("[1/2] lr=1e-3: val acc") and lines[1].startswith("[2/2] lr=1e-2: val acc")
    assert lines[3].startswith("| rank | lr | val_acc |") and lines[-1].startswith("wrote ")
    assert (tmp_path / "results.csv").exists() and (tmp_path / "lenet-lr=1e-2" / "last.npz").exists()


@pytest.mark.parametrize("argv, message", [
    (["--param", "lr"], "NAME=VALUE"),
    (["--param", "momentum=0.9"], "unrecognized arguments: --momentum"),
])
def test_sweep_bad_params_are_one_error(argv, message, tmp_path):
    status, _, err = run("sweep", *argv, "--out", tmp_path / "s", "--workers", "1")
    assert status == 1 and message in err and not (tmp_path / "s").exists()


def test_sweep_takes_a_scheduler_or_workers_not_both():
    with pytest.raises(SystemExit):
        run("sweep", "--param", "lr=1e-3", "--scheduler", "tcp://localhost:8786", "--workers", "2")
