"""The look of the graph: node styles, graph attributes and the text of every label."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from tinygrad_cnn.autograd import Context

RANKDIRS = ("TB", "LR", "BT", "RL")

STYLE = {
    "op": {"shape": "box", "style": "rounded,filled", "fillcolor": "#ececec", "color": "#606060"},
    "param": {"shape": "box", "style": "filled", "fillcolor": "lightblue", "color": "#2b6ca3"},
    "data": {"shape": "note", "style": "filled", "fillcolor": "#fff3bf", "color": "#a68a00"},
    "const": {"shape": "plaintext", "style": "solid", "fontsize": "9", "fontcolor": "#606060", "height": "0.2"},
    "output": {"shape": "ellipse", "style": "filled", "fillcolor": "darkolivegreen1", "peripheries": "2"},
    "saved": {"shape": "box", "style": "filled", "fillcolor": "orange", "fontsize": "8", "color": "#b36b00"},
    "more": {"shape": "box", "style": "rounded,dashed", "fontcolor": "#505050", "color": "#808080"},
}
# What each colour stands for, as pytorchviz documents its own (blue: leaves that require grad,
# grey: backward ops, orange: saved tensors, green: the root); drawn by ``legend``.
LEGEND = (("param", "parameter (requires grad)"), ("data", "input, target (data)"), ("op", "operation"),
          ("saved", "saved for backward"), ("output", "root: the loss"))
BAD_GRAD = {"fillcolor": "#ff8a8a", "color": "red", "fontcolor": "#7a0000", "penwidth": "2"}
CLUSTER_FILL = ("#f3f7fc", "#e6eef8", "#d9e5f3", "#ccdcef")
GRAPH_ATTR = {"fontname": "Helvetica", "fontsize": "10", "nodesep": "0.3", "ranksep": "0.35"}
NODE_ATTR = {"fontname": "Helvetica", "fontsize": "10", "height": "0.3", "margin": "0.08,0.04"}
EDGE_ATTR = {"fontname": "Helvetica", "fontsize": "8", "fontcolor": "#404040", "color": "#505050",
             "arrowsize": "0.6"}

# Parameters shown under a short name; spatial pairs such as (2, 2) collapse to 2.
_ABBREVIATIONS = {"kernel_size": "k", "stride": "s", "padding": "p", "dilation": "d", "groups": "g"}
_HIDDEN_DEFAULTS = {"dilation": 1, "groups": 1, "count_include_pad": True, "value": 0, "reduction": "mean",
                    "label_smoothing": 0, "ignore_index": -100, "eps": 1e-5, "momentum": 0.1,
                    "output_padding": 0}
_SINGLE_AXIS_KEYS = ("axis", "dim", "dims")
_MAX_PARAM_CHARS = 40


def shape_text(shape: Sequence[int]) -> str:
    """A shape as compact text: (2,3,28,28)."""
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
        return f"array{shape_text(value.shape)}"
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


def _flatten_label(ctx: Context) -> str:
    """A flatten as torch.flatten's call: "flatten start_dim=1", with end_dim unless it is the last dim."""
    ndim, start, end = ctx.inputs[0].ndim, ctx.params["start_dim"], ctx.params["end_dim"]
    if ndim == 0:
        return "flatten"
    return f"flatten start_dim={start}" + ("" if end == ndim - 1 else f" end_dim={end}")


def op_label(ctx: Context) -> str:
    """The text of an op node: its name and key parameters, e.g. "conv2d s=1 p=0", "max_pool2d k=2 s=2"
    or "flatten start_dim=1"."""
    if ctx.op == "flatten":
        return _flatten_label(ctx)
    everything = tuple(range(ctx.inputs[0].ndim)) if ctx.inputs else None
    params = [_param(k, v) for k, v in ctx.params.items() if not (k == "axis" and tuple(v or ()) == everything)]
    return " ".join([ctx.op, *(p for p in params if p)])


def _leaf_label(tensor: Tensor, name: str | None, show_grads: bool) -> tuple[str, bool]:
    """(label, True when the gradient holds NaN/inf) for a leaf tensor: name, shape, dtype, grad norm."""
    lines = [f"{name or 'tensor'} {shape_text(tensor.shape)}", tensor.dtype.name]
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


def leaf_node(tensor: Tensor, name: str | None, show_grads: bool) -> tuple[str, dict[str, str]]:
    """(label, attributes) of a leaf: a constant as its value, else name/shape/dtype in its kind's style."""
    if name is None and tensor.ndim == 0 and not tensor.requires_grad:
        return _value(tensor.item()), STYLE["const"]
    label, bad = _leaf_label(tensor, name, show_grads)
    style = STYLE["param" if tensor.requires_grad else "data"]
    return label, ({**style, **BAD_GRAD} if bad else style)


def saved_label(ctx: Context) -> str | None:
    """What ``ctx`` keeps for backward: shapes of saved_tensors and of arrays stored as attributes."""
    if ctx.freed:
        return None
    items = [f"{shape_text(a.shape)} {a.dtype.name}" for a in ctx.saved_tensors if isinstance(a, np.ndarray)]
    items += [f"{k} {shape_text(v.shape)}" for k, v in ctx.saved_attributes().items() if isinstance(v, np.ndarray)]
    return "saved\\n" + "\\n".join(items) if items else None


def cluster_box(digraph_class: type, number: int, scope: tuple[str, ...], modules: dict[str, Any], depth: int) -> Any:
    """An empty cluster for one call of the module at ``scope``, labelled "conv1: Conv2d, 156 params"."""
    qualname = ".".join(scope)
    label = qualname
    module = modules.get(qualname)
    if module is not None:
        count = sum(p.numel() for _, p in module.named_parameters())
        label += f": {type(module).__name__}" + (f", {_count(count)}" if count else "")
    return digraph_class(name=f"cluster_{number}", graph_attr={
        "label": label, "style": "rounded,filled", "color": "#8fa9c4", "labeljust": "l", "fontcolor": "#1f3f66",
        "fillcolor": CLUSTER_FILL[min(depth, len(CLUSTER_FILL)) - 1]})


def _count(n: int) -> str:
    return f"{n:,} param" + ("" if n == 1 else "s")


def legend(digraph_class: type) -> Any:
    """A boxed subgraph "colours" with one sample node per entry of LEGEND."""
    box = digraph_class(name="cluster_legend")
    box.attr(label="colours", style="dashed", color="#a0a0a0", fontsize="9")
    for key, text in LEGEND:
        box.node(f"legend_{key}", text, **STYLE[key])
    return box
