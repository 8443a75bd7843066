"""The computation graph as a graphviz.Digraph: what ran, in which module, on which shapes.

``draw_graph(loss, model)`` walks the graph behind ``loss`` (iteratively, each tensor once)
and draws one node per op, one per leaf tensor and one per output, with data flowing top
to bottom. Ops run inside a module sit in a labelled box (a graphviz cluster) named after
the module, nested as the modules are. Node ids come from a counter in traversal order,
so the same graph always gives the same DOT text.

How to read the picture (no legend needed):

- grey rounded box: an op with its key parameters ("conv2d s=1 p=0", "max_pool2d k=2 s=2")
- blue box: a tensor that requires grad (a parameter: "conv1.weight (6,1,5,5)")
- yellow sheet: data that requires no grad (inputs, targets); small grey text: a constant
- green double ellipse: the root (usually the loss), with its value when it is a scalar
- orange box (``show_saved``): the arrays an op keeps for backward
- red fill (``show_grads``): a leaf whose gradient holds NaN or inf

Building the Digraph and its ``.source`` needs only the ``graphviz`` Python package;
rendering (``render``, ``Digraph.render``/``pipe``, Jupyter display) needs Graphviz's
``dot`` program, and its absence raises one RuntimeError saying how to install it.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections import deque
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

import numpy as np

from tinygrad_cnn.autograd import Context, enable_grad
from tinygrad_cnn.fileio import atomic_write
from tinygrad_cnn.nn import functional as F
from tinygrad_cnn.tensor import Tensor

DOT_MISSING = (
    "rendering the graph needs Graphviz's `dot` program, which was not found on PATH. "
    "Install it with `sudo apt-get install graphviz` (Debian/Ubuntu), `brew install graphviz` (macOS) "
    "or `conda install -c conda-forge graphviz`. Building the graph and its DOT .source work without it."
)

RANKDIRS = ("TB", "LR", "BT", "RL")

_STYLE = {
    "op": {"shape": "box", "style": "rounded,filled", "fillcolor": "#ececec", "color": "#606060"},
    "param": {"shape": "box", "style": "filled", "fillcolor": "lightblue", "color": "#2b6ca3"},
    "data": {"shape": "note", "style": "filled", "fillcolor": "#fff3bf", "color": "#a68a00"},
    "const": {"shape": "plaintext", "style": "solid", "fontsize": "9", "fontcolor": "#606060", "height": "0.2"},
    "output": {"shape": "ellipse", "style": "filled", "fillcolor": "darkolivegreen1", "peripheries": "2"},
    "saved": {"shape": "box", "style": "filled", "fillcolor": "orange", "fontsize": "8", "color": "#b36b00"},
    "more": {"shape": "box", "style": "rounded,dashed", "fontcolor": "#505050", "color": "#808080"},
}
_BAD_GRAD = {"fillcolor": "#ff8a8a", "color": "red", "fontcolor": "#7a0000", "penwidth": "2"}
_CLUSTER_FILL = ("#f3f7fc", "#e6eef8", "#d9e5f3", "#ccdcef")
_GRAPH_ATTR = {"fontname": "Helvetica", "fontsize": "10", "nodesep": "0.3", "ranksep": "0.35"}
_NODE_ATTR = {"fontname": "Helvetica", "fontsize": "10", "height": "0.3", "margin": "0.08,0.04"}
_EDGE_ATTR = {"fontname": "Helvetica", "fontsize": "8", "fontcolor": "#404040", "color": "#505050",
              "arrowsize": "0.6"}

# Parameters shown under a short name; spatial pairs such as (2, 2) collapse to 2.
_ABBREVIATIONS = {"kernel_size": "k", "stride": "s", "padding": "p", "dilation": "d", "groups": "g"}
_HIDDEN_DEFAULTS = {"dilation": 1, "groups": 1, "count_include_pad": True, "value": 0, "reduction": "mean",
                    "label_smoothing": 0, "ignore_index": -100, "eps": 1e-5, "momentum": 0.1,
                    "output_padding": 0}
_SINGLE_AXIS_KEYS = ("axis", "dim", "dims")
_MAX_PARAM_CHARS = 40


# ------------------------------------------------------------------------ graphviz plumbing
def _import_graphviz() -> Any:
    try:
        import graphviz
    except ImportError:
        raise ImportError(
            "tinygrad_cnn.viz needs the graphviz Python package: pip install graphviz "
            "(or pip install 'tinygrad_cnn[viz]'); rendering also needs Graphviz's `dot` program"
        ) from None
    return graphviz


@contextlib.contextmanager
def _dot_required() -> Iterator[None]:
    """Turn graphviz.ExecutableNotFound (no `dot` on PATH) into one RuntimeError saying how to install it."""
    graphviz = _import_graphviz()
    try:
        yield
    except graphviz.ExecutableNotFound:
        raise RuntimeError(DOT_MISSING) from None


@functools.cache
def _digraph_class() -> type:
    graphviz = _import_graphviz()

    class Digraph(graphviz.Digraph):
        """A graphviz.Digraph whose render/pipe (and so Jupyter display) explain a missing `dot`."""

        def pipe(self, *args: Any, **kwargs: Any) -> Any:
            with _dot_required():
                return super().pipe(*args, **kwargs)

        def render(self, *args: Any, **kwargs: Any) -> Any:
            with _dot_required():
                return super().render(*args, **kwargs)

    return Digraph


def render(graph: Any, path: str | os.PathLike, format: str | None = None) -> Path:
    """Render ``graph`` (a graphviz.Digraph) to ``path`` and return the path written.

    ``format`` ("svg", "png", "pdf", ...) defaults to the suffix of ``path``, else "svg"; a path
    without suffix gets ".<format>". The file is written to a temporary name and renamed into
    place. Raises RuntimeError with install instructions when Graphviz's `dot` is missing.
    """
    path = Path(path)
    fmt = (format or path.suffix.lstrip(".") or "svg").lower()
    if not path.suffix:
        path = path.with_suffix(f".{fmt}")
    with _dot_required():
        data = graph.pipe(format=fmt)
    return atomic_write(path, data)


# ------------------------------------------------------------------------ labels
def _shape(shape: Sequence[int]) -> str:
    return "(" + ",".join(str(int(n)) for n in shape) + ")"


def _index(index: Any) -> str:
    items = index if isinstance(index, tuple) else (index,)
    parts = []
    for item in items:
        if isinstance(item, slice):
            parts.append(":".join("" if v is None else str(v) for v in (item.start, item.stop, item.step)).rstrip(":")
                         or ":")
        elif item is Ellipsis:
            parts.append("...")
        else:
            parts.append(_value(item))
    return "[" + ",".join(parts) + "]"


def _value(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"array{_shape(value.shape)}"
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (float, np.floating)):
        return f"{float(value):g}"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (tuple, list)):
        return "(" + ",".join(_value(v) for v in value) + ")"
    if isinstance(value, slice) or value is Ellipsis:
        return _index(value)
    if isinstance(value, (np.dtype, type)):
        return np.dtype(value).name
    return str(value)


def _is_default(key: str, value: Any) -> bool:
    if key not in _HIDDEN_DEFAULTS or isinstance(value, np.ndarray):
        return False
    default = _HIDDEN_DEFAULTS[key]
    return isinstance(value, bool) == isinstance(default, bool) and value == default


def _param(key: str, value: Any) -> str | None:
    """One op parameter as compact text ("s=1", "axis=0", "keepdims"), None when not worth showing."""
    if key in _ABBREVIATIONS and isinstance(value, (tuple, list)) and value and all(v == value[0] for v in value):
        value = value[0]
    if value is None or value is False or _is_default(key, value):
        return None
    if value is True:
        return key
    if key == "index":
        return _index(value)
    if key in _SINGLE_AXIS_KEYS and isinstance(value, (tuple, list)) and len(value) == 1:
        value = value[0]
    text = f"{_ABBREVIATIONS.get(key, key)}={_value(value)}"
    return text if len(text) <= _MAX_PARAM_CHARS else text[:_MAX_PARAM_CHARS - 1] + "…"


def op_label(ctx: Context) -> str:
    """The text of an op node: its name and key parameters, e.g. "conv2d s=1 p=0" or "max_pool2d k=2 s=2"."""
    everything = tuple(range(ctx.inputs[0].ndim)) if ctx.inputs else None
    params = [_param(k, v) for k, v in ctx.params.items() if not (k == "axis" and tuple(v or ()) == everything)]
    return " ".join([ctx.op, *(p for p in params if p)])


def _leaf_label(tensor: Tensor, name: str | None, show_grads: bool) -> tuple[str, bool]:
    """(label, True when the gradient holds NaN/inf) for a leaf tensor: name, shape, dtype, grad norm."""
    lines = [f"{name or 'tensor'} {_shape(tensor.shape)}", tensor.dtype.name]
    bad = False
    if show_grads and tensor.requires_grad:
        if tensor.grad is None:
            lines.append("grad None")
        elif not np.all(np.isfinite(tensor.grad.numpy())):
            bad = True
            lines.append("grad has NaN/inf")
        else:
            lines.append(f"‖grad‖={float(np.linalg.norm(tensor.grad.numpy().astype(np.float64))):.3g}")
    return "\\n".join(lines), bad


def _leaf_node(tensor: Tensor, name: str | None, show_grads: bool) -> tuple[str, dict[str, str]]:
    """(label, attributes) of a leaf: a constant as its value, else name/shape/dtype in its kind's style."""
    if name is None and tensor.ndim == 0 and not tensor.requires_grad:
        return _value(tensor.item()), _STYLE["const"]
    label, bad = _leaf_label(tensor, name, show_grads)
    style = _STYLE["param" if tensor.requires_grad else "data"]
    return label, ({**style, **_BAD_GRAD} if bad else style)


