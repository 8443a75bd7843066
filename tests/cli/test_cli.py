"""The tinygrad-cnn command: train/evaluate/predict/summary/graph, resuming, bad arguments."""

import contextlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

import tinygrad_cnn.cli.train as cli_train
from tinygrad_cnn import checkpoint
from tinygrad_cnn.cli import main
from tinygrad_cnn.testing.command import run_command as run
from tinygrad_cnn.cli.common import CLIError, restore
from tinygrad_cnn.imaging import to_mnist
from tinygrad_cnn.data import load_mnist

REPO = Path(__file__).resolve().parents[2]
MNIST = REPO / "data" / "mnist"



@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A LeNet trained by the CLI on 3,000 images for 2 epochs."""
    out = tmp_path_factory.mktemp("run")
    status, stdout, stderr = run("train", "--limit", 3000, "--epochs", 2, "--data", MNIST, "--out", out, "--quiet")
    assert status == 0, stderr
    return out, stdout


def test_train_prints_epochs_and_writes_outputs(trained):
    out, stdout = trained
    lines = stdout.splitlines()
    # 3,000 images: a twelfth (250) held out for validation, the test set reported once at the end
    assert lines[0] == "training lenet (44,426 parameters) on 2,750 images for 2 epochs"
    assert lines[2] == "  validating on 250 images held out of the training set"
    assert all(len(line) <= 80 for line in lines if str(out) not in line)  # pytest's tmp path is long
    assert lines[4].startswith("epoch 1/2  train ") and " val " in lines[4] and "img/s" in lines[4]
    assert lines[5].startswith("epoch 2/2")
    history = json.loads((out / "history.json").read_text())
    best, last = history["test"]["best"], history["test"]["last"]
    assert lines[6] == f"test best (epoch {best['epoch']}): loss {best['loss']:.4f}  accuracy {best['acc']:.2%} on 3,000 images"
    assert lines[7].startswith("test last (epoch 2)") and lines[8].startswith("training took ")
    assert len(history["train_loss"]) == 2 and history["val_acc"][-1] > 0.75 and last["acc"] > 0.75
    assert history["config"]["model"] == "lenet" and history["config"]["limit"] == 3000
    assert best["epoch"] == 1 + int(np.argmin(history["val_loss"]))
    assert (out / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    graph = out / ("graph.svg" if shutil.which("dot") else "graph.dot")
    text = graph.read_text()
    assert "conv1" in text and "fc3" in text
    meta = checkpoint.load_metadata(out / "best.npz")
    assert meta["extra"]["config"]["model"] == "lenet" and meta["epoch"] in (1, 2)
    assert checkpoint.load_metadata(out / "last.npz")["epoch"] == 2


def test_interrupted_run_resumes_to_identical_weights(tmp_path, monkeypatch):
    common = ("--limit", 600, "--epochs", 2, "--data", MNIST, "--quiet", "--batch-size", 32)
    assert run("train", *common, "--out", tmp_path / "straight")[0] == 0

    real_write = cli_train.write_json

    def interrupt_once(path, data):
        real_write(path, data)
        raise KeyboardInterrupt

    monkeypatch.setattr(cli_train, "write_json", interrupt_once)
    status, _, stderr = run("train", *common, "--out", tmp_path / "cut")
    assert status == 130
    assert f"--resume {tmp_path / 'cut' / 'last.npz'} --epochs 2" in stderr
    monkeypatch.setattr(cli_train, "write_json", real_write)
    status, stdout, _ = run("train", "--resume", tmp_path / "cut" / "last.npz", "--epochs", 2, "--data", MNIST,
                            "--out", tmp_path / "cut", "--quiet")
    assert status == 0 and "after epoch 1" in stdout and "epoch 2/2" in stdout
    with np.load(tmp_path / "straight" / "last.npz") as a, np.load(tmp_path / "cut" / "last.npz") as b:
        weights = [k for k in a.files if k.startswith("model/")]
        assert weights
        for key in weights:
            np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    straight = json.loads((tmp_path / "straight" / "history.json").read_text())
    resumed = json.loads((tmp_path / "cut" / "history.json").read_text())
    assert straight["train_loss"] == resumed["train_loss"] and straight["val_acc"] == resumed["val_acc"]


def test_resuming_with_more_epochs_stretches_the_cosine_schedule(trained, tmp_path):
    out, _ = trained
    status, stdout, stderr = run("train", "--resume", out / "last.npz", "--epochs", 4, "--data", MNIST,
                                 "--out", tmp_path, "--quiet")
    assert status == 0, stderr
    assert "after epoch 2" in stdout and "epoch 3/4" in stdout and "epoch 4/4" in stdout
    lr = json.loads((tmp_path / "history.json").read_text())["lr"]
    # the first two epochs ran on a 2-epoch cosine; the rest continue the curve of a 4-epoch one
    expected = [1e-3, 5e-4, 1e-3 * (1 + np.cos(np.pi * 2 / 4)) / 2, 1e-3 * (1 + np.cos(np.pi * 3 / 4)) / 2]
    np.testing.assert_allclose(lr, expected, rtol=1e-12)
    with np.load(out / "last.npz") as before, np.load(tmp_path / "last.npz") as after:
        assert not np.array_equal(before["model/conv1.weight"], after["model/conv1.weight"])


def test_resume_past_the_end_is_refused(trained):
    out, _ = trained
    status, _, stderr = run("train", "--resume", out / "last.npz", "--epochs", 2, "--data", MNIST, "--out", out)
    assert status == 1 and "already has 2 epochs" in stderr


def test_evaluate_prints_accuracy_and_confusion_matrix(trained, tmp_path):
    out, _ = trained
    png = tmp_path / "cm.png"
    status, stdout, _ = run("evaluate", out / "last.npz", "--data", MNIST, "--limit", 3000, "--plot", png)
    assert status == 0
    lines = stdout.splitlines()
    history = json.loads((out / "history.json").read_text())
    assert f"accuracy {history['test']['last']['acc']:.2%}" in lines[0] and "3,000 images" in lines[0]
    assert lines[1].startswith("true \\ predicted")
    rows = [line.split() for line in lines[2:12]]
    counts = np.array([[int(v) for v in row[1:11]] for row in rows])
    assert counts.sum() == 3000
    assert np.trace(counts) == round(history["test"]["last"]["acc"] * 3000)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _confident_digits(out, count=3):
    """Test images the trained model gets right with high confidence: (images, labels)."""
    from tinygrad_cnn.train import predict_proba

    model, (mean, std) = restore(str(out / "last.npz"))
    _, _, X_test, y_test = load_mnist(MNIST)
    proba = predict_proba(model, (X_test[:200] - np.float32(mean)) / np.float32(std))
    picks = [i for i in range(200) if proba[i].argmax() == y_test[i] and proba[i].max() > 0.95][:count]
    assert len(picks) == count
    return X_test[picks, 0], y_test[picks]


def test_predict_handles_png_of_any_size_and_npy(trained, tmp_path):
    from PIL import Image

    out, _ = trained
    images, labels = _confident_digits(out)
    paths = []
    for i, image in enumerate(images):
        big = Image.fromarray(((1 - image) * 255).astype(np.uint8)).resize((112, 140), Image.Resampling.BILINEAR)
        big.save(tmp_path / f"dark_on_light_{i}.png")  # a scan: dark ink on white paper, another size
        np.save(tmp_path / f"mnist_{i}.npy", image)
        paths += [tmp_path / f"dark_on_light_{i}.png", tmp_path / f"mnist_{i}.npy"]
    status, stdout, _ = run("predict", out / "last.npz", *paths)
    assert status == 0
    lines = stdout.splitlines()
    assert len(lines) == len(paths)
    for line, path, label in zip(lines, paths, np.repeat(labels, 2)):
        name, digit, confidence = line.split()
        assert name == str(path) and int(digit) == label
        assert confidence.startswith("(") and confidence.endswith("%)")


def test_predict_reports_unreadable_images(trained, tmp_path):
    out, _ = trained
    (tmp_path / "bad.png").write_bytes(b"not a png")
    status, _, stderr = run("predict", out / "last.npz", tmp_path / "bad.png")
    assert status == 1 and "bad.png: not an image" in stderr
    status, _, stderr = run("predict", out / "last.npz", tmp_path / "missing.png")
    assert status == 1 and "missing.png does not exist" in stderr


def test_to_mnist_inverts_scales_and_centres():
    digit = np.zeros((28, 28), dtype=np.float32)
    digit[5:20, 10:14] = 1.0
    np.testing.assert_array_equal(to_mnist(digit), digit)
    np.testing.assert_array_equal(to_mnist(1 - digit), digit)
    page = np.ones((90, 60), dtype=np.float32)
    page[10:50, 5:15] = 0.0  # a dark bar, 40 x 10, off-centre on white
    out = to_mnist(page)
    assert out.shape == (28, 28) and out.dtype == np.float32
    rows, cols = np.nonzero(out > 0.5)
    assert rows.max() - rows.min() + 1 == 20 and cols.max() - cols.min() + 1 == 5
    ys, xs = np.indices(out.shape)
    assert abs((ys * out).sum() / out.sum() - 13.5) <= 0.5 and abs((xs * out).sum() / out.sum() - 13.5) <= 0.5


def test_summary_prints_the_layer_table():
    status, stdout, _ = run("summary", "--model", "lenet")
    assert status == 0
    assert "conv1" in stdout and "fc3" in stdout and "Total params: 44,426" in stdout


def test_graph_writes_dot_source(tmp_path):
    status, stdout, _ = run("graph", "--model", "simple_cnn", "-o", tmp_path / "g.dot", "--batch-size", 8)
    assert status == 0 and str(tmp_path / "g.dot") in stdout
    source = (tmp_path / "g.dot").read_text()
    assert source.startswith("digraph") and "conv2d" in source and "cross_entropy" in source


@pytest.mark.skipif(shutil.which("dot") is None, reason="needs Graphviz's dot")
def test_graph_renders_svg(tmp_path):
    status, _, _ = run("graph", "--model", "lenet", "-o", tmp_path / "lenet.svg")
    assert status == 0
    root = ET.parse(tmp_path / "lenet.svg").getroot()
    assert root.tag.endswith("svg")


@pytest.mark.parametrize("argv,message", [
    (["train", "--epochs", "0"], "--epochs: expected a positive integer, got 0"),
    (["train", "--batch-size", "many"], "--batch-size: expected a positive integer, got 'many'"),
    (["train", "--model", "resnet152"], "invalid choice: 'resnet152'"),
    (["train", "--lr", "-1"], "--lr: expected a positive number"),
    (["train", "--val-size", "-1"], "--val-size: expected a non-negative integer, got -1"),
    (["train", "--threads", "0"], "--threads: expected a positive integer, got 0"),
    (["predict", "ckpt.npz"], "the following arguments are required: IMAGE"),
    (["fly"], "invalid choice: 'fly'"),
    (["graph", "-o", "g.txt"], "-o/--output: expected a file ending in .svg, .png, .pdf, .dot or .gv, got g.txt"),
])
def test_bad_arguments_exit_2_with_a_message(argv, message, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert message in capsys.readouterr().err


def test_train_threads_sets_the_ops_thread_count_before_training(tmp_path, monkeypatch):
    from tinygrad_cnn.ops import parallel

    monkeypatch.setattr(parallel, "_num_threads", parallel._num_threads)  # restored after the test
    seen = []

    def load_data(*args):
        seen.append(parallel.get_num_threads())
        raise CLIError("stop here")

    monkeypatch.setattr(cli_train, "load_data", load_data)
    status, _, stderr = run("train", "--threads", 1, "--out", tmp_path / "run")
    assert seen == [1] and status != 0 and "stop here" in stderr


def test_missing_data_folder_says_where_it_looked_and_how_to_fix(tmp_path):
    status, _, stderr = run("train", "--data", tmp_path / "nope", "--out", tmp_path / "run")
    assert status == 1
    assert stderr.startswith("tinygrad-cnn: error: MNIST data folder not found; looked in:")
    assert str(tmp_path / "nope") in stderr and "--data" in stderr and "TINYGRAD_CNN_DATA" in stderr
    assert not (tmp_path / "run").exists()


def test_damaged_checkpoint_is_reported_without_a_traceback(trained, tmp_path):
    out, _ = trained
    data = (out / "last.npz").read_bytes()
    (tmp_path / "cut.npz").write_bytes(data[: len(data) // 2])
    for argv in (("evaluate", tmp_path / "cut.npz", "--data", MNIST),
                 ("predict", tmp_path / "cut.npz", tmp_path / "digit.npy"),
                 ("train", "--resume", tmp_path / "cut.npz", "--epochs", 3, "--data", MNIST, "--out", tmp_path)):
        status, _, stderr = run(*argv)
        assert status == 1
        assert stderr.startswith(f"tinygrad-cnn: error: checkpoint {tmp_path / 'cut.npz'}: ")
        assert "damaged" in stderr and "Traceback" not in stderr
    meta = checkpoint.load_metadata(out / "last.npz")
    model, _ = restore(str(out / "last.npz"))
    checkpoint.save(tmp_path / "weights.npz", model, extra=meta["extra"])  # no optimizer state to resume
    status, _, stderr = run("train", "--resume", tmp_path / "weights.npz", "--epochs", 3, "--data", MNIST,
                            "--out", tmp_path)
    assert status == 1
    assert stderr == f"tinygrad-cnn: error: checkpoint {tmp_path / 'weights.npz'} holds no optimizer state to restore\n"


@pytest.mark.parametrize("package", ["matplotlib", "graphviz"])
def test_train_without_the_train_extra_fails_before_training(package, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, package, None)  # `import package` now raises ImportError
    status, stdout, stderr = run("train", "--limit", 100, "--epochs", 1, "--data", MNIST, "--out", tmp_path / "run")
    assert status == 1 and stdout == ""
    assert f"train needs {package}" in stderr and 'pip install -e ".[train]"' in stderr
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("command, package, needs, extra", [
    (["predict", "CKPT", "digit.npy"], "PIL", "predict needs pillow", "train"),
    (["evaluate", "CKPT", "--plot"], "matplotlib", "evaluate --plot needs matplotlib", "train"),
    (["graph", "-o", "g.dot"], "graphviz", "graph needs graphviz", "viz"),
])
def test_other_commands_say_which_extra_they_need(trained, tmp_path, monkeypatch, command, package, needs, extra):
    out, _ = trained
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(sys.modules, package, None)
    status, stdout, stderr = run(*[out / "last.npz" if a == "CKPT" else a for a in command])
    assert status == 1 and stdout == ""
    assert needs in stderr and f'pip install -e ".[{extra}]"' in stderr


def test_missing_checkpoint_is_reported(tmp_path):
    status, _, stderr = run("evaluate", tmp_path / "none.npz", "--data", MNIST)
    assert status == 1 and "none.npz does not exist" in stderr


def test_python_dash_m_runs_the_command():
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-m", "tinygrad_cnn", "summary", "--model", "simple_cnn"],
                          capture_output=True, text=True, cwd=REPO, env=env, timeout=120)
    assert done.returncode == 0 and "Total params: 103,018" in done.stdout
    done = subprocess.run([sys.executable, "-m", "tinygrad_cnn", "train", "--epochs", "x"],
                          capture_output=True, text=True, cwd=REPO, env=env, timeout=120)
    assert done.returncode == 2 and "usage: tinygrad-cnn train" in done.stderr


def test_extras_require_the_versions_that_have_the_apis_used():
    """Pillow 9.1 added Image.Resampling (to_mnist), scikit-learn 1.6 validate_data (the estimator)."""
    import tomllib

    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    floors = {}
    for extra, requirements in extras.items():
        for requirement in requirements:
            name, _, version = requirement.partition(">=")
            floors.setdefault(name, {})[extra] = tuple(int(part) for part in version.split(".")) if version else ()
    assert floors["pillow"] == {"train": (9, 1), "dev": (9, 1)}
    assert floors["scikit-learn"] == {"sklearn": (1, 6), "dev": (1, 6)}


def test_version_and_bare_command_print_and_exit_0():
    status, stdout, _ = run()
    assert status == 0 and stdout.startswith("usage: tinygrad-cnn") and "train" in stdout
    with pytest.raises(SystemExit) as exit_info, contextlib.redirect_stdout(io.StringIO()) as out:
        main(["--version"])
    assert exit_info.value.code == 0 and re.fullmatch(r"tinygrad-cnn \S.*\n", out.getvalue())


@pytest.mark.parametrize("command", ["train", "evaluate", "predict", "summary", "graph", "run"])
def test_every_subcommand_help_has_a_description(command, capsys):
    with pytest.raises(SystemExit):
        main([command, "--help"])
    usage, description = capsys.readouterr().out.split("\n\n")[:2]
    assert usage.startswith(f"usage: tinygrad-cnn {command}") and not description.lstrip().startswith(("positional", "options"))
