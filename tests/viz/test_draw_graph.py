"""draw_graph on plain tensor expressions: nodes, edges, labels, clusters, options, determinism."""

from __future__ import annotations

import re

import numpy as np
import pytest

pytest.importorskip("graphviz", reason="tinygrad_cnn.viz builds graphviz.Digraph objects")

import graphviz  # noqa: E402

import tinygrad_cnn as tg  # noqa: E402
from tinygrad_cnn.autograd import scope  # noqa: E402
from tinygrad_cnn.nn.functional import conv2d  # noqa: E402
from tinygrad_cnn.nn.functional import max_pool2d  # noqa: E402
from tinygrad_cnn.viz import draw_graph, op_label  # noqa: E402


def graph_contents(root):
    """(op contexts, leaf tensors) reachable from root, each once, found by walking grad_fn.inputs."""
    ops, leaves, seen, todo = [], [], {id(root)}, [root]
    while todo:
        t = todo.pop()
        if t.grad_fn is None:
            leaves.append(t)
            continue
        ops.append(t.grad_fn)
        for p in t.grad_fn.inputs:
            if id(p) not in seen:
                seen.add(id(p))
                todo.append(p)
    return ops, leaves


def mlp(seed: int = 0):
    """A two-layer expression with a shared weight and a tensor used twice."""
    tg.manual_seed(seed)
    x = tg.randn(4, 3)
    w1 = tg.randn(3, 5, requires_grad=True)
    b1 = tg.zeros(5, requires_grad=True)
    w2 = tg.randn(5, 2, requires_grad=True)
    with scope("fc1"):
        h = (x @ w1 + b1).relu()
    with scope("fc2"):
        out = h @ w2
    loss = (out * out).mean() + (w1 * w1).sum() * 0.01
    return loss, {"x": x, "w1": w1, "b1": b1, "w2": w2}


def test_one_node_per_op_and_per_leaf(parse_dot):
    loss, named = mlp()
    dot = parse_dot(draw_graph(loss, named).source)
    ops, leaves = graph_contents(loss)
    assert len(dot.of_kind("op")) == len(ops) == 10
    assert len(dot.of_kind("leaf")) == len(leaves)
    assert sorted(re.sub(r" .*", "", dot.label(n)) for n in dot.of_kind("op")) == sorted(c.op for c in ops)
    assert len(dot.of_kind("out")) == 1
    # every op input is one edge; plus the edge to the output node
    assert len(dot.edges) == sum(len(c.inputs) for c in ops) + 1


def test_tensor_used_twice_is_one_node_with_two_edges(parse_dot):
    x = tg.tensor([1.0, -2.0, 3.0], requires_grad=True)
    a = x.relu()
    y = (a * a).sum()
    dot = parse_dot(draw_graph(y, {"x": x}).source)
    relu = [n for n in dot.of_kind("op") if dot.label(n) == "relu"]
    mul = [n for n in dot.of_kind("op") if dot.label(n) == "mul"]
    assert len(relu) == 1 and len(mul) == 1
    assert [(s, d) for s, d, _ in dot.edges].count((relu[0], mul[0])) == 2
    assert [dot.label(n) for n in dot.of_kind("leaf")] == ["x (3)\\nfloat32"]


def test_leaves_are_labelled_with_name_shape_dtype_and_styled_by_kind(parse_dot):
    loss, named = mlp()
    dot = parse_dot(draw_graph(loss, named).source)
    leaves = {dot.label(n).split("\\n")[0]: dot.nodes[n]["attrs"] for n in dot.of_kind("leaf")}
    assert {"x (4,3)", "w1 (3,5)", "b1 (5)", "w2 (5,2)"} <= set(leaves)
    params = {k for k, a in leaves.items() if a.get("fillcolor") == "lightblue"}
    assert params == {"w1 (3,5)", "b1 (5)", "w2 (5,2)"}
    assert leaves["x (4,3)"]["shape"] == "note"
    assert sorted(k for k, a in leaves.items() if a.get("shape") == "plaintext") == ["0.01"]
    out = dot.nodes["out0"]["attrs"]
    assert out["peripheries"] == "2" and f"= {loss.item():.4g}" in out["label"]