def _saved_label(ctx: Context) -> str | None:
    """What ``ctx`` keeps for backward: shapes of saved_tensors and of arrays stored as attributes."""
    if ctx.freed:
        return None
    items = [f"{_shape(a.shape)} {a.dtype.name}" for a in ctx.saved_tensors if isinstance(a, np.ndarray)]
    items += [f"{k} {_shape(v.shape)}" for k, v in ctx.saved_attributes().items() if isinstance(v, np.ndarray)]
    return "saved\\n" + "\\n".join(items) if items else None


def _cluster(digraph_class: type, number: int, scope: tuple[str, ...], modules: dict[str, Any], depth: int) -> Any:
    """An empty cluster for one call of the module at ``scope``, labelled "conv1: Conv2d, 156 params"."""
    qualname = ".".join(scope)
    label = qualname
    module = modules.get(qualname)
    if module is not None:
        count = sum(p.numel() for _, p in module.named_parameters())
        label += f": {type(module).__name__}" + (f", {_count(count)}" if count else "")
    return digraph_class(name=f"cluster_{number}", graph_attr={
        "label": label, "style": "rounded,filled", "color": "#8fa9c4", "labeljust": "l", "fontcolor": "#1f3f66",
        "fillcolor": _CLUSTER_FILL[min(depth, len(_CLUSTER_FILL)) - 1]})


