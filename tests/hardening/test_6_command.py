"""Class 6 of issue 16: the command never shows a traceback for a user's mistake and never loses
a run. train finds --out problems before it loads data or trains, refuses to overwrite an earlier
run without --overwrite, locks --out against a second run (a dead run's lock is taken over), and
--resume writes into the checkpoint's own folder and names the options it ignores; Ctrl-C (in
training or while the data loads) names what was saved and the command that resumes; a split
without training images and a diverging run end with one line and a non-zero exit, a closed
pipe quietly with 0. Processes and signals are real where they matter."""

import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tinygrad_cnn import checkpoint
from tinygrad_cnn.testing.command import run_command as run
from tinygrad_cnn.cli.common import LOCK_NAME

MNIST = Path(__file__).resolve().parents[2] / "data"
TRAIN = ("train", "--limit", 200, "--epochs", 1, "--data", MNIST, "--quiet")



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


# ---------------------------------------------------------------------------- through processes and signals
def start(*argv, stdout=subprocess.PIPE, script=None):
    """``tinygrad-cnn ARGV`` in a child process (``script``: Python code run first, then main(ARGV))."""
    code = (script or "") + "\nimport sys\nfrom tinygrad_cnn.cli import main\nsys.exit(main(sys.argv[1:]))\n"
    return subprocess.Popen([sys.executable, "-c", code, *map(str, argv)], stdout=stdout, stderr=subprocess.PIPE,
                            text=True)


def finish(child):
    out, err = child.communicate(timeout=300)
    return child.returncode, out, err


def wait_for(path, child):
    """Block until ``path`` exists (the child got that far); fail if the child ends first."""
    while not path.exists():
        assert child.poll() is None, child.communicate()
        time.sleep(0.02)


def test_two_runs_into_one_out_are_refused_and_a_dead_runs_lock_is_taken_over(tmp_path):
    out = tmp_path / "run"
    first = start(*TRAIN, "--out", out)
    wait_for(out / LOCK_NAME, first)
    os.kill(first.pid, signal.SIGSTOP)  # holding the lock
    try:
        status, _, stderr = finish(start(*TRAIN, "--out", out))
        one_line_error(status, stderr, "in use by another run", f"process {first.pid}", str(out))
    finally:
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
    assert (out / LOCK_NAME).read_text().strip() == str(first.pid)  # the dead run's lock is left behind
    status, _, stderr = finish(start(*TRAIN, "--out", out, "--data", tmp_path / "no-data"))
    assert status == 1 and "MNIST data folder not found" in stderr  # past the lock: refused for the data alone
    assert "in use" not in stderr and "Traceback" not in stderr
    assert not (out / LOCK_NAME).exists()


def test_ctrl_c_names_the_folder_and_a_resume_command_that_works_and_resume_reports_ignored_options(tmp_path):
    out = tmp_path / "run"
    child = start("train", "--limit", 600, "--epochs", 2, "--data", MNIST, "--quiet", "--out", out)
    wait_for(out / "last.npz", child)
    os.kill(child.pid, signal.SIGSTOP)  # SIGINT arrives as soon as it runs on: during epoch 2 or epoch 1's last files
    os.kill(child.pid, signal.SIGINT)
    os.kill(child.pid, signal.SIGCONT)
    status, _, stderr = finish(child)
    assert status == 130 and "Traceback" not in stderr and len(stderr.strip().splitlines()) == 1, stderr
    held = re.search(r"interrupted; (\S+) holds epoch (\d); continue with: (.+)$", stderr.strip())
    assert held and held[1] == str(out / "last.npz"), stderr
    assert checkpoint.load_metadata(out / "last.npz")["epoch"] == int(held[2])
    command = shlex.split(held[3])
    assert command[:2] == ["tinygrad-cnn", "train"] and "--out" not in command
    status, stdout, stderr = finish(start(*command[1:]))
    assert status == 0 and "epoch 2/2" in stdout, stderr
    assert checkpoint.load_metadata(out / "last.npz")["epoch"] == 2
    status, _, stderr = finish(start("train", "--resume", out / "last.npz", "--epochs", 2, "--data", MNIST,
                                     "--lr", 0.5, "--model", "lenet5", "--batch-size", 64, "--seed", 0))
    warning, error = stderr.strip().splitlines()
    assert warning.startswith("tinygrad-cnn: warning: --resume continues with the options of the run")
    assert "--lr 0.5 (the run's: 0.001)" in warning and "--model lenet5 (the run's: lenet)" in warning
    assert "--batch-size" not in warning and "--seed" not in warning  # the run's own values
    assert status == 1 and "already has 2 epochs" in error


