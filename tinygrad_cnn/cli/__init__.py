"""The ``tinygrad-cnn`` command (also ``python -m tinygrad_cnn``): train, evaluate, predict, summary, graph,
report, run, export, sweep.

    tinygrad-cnn train                       # LeNet, 5 epochs, Adam 1e-3 + cosine schedule
    tinygrad-cnn train --epochs 1 --limit 5000 --out runs/quick
    tinygrad-cnn evaluate runs/lenet/best.npz --plot
    tinygrad-cnn predict runs/lenet/best.npz digit.png scan.npy
    tinygrad-cnn summary --model lenet
    tinygrad-cnn graph --model lenet -o lenet.svg
    tinygrad-cnn report runs/lenet           # rebuild runs/lenet/report.html
    tinygrad-cnn run tutorial.py --epochs 1     # an unmodified PyTorch script
    tinygrad-cnn export runs/lenet/best.npz -o lenet.onnx
    tinygrad-cnn sweep --model lenet --param lr=1e-3,3e-3 --param batch_size=32,64 --epochs 2

This module holds the parser and ``main``; each subcommand group has a module of its own
(``train``; ``evaluate`` for evaluate and predict; ``model`` for summary and graph; ``report``;
``scale`` for export; sweep, which hands the parser and ``main`` to tinygrad_cnn.sweep, is here) and
``common`` what they share. The pictures and the image preprocessing live in the package,
for Python users too: ``tinygrad_cnn.plots`` and ``tinygrad_cnn.imaging``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Sequence

from tinygrad_cnn.cli.common import CLIError, require
from tinygrad_cnn.cli.evaluate import cmd_evaluate, cmd_predict
from tinygrad_cnn.cli.model import cmd_graph, cmd_summary
from tinygrad_cnn.cli.report import cmd_report
from tinygrad_cnn.cli.run import cmd_run
from tinygrad_cnn.cli.scale import cmd_export
from tinygrad_cnn.cli.train import cmd_train
from tinygrad_cnn.train import DEFAULT_LR
from tinygrad_cnn.viz import RANKDIRS

GRAPH_SUFFIXES = (".svg", ".png", ".pdf", ".dot", ".gv")


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
_graph_file = _checked(str, lambda v: Path(v).suffix.lower() in GRAPH_SUFFIXES,
                       f"a file ending in {', '.join(GRAPH_SUFFIXES[:-1])} or {GRAPH_SUFFIXES[-1]}")


def _version() -> str:
    """The installed distribution's version, or the source tree's when not installed."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("tinygrad_cnn")
    except PackageNotFoundError:
        return "(source tree, not installed)"


