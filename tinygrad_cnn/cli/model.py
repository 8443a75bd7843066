"""``tinygrad-cnn summary`` and ``graph``: a model's layer table and its training graph."""

from __future__ import annotations

import argparse
from pathlib import Path

from tinygrad_cnn import viz
from tinygrad_cnn.cli.common import require, write_graph
from tinygrad_cnn.random import manual_seed


def cmd_summary(args: argparse.Namespace) -> int:
    """``tinygrad-cnn summary``: print a model's layer table for one MNIST image. Returns 0."""
    from tinygrad_cnn.models import get_model

    model = get_model(args.model)
    print(model.summary(model.input_shape))
    return 0


def cmd_graph(args: argparse.Namespace) -> int:
    """``tinygrad-cnn graph``: draw the training graph (forward pass and loss) of one batch of a
    freshly initialised model (seed 0) to -o as DOT text or a Graphviz picture. Returns the exit status."""
    from tinygrad_cnn.models import get_model

    require("graph", "viz", "graphviz")
    manual_seed(0)
    model = get_model(args.model)
    graph = viz.model_graph(model, model.input_shape, batch_size=args.batch_size, rankdir=args.rankdir)
    print(f"wrote {write_graph(graph, Path(args.output or f'{args.model}.svg'))}")
    return 0
