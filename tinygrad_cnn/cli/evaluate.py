"""``tinygrad-cnn evaluate`` and ``predict``: use a trained checkpoint on the test set or on image files."""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np

from tinygrad_cnn.cli.common import CLIError, eval_loader, load_data, require, restore
from tinygrad_cnn.imaging import load_image, to_mnist
from tinygrad_cnn.plots import confusion_matrix, format_confusion, plot_confusion
from tinygrad_cnn.train import evaluate, predict, predict_proba


def cmd_evaluate(args: argparse.Namespace) -> int:
    """``tinygrad-cnn evaluate``: print a checkpoint's test loss, accuracy and confusion matrix
    (with each class's recall), and draw the matrix with --plot. Returns the exit status."""
    if args.plot is not None:
        require("evaluate --plot", "train", "matplotlib")
    model, norm = restore(args.checkpoint)
    _, _, X_test, y_test = load_data(args.data, args.download)
    if args.limit:
        X_test, y_test = X_test[:args.limit], y_test[:args.limit]
    loader = eval_loader(X_test, y_test, norm)
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
    probability, one line per image (a warning line on stderr for an image that looks empty).
    Returns the exit status."""
    require("predict", "train", "PIL")
    topk = getattr(args, "topk", 1)
    if not 1 <= topk <= 10:
        raise CLIError(f"predict: --topk must be between 1 and 10 (the number of digit classes), got {topk}")
    model, norm = restore(args.checkpoint)
    try:
        with warnings.catch_warnings(record=True) as caught:  # "this image looks empty": one line each
            warnings.simplefilter("always")
            images = [load_image(p) for p in args.images]
    except (OSError, ValueError) as exc:  # a missing, unreadable or unusable file: one line, no traceback
        raise CLIError(str(exc)) from None
    for warning in caught:
        print(f"tinygrad-cnn: warning: {warning.message}", file=sys.stderr)
    digits = np.stack([to_mnist(image) for image in images])[:, None]
    probs = predict_proba(model, eval_loader(digits, np.zeros(len(digits), dtype=np.int64), norm))
    width = max(len(p) for p in args.images)
    for path, p in zip(args.images, probs):
        ranked = np.argsort(-p, kind="stable")[:topk]
        print(f"{path.ljust(width)}  " + "  ".join(f"{int(k)}  ({p[k]:.1%})" for k in ranked))
    return 0
