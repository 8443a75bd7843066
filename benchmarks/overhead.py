"""Per-op overhead: a chain of 3,000 tiny ops (x = tanh(x * w + b), 1,000 times, on 8
floats), forward then backward, ours next to PyTorch's, in microseconds per op.

For tensors this small the arithmetic costs nothing: what is timed is the framework, i.e.
wrapping inputs, recording the graph node, and the backward walk over 3,000 nodes. Each side
runs in its own child process (one thread each); the two take turns for ``--rounds`` rounds
and the table shows the medians (each round's time is the best of ``--repeat`` chains).

    python benchmarks/overhead.py [--ops 3000] [--rounds 3] [--repeat 5] [--no-torch]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing
SIZE = 8


def chain_ours(ops: int, repeat: int) -> float:
    """Best seconds of ``repeat`` chains of ``ops`` ops, forward and backward, in ours."""
    import numpy as np

    from tinygrad_cnn import Tensor

    rng = np.random.default_rng(0)
    x0 = rng.standard_normal(SIZE).astype(np.float32)
    w = Tensor(rng.uniform(0.5, 1.0, SIZE).astype(np.float32), requires_grad=True)
    b = Tensor(0.1 * rng.standard_normal(SIZE).astype(np.float32), requires_grad=True)
    best = float("inf")
    for _ in range(repeat + 1):  # the first run warms up
        start = time.perf_counter()
        x = Tensor(x0, requires_grad=True)
        for _ in range(ops // 3):
            x = (x * w + b).tanh()
        x.sum().backward()
        best = min(best, time.perf_counter() - start)
        w.grad = b.grad = None
    return best


def chain_torch(ops: int, repeat: int) -> float:
    """The same chain in PyTorch."""
    import numpy as np
    import torch

    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    x0 = torch.from_numpy(rng.standard_normal(SIZE).astype(np.float32))
    w = torch.tensor(rng.uniform(0.5, 1.0, SIZE).astype(np.float32), requires_grad=True)
    b = torch.tensor(0.1 * rng.standard_normal(SIZE).astype(np.float32), requires_grad=True)
    best = float("inf")
    for _ in range(repeat + 1):
        start = time.perf_counter()
        x = x0.clone().requires_grad_(True)
        for _ in range(ops // 3):
            x = (x * w + b).tanh()
        x.sum().backward()
        best = min(best, time.perf_counter() - start)
        w.grad = b.grad = None
    return best


def _run(kind: str, args: argparse.Namespace) -> float:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    cmd = [sys.executable, __file__, "--worker", kind, "--ops", str(args.ops), "--repeat", str(args.repeat)]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"{kind} worker failed:\n{done.stderr}")
    return float(done.stdout.splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ops", type=int, default=3000, help="ops in the chain (a multiple of 3)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=5, help="chains per round; each round keeps its best")
    parser.add_argument("--no-torch", action="store_true")
    parser.add_argument("--worker", choices=["ours", "torch"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        chain = chain_ours if args.worker == "ours" else chain_torch
        print(json.dumps(chain(args.ops, args.repeat)))
        return
    use_torch = not args.no_torch and importlib.util.find_spec("torch") is not None
    ours, theirs = [], []
    for _ in range(args.rounds):
        ours.append(_run("ours", args))
        if use_torch:
            theirs.append(_run("torch", args))
    per_op = 1e6 / (args.ops // 3 * 3)
    mine = statistics.median(ours) * per_op
    print(f"chain of {args.ops // 3 * 3} tiny ops (x = tanh(x * w + b) on {SIZE} floats), forward+backward, "
          f"us/op, medians of {args.rounds} interleaved round(s)")
    if use_torch:
        ref = statistics.median(theirs) * per_op
        print(f"ours {mine:.2f} us/op   torch {ref:.2f} us/op   ratio {mine / ref:.2f}   target 1.00")
    else:
        print(f"ours {mine:.2f} us/op")


if __name__ == "__main__":
    main()
