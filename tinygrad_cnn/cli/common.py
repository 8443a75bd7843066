"""What the ``tinygrad-cnn`` subcommands share: CLIError, optional-extra checks, data, checkpoints, output files."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np

from tinygrad_cnn import checkpoint, viz
from tinygrad_cnn.data import MNIST_MEAN, MNIST_STD, MNISTDownloadError, MNISTError, load_mnist
from tinygrad_cnn.data.augment import Standardize
from tinygrad_cnn.extras import install_command
from tinygrad_cnn.fileio import atomic_write
from tinygrad_cnn.tensor import Tensor
from tinygrad_cnn.utils.data import DataLoader, TensorDataset

EVAL_BATCH = 1000


class CLIError(Exception):
    """A user-facing failure: printed as ``tinygrad-cnn: error: ...`` with exit status 1."""


_PIP_NAMES = {"PIL": "pillow"}


def require(command: str, extra: str, *modules: str) -> None:
    """Fail up front, with how to install them, when optional packages ``command`` needs are missing."""
    missing = []
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(_PIP_NAMES.get(name, name))
    if missing:
        raise CLIError(f"{command} needs {' and '.join(missing)}, which {'is' if len(missing) == 1 else 'are'} "
                       f"not installed; install the extra: {install_command(extra)}")


@contextmanager
def checkpoint_errors() -> Iterator[None]:
    """Turn a missing, damaged or unfitting checkpoint into a CLIError (one message, no traceback)."""
    try:
        yield
    except (FileNotFoundError, checkpoint.CheckpointError) as exc:
        raise CLIError(str(exc)) from None


def dataset(X: np.ndarray, y: np.ndarray, norm: tuple[float, float] | None) -> TensorDataset | Standardize:
    """(image, label) pairs, the images standardised batch by batch by ``norm`` (mean, std) unless None."""
    pairs = TensorDataset(Tensor(X), Tensor(y))
    return Standardize(pairs, *norm) if norm else pairs


def eval_loader(X: np.ndarray, y: np.ndarray, norm: tuple[float, float] | None) -> DataLoader:
    """Batches of EVAL_BATCH in order, normalised by ``norm`` (mean, std) unless None."""
    return DataLoader(dataset(X, y, norm), batch_size=EVAL_BATCH)


def load_data(root: str | None, download: bool) -> tuple[np.ndarray, ...]:
    """``load_mnist(root, download=download)``, its failures turned into a CLIError."""
    try:
        return load_mnist(root, download=download)
    except (FileNotFoundError, MNISTError, MNISTDownloadError) as exc:
        raise CLIError(str(exc)) from None


def restore(path: str) -> tuple[Any, tuple[float, float] | None]:
    """The model saved in checkpoint ``path`` (``checkpoint.load_model``) and the input normalisation
    it was trained with."""
    with checkpoint_errors():
        model = checkpoint.load_model(path)
        meta = checkpoint.load_metadata(path)
    norm = meta["extra"].get("config", {}).get("normalize", [MNIST_MEAN, MNIST_STD])
    return model, None if norm is None else tuple(norm)


def write_json(path: Path, data: Any) -> None:
    """``data`` as indented JSON at ``path``, written atomically."""
    atomic_write(path, (json.dumps(data, indent=2) + "\n").encode())


def write_graph(graph: Any, path: Path) -> Path:
    """``path`` as DOT text (.dot/.gv) or rendered by Graphviz (other suffixes)."""
    if path.suffix.lower() in (".dot", ".gv"):
        return atomic_write(path, graph.source.encode())
    try:
        return viz.render(graph, path)
    except RuntimeError as exc:
        raise CLIError(str(exc)) from None


def output_folder(out: str | None, resume: str | None, model: str, overwrite: bool) -> Path:
    """The run's output folder, checked before any data loads or training starts: --out, else
    the --resume checkpoint's folder, else runs/MODEL (created later, when the first checkpoint
    is saved). CLIError when it or a parent is a file, it could not be created or written, or (a
    new run, without ``overwrite``) it already holds an earlier run's last.npz."""
    folder = Path(out) if out else Path(resume).parent if resume else Path("runs") / model
    existing = next(p for p in (folder, *folder.parents) if p.exists() or p == Path(p.anchor or "."))
    if existing.exists() and not existing.is_dir():
        raise CLIError(f"--out {folder}: not a directory ({existing} is a file); choose another --out")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise CLIError(f"--out {folder}: {'the folder' if existing == folder else existing} is not writable, "
                       "so the run could not be saved")
    if resume is None and not overwrite and (folder / "last.npz").exists():
        raise CLIError(f"--out {folder} already holds an earlier run (last.npz); pass --overwrite to replace it, "
                       "another --out, or --resume to continue it")
    return folder


LOCK_NAME = ".tinygrad-cnn.lock"


@contextmanager
def run_lock(folder: Path) -> Iterator[None]:
    """Hold ``folder``/.tinygrad-cnn.lock for the block, so that a second run into the same
    folder is refused (CLIError naming the process that holds it) instead of mixing its
    checkpoints with this run's. The lock is an ``fcntl.flock`` on the file, which the system
    releases when the holder dies: a lock file left by a killed run is simply taken over. The
    folder is created here (and removed again at the end if the run left nothing in it); on
    systems without ``fcntl``, or file systems without locks, the run goes unlocked."""
    try:
        import fcntl
    except ImportError:  # not POSIX
        yield
        return
    created = not folder.exists()
    path = folder / LOCK_NAME
    try:
        folder.mkdir(parents=True, exist_ok=True)
        while True:  # until the lock is held on the file that is at the path (a finishing run unlinks it)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.read(fd, 32).decode(errors="replace").strip() or "?"
                os.close(fd)
                raise CLIError(f"--out {folder} is in use by another run (process {holder}, {path}); wait for it to "
                               "finish or choose another --out") from None
            except OSError:  # a file system without locks (some network mounts): the run goes unlocked
                os.close(fd)
                if created:
                    path.unlink(missing_ok=True)
                fd = -1
                break
            try:
                if os.stat(path).st_ino == os.fstat(fd).st_ino:
                    break
            except FileNotFoundError:
                pass
            os.close(fd)
        if fd >= 0:
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
    except OSError as exc:
        raise CLIError(f"--out {folder}: cannot create the run's lock file ({exc})") from None
    try:
        yield
    finally:
        if fd >= 0:
            path.unlink(missing_ok=True)
            os.close(fd)
        if created:
            try:
                folder.rmdir()  # only when empty: a run that saved nothing leaves no folder
            except OSError:
                pass


def given_options(parser: argparse.ArgumentParser, argv: Sequence[str]) -> set[str]:
    """The destinations of the options written out in ``argv`` (not left at their defaults), as
    ``parser`` (a fresh copy of the command's parser, changed here) parses them."""
    def suppress(p: argparse.ArgumentParser) -> None:
        for action in p._actions:
            action.default = argparse.SUPPRESS
            if isinstance(action, argparse._SubParsersAction):
                for sub in action.choices.values():
                    suppress(sub)

    suppress(parser)
    return set(vars(parser.parse_args(argv)))


def quiet_stdout() -> None:
    """Point stdout at the null device after the reader of its pipe has gone (``... | head``), so
    the interpreter's last flush raises nothing; a stdout without a file descriptor is left."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass

