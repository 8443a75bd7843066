"""The graph of a real model's loss: LeNet and SimpleCNN, module clusters, parameter names, model_graph."""

from __future__ import annotations

import shutil
import struct
import xml.etree.ElementTree as ET

import numpy as np
import pytest

pytest.importorskip("graphviz", reason="tinygrad_cnn.viz builds graphviz.Digraph objects")

import tinygrad_cnn as tg  # noqa: E402
import tinygrad_cnn.nn as nn  # noqa: E402
import tinygrad_cnn.nn.functional as F  # noqa: E402
from tinygrad_cnn.models import LeNet, SimpleCNN  # noqa: E402
from tinygrad_cnn import viz  # noqa: E402


def walk_ops(root):
    """The op nodes (Contexts) reachable from root, each once, found by walking the graph itself."""
    ops, seen, todo = [], {id(root)}, [root]
    while todo:
        t = todo.pop()
        if t.grad_fn is not None:
            ops.append(t.grad_fn)
            for p in t.grad_fn.inputs:
                if id(p) not in seen:
                    seen.add(id(p))
                    todo.append(p)
    return ops


def lenet_loss(batch: int = 8):
    tg.manual_seed(0)
    model = LeNet()
    x = tg.randn(batch, 1, 28, 28)
    y = tg.Tensor(np.arange(batch) % 10)
    return model, F.cross_entropy(model(x), y)


def cluster_label(name: str, module) -> str:
    count = sum(p.numel() for p in module.parameters())
    return f"{name}: {type(module).__name__}" + (f", {count:,} params" if count else "")


def test_lenet_loss_has_one_node_per_op_a_cluster_per_module_and_named_parameters(parse_dot):
    model, loss = lenet_loss()
    dot = parse_dot(viz.draw_graph(loss, model).source)
    ops = walk_ops(loss)
    assert len(ops) == 13
    op_nodes = dot.of_kind("op")
    assert len(op_nodes) == len(ops)
    assert sorted(dot.label(n).split(" ")[0] for n in op_nodes) == sorted(c.op for c in ops)

    modules = {name: m for name, m in model.named_modules() if name}
    labels = [c["label"] for c in dot.clusters.values()]
    assert sorted(labels) == sorted(cluster_label(n, m) for n, m in modules.items())
    assert "conv1: Conv2d, 156 params" in labels and "fc1: Linear, 30,840 params" in labels
    assert "pool1: MaxPool2d" in labels

    # every op sits in the cluster of the module it ran in
    scope_of = {".".join(c.scope) for c in ops}
    assert scope_of == set(modules) | {""}
    placed = {dot.label(n): dot.nodes[n]["clusters"] for n in op_nodes}
    assert placed["cross_entropy"] == []
    assert placed["max_pool2d k=2 s=2 p=0"][0].startswith("pool")
    assert placed["flatten start_dim=1"] == [cluster_label("flatten", model.flatten)]

    leaves = {dot.label(n).split("\\n")[0]: dot.nodes[n] for n in dot.of_kind("leaf")}
    assert len(leaves) == len(dot.of_kind("leaf"))  # each tensor drawn once
    for name, p in model.named_parameters():
        text = f"{name} ({','.join(map(str, p.shape))})"
        assert text in leaves, text
        module = name.rsplit(".", 1)[0]
        assert leaves[text]["clusters"] == [cluster_label(module, modules[module])]
        assert leaves[text]["attrs"]["fillcolor"] == "lightblue"
    assert set(leaves) - {f"{n} ({','.join(map(str, p.shape))})" for n, p in model.named_parameters()} == {
        "tensor (8,1,28,28)", "tensor (8)"}
    assert "conv1.weight (6,1,5,5)" in leaves


def test_lenet_graph_data_path_carries_the_shapes(parse_dot):
    model, loss = lenet_loss(batch=4)
    dot = parse_dot(loss.draw(params=model).source)
    shapes = [a["label"] for s, d, a in dot.edges if s.startswith("op") and d.startswith("op")]
    assert shapes == ["(4,10)", "(4,84)", "(4,84)", "(4,120)", "(4,120)", "(4,256)", "(4,16,4,4)",
                      "(4,16,8,8)", "(4,16,8,8)", "(4,6,12,12)", "(4,6,24,24)", "(4,6,24,24)"]


def test_lenet_graph_is_identical_on_every_draw_and_every_build():
    model, loss = lenet_loss()
    first = viz.draw_graph(loss, model, show_saved=True).source
    assert viz.draw_graph(loss, model, show_saved=True).source == first
    again_model, again_loss = lenet_loss()
    assert viz.draw_graph(again_loss, again_model, show_saved=True).source == first


def test_lenet_grads_after_backward(parse_dot):
    model, loss = lenet_loss()
    loss.backward()
    dot = parse_dot(viz.draw_graph(loss, model, show_grads=True).source)
    labels = {dot.label(n).split("\\n")[0]: dot.label(n) for n in dot.of_kind("leaf")}
    norm = np.linalg.norm(model.fc3.bias.grad.numpy().astype(np.float64))
    assert f"‖grad‖={norm:.3g}" in labels["fc3.bias (10)"]
    assert "grad" not in labels["tensor (8,1,28,28)"]


def test_nested_modules_give_nested_clusters(parse_dot):
    tg.manual_seed(0)
    model = nn.Sequential(nn.Sequential(nn.Linear(4, 3), nn.ReLU()), nn.Linear(3, 2))
    loss = model(tg.randn(5, 4)).sum()
    dot = parse_dot(loss.draw(params=model).source)
    where = {dot.label(n).split("\\n")[0]: dot.nodes[n]["clusters"] for n in dot.nodes}
    outer = "0: Sequential, 15 params"
    assert where["relu"] == [outer, "0.1: ReLU"]
    assert where["0.0.weight (3,4)"] == [outer, "0.0: Linear, 15 params"]
    assert where["1.weight (2,3)"] == ["1: Linear, 8 params"]
    parents = {c["label"]: c["parent"] and dot.clusters[c["parent"]]["label"] for c in dot.clusters.values()}
    assert parents == {outer: None, "0.0: Linear, 15 params": outer, "0.1: ReLU": outer,
                       "1: Linear, 8 params": None}


@pytest.mark.parametrize("model_class, ops", [(LeNet, 13), (SimpleCNN, 11)])
def test_model_graph_draws_one_training_batch(parse_dot, model_class, ops):
    tg.manual_seed(0)
    model = model_class()
    tg.manual_seed(5)
    expected_next = tg.randn(3).numpy()
    tg.manual_seed(5)
    graph = viz.model_graph(model, (1, 28, 28), batch_size=16)
    assert np.array_equal(tg.randn(3).numpy(), expected_next)  # the global generator is untouched
    dot = parse_dot(graph.source)
    assert len(dot.of_kind("op")) == ops
    leaves = {dot.label(n) for n in dot.of_kind("leaf")}
    assert {"random input (16,1,28,28)\\nfloat32", "target (all 0) (16)\\nint64"} <= leaves
    assert len(leaves) == 2 + len(list(model.parameters()))
    assert len(dot.clusters) == len([n for n, _ in model.named_modules() if n])  # the legend is cluster_legend
    assert dot.label("out0").startswith("cross_entropy loss ()\\n= ")
    assert viz.model_graph(model, (1, 28, 28), batch_size=16).source == graph.source


def test_model_graph_records_even_inside_no_grad(parse_dot):
    with tg.no_grad():
        graph = viz.model_graph(LeNet(), (1, 28, 28), batch_size=2)
    assert len(parse_dot(graph.source).of_kind("op")) == 13


def test_model_graph_refuses_bad_shapes():
    with pytest.raises(ValueError, match="batch_size"):
        viz.model_graph(LeNet(), (1, 28, 28), batch_size=0)
    with pytest.raises(ValueError, match="input_shape"):
        viz.model_graph(LeNet(), ())


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's `dot` is not installed")
def test_lenet_renders_to_svg_and_png(tmp_path):
    model, loss = lenet_loss()
    graph = viz.draw_graph(loss, model)
    svg = viz.render(graph, tmp_path / "lenet.svg")
    root = ET.parse(svg).getroot()
    texts = {t.text for t in root.iter("{http://www.w3.org/2000/svg}text")}
    assert {"conv1.weight (6,1,5,5)", "conv1: Conv2d, 156 params", "cross_entropy"} <= texts
    png = viz.render(graph, tmp_path / "lenet.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert height > width > 300  # a tall, narrow picture: one straight data path


def test_model_graph_of_a_real_batch_names_images_labels_the_loss_and_has_a_legend():
    import tinygrad_cnn.nn.functional as F
    from tinygrad_cnn.data import load_mnist
    from tinygrad_cnn.models import LeNet
    from tinygrad_cnn.viz import model_graph
    from tinygrad_cnn.viz.style import LEGEND

    X, y, _, _ = load_mnist()
    model = LeNet()
    source = model_graph(model, (1, 28, 28), batch=(X[:8], y[:8])).source
    loss = F.cross_entropy(model(tg.tensor(X[:8])), tg.tensor(y[:8])).item()
    assert "images (8,1,28,28)" in source.replace(", ", ",") and "labels" in source
    assert f"cross_entropy loss ()\\n= {loss:.4g}" in source
    assert "cluster_legend" in source and all(text in source for _, text in LEGEND)
    random = model_graph(model, (1, 28, 28), batch_size=4).source
    assert "random input" in random and "target (all 0)" in random
