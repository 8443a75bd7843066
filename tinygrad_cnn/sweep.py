"""Hyperparameter sweeps: every combination of some ``tinygrad-cnn train`` options, trained in parallel.

Each configuration is one ``tinygrad-cnn train`` run (its own folder of checkpoints,
history.json, curves, graph and train.log), so a sweep trains exactly as the command does.
Runs go to local worker processes, or to the workers of a Dask scheduler
(``scheduler="tcp://host:8786"``), and come back as one row each; ``write_results`` writes
the table sorted by validation accuracy as CSV and Markdown.
"""

from __future__ import annotations

import contextlib
import csv
import io
import itertools
import os
import re
import threading
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from tinygrad_cnn.fileio import atomic_write

_ONE_RUN_PER_PROCESS = threading.Lock()
METRICS = ("val_acc", "val_loss", "best_epoch", "train_acc", "train_loss", "epochs", "seconds")


class SweepError(ValueError):
    """A sweep that cannot start (bad --param) or a configuration whose training failed."""


def parse_params(specs: Sequence[str]) -> dict[str, list[str]]:
    """``["lr=1e-3,3e-3", "batch_size=32,64"]`` as ``{"lr": ["1e-3", "3e-3"], "batch_size": ["32", "64"]}``.

    Names are ``tinygrad-cnn train`` options without the dashes (``batch_size`` or
    ``batch-size``); values stay text, checked by train's own parser (``configurations``)."""
    params: dict[str, list[str]] = {}
    for spec in specs:
        name, sep, values = spec.partition("=")
        name = name.strip().replace("-", "_")
        items = [v.strip() for v in values.split(",") if v.strip()]
        if not sep or not name or not items:
            raise SweepError(f"sweep: --param must look like NAME=VALUE[,VALUE...], got {spec!r}")
        if name in params:
            raise SweepError(f"sweep: --param {name} is given twice")
        params[name] = items
    return params


def configurations(params: dict[str, list[str]]) -> list[dict[str, str]]:
    """Every combination of the values, in the order given (the last parameter varies fastest)."""
    names = list(params)
    return [dict(zip(names, values)) for values in itertools.product(*(params[n] for n in names))]


def run_name(model: str, config: dict[str, str]) -> str:
    """The run's folder name, e.g. ``lenet-lr=1e-3-batch_size=32`` (safe characters only)."""
    parts = [model] + [f"{k}={v}" for k, v in config.items()]
    return re.sub(r"[^A-Za-z0-9_.=+-]", "_", "-".join(parts))


def train_argv(model: str, config: dict[str, str], out: Path, options: Sequence[str], parser: Any) -> list[str]:
    """The ``tinygrad-cnn train`` command line of one configuration, writing to ``out``; raises
    SweepError when ``parser`` (the command's, ``tinygrad_cnn.cli.build_parser()``) rejects it."""
    argv = ["train", "--model", model, *options]
    for name, value in config.items():
        argv += [f"--{name.replace('_', '-')}", value]
    argv += ["--out", str(out), "--quiet"]
    stderr = io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr):
            parser.parse_args(argv)
    except SystemExit:
        message = stderr.getvalue().strip().splitlines()
        raise SweepError(f"sweep: configuration {config} is not a valid train run: "
                         f"{message[-1] if message else argv}") from None
    return argv


def run_configuration(command: Callable[[list[str]], int], argv: list[str], out: str) -> dict[str, Any]:
    """Train one configuration, ``command(argv)`` (``tinygrad_cnn.cli.main``), its output in ``out/train.log``;
    returns its metrics at the best epoch (highest validation accuracy). Runs in a worker, one
    run at a time per process (a Dask worker with several threads queues them): the package's
    random generator and sys.stdout are per process."""
    from tinygrad_cnn.report import load_run

    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    log = io.StringIO()
    with _ONE_RUN_PER_PROCESS, contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
        status = command(argv)
    atomic_write(folder / "train.log", log.getvalue().encode())
    if status != 0:
        tail = log.getvalue().strip().splitlines()[-1:] or [f"exit status {status}"]
        raise SweepError(f"sweep: run {folder.name} failed: {tail[0]}")
    history = load_run(folder).history  # the one reader of a run's history.json
    best = history.best_epoch()
    i = best - 1
    return {"val_acc": history.val_acc[i], "val_loss": history.val_loss[i], "best_epoch": best,
            "train_acc": history.train_acc[i], "train_loss": history.train_loss[i], "epochs": history.epochs,
            "seconds": round(sum(history.seconds), 2), "run": str(folder)}


@contextlib.contextmanager
def _blas_threads(count: int) -> Iterator[None]:
    """Processes started inside inherit ``count`` BLAS/OpenMP threads each (through the
    environment, read when NumPy loads), so that K workers do not run K times the cores' threads."""
    names = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
    saved = {n: os.environ.get(n) for n in names}
    os.environ.update({n: str(count) for n in names})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextlib.contextmanager