def test_unnamed_leaves_show_shape_and_dtype(parse_dot):
    x = tg.randn(2, 3, dtype=np.float64, requires_grad=True)
    dot = parse_dot(x.sum().draw().source)
    assert [dot.label(n) for n in dot.of_kind("leaf")] == ["tensor (2,3)\\nfloat64"]
    assert [dot.label(n) for n in dot.of_kind("op")] == ["sum"]


def test_ops_show_their_key_parameters_compactly():
    x = tg.randn(2, 1, 8, 8)
    w = tg.randn(3, 1, 3, 3, requires_grad=True)
    y = conv2d(x, w)
    assert op_label(y.grad_fn) == "conv2d s=1 p=0"
    assert op_label(conv2d(x, w, stride=2, padding=(1, 2)).grad_fn) == "conv2d s=2 p=(1,2)"
    assert op_label(conv2d(x, w, dilation=2).grad_fn) == "conv2d s=1 p=0 d=2"
    assert op_label(max_pool2d(y, 2).grad_fn) == "max_pool2d k=2 s=2 p=0"
    assert op_label(y[:, 0:2, ..., 1].grad_fn) == "getitem [:,0:2,...,1]"
    assert op_label(y.sum(dim=1, keepdim=True).grad_fn) == "sum axis=1 keepdims"
    assert op_label(y.sum().grad_fn) == "sum"
    assert op_label(y.reshape(2, -1).grad_fn) == "reshape shape=(2,108)"


def test_a_flatten_is_drawn_as_the_flatten_that_was_called():
    x = tg.randn(2, 1, 1, 5, requires_grad=True)
    y = x * 2.0
    assert op_label(tg.nn.Flatten()(y).grad_fn) == "flatten start_dim=1"
    assert op_label(tg.flatten(y).grad_fn) == "flatten start_dim=0"
    assert op_label(y.flatten(1, 2).grad_fn) == "flatten start_dim=1 end_dim=2"  # not readable off the shapes
    assert op_label(tg.randn((), requires_grad=True).flatten().grad_fn) == "flatten"
    flat = y.flatten(1)
    assert flat.grad_fn.name() == "ViewBackward0"  # torch's node name, as torch.flatten's
    flat.sum().backward()
    assert flat.shape == (2, 5) and np.array_equal(x.grad.numpy(), np.full(x.shape, 2.0))


def test_arrays_in_params_are_shown_by_shape_only():
    a = tg.tensor([[5.0, 6.0], [7.0, 8.0]], requires_grad=True)
    picked = tg.where(np.array([[True, False], [False, True]]), a, -a)
    label = op_label(picked.grad_fn)
    assert label == "where condition=array(2,2)"
    assert op_label(a[np.array([1, 0, 1])].grad_fn) == "getitem [array(3)]"


def test_module_scopes_become_nested_labelled_clusters(parse_dot):
    w = tg.randn(3, 3, requires_grad=True)
    x = tg.randn(2, 3)
    with scope("encoder"):
        with scope("0"):
            h = (x @ w).relu()
        h = h * 2.0
    loss = h.sum()
    dot = parse_dot(draw_graph(loss, {"w": w, "x": x}).source)
    where = {dot.label(n): dot.nodes[n]["clusters"] for n in dot.nodes}
    assert where["matmul"] == ["encoder", "encoder.0"]
    assert where["relu"] == ["encoder", "encoder.0"]
    assert where["mul"] == ["encoder"]
    assert where["sum"] == []
    # a parameter sits in the innermost cluster holding all its consumers; data stays outside
    assert where["w (3,3)\\nfloat32"] == ["encoder", "encoder.0"]
    assert where["x (2,3)\\nfloat32"] == []
    assert where["2"] == ["encoder"]
    assert len(dot.clusters) == 2
    flat = parse_dot(draw_graph(loss, group_modules=False).source)
    assert flat.clusters == {} and len(flat.nodes) == len(dot.nodes)