def _count(n: int) -> str:
    return f"{n:,} param" + ("" if n == 1 else "s")


# ------------------------------------------------------------------------ traversal and grouping
def _walk(roots: Sequence[Tensor]) -> list[Tensor]:
    """Every tensor reachable from ``roots`` through grad_fn.inputs, once each, breadth first."""
    seen = {id(r) for r in roots}
    order: list[Tensor] = []
    queue = deque(roots)
    while queue:
        tensor = queue.popleft()
        order.append(tensor)
        if tensor.grad_fn is not None:
            for parent in tensor.grad_fn.inputs:
                if id(parent) not in seen:
                    seen.add(id(parent))
                    queue.append(parent)
    return order


def _forward_order(drawn: list[Tensor], position: dict[int, int], roots: list[Tensor]) -> list[int]:
    """Indices of the drawn tensors in execution order (each op after its inputs, inputs in
    argument order): a depth-first post-order, iterative. Dot lays nodes out in this order."""
    order: list[int] = []
    done: set[int] = set()
    stack = [(position[id(r)], False) for r in reversed(roots)]
    while stack:
        i, expanded = stack.pop()
        if expanded:
            order.append(i)
            continue
        if i in done:
            continue
        done.add(i)
        stack.append((i, True))
        node = drawn[i].grad_fn
        if node is not None:
            stack.extend((j, False) for j in (position.get(id(p)) for p in reversed(node.inputs))
                         if j is not None and j not in done)
    return order


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[Any, Any] = {}

    def find(self, key: Any) -> Any:
        root = key
        while self.parent.get(root, root) != root:
            root = self.parent[root]
        while key != root:
            self.parent[key], key = root, self.parent.get(key, key)
        return root

    def union(self, a: Any, b: Any) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _common_depth(a: tuple[str, ...], b: tuple[str, ...]) -> int:
    depth = 0
    for x, y in zip(a, b):
        if x != y:
            break
        depth += 1
    return depth