def _model_names() -> list[str]:
    from tinygrad_cnn.models import MODELS

    return sorted(MODELS)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``tinygrad-cnn`` command and its subcommands."""
    parser = argparse.ArgumentParser(
        prog="tinygrad-cnn",
        description="Train and use small CNNs on MNIST with tinygrad_cnn (pure NumPy).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    models = _model_names()
    model_help = ("model: lenet (ReLU + max-pooling, the common modern LeNet), lenet5 (LeCun 1998's tanh + "
                  "average pooling), simple_cnn")

    def data_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--data", metavar="DIR",
                       help="folder of the MNIST IDX files (default: $TINYGRAD_CNN_DATA, else the repository's "
                            "data/mnist)")
        p.add_argument("--download", action="store_true", help="fetch missing MNIST files from the usual mirrors")

    train = sub.add_parser("train", help="train a model on MNIST",
                           description="Train a model on MNIST; writes best.npz, last.npz, history.json, "
                                       "curves.png, the model's graph, predictions.npz (best.npz on the test "
                                       "set) and report.html (the run on one page) to --out.")
    train.add_argument("--model", choices=models, default="lenet", help=model_help + " (default: lenet)")
    train.add_argument("--epochs", type=_positive_int, default=5, help="total number of epochs (default: 5)")
    train.add_argument("--batch-size", type=_positive_int, default=64, help="mini-batch size (default: 64)")
    train.add_argument("--optimizer", choices=list(DEFAULT_LR), default="adam",
                       help="adam, or sgd with momentum 0.9 (default: adam)")
    train.add_argument("--lr", type=_positive_float,
                       help="initial learning rate, decayed by a cosine schedule over the epochs of the run "
                            f"(default: {', '.join(f'{lr:g} for {name}' for name, lr in DEFAULT_LR.items())})")
    train.add_argument("--seed", type=_non_negative_int, default=0, help="random seed (default: 0)")
    data_options(train)
    train.add_argument("--out", metavar="DIR",
                       help="output folder (default: runs/MODEL, or the --resume checkpoint's folder)")
    train.add_argument("--overwrite", action="store_true",
                       help="allow a new run to replace the checkpoints of an earlier run in --out")
    train.add_argument("--resume", metavar="CKPT",
                       help="continue the run saved in this checkpoint (its model and options) up to --epochs; "
                            "a larger --epochs than the run's stretches its cosine schedule over the new total")
    train.add_argument("--limit", type=_positive_int, metavar="N",
                       help="use only the first N training images (and the first N test images)")
    train.add_argument("--val-size", type=_non_negative_int, metavar="N",
                       help="hold out N training images for validation, which picks best.npz and early stopping "
                            "(default: 5000, a twelfth of the images with --limit); 0 validates on the test set")
    train.add_argument("--patience", type=_positive_int, metavar="N",
                       help="stop early after N epochs without a lower validation loss (best.npz has the lowest)")
    train.add_argument("--shift", type=_non_negative_int, default=1, metavar="PIXELS",
                       help="augment: move each training image by up to PIXELS whole pixels each way, a fresh "
                            "draw every epoch (default: 1; 0 is off)")
    train.add_argument("--quiet", action="store_true", help="no progress bar (the epoch lines remain)")
    train.add_argument("--threads", type=_positive_int, metavar="N",
                       help="threads for the ops (default: the cores that other processes leave idle)")

    evaluate_p = sub.add_parser("evaluate", help="test loss, accuracy and confusion matrix of a checkpoint",
                                description="Evaluate a checkpoint on the MNIST test set: loss, accuracy and the "
                                            "confusion matrix with each class's recall.")
    evaluate_p.add_argument("checkpoint", metavar="CKPT", help="a .npz checkpoint written by train")
    data_options(evaluate_p)
    evaluate_p.add_argument("--limit", type=_positive_int, metavar="N", help="use only the first N test images")
    evaluate_p.add_argument("--plot", nargs="?", const="", metavar="PNG",
                            help="also draw the confusion matrix (default file: next to the checkpoint)")

    predict_p = sub.add_parser("predict", help="classify PNG/JPEG/NPY images of handwritten digits",
                               description="Classify image files with a checkpoint: each is made MNIST-like "
                                           "(grey, 28x28, light digit on dark) and gets its digit and confidence.")
    predict_p.add_argument("checkpoint", metavar="CKPT", help="a .npz checkpoint written by train")
    predict_p.add_argument("images", nargs="+", metavar="IMAGE",
                           help="image files of any size (dark digit on light background is inverted)")
    predict_p.add_argument("--topk", type=int, default=1, metavar="K", help="show the K most likely classes (default: 1)")

    summary = sub.add_parser("summary", help="print a model's layer table",
                             description="Print a model's layers with their output shapes and parameter counts.")
    summary.add_argument("--model", choices=models, default="lenet", help=model_help + " (default: lenet)")

    graph = sub.add_parser("graph", help="draw the training graph (forward + loss) of one batch",
                           description="Draw the autograd graph of one training step (forward and loss) of a "
                                       "model with Graphviz.")
    graph.add_argument("--model", choices=models, default="lenet", help=model_help + " (default: lenet)")
    graph.add_argument("-o", "--output", metavar="FILE", type=_graph_file,
                       help="output file: .svg/.png/.pdf (needs Graphviz's dot) or .dot/.gv (default: MODEL.svg)")
    graph.add_argument("--batch-size", type=_positive_int, default=64, help="batch size drawn (default: 64)")
    graph.add_argument("--rankdir", choices=RANKDIRS, default="TB", help="layout direction")

    report_p = sub.add_parser("report", help="rebuild a run's report.html (one self-contained page)",
                              description="Write RUN_DIR/report.html: configuration, curves, epochs, confusion "
                                          "matrix, per-class scores, worst mistakes, graph and timings, in one "
                                          "HTML file with everything inline.")
    report_p.add_argument("run_dir", metavar="RUN_DIR", help="a folder written by train (runs/NAME)")
    report_p.add_argument("--data", metavar="DIR",
                          help="folder of the MNIST IDX files, when best.npz must be evaluated again (default: "
                               "$TINYGRAD_CNN_DATA, else the repository's data/mnist)")

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
    sweep_p.add_argument("--val-size", type=_non_negative_int, metavar="N", help="as train's --val-size")
    data_options(sweep_p)
    sweep_p.add_argument("--out", metavar="DIR", default="runs/sweep", help="output folder (default: runs/sweep)")
    where = sweep_p.add_mutually_exclusive_group()
    where.add_argument("--scheduler", metavar="ADDRESS", help="run on this Dask scheduler's workers (tcp://HOST:8786)")
    where.add_argument("--workers", type=_positive_int, metavar="K",
                       help="local worker processes (default: one per core; 1 runs the grid one by one)")

    run = sub.add_parser("run", help="run an unmodified PyTorch script on tinygrad_cnn",
                         description="Run SCRIPT as `python SCRIPT ARGS` would, with torch and torchvision served "
                                     "by tinygrad_cnn; --check lists the torch names it uses that are missing, "
                                     "without running it.")
    run.add_argument("--check", action="store_true", help="read the script and list what it uses that is missing")
    run.add_argument("--graph", metavar="FILE", type=_graph_file,
                     help="draw the graph of the last backward() the script ran (.svg/.png/.pdf/.dot)")
    run.add_argument("script", metavar="SCRIPT", help="a Python file using torch")
    run.add_argument("args", nargs=argparse.REMAINDER, metavar="ARGS", help="the script's own arguments")
    return parser


def cmd_sweep(args: argparse.Namespace) -> int:
    """``tinygrad-cnn sweep``: every combination of the --param values trained (tinygrad_cnn.sweep),
    a line per finished run, then the results table. Returns the exit status."""
    from tinygrad_cnn.sweep import SweepError, parse_params, sweep, write_results

    require("sweep", "train", "matplotlib", "graphviz")
    if args.scheduler:
        require("sweep --scheduler", "dask", "distributed")
    options = ["--epochs", str(args.epochs)] + (["--val-size", str(args.val_size)] if args.val_size is not None else [])
    options += (["--limit", str(args.limit)] if args.limit else []) + (["--data", args.data] if args.data else [])
    options += ["--download"] if args.download else []
    try:
        rows = sweep(args.model, parse_params(args.param), args.out, command=main, parser=build_parser(),
                     options=options, scheduler=args.scheduler, workers=args.workers)
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
            "graph": cmd_graph, "report": cmd_report, "run": cmd_run, "export": cmd_export, "sweep": cmd_sweep}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default: sys.argv[1:]); returns the exit status.

    Bad arguments exit with status 2 (argparse); failures such as missing data or a
    checkpoint that does not fit print one ``tinygrad-cnn: error:`` message and return 1.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    if not argv:
        parser.print_help()
        return 0
    args = parser.parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except CLIError as exc:
        print(f"tinygrad-cnn: error: {exc}", file=sys.stderr)
        return 1
