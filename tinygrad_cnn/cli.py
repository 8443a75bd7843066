"""The ``tinygrad-cnn`` command (also ``python -m tinygrad_cnn``): train, evaluate, predict, summary, graph,
export, sweep.

    tinygrad-cnn train                       # LeNet, 5 epochs, Adam 1e-3 + cosine schedule
    tinygrad-cnn train --epochs 1 --limit 5000 --out runs/quick
    tinygrad-cnn evaluate runs/lenet/best.npz --plot
    tinygrad-cnn predict runs/lenet/best.npz digit.png scan.npy
    tinygrad-cnn summary --model lenet
    tinygrad-cnn graph --model lenet -o lenet.svg
    tinygrad-cnn export runs/lenet/best.npz -o lenet.onnx
    tinygrad-cnn sweep --model lenet --param lr=1e-3,3e-3 --param batch_size=32,64 --epochs 2
"""

from __future__ import annotations

import argparse
import importlib
import io
import json
import math
import shutil
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np

from tinygrad_cnn import checkpoint, optim, viz
from tinygrad_cnn.data import MNIST_MEAN, MNIST_STD, DataLoader, MNISTDownloadError, MNISTError, load_mnist
from tinygrad_cnn.fileio import atomic_write
from tinygrad_cnn.nn.functional import cross_entropy
from tinygrad_cnn.random import manual_seed
from tinygrad_cnn.train import DEFAULT_LR, History, epoch_line, evaluate, fit, make_optimizer, predict, predict_proba

EVAL_BATCH = 1000
GRAPH_SUFFIXES = (".svg", ".png", ".pdf", ".dot", ".gv")


class CLIError(Exception):
    """A user-facing failure: printed as ``tinygrad-cnn: error: ...`` with exit status 1."""


# ---------------------------------------------------------------------------- argument types
def _checked(convert: type, accept: Any, expected: str) -> Any:
    """An argparse type: ``convert(text)``, refused with "expected <expected>" unless ``accept(value)``."""
    def parse(text: str) -> Any:
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
        if not accept(value):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text}")
        return value
    return parse


_positive_int = _checked(int, lambda v: v >= 1, "a positive integer")
_non_negative_int = _checked(int, lambda v: v >= 0, "a non-negative integer")
_positive_float = _checked(float, lambda v: 0 < v < float("inf"), "a positive number")
_fraction = _checked(float, lambda v: 0 <= v < 1, "a fraction in [0, 1)")
_graph_file = _checked(str, lambda v: Path(v).suffix.lower() in GRAPH_SUFFIXES,
                       f"a file ending in {', '.join(GRAPH_SUFFIXES[:-1])} or {GRAPH_SUFFIXES[-1]}")


