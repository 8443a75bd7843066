"""``tinygrad-cnn run``: run an unmodified PyTorch script on tinygrad_cnn, or list what it uses that is missing."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tinygrad_cnn.cli.common import CLIError


def cmd_run(args: argparse.Namespace) -> int:
    """``tinygrad-cnn run [--check] [--graph FILE] SCRIPT [ARGS...]``: with --check, print the
    torch/torchvision names the script uses that tinygrad_cnn lacks (exit 1 if any, 0 if none);
    otherwise run it as ``python SCRIPT ARGS`` would, on tinygrad_cnn, and return its exit status.
    A missing PyTorch API ends the run with one line naming it."""
    from tinygrad_cnn.compat import check_script, run_script
    from tinygrad_cnn.compat.run import is_unsupported

    script = Path(args.script)
    if not script.is_file():
        raise CLIError(f"run: no script at {script}")
    if args.check:
        try:
            findings = check_script(script)
        except SyntaxError as exc:
            raise CLIError(f"run --check: {script} does not parse: {exc.msg} (line {exc.lineno})") from None
        for finding in findings:
            print(f"{script}:{finding.line}: {finding.name} is not supported by tinygrad_cnn")
        if not findings:
            print(f"{script}: every torch/torchvision name it uses is provided")
        return 1 if findings else 0
    try:
        status = run_script(script, args.args, graph=args.graph)
    except (AttributeError, ModuleNotFoundError) as exc:
        if not is_unsupported(exc):
            raise
        print(f"tinygrad-cnn run: {exc}", file=sys.stderr)
        return 1
    except RuntimeError as exc:
        if args.graph is None or "run --graph" not in str(exc):
            raise
        raise CLIError(str(exc)) from None
    if args.graph is not None:
        print(f"wrote {args.graph}", file=sys.stderr)
    return status
