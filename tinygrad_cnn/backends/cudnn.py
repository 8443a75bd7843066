"""torch.backends.cudnn: the flags programs set (``benchmark``, ``deterministic``, ``enabled``)
are plain module attributes here, settable and without effect, since there is no cuDNN."""

from __future__ import annotations

benchmark = False
deterministic = False
enabled = True
allow_tf32 = True

__all__ = ["allow_tf32", "benchmark", "deterministic", "enabled", "is_available", "version"]


def is_available() -> bool:
    """False: tinygrad_cnn has no cuDNN."""
    return False


def version() -> None:
    """None, as torch's when cuDNN is absent."""
    return None