def _cluster_paths(ops: dict[int, Tensor], edges: list[tuple[int, int]]) -> dict[int, tuple[Any, ...]]:
    """For each op (by traversal index), its chain of clusters, outermost first.

    A cluster is one call of one module: ops in the same scope that are connected through
    ops of that scope. A module called twice (a shared ReLU, a tied layer) so gets two boxes
    instead of one box pulling two distant parts of the graph together.
    """
    components = _UnionFind()
    for src, dst in edges:
        a, b = ops[src].grad_fn.scope, ops[dst].grad_fn.scope
        for d in range(1, _common_depth(a, b) + 1):
            components.union((a[:d], src), (a[:d], dst))
    return {i: tuple(components.find((t.grad_fn.scope[:d], i)) for d in range(1, len(t.grad_fn.scope) + 1))
            for i, t in ops.items()}


def _side_inputs(drawn: list[Tensor], ops: dict[int, Tensor], consumers: dict[int, list[int]],
                 paths: dict[int, tuple[Any, ...]]) -> dict[int, list[int]]:
    """op index -> the leaves drawn beside it (same rank), in argument order.

    A parameter or constant that feeds one op only, from the op's own cluster, sits beside
    that op, so the data path stays one straight line and each module box stays one row
    high: the first such input on the op's left, the others on its right (dot wants their
    edges written op -> leaf with dir=back; the arrow still points into the op).
    """
    beside: dict[int, list[int]] = {}
    for i, users in consumers.items():
        t = drawn[i]
        if i not in ops and (t.requires_grad or t.ndim == 0) and len(set(users)) == 1 \
                and paths.get(i, ()) == paths.get(users[0], ()):
            beside.setdefault(users[0], []).append(i)
    return beside


def _resolve_params(params: Any) -> tuple[dict[int, str], dict[str, Any]]:
    """(tensor id -> qualified name, qualified name -> module) from a Module or a name -> Tensor mapping."""
    if params is None:
        return {}, {}
    if hasattr(params, "named_parameters") and hasattr(params, "named_modules"):
        names = {}
        for name, p in params.named_parameters():
            names.setdefault(id(p), name)
        return names, dict(params.named_modules())
    if isinstance(params, Mapping):
        names = {}
        for name, t in params.items():
            if not isinstance(t, Tensor):
                raise TypeError(f"draw_graph: params[{name!r}] must be a Tensor, got {type(t).__name__}")
            names.setdefault(id(t), str(name))
        return names, {}
    raise TypeError(f"draw_graph: params must be a Module or a name -> Tensor mapping, got {type(params).__name__}")


