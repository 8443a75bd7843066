"""Wall time of one sweep grid trained one configuration after another (n_jobs=1) and on a
dask.distributed LocalCluster of two single-threaded worker processes, plus the same for
CNNClassifier's GridSearchCV (n_jobs=1 against joblib's Dask backend).

    python benchmarks/sweep.py [--limit 6000] [--epochs 2] [--skip-grid-search]

The sweep grid is lr in {1e-3, 3e-3} x batch_size in {32, 64} for LeNet on the first
``--limit`` MNIST training images (validated on as many test images). Cluster start-up is
timed separately: it is paid once per cluster, not per sweep.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing


def main() -> None:
    import joblib
    from dask.distributed import Client, LocalCluster
    from sklearn.model_selection import GridSearchCV

    from tinygrad_cnn.data import load_digits
    from tinygrad_cnn.estimator import CNNClassifier
    from tinygrad_cnn.sweep import parse_params, sweep

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=6000)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--skip-grid-search", action="store_true")
    args = parser.parse_args()
    params = parse_params(["lr=1e-3,3e-3", "batch_size=32,64"])
    options = ["--epochs", str(args.epochs), "--limit", str(args.limit)]
    X, y = load_digits()
    X = X.reshape(len(X), -1)

    def grid_search(n_jobs: int) -> GridSearchCV:
        return GridSearchCV(CNNClassifier(epochs=args.epochs, random_state=0),
                            {"lr": [1e-3, 1e-2], "batch_size": [32, 64]}, cv=3, n_jobs=n_jobs).fit(X, y)

    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        serial = sweep("lenet", params, Path(out) / "serial", options=options, workers=1, progress=None)
        serial_s = time.perf_counter() - start
        if not args.skip_grid_search:
            start = time.perf_counter()
            gs_serial = grid_search(1)
            gs_serial_s = time.perf_counter() - start
        start = time.perf_counter()
        with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=":0") as cluster, \
                Client(cluster) as client:
            startup_s = time.perf_counter() - start
            start = time.perf_counter()
            dask = sweep("lenet", params, Path(out) / "dask", options=options, scheduler=cluster.scheduler_address,
                         progress=None)
            dask_s = time.perf_counter() - start
            if not args.skip_grid_search:
                start = time.perf_counter()
                with joblib.parallel_backend("dask"):
                    gs_dask = grid_search(-1)
                gs_dask_s = time.perf_counter() - start
            client.close()
    same = [r["val_acc"] for r in serial] == [r["val_acc"] for r in dask]
    print(f"sweep, 4 configurations, LeNet, {args.limit} images, {args.epochs} epochs: n_jobs=1 {serial_s:.1f}s, "
          f"LocalCluster(2 workers) {dask_s:.1f}s ({serial_s / dask_s:.2f}x); cluster start {startup_s:.1f}s; "
          f"same results: {same}")
    if not args.skip_grid_search:
        same = gs_serial.best_params_ == gs_dask.best_params_
        print(f"GridSearchCV, 4 points x 3 folds, digits, {args.epochs} epochs: n_jobs=1 {gs_serial_s:.1f}s, "
              f"Dask backend {gs_dask_s:.1f}s ({gs_serial_s / gs_dask_s:.2f}x); same best params: {same}")


if __name__ == "__main__":
    main()
