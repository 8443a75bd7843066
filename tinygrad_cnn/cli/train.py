"""``tinygrad-cnn train``: train a model on MNIST (or resume a run), writing checkpoints, history and pictures."""

from __future__ import annotations

import argparse
import math
import shlex
import shutil
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from tinygrad_cnn import checkpoint, optim, set_num_threads, viz
from tinygrad_cnn.ops.parallel import prepare_process
from tinygrad_cnn.cli.common import (CLIError, checkpoint_errors, dataset, eval_loader, load_data, output_folder,
                                     require, run_lock, write_graph, write_json)
from tinygrad_cnn.data import MNIST_MEAN, MNIST_STD, shuffle_generator, standardize
from tinygrad_cnn.data.augment import RandomShifts
from tinygrad_cnn.nn.functional import cross_entropy
from tinygrad_cnn.plots import plot_history
from tinygrad_cnn.random import manual_seed
from tinygrad_cnn.report import PREDICTIONS, write_report
from tinygrad_cnn.train import History, evaluate, fit, make_optimizer
from tinygrad_cnn.utils.data import DataLoader


def _train_config(args: argparse.Namespace) -> dict[str, Any]:
    """The run's options: from the command line, or those saved in the --resume checkpoint.
    ``lr`` None stands for the optimizer's default."""
    if args.resume is None:
        return {"model": args.model, "batch_size": args.batch_size, "optimizer": args.optimizer, "lr": args.lr,
                "seed": args.seed, "limit": args.limit, "val_size": args.val_size,
                "normalize": [MNIST_MEAN, MNIST_STD], "shift": args.shift}
    with checkpoint_errors():
        meta = checkpoint.load_metadata(args.resume)
    config = meta["extra"].get("config")
    if config is None:
        raise CLIError(f"checkpoint {args.resume} was not written by `tinygrad-cnn train`; cannot resume it here")
    return config


VAL_SIZE = 5000