def _model_names() -> list[str]:
    from models import MODELS

    return sorted(MODELS)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``tinygrad-cnn`` command and its subcommands."""
    parser = argparse.ArgumentParser(
        prog="tinygrad-cnn",
        description="Train and use small CNNs on MNIST with tinygrad_cnn (pure NumPy).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    models = _model_names()

    def data_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--data", metavar="DIR",
                       help="folder of the MNIST IDX files (default: $TINYGRAD_CNN_DATA, else the repository's "
                            "data/mnist)")
        p.add_argument("--download", action="store_true", help="fetch missing MNIST files from the usual mirrors")

    train = sub.add_parser("train", help="train a model on MNIST",
                           description="Train a model on MNIST; writes best.npz, last.npz, history.json, "
                                       "curves.png and the model's graph to --out.")
    train.add_argument("--model", choices=models, default="lenet", help="model to train (default: lenet)")
    train.add_argument("--epochs", type=_positive_int, default=5, help="total number of epochs (default: 5)")
    train.add_argument("--batch-size", type=_positive_int, default=64, help="mini-batch size (default: 64)")
    train.add_argument("--optimizer", choices=list(DEFAULT_LR), default="adam",
                       help="adam, or sgd with momentum 0.9 (default: adam)")
    train.add_argument("--lr", type=_positive_float,
                       help="initial learning rate, decayed by a cosine schedule over the epochs of the run "
                            f"(default: {', '.join(f'{lr:g} for {name}' for name, lr in DEFAULT_LR.items())})")
    train.add_argument("--seed", type=_non_negative_int, default=0, help="random seed (default: 0)")
    data_options(train)
    train.add_argument("--out", metavar="DIR", help="output folder (default: runs/MODEL)")
    train.add_argument("--resume", metavar="CKPT",
                       help="continue the run saved in this checkpoint (its model and options) up to --epochs; "
                            "a larger --epochs than the run's stretches its cosine schedule over the new total")
    train.add_argument("--limit", type=_positive_int, metavar="N",
                       help="use only the first N training images (and the first N test images)")
    train.add_argument("--val-split", type=_fraction, default=0.0, metavar="FRACTION",
                       help="hold out this fraction of the training images for validation; by default the "
                            "test set is evaluated after each epoch and picks the best checkpoint")
    train.add_argument("--patience", type=_positive_int, metavar="N",
                       help="stop early after N epochs without a lower validation loss")
    train.add_argument("--quiet", action="store_true", help="no progress bar")

    evaluate_p = sub.add_parser("evaluate", help="test loss, accuracy and confusion matrix of a checkpoint")
    evaluate_p.add_argument("checkpoint", metavar="CKPT", help="a .npz checkpoint written by train")
    data_options(evaluate_p)
    evaluate_p.add_argument("--limit", type=_positive_int, metavar="N", help="use only the first N test images")
    evaluate_p.add_argument("--plot", nargs="?", const="", metavar="PNG",
                            help="also draw the confusion matrix (default file: next to the checkpoint)")

    predict_p = sub.add_parser("predict", help="classify PNG/JPEG/NPY images of handwritten digits")
    predict_p.add_argument("checkpoint", metavar="CKPT", help="a .npz checkpoint written by train")
    predict_p.add_argument("images", nargs="+", metavar="IMAGE",
                           help="image files of any size (dark digit on light background is inverted)")

    summary = sub.add_parser("summary", help="print a model's layer table")
    summary.add_argument("--model", choices=models, default="lenet", help="model (default: lenet)")

    graph = sub.add_parser("graph", help="draw the training graph (forward + loss) of one batch")
    graph.add_argument("--model", choices=models, default="lenet", help="model (default: lenet)")
    graph.add_argument("-o", "--output", metavar="FILE", type=_graph_file,
                       help="output file: .svg/.png/.pdf (needs Graphviz's dot) or .dot/.gv (default: MODEL.svg)")
    graph.add_argument("--batch-size", type=_positive_int, default=64, help="batch size drawn (default: 64)")
    graph.add_argument("--rankdir", choices=viz.RANKDIRS, default="TB", help="layout direction")

    export_p = sub.add_parser("export", help="write a checkpoint's model as an ONNX file (batch size free)")
    export_p.add_argument("checkpoint", metavar="CKPT", help="a .npz checkpoint written by train")
    export_p.add_argument("-o", "--output", metavar="FILE", help="the .onnx file (default: next to CKPT)")
    export_p.add_argument("--opset", type=_positive_int, help="ONNX opset version (default: 20)")

    sweep_p = sub.add_parser("sweep", help="train every combination of some train options, in parallel",
                             description="Train one `tinygrad-cnn train` run per combination of the --param "
                                         "values; write results.csv and results.md (best validation accuracy "
                                         "first) and each run's folder to --out.")
    sweep_p.add_argument("--model", choices=models, default="lenet", help="model to train (default: lenet)")
    sweep_p.add_argument("--param", action="append", required=True, metavar="NAME=V1,V2",
                         help="a train option and its values, e.g. lr=1e-3,3e-3 or batch_size=32,64 (repeatable)")
    sweep_p.add_argument("--epochs", type=_positive_int, default=5, help="epochs per run (default: 5)")
    sweep_p.add_argument("--limit", type=_positive_int, metavar="N", help="as train's --limit")
    sweep_p.add_argument("--val-split", type=_fraction, default=0.0, metavar="FRACTION", help="as train's --val-split")
    data_options(sweep_p)
    sweep_p.add_argument("--out", metavar="DIR", default="runs/sweep", help="output folder (default: runs/sweep)")
    where = sweep_p.add_mutually_exclusive_group()
    where.add_argument("--scheduler", metavar="ADDRESS", help="run on this Dask scheduler's workers (tcp://HOST:8786)")
    where.add_argument("--workers", type=_positive_int, metavar="K",
                       help="local worker processes (default: one per core; 1 runs the grid one by one)")
    return parser


# ---------------------------------------------------------------------------- helpers
_PIP_NAMES = {"PIL": "pillow"}


def _require(command: str, extra: str, *modules: str) -> None:
    """Fail up front, with how to install them, when optional packages ``command`` needs are missing."""
    missing = []
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(_PIP_NAMES.get(name, name))
    if missing:
        raise CLIError(f"{command} needs {' and '.join(missing)}, which {'is' if len(missing) == 1 else 'are'} "
                       f'not installed; install the extra: pip install -e ".[{extra}]"')


@contextmanager
def _checkpoint_errors() -> Iterator[None]:
    """Turn a missing, damaged or unfitting checkpoint into a CLIError (one message, no traceback)."""
    try:
        yield
    except (FileNotFoundError, checkpoint.CheckpointError) as exc:
        raise CLIError(str(exc)) from None


def _eval_loader(X: np.ndarray, y: np.ndarray, norm: tuple[float, float] | None) -> DataLoader:
    """Batches of EVAL_BATCH in order, normalised by ``norm`` (mean, std) unless None."""
    return DataLoader(X, y, batch_size=EVAL_BATCH, seed=0, normalize=norm or False)


def _load_data(root: str | None, download: bool) -> tuple[np.ndarray, ...]:
    try:
        return load_mnist(root, download=download)
    except (FileNotFoundError, MNISTError, MNISTDownloadError) as exc:
        raise CLIError(str(exc)) from None


def _model_name(meta: dict[str, Any]) -> str:
    """The registry name of the checkpoint's model: saved by train, else found from its class name."""
    from models import MODELS

    name = meta["extra"].get("config", {}).get("model")
    if name in MODELS:
        return name
    for key, cls in MODELS.items():
        if cls.__name__ == meta["model_class"]:
            return key
    raise CLIError(f"checkpoint holds a {meta['model_class']}, which is not one of the models {sorted(MODELS)}")


