"""The run report: ``runs/NAME/report.html``, one self-contained page per ``tinygrad-cnn train`` run.

```python
from tinygrad_cnn.report import write_report

path = write_report("runs/lenet")        # -> runs/lenet/report.html
```

The page holds the configuration, the loss/accuracy curves, a table of the epochs, the test
results, the confusion matrix, each class's precision, recall and F1, the test images
misclassified with the highest confidence, the computation graph (the run's graph.svg) and
the timings. Everything is inline (CSS, PNG and SVG images as data: URIs): no script, no
network, one file to send. ``tinygrad-cnn train`` writes it at the end of a run and
``tinygrad-cnn report RUN_DIR`` rebuilds it. The predictions come from the run's
predictions.npz (see ``tinygrad_cnn.report.run``), recomputed from best.npz on the test set
when missing or stale. Needs matplotlib (the ``train`` extra) for the pictures.
"""

from __future__ import annotations

import time
from pathlib import Path

import tinygrad_cnn
from tinygrad_cnn.fileio import atomic_write
from tinygrad_cnn.report.page import render
from tinygrad_cnn.report.run import (PREDICTIONS, Predictions, Run, RunFolderError, load_predictions, load_run,
                                     predict_test, run_predictions, save_predictions)

REPORT = "report.html"

__all__ = ["PREDICTIONS", "REPORT", "Predictions", "Run", "RunFolderError", "load_predictions", "load_run",
           "predict_test", "save_predictions", "write_report"]


def write_report(run_dir: str | Path, *, test_set: tuple | None = None, data: str | None = None) -> Path:
    """Write ``run_dir``/report.html for the run in ``run_dir`` and return its path.

    The test predictions are read from predictions.npz when it belongs to the run's best.npz;
    otherwise best.npz is evaluated on ``test_set`` ((images (N, 1, 28, 28) in [0, 1], labels (N,)),
    as the run tested) or, by default, on the MNIST test set from ``data`` (a folder; None: the
    default data folder), its first ``limit`` images for a run trained with --limit, and
    predictions.npz is written. Raises RunFolderError when ``run_dir`` is not a run folder.
    Both files are written atomically.
    """
    started = time.perf_counter()
    run = load_run(run_dir)
    predictions = run_predictions(run, test_set, data)
    page = render(run, predictions, version=tinygrad_cnn.__version__, started=started)
    return atomic_write(run.folder / REPORT, page.encode("utf-8"))
