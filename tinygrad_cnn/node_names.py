"""PyTorch's names for the graph nodes of our ops (``Context.name()``: ``AddBackward0``,
``ConvolutionBackward0``, ...), which ``grad_fn`` reprs, graph pictures and tests against
torch show."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import numpy as np

if TYPE_CHECKING:
    from tinygrad_cnn.function import Context


def node_name(ctx: "Context") -> str:
    """PyTorch's name for the node ``ctx``: from the table below, else CamelCase(op) + "Backward0"."""
    torch_name = _TORCH_NAMES.get(ctx.function.__name__)
    if torch_name is None:
        return "".join(part.capitalize() for part in ctx.op.split("_")) + "Backward0"
    return torch_name if isinstance(torch_name, str) else torch_name(ctx)


def _reduces_everything(ctx: "Context") -> bool:
    axis = ctx.params.get("axis")
    return not ctx.params.get("keepdims") and (axis is None or len(tuple(axis)) == ctx.inputs[0].ndim)


def _index_name(ctx: "Context") -> str:
    index = ctx.params.get("index")
    parts = index if isinstance(index, tuple) else (index,)
    if any(isinstance(p, (np.ndarray, list)) for p in parts):
        return "IndexBackward0"
    return "SelectBackward0" if any(isinstance(p, (int, np.integer)) for p in parts) else "SliceBackward0"


_TORCH_NAMES: dict[str, str | Callable[["Context"], str]] = {
    "PowScalar": "PowBackward0", "Pow": "PowBackward1", "ReLU": "ReluBackward0", "Clamp": "ClampBackward1",
    "Cast": "ToCopyBackward0", "Reshape": "ViewBackward0", "Flatten": "ViewBackward0", "Pad": "ConstantPadNdBackward0",
    "Sum": lambda ctx: "SumBackward0" if _reduces_everything(ctx) else "SumBackward1",
    "Mean": lambda ctx: "MeanBackward0" if _reduces_everything(ctx) else "MeanBackward1",
    "Max": lambda ctx: "MaxBackward1" if _reduces_everything(ctx) else "AmaxBackward0",
    "Min": lambda ctx: "MinBackward1" if _reduces_everything(ctx) else "AminBackward0",
    "MaxAlong": "MaxBackward0", "MinAlong": "MinBackward0", "GetItem": _index_name,
    "MatMul": lambda ctx: {2: "MmBackward0", 1: "DotBackward0"}.get(ctx.inputs[0].ndim, "BmmBackward0")
    if ctx.inputs[0].ndim == ctx.inputs[1].ndim else "MatmulBackward0",
    "Linear": lambda ctx: "AddmmBackward0" if len(ctx.inputs) == 3 else "MmBackward0",
    "Conv2d": "ConvolutionBackward0", "MaxPool2d": "MaxPool2DWithIndicesBackward0",
    "AvgPool2d": "AvgPool2DBackward0", "CrossEntropy": "NllLossBackward0", "NLLLoss": "NllLossBackward0",
    "MSELoss": "MseLossBackward0", "Dropout": "NativeDropoutBackward0", "LogSumExp": "LogsumexpBackward0",
    "CopySlices": "CopySlices", "Copy": "CopyBackwards", "Fill": "FillBackward0", "Zero": "ZeroBackward0",
    "Uniform": "UniformBackward0", "Normal": "NormalBackward0", "Deg2Rad": "Deg2RadBackward0",
    "Rad2Deg": "Rad2DegBackward0", "Xlog1py": "SpecialXlog1PyBackward0",
    "LeakyReLU": lambda ctx: "LeakyReluBackward1" if ctx.params.get("inplace") else "LeakyReluBackward0",
    "ELU": lambda ctx: "EluBackward1" if ctx.params.get("inplace") else "EluBackward0",
}
"""PyTorch's grad_fn names for our ops, by Function class name (a callable where PyTorch's
name depends on the arguments); any other op is named CamelCase(op) + "Backward0"."""
