"""A small reader of the DOT text draw_graph writes, shared by the viz tests (as a fixture)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pytest

_NODE = re.compile(r"^\s*(\w+) \[(.*)\]$")
_EDGE = re.compile(r"^\s*(\w+) -> (\w+)(?: \[(.*)\])?$")
_CLUSTER = re.compile(r"^\s*subgraph (cluster_\d+) \{$")
_ATTR = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|[^\s\]]+)')


def _attrs(text: str | None) -> dict[str, str]:
    out = {}
    for key, value in _ATTR.findall(text or ""):
        out[key] = value[1:-1] if value.startswith('"') else value
    return out


@dataclass
class Dot:
    """Nodes (id -> attributes and the labels of the clusters around it, outermost first),
    visible edges in data-flow direction (source, destination, attributes) and clusters
    (name -> label, parent cluster name)."""

    nodes: dict[str, dict] = field(default_factory=dict)
    edges: list[tuple[str, str, dict]] = field(default_factory=list)
    clusters: dict[str, dict] = field(default_factory=dict)

    def of_kind(self, prefix: str) -> dict[str, dict]:
        return {k: v for k, v in self.nodes.items() if re.fullmatch(prefix + r"\d+", k)}

    def label(self, node: str) -> str:
        return self.nodes[node]["attrs"]["label"]


def parse(source: str) -> Dot:
    dot = Dot()
    stack: list[str] = []
    for line in source.splitlines():
        if m := _CLUSTER.match(line):
            dot.clusters[m[1]] = {"label": None, "parent": stack[-1] if stack else None}
            stack.append(m[1])
        elif line.strip() == "}" and stack:
            stack.pop()
        elif line.strip().startswith("graph [") and stack:
            dot.clusters[stack[-1]]["label"] = _attrs(line)["label"]
        elif m := _EDGE.match(line):
            attrs = _attrs(m[3])
            if attrs.get("style") == "invis":
                continue
            # an input drawn right of its op is written op -> input with dir=back
            dot.edges.append((m[2], m[1], attrs) if attrs.get("dir") == "back" else (m[1], m[2], attrs))
        elif (m := _NODE.match(line)) and m[1] not in ("graph", "node", "edge"):
            assert m[1] not in dot.nodes, f"node {m[1]} declared twice"
            dot.nodes[m[1]] = {"attrs": _attrs(m[2]), "clusters": [dot.clusters[c]["label"] for c in stack]}
    return dot


@pytest.fixture
def parse_dot():
    """parse_dot(source) -> Dot: the nodes, edges and clusters of draw_graph's DOT text."""
    return parse
