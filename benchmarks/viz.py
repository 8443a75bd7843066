"""Time draw_graph (building the graphviz.Digraph and its DOT text, no `dot` run) on
graphs of 10,000 ops: a plain chain, and blocks run inside 200 module scopes (so 10,000
ops in 200 x 25 clusters), in full and truncated by max_nodes.

    python benchmarks/viz.py [--ops 10000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

import tinygrad_cnn as tg  # noqa: E402
from tinygrad_cnn.autograd import scope  # noqa: E402
from tinygrad_cnn.viz import draw_graph  # noqa: E402


NODE = re.compile(r"^\s*\w+ \[label=", re.MULTILINE)


def chain(n_ops: int) -> tg.Tensor:
    """x -> tanh -> tanh -> ... : n_ops ops in one line."""
    y = tg.randn(4, 4, requires_grad=True)
    for _ in range(n_ops):
        y = y.tanh()
    return y


def scoped_blocks(n_ops: int) -> tg.Tensor:
    """Blocks of 5 ops (matmul, add, relu, residual add, halving) run in modules block0..block199,
    one weight and bias per module shared by all its calls: a branching graph in many clusters."""
    params = [(tg.Tensor(0.1 * tg.randn(16, 16).numpy(), requires_grad=True), tg.zeros(16, requires_grad=True))
              for _ in range(200)]
    y = tg.randn(8, 16)
    for i in range(n_ops // 5):
        w, b = params[i % 200]
        with scope(f"block{i % 200}"):
            y = ((y @ w + b).relu() + y) * 0.5
    return y


def best_of(repeat: int, fn: Callable[[], object]) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ops", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"draw_graph on {args.ops:,}-op graphs (best of {args.repeat}, source included)")
    for name, build in (("chain", chain), ("scoped blocks", scoped_blocks)):
        root = build(args.ops)
        for max_nodes in (None, 200):
            seconds, source = best_of(args.repeat, lambda: draw_graph(root, max_nodes=max_nodes).source)
            nodes = len(NODE.findall(source))
            clusters = source.count("subgraph cluster_")
            limit = "all nodes" if max_nodes is None else f"max_nodes={max_nodes}"
            print(f"  {name:14s} {limit:14s} {seconds:6.3f} s   {nodes:6,} nodes  {clusters:5,} clusters  "
                  f"{len(source) / 1e6:5.2f} MB of DOT")


if __name__ == "__main__":
    main()