def test_a_module_called_twice_gets_one_cluster_per_call(parse_dot):
    x = tg.randn(2, 3, requires_grad=True)
    with scope("act"):
        a = x.relu()
    b = a * 3.0
    with scope("act"):
        c = b.relu()
    dot = parse_dot(c.sum().draw().source)
    assert sorted(c["label"] for c in dot.clusters.values()) == ["act", "act"]
    relu_clusters = {dot.nodes[n]["clusters"][0] for n in dot.of_kind("op") if dot.label(n) == "relu"}
    assert relu_clusters == {"act"}
    relus = [n for n in dot.of_kind("op") if dot.label(n) == "relu"]
    assert len(relus) == 2


def test_a_weight_shared_by_two_modules_sits_outside_both(parse_dot):
    w = tg.randn(3, 3, requires_grad=True)
    x = tg.randn(2, 3)
    with scope("encoder"):
        h = (x @ w).tanh()
    with scope("decoder"):
        out = h @ w.T
    dot = parse_dot(draw_graph(out.sum(), {"w": w}).source)
    where = {dot.label(n): dot.nodes[n]["clusters"] for n in dot.nodes}
    assert where["w (3,3)\\nfloat32"] == []
    assert where["permute dims=(1,0)"] == ["decoder"]
    assert [s for s, d, _ in dot.edges].count(next(n for n in dot.of_kind("leaf") if dot.label(n).startswith("w "))) == 2


def test_show_shapes_labels_the_edges_leaving_ops(parse_dot):
    loss, named = mlp()
    dot = parse_dot(draw_graph(loss, named).source)
    shaped = {(dot.label(s), dot.label(d)): a.get("label") for s, d, a in dot.edges if s.startswith("op")}
    assert shaped[("relu", "matmul")] == "(4,5)"
    assert shaped[("mul", "mean")] == "(4,2)"
    assert all(a.get("label") is None for s, _, a in dot.edges if s.startswith("leaf"))
    bare = parse_dot(draw_graph(loss, named, show_shapes=False).source)
    assert all("label" not in a for _, _, a in bare.edges)


def test_show_grads_gives_norms_and_flags_nan_in_red(parse_dot):
    loss, named = mlp()
    before = parse_dot(draw_graph(loss, named, show_grads=True).source)
    assert all("grad None" in before.label(n) for n in before.of_kind("leaf")
               if before.nodes[n]["attrs"].get("fillcolor") == "lightblue")
    loss.backward()
    named["b1"].grad = tg.Tensor(np.array([1.0, np.nan, 0, 0, 0], dtype=np.float32))
    dot = parse_dot(draw_graph(loss, named, show_grads=True).source)
    labels = {dot.label(n).split("\\n")[0]: n for n in dot.of_kind("leaf")}
    w2 = dot.label(labels["w2 (5,2)"])
    assert f"‖grad‖={np.linalg.norm(named['w2'].grad.numpy().astype(np.float64)):.3g}" in w2
    b1 = dot.nodes[labels["b1 (5)"]]["attrs"]
    assert "NaN" in b1["label"] and b1["color"] == "red"
    assert "grad" not in dot.label(labels["x (4,3)"])
    assert sum(dot.nodes[n]["attrs"].get("color") == "red" for n in dot.nodes) == 1
    plain = parse_dot(draw_graph(loss, named).source)
    assert not any("grad" in plain.label(n) for n in plain.of_kind("leaf"))


def test_show_saved_lists_what_backward_will_use_until_it_is_freed(parse_dot):
    a = tg.randn(4, 3, requires_grad=True)
    b = tg.randn(3, 2, requires_grad=True)
    y = (a @ b).relu().sum()
    dot = parse_dot(draw_graph(y, show_saved=True).source)
    saved = {dot.label(s): dot.label(d) for s, d, _ in dot.edges if d.startswith("saved")}
    assert saved["matmul"] == "saved\\n(4,3) float32\\n(3,2) float32"
    assert saved["relu"].startswith("saved\\n(4,2)")
    assert "rank=same" in draw_graph(y, show_saved=True).source
    assert not parse_dot(draw_graph(y).source).of_kind("saved")
    y.backward()
    assert not parse_dot(draw_graph(y, show_saved=True).source).of_kind("saved")


