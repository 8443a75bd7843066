"""ops.memory.keep_freed_memory: a step's large arrays reuse the blocks the previous step freed
instead of faulting in fresh pages (glibc only; elsewhere it reports that it did nothing)."""

import subprocess
import sys

import pytest

from tinygrad_cnn.ops.memory import keep_freed_memory

# a "step" allocating, filling and freeing arrays of 1.2-3.6 MB (below NumPy's 4 MB huge-page
# advice), as conv2d's columns and gradients; prints the page faults of 20 more steps
STEPS = """
import resource, sys
import numpy as np
if sys.argv[1] == "keep":
    from tinygrad_cnn.ops.memory import keep_freed_memory
    assert keep_freed_memory()
def step():
    arrays = [np.ones(n, np.float32) for n in (700_000, 300_000, 900_000, 500_000)]
    del arrays
step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    step()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def page_faults(mode: str) -> int:
    done = subprocess.run([sys.executable, "-c", STEPS, mode], capture_output=True, text=True, check=True)
    return int(done.stdout)


def test_freed_blocks_are_reused_instead_of_fresh_pages():
    if not keep_freed_memory():
        pytest.skip("no glibc mallopt on this system")
    default, kept = page_faults("default"), page_faults("keep")
    assert default > 10_000  # 20 steps of 9.6 MB in fresh 4 KiB pages: ~47,000 faults
    assert kept < default // 20

