"""torch.cuda's questions, answered for a CPU-only framework: no GPU is ever available."""

from __future__ import annotations

__all__ = ["current_device", "device_count", "empty_cache", "get_device_name", "is_available", "is_initialized",
           "manual_seed", "manual_seed_all", "synchronize"]


def _no_gpu(op: str) -> RuntimeError:
    return RuntimeError(f"torch.cuda.{op}: no CUDA GPU: tinygrad_cnn computes on the CPU only")


def is_available() -> bool:
    """False: tinygrad_cnn has no CUDA backend."""
    return False


def device_count() -> int:
    """0: no CUDA devices."""
    return 0


def is_initialized() -> bool:
    """False: CUDA is never initialised."""
    return False


def manual_seed(seed: int) -> None:
    """Does nothing, as torch's does when CUDA is unavailable (the CPU seed is ``torch.manual_seed``)."""


def manual_seed_all(seed: int) -> None:
    """Does nothing, as torch's does when CUDA is unavailable."""


def empty_cache() -> None:
    """Does nothing: there is no CUDA memory cache."""


def synchronize(device: object = None) -> None:
    """Raise RuntimeError: there is no CUDA device to wait for."""
    raise _no_gpu("synchronize")


def current_device() -> int:
    """Raise RuntimeError: there is no current CUDA device."""
    raise _no_gpu("current_device")


def get_device_name(device: object = None) -> str:
    """Raise RuntimeError: there is no CUDA device to name."""
    raise _no_gpu("get_device_name")
