"""torch.nn.parallel on a machine without GPUs: DataParallel runs its module as it is (torch's
does the same when CUDA is unavailable); data_parallel finds no device, as torch's."""

from __future__ import annotations

from typing import Any

from tinygrad_cnn.nn.module import Module


class DataParallel(Module):
    """Holds ``module`` as its child ``module`` (state_dict keys "module.<name>", as torch's)
    and calls it; the batch is not split (no GPUs: ``device_ids`` is [])."""

    def __init__(self, module: Module, device_ids: Any = None, output_device: Any = None, dim: int = 0) -> None:
        super().__init__()
        self.module = module
        self.device_ids: list[int] = []

    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        return self.module(*inputs, **kwargs)


def data_parallel(module: Module, inputs: Any, device_ids: Any = None, output_device: Any = None, dim: int = 0,
                  module_kwargs: Any = None) -> Any:
    """torch's functional DataParallel: it needs accelerator devices, so here it raises
    RuntimeError as torch does on a CPU-only machine."""
    raise RuntimeError("device type could not be determined")