def _restore(path: str) -> tuple[Any, tuple[float, float] | None]:
    """The model saved in checkpoint ``path`` and the input normalisation it was trained with."""
    from models import get_model

    with _checkpoint_errors():
        meta = checkpoint.load_metadata(path)
        model = get_model(_model_name(meta))
        checkpoint.load(path, model, restore_rng=False)
    norm = meta["extra"].get("config", {}).get("normalize", [MNIST_MEAN, MNIST_STD])
    return model.eval(), None if norm is None else tuple(norm)


def _write_json(path: Path, data: Any) -> None:
    atomic_write(path, (json.dumps(data, indent=2) + "\n").encode())


def _save_figure(fig: Any, path: Path) -> Path:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return atomic_write(path, buffer.getvalue())


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_history(history: History, path: str | Path) -> Path:
    """Loss and accuracy per epoch (train, and validation where recorded) as a PNG at ``path``."""
    plt = _pyplot()
    epochs = np.arange(1, history.epochs + 1)
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
    for ax, train, val, title in ((ax_loss, history.train_loss, history.val_loss, "loss"),
                                  (ax_acc, history.train_acc, history.val_acc, "accuracy")):
        ax.plot(epochs, train, "o-", label="train")
        points = [(e, v) for e, v in zip(epochs, val) if v is not None]
        if points:
            ax.plot(*zip(*points), "s-", label="validation")
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
        ax.set_title(title)
        ax.grid(alpha=0.3)
        ax.legend()
    ax_acc.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.1%}"))
    try:
        return _save_figure(fig, Path(path))
    finally:
        plt.close(fig)


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int = 10) -> np.ndarray:
    """Counts (num_classes, num_classes): row = true class, column = predicted class."""
    return np.bincount(y_true * num_classes + y_pred, minlength=num_classes**2).reshape(num_classes, num_classes)


