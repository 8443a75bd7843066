"""``tinygrad-cnn train``: train a model on MNIST (or resume a run), writing checkpoints, history and pictures."""

from __future__ import annotations

import argparse
import math
import shutil
import sys
from pathlib import Path
from typing import Any

import numpy as np

from tinygrad_cnn import checkpoint, optim, viz
from tinygrad_cnn.cli.common import (CLIError, checkpoint_errors, dataset, eval_loader, load_data, output_folder,
                                     require,
                                     write_graph, write_json)
from tinygrad_cnn.data import MNIST_MEAN, MNIST_STD, shuffle_generator, standardize
from tinygrad_cnn.data.augment import RandomShifts
from tinygrad_cnn.nn.functional import cross_entropy
from tinygrad_cnn.plots import plot_history
from tinygrad_cnn.random import manual_seed
from tinygrad_cnn.train import History, epoch_line, evaluate, fit, make_optimizer
from tinygrad_cnn.utils.data import DataLoader


def _train_config(args: argparse.Namespace) -> dict[str, Any]:
    """The run's options: from the command line, or those saved in the --resume checkpoint.
    ``lr`` None stands for the optimizer's default."""
    if args.resume is None:
        return {"model": args.model, "batch_size": args.batch_size, "optimizer": args.optimizer, "lr": args.lr,
                "seed": args.seed, "limit": args.limit, "val_split": args.val_split,
                "normalize": [MNIST_MEAN, MNIST_STD], "shift": args.shift}
    with checkpoint_errors():
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

    require("train", "train", "matplotlib", "graphviz")
    config = _train_config(args)
    out = output_folder(args.out, args.resume, config["model"], getattr(args, "overwrite", False))
    X_train, y_train, X_test, y_test = load_data(args.data, args.download)
    if config["limit"]:
        X_train, y_train = X_train[:config["limit"]], y_train[:config["limit"]]
        X_test, y_test = X_test[:config["limit"]], y_test[:config["limit"]]
    X_val, y_val = X_test, y_test
    if config["val_split"]:
        X_train, y_train, X_val, y_val = _split(X_train, y_train, config["val_split"], config["seed"])
    norm = tuple(config["normalize"])

    manual_seed(config["seed"])
    model = get_model(config["model"])
    train_set = dataset(X_train, y_train, norm)
    if config.get("shift"):  # shifted-in pixels take the background: a black pixel, standardised
        background = float(standardize(np.zeros(1, np.float32), *norm)[0]) if norm else 0.0
        train_set = RandomShifts(train_set, config["shift"], fill=background)
    train_loader = DataLoader(train_set, batch_size=config["batch_size"], shuffle=True, generator=shuffle_generator())
    val_loader = eval_loader(X_val, y_val, norm)
    optimizer = make_optimizer(config["optimizer"], model.parameters(), config["lr"])
    config["lr"] = optimizer.defaults["lr"]  # the rate used, recorded in the checkpoints
    scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)
    history = History()
    if args.resume is not None:
        with checkpoint_errors():
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
        print(epoch_line(epoch, args.epochs, hist, len(train_loader.dataset)), flush=True)
        state = dict(model=model, optimizer=optimizer, epoch=epoch, history=hist, scheduler=scheduler,
                     loader=train_loader, extra=extra)
        checkpoint.save(out / "last.npz", **state)
        if hist.val_acc[-1] > best["acc"]:
            best["acc"] = hist.val_acc[-1]
            checkpoint.save(out / "best.npz", **state)
        write_json(out / "history.json", hist.to_dict())

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
        test_loss, test_acc = evaluate(model, eval_loader(X_test, y_test, norm))
    else:
        test_loss, test_acc = history.val_loss[-1], history.val_acc[-1]
    print(f"test loss {test_loss:.4f}  accuracy {test_acc:.2%} ({len(X_test):,} images, final model); "
          f"training took {sum(history.seconds):.1f}s")
    written = [out / "best.npz", out / "last.npz", out / "history.json", plot_history(history, out / "curves.png")]
    graph = viz.model_graph(model, X_train.shape[1:], batch_size=config["batch_size"])
    written.append(write_graph(graph, out / ("graph.svg" if shutil.which("dot") else "graph.dot")))
    print("wrote " + ", ".join(str(p) for p in written))
    return 0
