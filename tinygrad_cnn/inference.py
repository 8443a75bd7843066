"""torch.inference_mode: here the same as no_grad (ops record no graph inside it)."""

from __future__ import annotations

from tinygrad_cnn.grad_mode import _GradMode, is_grad_enabled

__all__ = ["inference_mode", "is_inference_mode_enabled"]

_depth = [0]  # how many inference_mode(True) blocks enclose the running code


class inference_mode(_GradMode):
    """Context manager and decorator as torch.inference_mode: inside ``inference_mode()``
    (or ``inference_mode(True)``) no graph is recorded; ``inference_mode(False)`` changes nothing."""

    def __init__(self, mode: bool = True) -> None:
        super().__init__(False)
        self.inference = bool(mode)

    def __enter__(self) -> "inference_mode":
        if not self.inference:
            self.mode = is_grad_enabled()
        _depth[0] += self.inference
        super().__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        _depth[0] -= self.inference
        super().__exit__(*exc)


def is_inference_mode_enabled() -> bool:
    """True inside ``inference_mode()``."""
    return _depth[0] > 0
