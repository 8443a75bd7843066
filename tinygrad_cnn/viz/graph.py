"""The graph walk: which tensors are drawn, in which order, and which module call each op belongs to."""

from __future__ import annotations

from collections import deque
from typing import Any, Mapping, Sequence

from tinygrad_cnn.autograd import is_variable



def walk(roots: Sequence[Tensor]) -> list[Tensor]:
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


def forward_order(drawn: list[Tensor], position: dict[int, int], roots: list[Tensor]) -> list[int]:
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


def common_depth(a: tuple[str, ...], b: tuple[str, ...]) -> int:
    """How many leading scope names ``a`` and ``b`` share."""
    depth = 0
    for x, y in zip(a, b):
        if x != y:
            break
        depth += 1
    return depth


def cluster_paths(ops: dict[int, Tensor], edges: list[tuple[int, int]]) -> dict[int, tuple[Any, ...]]:
    """For each op (by traversal index), its chain of clusters, outermost first.

    A cluster is one call of one module: ops in the same scope that are connected through
    ops of that scope. A module called twice (a shared ReLU, a tied layer) so gets two boxes
    instead of one box pulling two distant parts of the graph together.
    """
    components = _UnionFind()
    for src, dst in edges:
        a, b = ops[src].grad_fn.scope, ops[dst].grad_fn.scope
        for d in range(1, common_depth(a, b) + 1):
            components.union((a[:d], src), (a[:d], dst))
    return {i: tuple(components.find((t.grad_fn.scope[:d], i)) for d in range(1, len(t.grad_fn.scope) + 1))
            for i, t in ops.items()}


def side_inputs(drawn: list[Tensor], ops: dict[int, Tensor], consumers: dict[int, list[int]],
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


def resolve_params(params: Any) -> tuple[dict[int, str], dict[str, Any]]:
    """(tensor id -> qualified name, qualified name -> module) from a Module or a name -> Tensor mapping."""
    if params is None:
        return {}, {}
    if hasattr(params, "named_parameters") and hasattr(params, "named_modules"):
        names = {}
        for name, p in params.named_parameters():
            names.setdefault(id(p), name)
        return names, dict(params.named_modules(remove_duplicate=False))
    if isinstance(params, Mapping):
        names = {}
        for name, t in params.items():
            if not is_variable(t):
                raise TypeError(f"draw_graph: params[{name!r}] must be a Tensor, got {type(t).__name__}")
            names.setdefault(id(t), str(name))
        return names, {}
    raise TypeError(f"draw_graph: params must be a Module or a name -> Tensor mapping, got {type(params).__name__}")
