"""``tinygrad-cnn report``: rebuild a run folder's report.html (tinygrad_cnn.report)."""

from __future__ import annotations

import argparse

from tinygrad_cnn.checkpoint import CheckpointError
from tinygrad_cnn.cli.common import CLIError, require
from tinygrad_cnn.data import MNISTDownloadError, MNISTError


def cmd_report(args: argparse.Namespace) -> int:
    """``tinygrad-cnn report RUN_DIR``: write RUN_DIR/report.html, evaluating best.npz on the test
    set when predictions.npz is missing or stale. Returns the exit status."""
    from tinygrad_cnn.report import RunFolderError, write_report

    require("report", "train", "matplotlib")
    try:
        path = write_report(args.run_dir, data=args.data)
    except (RunFolderError, CheckpointError, FileNotFoundError, MNISTError, MNISTDownloadError) as exc:
        raise CLIError(str(exc)) from None
    print(f"wrote {path}")
    return 0
