"""How to install an optional extra, phrased for where the package runs from."""

from __future__ import annotations

from pathlib import Path

_CHECKOUT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def install_command(extra: str) -> str:
    """The pip command that installs the extra ``extra`` ("train", "sklearn", "viz"): ``pip install -e
    ".[extra]"`` in a source checkout (the package's parent folder holds pyproject.toml), else
    ``pip install "tinygrad_cnn[extra]"``."""
    return f'pip install -e ".[{extra}]"' if _CHECKOUT.is_file() else f'pip install "tinygrad_cnn[{extra}]"'