# ------------------------------------------------------------------------ drawing
def draw_graph(root: Tensor | Sequence[Tensor], params: Any = None, *, show_shapes: bool = True,
               show_grads: bool = False, show_saved: bool = False, group_modules: bool = True,
               rankdir: str = "TB", max_nodes: int | None = None) -> Any:
    """The graph that computed ``root`` as a graphviz.Digraph (displays itself in Jupyter).

    root: a tensor (usually the loss) or a list of tensors.
    params: an nn.Module (its named_parameters label the leaves, "conv1.weight (6,1,5,5)", and
        its named_modules label the clusters, "conv1: Conv2d, 156 params") or a name -> Tensor
        mapping (any tensor, inputs included).
    show_shapes: label each edge leaving an op with the shape of the tensor it carries
        (leaves show their shape in their own label).
    show_grads: add each grad-requiring leaf's gradient norm; NaN/inf gradients in red.
    show_saved: draw what each op saved for backward (nothing once backward freed it).
    group_modules: draw each module call's ops in a labelled box, nested like the modules.
    rankdir: "TB" (top to bottom), "LR", "BT" or "RL".
    max_nodes: draw at most this many op and leaf nodes (those nearest the root); the rest
        become one "... N more" node.

    Each tensor is drawn once however often it is used; the traversal is iterative; node
    ids are "op<i>"/"leaf<i>" with i the traversal position, so the DOT text is reproducible.
    """
    roots = list(root) if isinstance(root, (list, tuple)) else [root]
    if not roots:
        raise ValueError("draw_graph: root is an empty list; pass a Tensor or a list of Tensors")
    for r in roots:
        if not isinstance(r, Tensor):
            raise TypeError(f"draw_graph: root must be a Tensor or a list of Tensors, got {type(r).__name__}")
    names, modules = _resolve_params(params)
    return _draw(roots, names, modules, show_shapes=show_shapes, show_grads=show_grads,
                 show_saved=show_saved, group_modules=group_modules, rankdir=rankdir, max_nodes=max_nodes)


def _draw(roots: list[Tensor], names: dict[int, str], modules: dict[str, Any], *, show_shapes: bool,
          show_grads: bool, show_saved: bool, group_modules: bool, rankdir: str, max_nodes: int | None) -> Any:
    if rankdir not in RANKDIRS:
        raise ValueError(f"draw_graph/model_graph: rankdir must be one of {RANKDIRS}, got {rankdir!r}")
    if max_nodes is not None and (not isinstance(max_nodes, int) or max_nodes < 1):
        raise ValueError(f"draw_graph/model_graph: max_nodes must be a positive int or None, got {max_nodes!r}")
    unique_roots = list({id(r): r for r in roots}.values())
    order = _walk(unique_roots)
    drawn = order if max_nodes is None else order[:max_nodes]
    position = {id(t): i for i, t in enumerate(drawn)}
    node_id = {i: ("op" if t.grad_fn is not None else "leaf") + str(i) for i, t in enumerate(drawn)}
    ops = {i: t for i, t in enumerate(drawn) if t.grad_fn is not None}

    # edges (source index or None for "more", destination op index, the tensor carried)
    edges: list[tuple[int | None, int, Tensor]] = []
    consumers: dict[int, list[int]] = {}
    for i, t in ops.items():
        for parent in t.grad_fn.inputs:
            src = position.get(id(parent))
            edges.append((src, i, parent))
            if src is not None:
                consumers.setdefault(src, []).append(i)

    paths: dict[int, tuple[Any, ...]] = {}
    if group_modules:
        paths = _cluster_paths(ops, [(s, d) for s, d, _ in edges if s is not None and s in ops])
        for i, t in enumerate(drawn):
            if i in ops or (not t.requires_grad and t.ndim > 0) or i not in consumers:
                continue
            chains = [paths[c] for c in consumers[i]]
            paths[i] = chains[0][:min(_common_depth(chains[0], c) for c in chains)]

    digraph_class = _digraph_class()
    graph = digraph_class(name="tinygrad_cnn", graph_attr={"rankdir": rankdir, **_GRAPH_ATTR},
                          node_attr={**_NODE_ATTR, **_STYLE["op"]}, edge_attr=_EDGE_ATTR)
    clusters: dict[Any, Any] = {}
    cluster_parent: dict[Any, Any] = {}

    def container(path: tuple[Any, ...]) -> Any:
        for depth, key in enumerate(path, start=1):
            if key not in clusters:
                clusters[key] = _cluster(digraph_class, len(clusters), key[0], modules, depth)
                cluster_parent[key] = path[depth - 2] if depth > 1 else None
        return clusters[path[-1]] if path else graph

    beside = _side_inputs(drawn, ops, consumers, paths)
    placed_beside = {i for side in beside.values() for i in side}
    on_right = {i for side in beside.values() for i in side[1:]}

    def leaf(target: Any, j: int) -> None:
        label, attrs = _leaf_node(drawn[j], names.get(id(drawn[j])), show_grads)
        target.node(node_id[j], label, **attrs)

    saved_labels: dict[int, str] = {}
    for i in _forward_order(drawn, position, unique_roots):
        if i in placed_beside:
            continue
        target = container(paths.get(i, ()))
        if i not in ops:
            leaf(target, i)
            continue
        for j in beside.get(i, []):
            leaf(target, j)
        target.node(node_id[i], op_label(ops[i].grad_fn))
        row = [node_id[j] for j in beside.get(i, [])]
        row.insert(min(1, len(row)), node_id[i])
        saved = _saved_label(ops[i].grad_fn) if show_saved else None
        if saved:
            saved_labels[i] = saved
            target.node(f"saved{i}", saved, **_STYLE["saved"])
            row.append(f"saved{i}")
        if len(row) > 1:
            target.body.append(f"\t{{rank=same; {' '.join(row)}}}\n")

    # graphviz copies a subgraph's text when it is added: fill the innermost clusters first.
    innermost_first = sorted(enumerate(clusters), key=lambda item: (-len(item[1][0]), item[0]))  # key[0]: the scope
    for _, key in innermost_first:
        parent = cluster_parent[key]
        (graph if parent is None else clusters[parent]).subgraph(clusters[key])

    hidden = len(order) - len(drawn)
    if hidden:
        graph.node("more", f"... {hidden:,} more", **_STYLE["more"])
    for k, r in enumerate(unique_roots):
        text = f"output {_shape(r.shape)}" + (f"\\n= {float(r.numpy().reshape(-1)[0]):.4g}" if r.numel() == 1 else "")
        graph.node(f"out{k}", text, **_STYLE["output"])

    more_linked: set[int] = set()
    for src, dst, tensor in edges:
        if src is None:
            if dst not in more_linked:
                more_linked.add(dst)
                graph.edge("more", node_id[dst], style="dashed")
            continue
        if src in on_right:
            graph.edge(node_id[dst], node_id[src], dir="back")
        elif tensor.grad_fn is None:
            graph.edge(node_id[src], node_id[dst])
        else:  # op to op: the data path, kept short and straight
            graph.edge(node_id[src], node_id[dst], label=_shape(tensor.shape) if show_shapes else None, weight="4")
    for i in saved_labels:
        graph.edge(node_id[i], f"saved{i}", style="dotted", dir="none")
        if len(beside.get(i, ())) > 1:  # keep the saved box outside the op's right-hand inputs
            graph.edge(node_id[beside[i][-1]], f"saved{i}", style="invis")
    for k, r in enumerate(unique_roots):
        graph.edge(node_id[position[id(r)]], f"out{k}")
    return graph


