"""``tinygrad-cnn export``: a checkpoint's model to ONNX (``sweep`` is in __init__, next to the parser it uses)."""

from __future__ import annotations

import argparse
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
