"""``tinygrad-cnn export`` and ``tinygrad-cnn sweep``: a checkpoint to ONNX, and a grid of train runs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tinygrad_cnn.cli.common import CLIError, checkpoint_errors, require


def cmd_export(args: argparse.Namespace) -> int:
    """``tinygrad-cnn export``: the checkpoint's model as an ONNX file (tinygrad_cnn.onnx.export_checkpoint)."""
    from tinygrad_cnn.onnx import ExportError, export_checkpoint

    require("export", "onnx", "onnx")
    output = args.output or Path(args.checkpoint).with_suffix(".onnx")
    with checkpoint_errors():
        try:
            print(f"wrote {export_checkpoint(args.checkpoint, output, opset_version=args.opset)}")
        except ExportError as exc:
            raise CLIError(str(exc)) from None
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    """``tinygrad-cnn sweep``: every combination of the --param values trained (tinygrad_cnn.sweep),
    a line per finished run, then the results table. Returns the exit status."""
    from tinygrad_cnn.sweep import SweepError, parse_params, sweep, write_results

    require("sweep", "train", "matplotlib", "graphviz")
    if args.scheduler:
        require("sweep --scheduler", "dask", "distributed")
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