def format_confusion(matrix: np.ndarray) -> str:
    """The confusion matrix as a text table with each class's recall."""
    width = max(5, len(str(matrix.max())) + 1)
    k = len(matrix)
    lines = ["true \\ predicted".ljust(17) + "".join(str(j).rjust(width) for j in range(k)) + "  recall"]
    for i, row in enumerate(matrix):
        recall = row[i] / row.sum() if row.sum() else float("nan")
        lines.append(str(i).rjust(16) + " " + "".join(str(v).rjust(width) for v in row) + f"  {recall:7.2%}")
    return "\n".join(lines)


def plot_confusion(matrix: np.ndarray, path: str | Path) -> Path:
    """The confusion matrix as a PNG heat map with counts."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 5.5))
    ax.imshow(np.log1p(matrix), cmap="Blues")
    k = len(matrix)
    for i in range(k):
        for j in range(k):
            ax.text(j, i, str(matrix[i, j]), ha="center", va="center", fontsize=7,
                    color="white" if i == j else "black")
    ax.set_xticks(range(k))
    ax.set_yticks(range(k))
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"confusion matrix (accuracy {np.trace(matrix) / matrix.sum():.2%})")
    try:
        return _save_figure(fig, Path(path))
    finally:
        plt.close(fig)


def _write_graph(graph: Any, path: Path) -> Path:
    """``path`` as DOT text (.dot/.gv) or rendered by Graphviz (other suffixes)."""
    if path.suffix.lower() in (".dot", ".gv"):
        return atomic_write(path, graph.source.encode())
    try:
        return viz.render(graph, path)
    except RuntimeError as exc:
        raise CLIError(str(exc)) from None


# ---------------------------------------------------------------------------- images for predict
def load_image(path: str | Path) -> np.ndarray:
    """An image file (PNG/JPEG/... via Pillow, or .npy) as grey float32 (H, W) in [0, 1]."""
    path = Path(path)
    if not path.is_file():
        raise CLIError(f"image {path} does not exist")
    if path.suffix.lower() == ".npy":
        try:
            array = np.load(path, allow_pickle=False)
        except (ValueError, OSError, EOFError) as exc:
            raise CLIError(f"image {path}: not a readable .npy array ({exc})") from None
        array = np.squeeze(array)
        if array.ndim == 3 and array.shape[-1] in (3, 4):
            array = array[..., :3] @ np.array([0.299, 0.587, 0.114])
        if array.ndim != 2 or not np.issubdtype(array.dtype, np.number):
            raise CLIError(f"image {path}: expected a 2-D (grey) or H x W x 3 array, got shape {array.shape}")
        array = array.astype(np.float32)
        return array / 255 if array.max() > 1 else array
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            return np.asarray(image.convert("L"), dtype=np.float32) / 255
    except UnidentifiedImageError:
        raise CLIError(f"image {path}: not an image Pillow can read") from None
    except OSError as exc:
        raise CLIError(f"image {path}: unreadable ({exc})") from None


def to_mnist(image: np.ndarray) -> np.ndarray:
    """A grey image (H, W) in [0, 1] turned into a 28x28 MNIST-style digit: white on black
    (inverted when the border is light), the ink's bounding box scaled to fit 20x20 and
    centred by its centre of mass, as the MNIST images were made. 28x28 input is kept as is
    (after the inversion check)."""
    from PIL import Image

    border = np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])
    if border.mean() > 0.5:
        image = 1.0 - image
    image = np.clip(image, 0.0, 1.0).astype(np.float32)
    if image.shape == (28, 28):
        return image
    rows, cols = np.nonzero(image > 0.2 * image.max()) if image.max() > 0 else ((), ())
    if len(rows) == 0:
        return np.asarray(Image.fromarray(image).resize((28, 28), Image.Resampling.BILINEAR))
    glyph = image[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    scale = 20 / max(glyph.shape)
    size = (max(1, round(glyph.shape[1] * scale)), max(1, round(glyph.shape[0] * scale)))
    glyph = np.clip(np.asarray(Image.fromarray(glyph).resize(size, Image.Resampling.LANCZOS)), 0, 1)
    out = np.zeros((28, 28), dtype=np.float32)
    h, w = glyph.shape
    mass = glyph.sum()
    cy = (np.arange(h) @ glyph.sum(axis=1)) / mass if mass > 0 else (h - 1) / 2
    cx = (np.arange(w) @ glyph.sum(axis=0)) / mass if mass > 0 else (w - 1) / 2
    top = int(np.clip(round(13.5 - cy), 0, 28 - h))
    left = int(np.clip(round(13.5 - cx), 0, 28 - w))
    out[top:top + h, left:left + w] = glyph
    return out


# ---------------------------------------------------------------------------- commands
def _train_config(args: argparse.Namespace) -> dict[str, Any]:
    """The run's options: from the command line, or those saved in the --resume checkpoint.
    ``lr`` None stands for the optimizer's default."""
    if args.resume is None:
        return {"model": args.model, "batch_size": args.batch_size, "optimizer": args.optimizer, "lr": args.lr,
                "seed": args.seed, "limit": args.limit, "val_split": args.val_split,
                "normalize": [MNIST_MEAN, MNIST_STD]}
    with _checkpoint_errors():
        meta = checkpoint.load_metadata(args.resume)
    config = meta["extra"].get("config")
    if config is None:
        raise CLIError(f"checkpoint {args.resume} was not written by `tinygrad-cnn train`; cannot resume it here")
    return config


