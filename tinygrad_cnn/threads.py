"""torch.set_num_threads / get_num_threads: the size of the BLAS thread pool NumPy's matmuls
use, through threadpoolctl (imported when first called, so ``import tinygrad_cnn`` stays light)."""

from __future__ import annotations

import os

from tinygrad_cnn.argcheck import positive_int

_num_threads: int | None = None

__all__ = ["get_num_threads", "set_num_threads"]


def set_num_threads(n: int) -> None:
    """Let BLAS use ``n`` threads (>= 1) for the whole process, as torch.set_num_threads.
    Without threadpoolctl installed the number is remembered and BLAS keeps its own."""
    global _num_threads
    n = positive_int(n, "n", "set_num_threads")
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        pass
    else:
        threadpool_limits(limits=n, user_api="blas")
    _num_threads = n


def get_num_threads() -> int:
    """The thread count set by ``set_num_threads``, else the BLAS pool's size (the cores
    available to the process when threadpoolctl is absent)."""
    if _num_threads is not None:
        return _num_threads
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        threadpool_info = None
    sizes = [pool["num_threads"] for pool in threadpool_info() if pool.get("user_api") == "blas"] if threadpool_info else []
    if sizes:
        return max(sizes)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)
