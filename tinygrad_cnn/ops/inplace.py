"""Ops behind in-place writes: copy (and fill/zero/uniform/normal, which copy a constant) and
copy_slices, which writes new values into part of a tensor (``__setitem__``, in-place ops on views)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np

from tinygrad_cnn.autograd import Context, Function

ViewChain = tuple[tuple[type[Function], dict[str, Any]], ...]


def replay_view(chain: ViewChain, array: np.ndarray) -> np.ndarray:
    """``array`` seen through ``chain``, the view ops (and their params) that made a view from its base."""
    for function, params in chain:
        array = function.forward(SimpleNamespace(), array, **params)
    return array


class Copy(Function):
    """``dst``'s values replaced by ``src`` broadcast to ``dst``'s shape and cast to its dtype
    (``copy_``); the gradient goes to ``src`` only (summed over the broadcast)."""

    @staticmethod
    def forward(ctx: Context, dst: np.ndarray, src: np.ndarray) -> np.ndarray:
        return np.broadcast_to(src, dst.shape).astype(dst.dtype)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        return None, grad


class Fill(Copy):
    """``fill_``: every element set to one value."""


class Zero(Copy):
    """``zero_``: every element set to 0."""


class Uniform(Copy):
    """``uniform_``: every element drawn from U(from, to) (the draw is the constant ``src``)."""


class Normal(Copy):
    """``normal_``: every element drawn from N(mean, std²) (the draw is the constant ``src``)."""


class CopySlices(Function):
    """``base`` with the region ``replay_view(chain, base)[index]`` set to ``value`` (broadcast).

    The gradient of ``base`` is the upstream gradient with that region zeroed; the
    gradient of ``value`` is the upstream gradient read from the region. A region chosen
    through a view chain is found as the flat positions it covers, so any layout works.
    """

    op_name = "setitem"

    @staticmethod
    def forward(ctx: Context, base: np.ndarray, value: np.ndarray, chain: ViewChain = (),
                index: Any = Ellipsis) -> np.ndarray:
        out = base.copy()
        if not chain:
            out[index] = value
            return out
        ctx.positions = np.asarray(replay_view(chain, np.arange(base.size).reshape(base.shape))[index])
        out.reshape(-1)[ctx.positions] = value
        return out

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        chain, index = ctx.params["chain"], ctx.params["index"]
        grad_base = grad_value = None
        if chain:
            flat = ctx.positions
            if ctx.needs_input_grad[0]:
                grad_base = grad.copy()
                grad_base.reshape(-1)[flat] = 0
            if ctx.needs_input_grad[1]:
                grad_value = grad.reshape(-1)[flat]
            return grad_base, grad_value
        if ctx.needs_input_grad[0]:
            grad_base = grad.copy()
            grad_base[index] = 0
        if ctx.needs_input_grad[1]:
            grad_value = np.asarray(grad[index])
        return grad_base, grad_value