def test_ctrl_c_before_a_resumed_run_saved_names_its_checkpoint_and_out(tmp_path, monkeypatch):
    from tinygrad_cnn.cli import train as cli_train

    status, _, stderr = run(*TRAIN, "--out", tmp_path / "a")
    assert status == 0, stderr

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli_train, "fit", interrupted)
    status, _, stderr = run("train", "--resume", tmp_path / "a" / "last.npz", "--epochs", 3, "--data", MNIST,
                            "--out", tmp_path / "b", "--patience", 2)
    assert status == 130 and len(stderr.strip().splitlines()) == 1
    assert stderr.strip().endswith(f"nothing new was saved; continue with: tinygrad-cnn train --resume "
                                   f"{tmp_path / 'a' / 'last.npz'} --epochs 3 --out {tmp_path / 'b'} --data {MNIST} "
                                   "--patience 2")
    assert not (tmp_path / "b").exists()


def test_ctrl_c_while_the_data_loads_is_one_line(tmp_path):
    marker = tmp_path / "loading"
    script = ("import pathlib, time\nimport tinygrad_cnn.cli.common as common\n"
              "def slow(*args, **kwargs):\n"
              f"    pathlib.Path({str(marker)!r}).touch()\n"
              "    time.sleep(120)\n"
              "common.load_mnist = slow\n")
    child = start(*TRAIN, "--out", tmp_path / "run", script=script)
    wait_for(marker, child)
    os.kill(child.pid, signal.SIGINT)
    status, _, stderr = finish(child)
    assert status == 130 and "Traceback" not in stderr and len(stderr.strip().splitlines()) == 1, stderr
    assert "interrupted" in stderr and "nothing was saved" in stderr
    assert not (tmp_path / "run").exists()  # the folder the lock made is removed again


@pytest.mark.parametrize("case", ["diverging", "no training images"])
def test_a_run_that_cannot_train_ends_with_one_line(tmp_path, case):
    extra = ("--lr", "1e30") if case == "diverging" else ("--val-size", 200)
    status, _, stderr = finish(start(*TRAIN, "--out", tmp_path / "run", *extra))
    words = (["training loss became", "--lr 1e+30", "nothing was saved"] if case == "diverging"
             else ["--val-size 200 leaves no training image out of 200"])
    one_line_error(status, stderr, *words)


@pytest.mark.parametrize("argv", [("summary",), ("--help",), ("train", "--limit", 200, "--epochs", 1, "--data", MNIST)])
def test_a_closed_pipe_ends_quietly_with_status_0(tmp_path, argv):
    read, write = os.pipe()
    os.close(read)  # the reader is gone before anything is written, as after `| head -1`
    argv = argv + (("--out", tmp_path / "run") if argv[0] == "train" else ())
    child = start(*argv, stdout=write)
    os.close(write)
    status, _, stderr = finish(child)
    assert status == 0 and stderr == ""


def test_a_file_system_without_locks_runs_unlocked(tmp_path, monkeypatch):
    import errno
    import fcntl

    def no_locks(fd, operation):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(fcntl, "flock", no_locks)
    status, _, stderr = run(*TRAIN, "--out", tmp_path / "run", "--data", tmp_path / "no-data")
    assert status == 1 and "MNIST data folder not found" in stderr and "lock" not in stderr
    assert not (tmp_path / "run").exists()
