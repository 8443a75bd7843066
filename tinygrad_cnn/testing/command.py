"""The ``tinygrad-cnn`` command run in-process, its output captured, for tests of the command."""

from __future__ import annotations

import contextlib
import io


def run_command(*argv: object) -> tuple[int, str, str]:
    """``tinygrad_cnn.cli.main`` on ``argv`` (each item made a string) with stdout and stderr
    captured: returns (exit status, stdout, stderr)."""
    from tinygrad_cnn.cli import main  # the command sits above everything testing serves

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main([str(a) for a in argv])
    return status, out.getvalue(), err.getvalue()
