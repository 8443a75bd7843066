"""Wall time of one sweep grid trained one configuration after another (n_jobs=1) and on a
dask.distributed LocalCluster of two single-threaded worker processes, plus the same for
CNNClassifier's GridSearchCV (n_jobs=1 against joblib's Dask backend).

    python benchmarks/sweep.py [--limit 6000] [--epochs 2] [--repeat 1] [--skip-grid-search]

The sweep grid is lr in {1e-3, 3e-3} x batch_size in {32, 64} for LeNet on the first
``--limit`` MNIST training images (validated on as many test images); the GridSearchCV grid
is lr in {1e-3, 1e-2} x batch_size in {32, 64} with 3 folds on the 1,797 digits. With
``--repeat``, the two ways alternate and the best time of each is printed (the least
disturbed by other work on the machine). Cluster start-up is timed apart: it is paid once
per cluster, not per sweep.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def main() -> None:
    import joblib
    from dask.distributed import Client, LocalCluster
    from sklearn.model_selection import GridSearchCV

    from tinygrad_cnn.data import load_digits
    from tinygrad_cnn.estimator import CNNClassifier
    from tinygrad_cnn.cli import build_parser, main as command
    from tinygrad_cnn.sweep import parse_params, sweep

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=6000)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--skip-grid-search", action="store_true")
    args = parser.parse_args()
    parser = build_parser()
    params = parse_params(["lr=1e-3,3e-3", "batch_size=32,64"])
    options = ["--epochs", str(args.epochs), "--limit", str(args.limit)]
    X, y = load_digits()
    X = X.reshape(len(X), -1)

    def grid_search(n_jobs: int) -> GridSearchCV:
        return GridSearchCV(CNNClassifier(epochs=args.epochs, random_state=0),
                            {"lr": [1e-3, 1e-2], "batch_size": [32, 64]}, cv=3, n_jobs=n_jobs).fit(X, y)

    def on_dask(n_jobs: int) -> GridSearchCV:
        with joblib.parallel_backend("dask"):
            return grid_search(n_jobs)

    times: dict[str, list[float]] = {"serial": [], "dask": [], "gs_serial": [], "gs_dask": []}
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as out:
        startup, cluster = timed(lambda: LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=":0"))
        with cluster, Client(cluster):
            for i in range(args.repeat):
                for name, run in (
                    ("serial", lambda: sweep("lenet", params, Path(out) / f"s{i}", options=options, workers=1,
                                             command=command, parser=parser, progress=None)),
                    ("dask", lambda: sweep("lenet", params, Path(out) / f"d{i}", options=options, command=command,
                                           parser=parser, scheduler=cluster.scheduler_address, progress=None)),
                    ("gs_serial", lambda: grid_search(1)),
                    ("gs_dask", lambda: on_dask(-1)),
                ):
                    if name.startswith("gs") and args.skip_grid_search:
                        continue
                    seconds, results[name] = timed(run)
                    times[name].append(seconds)
    best = {name: min(values) for name, values in times.items() if values}
    same = [r["val_acc"] for r in results["serial"]] == [r["val_acc"] for r in results["dask"]]
    print(f"sweep, 4 configurations, LeNet, {args.limit} images, {args.epochs} epochs: n_jobs=1 {best['serial']:.1f}s, "
          f"LocalCluster(2 workers) {best['dask']:.1f}s ({best['serial'] / best['dask']:.2f}x); "
          f"cluster start {startup:.1f}s; same results: {same}")
    if not args.skip_grid_search:
        same = results["gs_serial"].best_params_ == results["gs_dask"].best_params_
        print(f"GridSearchCV, 4 points x 3 folds, digits, {args.epochs} epochs: n_jobs=1 {best['gs_serial']:.1f}s, "
              f"Dask backend {best['gs_dask']:.1f}s ({best['gs_serial'] / best['gs_dask']:.2f}x); "
              f"same best params: {same}")


if __name__ == "__main__":
    main()
