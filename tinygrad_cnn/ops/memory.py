"""How the C allocator treats the large arrays the ops allocate and free at every step.

glibc's malloc serves a request above its mmap threshold (128 KiB at first, rising to at
most 32 MiB as large blocks are freed) with freshly mapped pages, unmaps them again on free,
and gives the top of its heap back to the system above its trim threshold. Each training
step's im2col columns, outputs and gradients then arrive as new pages that the kernel zeroes
and faults in one by one. ``keep_freed_memory`` fixes the mmap threshold at its maximum and
raises the trim threshold, so that freed blocks go back to the heap and the next step's
arrays reuse them: ResNet20's training step at batch 64 took 209 ms instead of 228 ms once
running (its forward 92 ms instead of 173 ms over the first steps), and a test workload's
20 steps faulted in no page instead of 47,000. The process keeps the memory it has freed
for reuse instead of returning it (its peak, what benchmarks/train.py's memory row measures,
stays as it was). Elsewhere than on glibc
(macOS, Windows, musl) it does nothing.
"""

from __future__ import annotations

import ctypes

M_TRIM_THRESHOLD = -1  # glibc's mallopt parameters (malloc.h)
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 << 20  # glibc's largest on 64-bit: blocks above it are still mapped
TRIM_THRESHOLD = 1 << 30

_applied: bool | None = None


def keep_freed_memory() -> bool:
    """Once per process, make glibc's malloc keep freed blocks up to 32 MiB for reuse (see the
    module's docstring); True when it applied, False where there is no glibc mallopt."""
    global _applied
    if _applied is None:
        try:
            mallopt = ctypes.CDLL(None).mallopt
        except (OSError, AttributeError):
            _applied = False
        else:
            mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
            _applied = bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    return _applied