def _local_pool(workers: int) -> Iterator[ProcessPoolExecutor]:
    """A pool of ``workers`` fresh (spawned) processes, each with its share of the cores as BLAS
    threads (they start when runs are submitted, inside this block); shut down when it ends."""
    import multiprocessing

    with _blas_threads(max(1, (os.cpu_count() or 1) // workers)):
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))
        try:
            yield pool
        finally:
            pool.shutdown(cancel_futures=True)


def sweep(model: str, params: dict[str, list[str]], out: str | os.PathLike, *, command: Callable[[list[str]], int],
          parser: Any, options: Sequence[str] = (), scheduler: str | None = None, workers: int | None = None,
          progress: Callable[[str], None] | None = print) -> list[dict[str, Any]]:
    """Train ``model`` once per combination of ``params`` (see ``parse_params``) with the extra
    train ``options`` (e.g. ``["--epochs", "2", "--limit", "2000"]``), each run in ``out/NAME``,
    by ``command`` (``tinygrad_cnn.cli.main``) after ``parser`` (``tinygrad_cnn.cli.build_parser()``)
    accepted every configuration.

    Runs go to the Dask ``scheduler``'s workers when given (its address; the workers need
    tinygrad_cnn installed and ``out`` on a shared filesystem), else to ``workers`` local
    processes (default: one per core, at most one per configuration; 1 trains them here, one
    after another). ``progress`` gets a line per finished run. Returns one row per
    configuration (its values, METRICS, ``run`` folder), best validation accuracy first; a
    run that failed keeps going the others and comes last, with its message under ``error``.
    Every configuration is checked before any training starts."""
    if scheduler is not None and workers is not None:
        raise SweepError("sweep: give a scheduler address or a number of local workers, not both")
    if workers is not None and workers < 1:
        raise SweepError(f"sweep: workers must be >= 1, got {workers}")
    configs = configurations(params)
    out = Path(out)
    jobs = [(train_argv(model, c, out / run_name(model, c), options, parser), str(out / run_name(model, c)))
            for c in configs]
    workers = workers or min(len(jobs), os.cpu_count() or 1)
    rows: list[dict[str, Any]] = []
    start = time.perf_counter()

    def finished(config: dict[str, str], run: str, outcome: Callable[[], dict[str, Any]]) -> None:
        shown = " ".join(f"{k}={v}" for k, v in config.items())
        try:
            result = outcome()
            line = (f"val acc {result['val_acc']:.2%} (epoch {result['best_epoch']}), "
                    f"{result['seconds']:.1f}s -> {result['run']}")
        except Exception as exc:  # one failed run must not lose the others
            result = {"run": run, "error": str(exc)}
            line = f"FAILED: {exc}"
        rows.append({**config, **result})
        if progress is not None:
            progress(f"[{len(rows)}/{len(configs)}] {shown}: {line}")

    if scheduler is None and workers == 1:
        for config, (argv, run) in zip(configs, jobs):
            finished(config, run, lambda: run_configuration(command, argv, run))
    elif scheduler is not None:
        from dask.distributed import Client, as_completed as dask_completed

        with Client(scheduler) as client:
            futures = [client.submit(run_configuration, command, argv, run, pure=False) for argv, run in jobs]
            index = {f.key: i for i, f in enumerate(futures)}
            for future in dask_completed(futures):
                i = index[future.key]
                finished(configs[i], jobs[i][1], future.result)
    else:
        with _local_pool(workers) as pool:
            futures = {pool.submit(run_configuration, command, argv, run): i for i, (argv, run) in enumerate(jobs)}
            for future in as_completed(futures):
                i = futures[future]
                finished(configs[i], jobs[i][1], future.result)
    if progress is not None:
        progress(f"{len(rows)} configurations in {time.perf_counter() - start:.1f}s")
    return sorted(rows, key=lambda r: ("error" in r, -r.get("val_acc", 0.0), r.get("val_loss", 0.0)))


def _cell(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def write_results(rows: list[dict[str, Any]], out: str | os.PathLike) -> tuple[Path, Path]:
    """Write ``rows`` (as ``sweep`` returns them) to ``out/results.csv`` and ``out/results.md``,
    in their order, with a rank column (and an error column when some run failed); returns
    the two paths."""
    out = Path(out)
    extra = {"run", "error", *METRICS}
    params = [k for k in rows[0] if k not in extra]
    columns = ["rank"] + params + list(METRICS) + ["run"] + (["error"] if any("error" in r for r in rows) else [])
    table = [[str(i)] + [_cell(row.get(c, "")) for c in columns[1:]] for i, row in enumerate(rows, 1)]
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(table)
    csv_path = atomic_write(out / "results.csv", text.getvalue().encode())
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |" for cells in table]
    md_path = atomic_write(out / "results.md", ("\n".join(lines) + "\n").encode())
    return csv_path, md_path