def _split(X: np.ndarray, y: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, ...]:
    """A random hold-out of ``fraction`` of the samples: (X_train, y_train, X_val, y_val)."""
    order = np.random.default_rng(seed).permutation(len(X))
    n_val = max(1, int(round(len(X) * fraction)))
    val, train = np.sort(order[:n_val]), np.sort(order[n_val:])
    return X[train], y[train], X[val], y[val]


def _stretch_cosine(scheduler: optim.lr_scheduler.CosineAnnealingLR, T_max: int) -> None:
    """Make a restored cosine schedule run over ``T_max`` epochs in all: each group's learning rate
    becomes the curve's value at the current epoch, eta_min + (base_lr - eta_min) * (1 + cos(pi *
    epoch / T_max)) / 2, from which the scheduler's recursive steps follow the new curve."""
    scheduler.T_max = T_max
    cosine = (1 + math.cos(math.pi * scheduler.last_epoch / T_max)) / 2
    for group, base_lr in zip(scheduler.optimizer.param_groups, scheduler.base_lrs):
        group["lr"] = scheduler.eta_min + (base_lr - scheduler.eta_min) * cosine


def cmd_train(args: argparse.Namespace) -> int:
    """``tinygrad-cnn train``: train a model on MNIST, or continue the run saved in --resume, up to
    --epochs; after each epoch write last.npz, best.npz (highest validation accuracy) and
    history.json to --out, at the end curves.png and the model's graph. Returns the exit status
    (130 when interrupted with Ctrl-C, after saying how to resume)."""
    from models import get_model

    _require("train", "train", "matplotlib", "graphviz")
    config = _train_config(args)
    out = Path(args.out or Path("runs") / config["model"])
    X_train, y_train, X_test, y_test = _load_data(args.data, args.download)
    if config["limit"]:
        X_train, y_train = X_train[:config["limit"]], y_train[:config["limit"]]
        X_test, y_test = X_test[:config["limit"]], y_test[:config["limit"]]
    X_val, y_val = X_test, y_test
    if config["val_split"]:
        X_train, y_train, X_val, y_val = _split(X_train, y_train, config["val_split"], config["seed"])
    norm = tuple(config["normalize"])

    manual_seed(config["seed"])
    model = get_model(config["model"])
    train_loader = DataLoader(X_train, y_train, batch_size=config["batch_size"], shuffle=True, normalize=norm)
    val_loader = _eval_loader(X_val, y_val, norm)
    optimizer = make_optimizer(config["optimizer"], model.parameters(), config["lr"])
    config["lr"] = optimizer.defaults["lr"]  # the rate used, recorded in the checkpoints
    scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)
    history = History()
    if args.resume is not None:
        with _checkpoint_errors():
            info = checkpoint.load(args.resume, model, optimizer, scheduler=scheduler, loader=train_loader)
        history = info["history"]
        if history.epochs >= args.epochs:
            raise CLIError(f"checkpoint {args.resume} already has {history.epochs} epochs; pass --epochs above that")
        if scheduler.T_max != args.epochs:
            _stretch_cosine(scheduler, args.epochs)
        print(f"resuming {config['model']} from {args.resume} after epoch {history.epochs}")

    val_name = "validation split" if config["val_split"] else "test set"
    epochs = f"{args.epochs} epoch{'s' if args.epochs != 1 else ''}"
    print(f"training {config['model']} ({model.get_params_count():,} parameters) on {len(X_train):,} images "
          f"for {epochs}: {config['optimizer']} lr {config['lr']:g} with a cosine schedule, "
          f"batch {config['batch_size']}, seed {config['seed']}; validating on the {val_name} "
          f"({len(X_val):,} images); output in {out}")
    extra = {"config": config}
    best = {"acc": max((a for a in history.val_acc if a is not None), default=-1.0)}

    def after_epoch(epoch: int, hist: History) -> None:
        print(epoch_line(epoch, args.epochs, hist, train_loader.num_samples), flush=True)
        state = dict(model=model, optimizer=optimizer, epoch=epoch, history=hist, scheduler=scheduler,
                     loader=train_loader, extra=extra)
        checkpoint.save(out / "last.npz", **state)
        if hist.val_acc[-1] > best["acc"]:
            best["acc"] = hist.val_acc[-1]
            checkpoint.save(out / "best.npz", **state)
        _write_json(out / "history.json", hist.to_dict())

    try:
        fit(model, train_loader, optimizer, cross_entropy, args.epochs - history.epochs, val_loader=val_loader,
            scheduler=scheduler, callbacks=[after_epoch], early_stopping=args.patience, quiet=args.quiet,
            history=history)
    except KeyboardInterrupt:
        hint = (f"; continue with: tinygrad-cnn train --resume {out / 'last.npz'} --epochs {args.epochs}"
                if history.epochs else "")
        print(f"tinygrad-cnn: interrupted after {history.epochs} complete epoch(s){hint}", file=sys.stderr)
        return 130

    if config["val_split"]:
        test_loss, test_acc = evaluate(model, _eval_loader(X_test, y_test, norm))
    else:
        test_loss, test_acc = history.val_loss[-1], history.val_acc[-1]
    print(f"test loss {test_loss:.4f}  accuracy {test_acc:.2%} ({len(X_test):,} images, final model); "
          f"training took {sum(history.seconds):.1f}s")
    written = [out / "best.npz", out / "last.npz", out / "history.json", plot_history(history, out / "curves.png")]
    graph = viz.model_graph(model, X_train.shape[1:], batch_size=config["batch_size"])
    written.append(_write_graph(graph, out / ("graph.svg" if shutil.which("dot") else "graph.dot")))
    print("wrote " + ", ".join(str(p) for p in written))
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    """``tinygrad-cnn evaluate``: print a checkpoint's test loss, accuracy and confusion matrix
    (with each class's recall), and draw the matrix with --plot. Returns the exit status."""
    if args.plot is not None:
        _require("evaluate --plot", "train", "matplotlib")
    model, norm = _restore(args.checkpoint)
    _, _, X_test, y_test = _load_data(args.data, args.download)
    if args.limit:
        X_test, y_test = X_test[:args.limit], y_test[:args.limit]
    loader = _eval_loader(X_test, y_test, norm)
    loss, acc = evaluate(model, loader)
    matrix = confusion_matrix(y_test, predict(model, loader))
    print(f"test loss {loss:.4f}  accuracy {acc:.2%}  ({len(y_test):,} images, {args.checkpoint})")
    print(format_confusion(matrix))
    if args.plot is not None:
        path = Path(args.plot) if args.plot else Path(args.checkpoint).with_name(
            Path(args.checkpoint).stem + "_confusion.png")
        print(f"wrote {plot_confusion(matrix, path)}")
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    """``tinygrad-cnn predict``: print the digit a checkpoint sees in each image file and its
    probability, one line per image. Returns the exit status."""
    _require("predict", "train", "PIL")
    model, norm = _restore(args.checkpoint)
    digits = np.stack([to_mnist(load_image(p)) for p in args.images])[:, None]
    probs = predict_proba(model, _eval_loader(digits, np.zeros(len(digits), dtype=np.int64), norm))
    width = max(len(p) for p in args.images)
    for path, p in zip(args.images, probs):
        k = int(p.argmax())
        print(f"{path.ljust(width)}  {k}  ({p[k]:.1%})")
    return 0


