"""torch.backends.mps: Apple's GPU backend, never available in tinygrad_cnn."""

from __future__ import annotations

__all__ = ["is_available", "is_built"]


def is_available() -> bool:
    """False: tinygrad_cnn has no MPS backend."""
    return False


def is_built() -> bool:
    """False: tinygrad_cnn was not built with MPS."""
    return False