def model_graph(model: Any, input_shape: Sequence[int], batch_size: int = 64, *, show_shapes: bool = True,
                show_grads: bool = False, show_saved: bool = False, group_modules: bool = True,
                rankdir: str = "TB", max_nodes: int | None = None) -> Any:
    """The training graph of one batch, ``cross_entropy(model(input), target)``, as a graphviz.Digraph.

    input_shape: one sample's shape without the batch dim, e.g. (1, 28, 28). The input
    (batch_size, *input_shape) holds standard normal values from a generator of its own (the
    global seed is untouched) in the dtype of the model's parameters; the targets are class 0.
    The model runs in its current mode (train or eval), with grad recording on. Leaves are named by the model's
    named_parameters, plus "input" and "target"; the options are draw_graph's.
    """
    shape = tuple(int(n) for n in input_shape)
    if int(batch_size) < 1 or not shape or min(shape) < 1:
        raise ValueError(f"model_graph: need batch_size >= 1 and an input_shape of positive sizes, "
                         f"got batch_size={batch_size}, input_shape={tuple(input_shape)}")
    dtype = next((p.dtype for p in model.parameters()), np.dtype(np.float32))
    x = Tensor(np.random.default_rng(0).standard_normal((int(batch_size),) + shape).astype(dtype))
    target = Tensor(np.zeros(int(batch_size), dtype=np.int64))
    with enable_grad():
        loss = F.cross_entropy(model(x), target)
    names, modules = _resolve_params(model)
    names.update({id(x): "input", id(target): "target"})
    return _draw([loss], names, modules, show_shapes=show_shapes, show_grads=show_grads, show_saved=show_saved,
                 group_modules=group_modules, rankdir=rankdir, max_nodes=max_nodes)
