"""Time conv2d, max_pool2d and avg_pool2d, forward and forward+backward, on LeNet's and
SimpleCNN's layer shapes at batch 64 and 256, float32, next to PyTorch's (when installed)
with the same thread count.

Each layer gets its input and upstream gradient in the memory order it meets inside the
network: the first conv reads plain NCHW from the data loader; later layers read the
batch-innermost (C, H, W, N) memory conv2d produces; the last pool's gradient comes back
from flatten as plain NCHW. PyTorch gets contiguous NCHW everywhere.

PyTorch is timed in a child process: in one process, the idle worker threads of its
OpenMP pool and of NumPy's OpenBLAS stall each other on this 2-core machine (calls of
0.4 ms took 8 ms). The two sides take turns on each case for a few rounds and each keeps
its best time, so that a busy spell on the (shared) machine hits both alike.

    python benchmarks/ops.py [--batches 64 256] [--threads N] [--min-time 0.2] [--rounds 3]
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

# (model, layer, op, input (C, H, W), params, input layout, upstream-gradient layout)
LAYERS = [
    ("LeNet", "conv1", "conv2d", (1, 28, 28), dict(out_channels=6, kernel_size=5), "nchw", "chwn"),
    ("LeNet", "pool1", "max_pool2d", (6, 24, 24), dict(kernel_size=2), "chwn", "chwn"),
    ("LeNet", "conv2", "conv2d", (6, 12, 12), dict(out_channels=16, kernel_size=5), "chwn", "chwn"),
    ("LeNet", "pool2", "max_pool2d", (16, 8, 8), dict(kernel_size=2), "chwn", "nchw"),
    ("SimpleCNN", "conv1", "conv2d", (1, 28, 28), dict(out_channels=8, kernel_size=3, padding=1), "nchw", "chwn"),
    ("SimpleCNN", "pool1", "max_pool2d", (8, 28, 28), dict(kernel_size=2), "chwn", "chwn"),
    ("SimpleCNN", "conv2", "conv2d", (8, 14, 14), dict(out_channels=16, kernel_size=3, padding=1), "chwn", "chwn"),
    ("SimpleCNN", "pool2", "max_pool2d", (16, 14, 14), dict(kernel_size=2), "chwn", "nchw"),
    ("SimpleCNN", "pool2", "avg_pool2d", (16, 14, 14), dict(kernel_size=2), "chwn", "nchw"),
]


def in_layout(a: np.ndarray, layout: str) -> np.ndarray:
    """NCHW values stored plain (``nchw``) or batch innermost (``chwn``)."""
    if layout == "nchw":
        return np.ascontiguousarray(a)
    return np.ascontiguousarray(a.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)


def best_ms(fn: Callable[[], object], min_time: float) -> float:
    """Best wall time of ``fn`` in ms over at least 5 calls and ``min_time`` seconds, after warm-up
    (the minimum: the machine is shared, and other processes only ever add time)."""
    for _ in range(2):
        fn()
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < 5 or time.perf_counter() - start < min_time:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1e3 * min(times)


def case_arrays(batch: int, shape: tuple[int, ...], params: dict, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The float32 input (NCHW values) and conv weight (or an empty array) of one case."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch,) + shape).astype(np.float32)
    if "out_channels" not in params:
        return x, np.empty(0, dtype=np.float32)
    k = params["kernel_size"]
    return x, (0.1 * rng.standard_normal((params["out_channels"], shape[0], k, k))).astype(np.float32)


def ours(op: str, x: np.ndarray, w: np.ndarray, params: dict, grad_layout: str, input_grad: bool):
    """(forward, forward+backward) closures for our op."""
    from tinygrad_cnn import Tensor
    from tinygrad_cnn.nn.functional import conv2d
    from tinygrad_cnn.nn.functional import avg_pool2d, max_pool2d

    if op == "conv2d":
        weight = Tensor(w, requires_grad=True)
        bias = Tensor(np.zeros(w.shape[0], dtype=np.float32), requires_grad=True)
        run = lambda t: conv2d(t, weight, bias, padding=params.get("padding", 0))  # noqa: E731
    else:
        fn = max_pool2d if op == "max_pool2d" else avg_pool2d
        run = lambda t: fn(t, params["kernel_size"])  # noqa: E731
    xt = Tensor(x, requires_grad=input_grad)
    out_shape = run(xt).shape
    upstream = in_layout(np.random.default_rng(1).standard_normal(out_shape).astype(np.float32), grad_layout)

    def forward() -> None:
        run(xt)

    def both() -> None:
        run(xt).backward(upstream)
        xt.grad = None

    return forward, both


def theirs(op: str, x: np.ndarray, w: np.ndarray, params: dict, input_grad: bool):
    """(forward, forward+backward) closures for torch's op, contiguous NCHW."""
    import torch

    tf = torch.nn.functional
    xt = torch.tensor(np.ascontiguousarray(x), requires_grad=input_grad)
    if op == "conv2d":
        weight = torch.tensor(w, requires_grad=True)
        bias = torch.zeros(w.shape[0], requires_grad=True)
        run = lambda t: tf.conv2d(t, weight, bias, padding=params.get("padding", 0))  # noqa: E731
    else:
        fn = tf.max_pool2d if op == "max_pool2d" else tf.avg_pool2d
        run = lambda t: fn(t, params["kernel_size"])  # noqa: E731
    with torch.no_grad():
        upstream = torch.randn(run(xt).shape)

    def forward() -> None:
        with torch.no_grad():
            run(xt)

    def both() -> None:
        run(xt).backward(upstream)
        xt.grad = None

    return forward, both