def _val_count(config: dict[str, Any], n: int) -> int:
    """How many of the ``n`` training images the run holds out for validation: --val-size, by
    default VAL_SIZE (at most a twelfth of them, as 5,000 of MNIST's 60,000); an old run's
    fraction ``val_split``."""
    if "val_split" in config:
        return int(round(n * config["val_split"]))
    if config["val_size"] is None:
        return min(VAL_SIZE, n // 12)
    if config["val_size"] >= n:
        raise CLIError(f"--val-size {config['val_size']} leaves no training image out of {n:,}")
    return config["val_size"]


def _split(X: np.ndarray, y: np.ndarray, n_val: int, seed: int) -> tuple[np.ndarray, ...]:
    """A random hold-out of ``n_val`` samples: (X_train, y_train, X_val, y_val)."""
    order = np.random.default_rng(seed).permutation(len(X))
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


# The options a run keeps in its checkpoints' config, which --resume takes from there.
RESUMED_OPTIONS = ("model", "batch_size", "optimizer", "lr", "seed", "limit", "val_size", "shift")


def _report_ignored(args: argparse.Namespace, config: dict[str, Any]) -> None:
    """One warning line naming the options given with --resume that the resumed run's own replace."""
    given = getattr(args, "given", set())
    ignored = [f"--{name.replace('_', '-')} {getattr(args, name)} (the run's: {config.get(name)})"
               for name in RESUMED_OPTIONS if name in given and getattr(args, name) != config.get(name)]
    ignored += ["--overwrite"] if "overwrite" in given else []
    if ignored:
        print("tinygrad-cnn: warning: --resume continues with the options of the run it resumes; ignoring "
              + ", ".join(ignored), file=sys.stderr)


def _left(args: argparse.Namespace, out: Path, saved: int | None, resumable: bool = True) -> str:
    """What a run stopped part-way left in ``out`` (``saved``: the epoch last.npz holds, if this
    run wrote it) and, when ``resumable``, the command that continues it."""
    if saved is not None and saved >= args.epochs:
        return (f"{out / 'last.npz'} holds the last epoch ({saved}); the final test and report were not made: "
                f"tinygrad-cnn report {shlex.quote(str(out))}")
    if saved is None and args.resume is None:
        return "no epoch had ended, nothing was saved" + ("; run the same command to start again" if resumable else "")
    checkpoint_path = out / "last.npz" if saved is not None else Path(args.resume)
    held = f"{checkpoint_path} holds epoch {saved}" if saved is not None else "nothing new was saved"
    if not resumable:
        return held
    command = ["tinygrad-cnn", "train", "--resume", str(checkpoint_path), "--epochs", str(args.epochs)]
    if out.resolve() != checkpoint_path.parent.resolve():
        command += ["--out", str(out)]
    command += (["--data", str(args.data)] if args.data else []) + (["--patience", str(args.patience)]
                                                                   if args.patience else [])
    return f"{held}; continue with: {shlex.join(command)}"


def cmd_train(args: argparse.Namespace) -> int:
    """``tinygrad-cnn train``: train a model on MNIST, or continue the run saved in --resume, up to
    --epochs; after each epoch write last.npz, best.npz (lowest validation loss, held-out images) and
    history.json to --out, at the end curves.png, the model's graph, predictions.npz and report.html.
    The folder is locked for the run (a second run into it is refused). Returns the exit status
    (130 when interrupted with Ctrl-C, after saying how to resume); a diverging run is a CLIError
    saying what was saved."""
    require("train", "train", "matplotlib", "graphviz")
    prepare_process()
    if getattr(args, "threads", None):
        set_num_threads(args.threads)
    config = _train_config(args)
    if args.resume is not None:
        _report_ignored(args, config)
    out = output_folder(args.out, args.resume, config["model"], getattr(args, "overwrite", False))
    saved: dict[str, int] = {}
    with run_lock(out):
        try:
            return _train(args, config, out, saved)
        except KeyboardInterrupt:
            print(f"tinygrad-cnn: interrupted; {_left(args, out, saved.get('epoch'))}", file=sys.stderr)
            return 130
        except FloatingPointError as exc:
            raise CLIError(f"{exc}; this run: {config['optimizer']} --lr {config['lr']:g}; "
                           f"{_left(args, out, saved.get('epoch'), resumable=False)}") from None
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise CLIError(f"{exc}; {_left(args, out, saved.get('epoch'))}") from None


def _train(args: argparse.Namespace, config: dict[str, Any], out: Path, saved: dict[str, int]) -> int:
    """The run of ``cmd_train`` into ``out``, ``saved["epoch"]`` set to each epoch as last.npz gets it."""
    from tinygrad_cnn.models import get_model

    X_train, y_train, X_test, y_test = load_data(args.data, args.download)
    if config["limit"]:
        X_train, y_train = X_train[:config["limit"]], y_train[:config["limit"]]
        X_test, y_test = X_test[:config["limit"]], y_test[:config["limit"]]
    X_val, y_val = X_test, y_test
    n_val = _val_count(config, len(X_train))
    if n_val:
        X_train, y_train, X_val, y_val = _split(X_train, y_train, n_val, config["seed"])
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

    val_name = "images held out of the training set" if n_val else "test images (--val-size 0)"
    epochs = f"{args.epochs} epoch{'s' if args.epochs != 1 else ''}"
    print(f"training {config['model']} ({model.get_params_count():,} parameters) on {len(X_train):,} images "
          f"for {epochs}\n  {config['optimizer']} lr {config['lr']:g}, cosine schedule, batch {config['batch_size']}, "
          f"seed {config['seed']}\n  validating on {len(X_val):,} {val_name}\n  output in {out}")
    extra = {"config": config}
    counts = {"train": len(X_train), "validation": len(X_val), "test": len(X_test)}  # for the report
    best = {"loss": min((v for v in history.val_loss if v is not None), default=math.inf)}

    def after_epoch(epoch: int, hist: History) -> None:
        state = dict(model=model, optimizer=optimizer, epoch=epoch, history=hist, scheduler=scheduler,
                     loader=train_loader, extra=extra)
        checkpoint.save(out / "last.npz", **state)
        saved["epoch"] = epoch
        if hist.val_loss[-1] < best["loss"]:  # the metric early stopping watches
            best["loss"] = hist.val_loss[-1]
            checkpoint.save(out / "best.npz", **state)
        write_json(out / "history.json", {"config": config, **hist.to_dict(), "images": counts})

    with warnings.catch_warnings():  # NumPy's overflow warnings from a diverging run: fit reports it in one line
        warnings.simplefilter("ignore", RuntimeWarning)
        fit(model, train_loader, optimizer, cross_entropy, args.epochs - history.epochs, val_loader=val_loader,
            scheduler=scheduler, callbacks=[after_epoch], early_stopping=args.patience,
            verbose=2 if args.quiet else 1, history=history)

    test_loader = eval_loader(X_test, y_test, norm)
    test = {"last": dict(zip(("loss", "acc"), evaluate(model, test_loader)), epoch=history.epochs)}
    best_model = get_model(config["model"])
    with checkpoint_errors():
        best_epoch = checkpoint.load(out / "best.npz", best_model, restore_rng=False)["epoch"]
    test["best"] = dict(zip(("loss", "acc"), evaluate(best_model, test_loader)), epoch=best_epoch)
    for name in ("best", "last"):
        print(f"test {name} (epoch {test[name]['epoch']}): loss {test[name]['loss']:.4f}  accuracy "
              f"{test[name]['acc']:.2%} on {len(X_test):,} images")
    print(f"training took {sum(history.train_seconds or history.seconds):.1f}s "
          f"({sum(history.seconds):.1f}s with validation)")
    write_json(out / "history.json", {"config": config, **history.to_dict(), "images": counts, "test": test})
    written = [out / "best.npz", out / "last.npz", out / "history.json", plot_history(history, out / "curves.png")]
    images, labels = next(iter(DataLoader(dataset(X_val, y_val, norm), batch_size=config["batch_size"])))
    graph = viz.model_graph(model, X_train.shape[1:], batch=(images, labels))
    written.append(write_graph(graph, out / ("graph.svg" if shutil.which("dot") else "graph.dot")))
    report = write_report(out, test_set=(X_test, y_test))  # after predictions.npz: best.npz's on the test set
    written += [out / PREDICTIONS, report]
    print(f"wrote to {out}: " + ", ".join(p.name for p in written))
    return 0