def cmd_summary(args: argparse.Namespace) -> int:
    """``tinygrad-cnn summary``: print a model's layer table for one MNIST image. Returns 0."""
    from models import get_model

    model = get_model(args.model)
    print(model.summary(model.input_shape))
    return 0


def cmd_graph(args: argparse.Namespace) -> int:
    """``tinygrad-cnn graph``: draw the training graph (forward pass and loss) of one batch of a
    freshly initialised model (seed 0) to -o as DOT text or a Graphviz picture. Returns the exit status."""
    from models import get_model

    _require("graph", "viz", "graphviz")
    manual_seed(0)
    model = get_model(args.model)
    graph = viz.model_graph(model, model.input_shape, batch_size=args.batch_size, rankdir=args.rankdir)
    print(f"wrote {_write_graph(graph, Path(args.output or f'{args.model}.svg'))}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """``tinygrad-cnn export``: the checkpoint's model as an ONNX file (tinygrad_cnn.onnx.export_checkpoint)."""
    from tinygrad_cnn.onnx import ExportError, export_checkpoint

    _require("export", "onnx", "onnx")
    output = args.output or Path(args.checkpoint).with_suffix(".onnx")
    with _checkpoint_errors():
        try:
            print(f"wrote {export_checkpoint(args.checkpoint, output, opset_version=args.opset)}")
        except ExportError as exc:
            raise CLIError(str(exc)) from None
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    """``tinygrad-cnn sweep``: every combination of the --param values trained (tinygrad_cnn.sweep),
    a line per finished run, then the results table. Returns the exit status."""
    from tinygrad_cnn.sweep import SweepError, parse_params, sweep, write_results

    _require("sweep", "train", "matplotlib", "graphviz")
    if args.scheduler:
        _require("sweep --scheduler", "dask", "distributed")
    options = ["--epochs", str(args.epochs), "--val-split", str(args.val_split)]
    options += (["--limit", str(args.limit)] if args.limit else []) + (["--data", args.data] if args.data else [])
    options += ["--download"] if args.download else []
    try:
        rows = sweep(args.model, parse_params(args.param), args.out, options=options, scheduler=args.scheduler,
                     workers=args.workers)
    except SweepError as exc:
        raise CLIError(str(exc)) from None
    csv_path, md_path = write_results(rows, args.out)
    print(md_path.read_text(), end="")
    print(f"wrote {csv_path}, {md_path}")
    failed = [r for r in rows if "error" in r]
    if failed:
        print(f"tinygrad-cnn: error: {len(failed)} of {len(rows)} runs failed; see their train.log", file=sys.stderr)
        return 1
    return 0


COMMANDS = {"train": cmd_train, "evaluate": cmd_evaluate, "predict": cmd_predict, "summary": cmd_summary,
            "graph": cmd_graph, "export": cmd_export, "sweep": cmd_sweep}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default: sys.argv[1:]); returns the exit status.

    Bad arguments exit with status 2 (argparse); failures such as missing data or a
    checkpoint that does not fit print one ``tinygrad-cnn: error:`` message and return 1.
    """
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except CLIError as exc:
        print(f"tinygrad-cnn: error: {exc}", file=sys.stderr)
        return 1