def cases(batches: list[int]):
    """(batch, LAYERS row, index) for every row of the table."""
    return [(batch, layer, k) for batch in batches for k, layer in enumerate(LAYERS)]


def closures(backend: str, batch: int, layer: tuple, seed: int):
    """(forward, forward+backward) closures of one case for ``backend``."""
    _, name, op, shape, params, x_layout, g_layout = layer
    x, w = case_arrays(batch, shape, params, seed)
    input_grad = name != "conv1"
    if backend == "ours":
        return ours(op, in_layout(x, x_layout), w, params, g_layout, input_grad)
    return theirs(op, x, w, params, input_grad)


def torch_worker(args: argparse.Namespace) -> None:
    """Serve torch timings: read a case number per line, answer [forward ms, forward+backward ms]."""
    import torch

    torch.set_num_threads(args.threads)
    table = cases(args.batches)
    for line in sys.stdin:
        batch, layer, seed = table[int(line)]
        print(json.dumps([best_ms(fn, args.min_time) for fn in closures("torch", batch, layer, seed)]), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batches", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--min-time", type=float, default=0.2, help="seconds of timing per measurement")
    parser.add_argument("--rounds", type=int, default=3, help="alternate ours/torch this many times per case")
    parser.add_argument("--torch-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.torch_worker:
        torch_worker(args)
        return
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # then BLAS uses its default thread count (all cores)
        threadpool_limits = lambda limits: contextlib.nullcontext()  # noqa: E731
    worker = None
    if importlib.util.find_spec("torch") is not None:
        worker = subprocess.Popen(
            [sys.executable, __file__, "--torch-worker", "--threads", str(args.threads), "--min-time",
             str(args.min_time), "--batches", *map(str, args.batches)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    print(f"float32, {args.threads} threads, best ms per call over {args.rounds} rounds; "
          + ("ratio = ours / torch (alternating)" if worker else "torch not installed"))
    head = f"{'layer':<17} {'op':<10} {'input':<9} {'N':>4} | {'fwd':>7}"
    head += f" {'torch':>7} {'ratio':>5} | {'fwd+bwd':>7} {'torch':>7} {'ratio':>5}" if worker else f" | {'fwd+bwd':>7}"
    print(head)
    print("-" * len(head))
    for k, (batch, layer, seed) in enumerate(cases(args.batches)):
        mine, ref = [], []
        for _ in range(args.rounds):  # interleaved, so that both see the same load on a shared machine
            time.sleep(0.1)  # let the other side's idle threads stop spinning
            with threadpool_limits(limits=args.threads):
                mine.append([best_ms(fn, args.min_time) for fn in closures("ours", batch, layer, seed)])
            if worker:
                time.sleep(0.1)
                worker.stdin.write(f"{k}\n")
                worker.stdin.flush()
                ref.append(json.loads(worker.stdout.readline()))
        (ms_f, ms_fb) = np.min(mine, axis=0)
        model, name, op, shape = layer[:4]
        row = f"{model + '.' + name:<17} {op:<10} {'x'.join(map(str, shape)):<9} {batch:>4} |"
        if not worker:
            print(f"{row} {ms_f:7.3f} | {ms_fb:7.3f}", flush=True)
            continue
        t_f, t_fb = np.min(ref, axis=0)
        print(f"{row} {ms_f:7.3f} {t_f:7.3f} {ms_f / t_f:5.2f} | {ms_fb:7.3f} {t_fb:7.3f} {ms_fb / t_fb:5.2f}",
              flush=True)
    if worker:
        worker.stdin.close()
        worker.wait()

if __name__ == "__main__":
    main()
