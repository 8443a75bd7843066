"""Render the graphs shown in the docs and the README into this folder (needs Graphviz's `dot`):

    expression.svg        relu(x * w).sum(), the autograd guide's example
    lenet_graph.svg       LeNet's training graph: forward + cross-entropy on a batch of 64
    simple_cnn_graph.svg  the same for SimpleCNN

Rerunnable: the same code gives the same files (seeded weights, deterministic DOT).

    python docs/images/make_graphs.py [--out-dir docs/images] [--format svg]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))  # run from a checkout without installing

import tinygrad_cnn as tg  # noqa: E402
from tinygrad_cnn.models import LeNet, SimpleCNN  # noqa: E402
from tinygrad_cnn import viz  # noqa: E402


def expression_graph():
    """The graph of docs/autograd.md's example, y = relu(x * w).sum()."""
    x = tg.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    w = tg.Tensor([0.5, -1.0, 2.0], requires_grad=True)
    y = (x * w).relu().sum()
    return y.draw(params={"x": x, "w": w})


def training_graph(model_class: type):
    """One batch of 64 through a freshly seeded model, plus the cross-entropy loss."""
    tg.manual_seed(0)
    return viz.model_graph(model_class(), (1, 28, 28), batch_size=64)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out-dir", type=Path, default=Path(__file__).resolve().parent)
    parser.add_argument("--format", default="svg", help="any Graphviz output format: svg, png, pdf, ...")
    args = parser.parse_args()
    graphs = {"expression": expression_graph(), "lenet_graph": training_graph(LeNet),
              "simple_cnn_graph": training_graph(SimpleCNN)}
    for name, graph in graphs.items():
        print(viz.render(graph, args.out_dir / f"{name}.{args.format}"))


if __name__ == "__main__":
    main()
