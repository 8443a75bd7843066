"""draw_graph and model_graph: the walk (``graph``) drawn in the package's style (``style``) as a Digraph."""

from __future__ import annotations

from typing import Any, Sequence

from tinygrad_cnn.autograd import is_variable
from tinygrad_cnn.viz.dot import digraph_type
from tinygrad_cnn.viz.graph import cluster_paths, common_depth, forward_order, resolve_params, side_inputs, walk
from tinygrad_cnn.viz.style import (EDGE_ATTR, GRAPH_ATTR, NODE_ATTR, RANKDIRS, STYLE, cluster_box, leaf_node,
                                    op_label, saved_label, shape_text)


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
        if not is_variable(r):
            raise TypeError(f"draw_graph: root must be a Tensor or a list of Tensors, got {type(r).__name__}")
    names, modules = resolve_params(params)
    return draw_tensors(roots, names, modules, show_shapes=show_shapes, show_grads=show_grads,
                 show_saved=show_saved, group_modules=group_modules, rankdir=rankdir, max_nodes=max_nodes)


def draw_tensors(roots: list[Tensor], names: dict[int, str], modules: dict[str, Any], *, show_shapes: bool,
          show_grads: bool, show_saved: bool, group_modules: bool, rankdir: str, max_nodes: int | None) -> Any:
    if rankdir not in RANKDIRS:
        raise ValueError(f"draw_graph/model_graph: rankdir must be one of {RANKDIRS}, got {rankdir!r}")
    if max_nodes is not None and (not isinstance(max_nodes, int) or max_nodes < 1):
        raise ValueError(f"draw_graph/model_graph: max_nodes must be a positive int or None, got {max_nodes!r}")
    unique_roots = list({id(r): r for r in roots}.values())
    order = walk(unique_roots)
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
        paths = cluster_paths(ops, [(s, d) for s, d, _ in edges if s is not None and s in ops])
        for i, t in enumerate(drawn):
            if i in ops or (not t.requires_grad and t.ndim > 0) or i not in consumers:
                continue
            chains = [paths[c] for c in consumers[i]]
            paths[i] = chains[0][:min(common_depth(chains[0], c) for c in chains)]

    digraph_class = digraph_type()
    graph = digraph_class(name="tinygrad_cnn", graph_attr={"rankdir": rankdir, **GRAPH_ATTR},
                          node_attr={**NODE_ATTR, **STYLE["op"]}, edge_attr=EDGE_ATTR)
    clusters: dict[Any, Any] = {}
    cluster_parent: dict[Any, Any] = {}

    def container(path: tuple[Any, ...]) -> Any:
        for depth, key in enumerate(path, start=1):
            if key not in clusters:
                clusters[key] = cluster_box(digraph_class, len(clusters), key[0], modules, depth)
                cluster_parent[key] = path[depth - 2] if depth > 1 else None
        return clusters[path[-1]] if path else graph

    beside = side_inputs(drawn, ops, consumers, paths)
    placed_beside = {i for side in beside.values() for i in side}
    on_right = {i for side in beside.values() for i in side[1:]}

    def leaf(target: Any, j: int) -> None:
        label, attrs = leaf_node(drawn[j], names.get(id(drawn[j])), show_grads)
        target.node(node_id[j], label, **attrs)

    saved_labels: dict[int, str] = {}
    for i in forward_order(drawn, position, unique_roots):
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
        saved = saved_label(ops[i].grad_fn) if show_saved else None
        if saved:
            saved_labels[i] = saved
            target.node(f"saved{i}", saved, **STYLE["saved"])
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
        graph.node("more", f"... {hidden:,} more", **STYLE["more"])
    for k, r in enumerate(unique_roots):
        text = f"{names.get(id(r), 'output')} {shape_text(r.shape)}" + (f"\\n= {float(r.numpy().reshape(-1)[0]):.4g}" if r.numel() == 1 else "")
        graph.node(f"out{k}", text, **STYLE["output"])

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
            graph.edge(node_id[src], node_id[dst], label=shape_text(tensor.shape) if show_shapes else None, weight="4")
    for i in saved_labels:
        graph.edge(node_id[i], f"saved{i}", style="dotted", dir="none")
        if len(beside.get(i, ())) > 1:  # keep the saved box outside the op's right-hand inputs
            graph.edge(node_id[beside[i][-1]], f"saved{i}", style="invis")
    for k, r in enumerate(unique_roots):
        graph.edge(node_id[position[id(r)]], f"out{k}")
    return graph
