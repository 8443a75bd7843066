"""Adaptive average/max pooling to a given output size, and max unpooling, on NCHW arrays.

Output cell i along an axis of input length L and output length O covers the input range
[floor(i L / O), ceil((i + 1) L / O)), torch's bins: they may overlap and differ in length
when O does not divide L. Average pooling is separable, out = A_H x A_W^T with A the (O, L)
bin-averaging matrix, so forward and backward are two matmuls; max pooling loops over the
O_H * O_W bins and routes each bin's gradient to its first maximum (torch's indices).
"""

from __future__ import annotations

import numpy as np

from tinygrad_cnn.autograd import Context, Function


def bin_edges(length: int, out: int) -> tuple[np.ndarray, np.ndarray]:
    """(starts, ends) of torch's ``out`` adaptive bins over ``length`` inputs."""
    i = np.arange(out)
    return (i * length) // out, ((i + 1) * length + out - 1) // out


def _averaging_matrix(length: int, out: int, dtype: np.dtype) -> np.ndarray:
    """(out, length): row i holds 1/len over bin i, so matrix @ v averages each bin."""
    starts, ends = bin_edges(length, out)
    positions = np.arange(length)
    inside = (positions >= starts[:, None]) & (positions < ends[:, None])
    return (inside / (ends - starts)[:, None]).astype(dtype)


class AdaptiveAvgPool2d(Function):
    """Mean of each adaptive bin: (N, C, H, W) -> (N, C, OH, OW); a global mean for (1, 1)."""

    op_name = "adaptive_avg_pool2d"

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, output_size: tuple[int, int]) -> np.ndarray:
        h, w = x.shape[2:]
        oh, ow = output_size
        if (oh, ow) == (1, 1):
            return x.sum(axis=(2, 3), keepdims=True) / x.dtype.type(h * w)
        ah, aw = _averaging_matrix(h, oh, x.dtype), _averaging_matrix(w, ow, x.dtype)
        ctx.matrices = ah, aw
        return ah @ (x @ aw.T)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        x_shape = ctx.inputs[0].shape
        if ctx.params["output_size"] == (1, 1):
            return np.broadcast_to(grad / grad.dtype.type(x_shape[2] * x_shape[3]), x_shape)
        ah, aw = ctx.matrices
        return ah.T @ (grad @ aw)


def _bin_maxima(x: np.ndarray, output_size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """The maximum of each adaptive bin (N, C, OH, OW) and the flat input position h*W + w of
    its first occurrence (int64, torch's return_indices)."""
    n, c, h, w = x.shape
    oh, ow = output_size
    (hs, he), (ws, we) = bin_edges(h, oh), bin_edges(w, ow)
    out = np.empty((n, c, oh, ow), dtype=x.dtype)
    indices = np.empty((n, c, oh, ow), dtype=np.int64)
    for i in range(oh):
        for j in range(ow):
            block = x[:, :, hs[i]:he[i], ws[j]:we[j]].reshape(n, c, -1)
            arg = block.argmax(axis=2)
            out[:, :, i, j] = np.take_along_axis(block, arg[:, :, None], axis=2)[:, :, 0]
            width = we[j] - ws[j]
            indices[:, :, i, j] = (hs[i] + arg // width) * w + ws[j] + arg % width
    return out, indices


def scatter_planes(values: np.ndarray, indices: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """An array of ``shape`` (N, C, H, W): ``values`` (N, C, *) added at the flat plane positions
    ``indices`` (same shape as values), repeats summed."""
    n, c = shape[:2]
    plane = int(np.prod(shape[2:]))
    base = (np.arange(n * c, dtype=np.int64) * plane).reshape(n, c, *([1] * (indices.ndim - 2)))
    flat = np.bincount((indices + base).ravel(), weights=values.ravel().astype(np.float64),
                       minlength=n * c * plane)
    return flat.astype(values.dtype, copy=False).reshape(shape)


class AdaptiveMaxPool2d(Function):
    """Maximum of each adaptive bin: (N, C, H, W) -> (N, C, OH, OW); each bin's gradient goes to
    its first maximum (row-major), as torch's; ``ctx.indices`` holds those positions."""

    op_name = "adaptive_max_pool2d"

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, output_size: tuple[int, int]) -> np.ndarray:
        out, ctx.indices = _bin_maxima(x, output_size)
        return out

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        return scatter_planes(grad, ctx.indices, ctx.inputs[0].shape)


def adaptive_max_pool2d_indices(x: np.ndarray, output_size: tuple[int, int]) -> np.ndarray:
    """int64 (N, C, OH, OW): the flat position h*W + w of each adaptive bin's first maximum."""
    return _bin_maxima(x, output_size)[1]


class MaxUnpool2d(Function):
    """The inverse of max pooling: (N, C, h, w) values placed at their flat plane positions
    ``indices`` (as max_pool2d returns them) in a zero (N, C, OH, OW) output; the gradient
    gathers the output gradient back from those positions."""

    op_name = "max_unpool2d"

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, indices: np.ndarray, output_size: tuple[int, int]) -> np.ndarray:
        n, c = x.shape[:2]
        out = np.zeros((n * c, output_size[0] * output_size[1]), dtype=x.dtype)
        np.put_along_axis(out, indices.reshape(n * c, -1), x.reshape(n * c, -1), axis=1)
        return out.reshape(n, c, *output_size)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        n, c = grad.shape[:2]
        indices = ctx.params["indices"]
        flat = np.take_along_axis(grad.reshape(n * c, -1), indices.reshape(n * c, -1), axis=1)
        return flat.reshape(indices.shape)