def test_same_graph_gives_identical_dot_text():
    first, named_first = mlp(seed=1)
    second, named_second = mlp(seed=1)
    source = draw_graph(first, named_first, show_saved=True).source
    assert draw_graph(first, named_first, show_saved=True).source == source
    assert draw_graph(second, named_second, show_saved=True).source == source
    assert not re.search(r"\d{7,}", source)  # no id()-like numbers anywhere


def test_max_nodes_collapses_the_rest_into_one_node(parse_dot):
    x = tg.randn(3, requires_grad=True)
    y = x
    for _ in range(200):
        y = y * 1.5
    full = parse_dot(y.sum().draw().source)
    total = len(full.of_kind("op")) + len(full.of_kind("leaf"))
    assert total == 402  # 201 ops, x and 200 constants
    dot = parse_dot(y.sum().draw(max_nodes=25).source)
    assert len(dot.of_kind("op")) + len(dot.of_kind("leaf")) == 25
    assert dot.label("more") == f"... {total - 25} more"
    into = [d for s, d, _ in dot.edges if s == "more"]
    assert len(into) == len(set(into)) >= 1
    assert all(d in dot.nodes for _, d, _ in dot.edges)
    assert "more" not in full.nodes
    assert "more" not in parse_dot(y.sum().draw(max_nodes=total).source).nodes


def test_deep_graph_is_walked_without_recursion(parse_dot):
    import sys

    x = tg.randn(2, requires_grad=True)
    y = x
    for _ in range(sys.getrecursionlimit() + 500):
        y = y.relu()
    dot = parse_dot(draw_graph(y).source)
    assert len(dot.of_kind("op")) == sys.getrecursionlimit() + 500


def test_several_roots_each_get_an_output_node(parse_dot):
    x = tg.randn(3, requires_grad=True)
    a, b = x.exp(), x.tanh()
    dot = parse_dot(draw_graph([a, b, a]).source)
    assert sorted(dot.of_kind("out")) == ["out0", "out1"]
    assert len(dot.of_kind("leaf")) == 1
    assert dot.label("out0") == "output (3)"


def test_a_leaf_root_is_drawn_as_its_own_output():
    w = tg.ones(2, requires_grad=True)
    source = w.draw(params={"w": w}).source
    assert 'leaf0 [label="w (2)\\nfloat32"' in source and "leaf0 -> out0" in source


def test_options_reach_the_digraph():
    loss, _ = mlp()
    graph = loss.draw(rankdir="LR")
    assert isinstance(graph, graphviz.Digraph)
    assert "rankdir=LR" in graph.source


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"root": []}, ValueError, "empty"),
        ({"root": np.ones(3)}, TypeError, "ndarray"),
        ({"rankdir": "UP"}, ValueError, "rankdir"),
        ({"max_nodes": 0}, ValueError, "max_nodes"),
        ({"params": [1, 2]}, TypeError, "Module or a name"),
        ({"params": {"w": np.ones(3)}}, TypeError, r"params\['w'\]"),
    ],
)
def test_bad_arguments_are_named(kwargs, error, message):
    loss, _ = mlp()
    kwargs = {"root": loss, **kwargs}
    with pytest.raises(error, match=message):
        draw_graph(kwargs.pop("root"), **kwargs)


def test_a_module_shared_by_two_parents_is_boxed_under_the_name_each_call_used(parse_dot):
    shared = tg.nn.ReLU()

    class Net(tg.nn.Module):
        def __init__(self):
            super().__init__()
            self.left = tg.nn.Sequential(tg.nn.Linear(3, 3), shared)
            self.right = tg.nn.Sequential(shared)

        def forward(self, x):
            return self.right(self.left(x) * 2.0)

    model = Net()
    dot = parse_dot(draw_graph(model(tg.randn(2, 3)).sum(), model).source)
    relus = [n for n in dot.nodes if dot.label(n) == "relu"]
    assert sorted(dot.nodes[n]["clusters"][-1] for n in relus) == ["left.1: ReLU", "right.0: ReLU"]
