"""2-D max and average pooling on NCHW tensors, as torch.nn.functional's.

Both work on a 4-D view (P, H, W, Q) with the spatial axes in the middle: (C, H, W, N) when
the input has the batch-innermost memory that conv2d produces, (N*C, H, W, 1) when it is
plain C-contiguous NCHW. Either view is free, and each kernel offset's window is then one
strided slice, so the loops run over the KH*KW kernel offsets only. Results keep the
input's memory order.
"""

from __future__ import annotations

from functools import lru_cache, partial

import numpy as np

from tinygrad_cnn.argcheck import IntPair, nonnegative_pair, positive_pair
from tinygrad_cnn.autograd import Context, Function, is_grad_enabled
from tinygrad_cnn.ops import parallel
from tinygrad_cnn.ops.conv_geometry import window


def _work_view(x: np.ndarray) -> tuple[np.ndarray, bool]:
    """``x`` (N, C, H, W) as a free (P, H, W, Q) view, and whether that view is the plain-NCHW
    one, (N*C, H, W, 1) (else it is (C, H, W, N))."""
    n, c, h, w = x.shape
    if x.flags.c_contiguous:
        return x.reshape(n * c, h, w, 1), True
    return x.transpose(1, 2, 3, 0), False


def _to_work(a: np.ndarray, nchw: bool) -> np.ndarray:
    """An (N, C, h, w) array (the upstream gradient) in the (P, h, w, Q) form of ``_work_view``."""
    n, c, h, w = a.shape
    return a.reshape(n * c, h, w, 1) if nchw else a.transpose(1, 2, 3, 0)


def _from_work(a: np.ndarray, n: int, c: int, nchw: bool) -> np.ndarray:
    """A (P, h, w, Q) result back as (N, C, h, w), keeping its memory order."""
    return a.reshape(n, c, a.shape[1], a.shape[2]) if nchw else a.transpose(3, 0, 1, 2)


class _Geometry:
    """Window arithmetic of one pooling call, per spatial axis, as torch computes it
    (kernel_size, stride, padding and dilation already checked pairs; see pool_arguments)."""

    def __init__(self, op: str, shape: tuple[int, ...], kernel_size: tuple[int, int], stride: tuple[int, int],
                 padding: tuple[int, int], dilation: tuple[int, int], ceil_mode: bool) -> None:
        if len(shape) != 4:
            raise ValueError(f"{op}: input must be 4-D (N, C, H, W), got shape {tuple(shape)}")
        self.kernel, self.stride, self.padding, self.dilation = kernel_size, stride, padding, dilation
        if any(p > k // 2 for p, k in zip(self.padding, self.kernel)):
            raise ValueError(f"{op}: padding {self.padding} must be at most half of kernel_size {self.kernel}")
        self.size = tuple(shape[2:])
        self.effective = tuple(d * (k - 1) + 1 for k, d in zip(self.kernel, self.dilation))
        out = []
        for axis, n, k, s, p, e in zip("HW", self.size, self.kernel, self.stride, self.padding, self.effective):
            span = n + 2 * p - e
            if span < 0:
                raise ValueError(
                    f"{op}: kernel {k} (effective {e}) is larger than the padded input {n + 2 * p} along {axis} "
                    f"(input shape {tuple(shape)}, padding {p})"
                )
            o = (span + (s - 1 if ceil_mode else 0)) // s + 1
            if ceil_mode and (o - 1) * s >= n + p:
                o -= 1
            out.append(o)
        self.out = (out[0], out[1])
        # padding after the input: p, plus what the last ceil_mode window reaches beyond it
        self.after = tuple(max(p, (o - 1) * s + e - n - p)
                           for n, s, p, e, o in zip(self.size, self.stride, self.padding, self.effective, self.out))
        self.overlap = any(s < e for s, e in zip(self.stride, self.effective))

    def padded(self, v: np.ndarray, fill: float) -> np.ndarray:
        """The (P, H, W, Q) view padded with ``fill`` (the view itself when no padding is needed)."""
        (top, left), (bottom, right) = self.padding, self.after
        if not (top or left or bottom or right):
            return v
        p, h, w, q = v.shape
        out = np.full((p, top + h + bottom, left + w + right, q), fill, dtype=v.dtype)
        out[:, top:top + h, left:left + w] = v
        return out

    def offsets(self):
        """(k, rows, cols) for each kernel offset k = i*KW + j: the slices picking that offset's
        element of every window."""
        (kh, kw), (oh, ow) = self.kernel, self.out
        for i in range(kh):
            rows = window(i * self.dilation[0], oh, self.stride[0])
            for j in range(kw):
                yield i * kw + j, rows, window(j * self.dilation[1], ow, self.stride[1])

    def gradient(self, p: int, q: int, dtype: np.dtype, parts) -> np.ndarray:
        """The (P, H, W, Q) input gradient: ``parts(lo, hi, buffer)`` adds (or, when windows do
        not overlap, assigns) the window gradients of planes lo:hi into the padded ``buffer``
        (those planes only), one task per block of planes; the padding is then cropped."""
        (top, left), (bottom, right) = self.padding, self.after
        h, w = self.size
        shape = (p, top + h + bottom, left + w + right, q)
        # windows that tile the buffer exactly write every element once: no need to zero it
        tiled = all(s == k == e and o * s == n for s, k, e, o, n in
                    zip(self.stride, self.kernel, self.effective, self.out, shape[1:3]))
        buffer = np.empty(shape, dtype=dtype) if tiled else np.zeros(shape, dtype=dtype)
        parallel.run([partial(parts, block.start, block.stop, buffer[block]) for block in _plane_blocks(p, q, self)])
        return buffer[:, top:top + h, left:left + w]


# Pooling splits its planes over the threads only when it has at least this many windows:
# below it, handing work to another thread costs more than it saves. Each part is a dozen or
# more short NumPy calls, and two threads making them at once hand the GIL to and fro at
# each: LeNet's first pool (6 x 12 x 12 windows per image) at batch 64 took 0.82 ms forward
# and backward on 2 threads, 0.54 ms on one; at batch 256, 2.05 ms against 2.88 ms.
PARALLEL_WINDOWS = 1 << 17


@lru_cache(maxsize=256)
def geometry(op: str, shape: tuple[int, ...], kernel_size: tuple[int, int], stride: tuple[int, int],
             padding: tuple[int, int], dilation: tuple[int, int], ceil_mode: bool) -> _Geometry:
    """The _Geometry of a pooling call (never changed once made), made once per distinct call: a
    training loop asks for the same few at every step (a max_pool2d call on a small input took
    34 instead of 41 us)."""
    return _Geometry(op, shape, kernel_size, stride, padding, dilation, ceil_mode)


def _plane_blocks(p: int, q: int, geo: _Geometry) -> list[slice]:
    """The planes 0:p cut into one block per thread (one block when the work is small)."""
    windows = p * q * geo.out[0] * geo.out[1]
    return parallel.split(p, parallel.get_num_threads() if windows >= PARALLEL_WINDOWS else 1)


def _window_max(geo: _Geometry, v: np.ndarray, with_arg: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
    """Max of each window of the (P, H, W, Q) view ``v`` (-inf padded) and (``with_arg``, else
    None) the kernel offset k = i*KW + j of each window's first maximum in row-major window order."""
    vp = geo.padded(v, -np.inf)
    best = np.empty((v.shape[0],) + geo.out + (v.shape[3],), dtype=v.dtype)
    index_type = np.uint8 if geo.kernel[0] * geo.kernel[1] <= 256 else np.int32
    arg = np.zeros(best.shape, dtype=index_type) if with_arg else None
    parallel.run([partial(_window_max_into, geo, vp[block], best[block], None if arg is None else arg[block])
                  for block in _plane_blocks(v.shape[0], v.shape[3], geo)])
    return best, arg


def _window_max_into(geo: _Geometry, vp: np.ndarray, best: np.ndarray, arg: np.ndarray | None) -> None:
    """Fill ``best`` and ``arg`` (zeros, or None) for the padded planes ``vp``, as ``_window_max``."""
    if arg is not None:
        step, better = np.empty(best.shape, dtype=arg.dtype), np.empty(best.shape, dtype=bool)
    for k, rows, cols in geo.offsets():
        candidate = vp[:, rows, cols]
        if k == 0:
            np.copyto(best, candidate)
            continue
        if arg is None:
            np.maximum(best, candidate, out=best)
            continue
        np.greater(candidate, best, out=better)
        np.maximum(best, candidate, out=best)
        # offsets come in increasing order, so "arg = k where better" is a maximum (masked
        # assignment is ~20x slower than these two arithmetic passes)
        np.multiply(better, arg.dtype.type(k), out=step)
        np.maximum(arg, step, out=arg)


class MaxPool2d(Function):
    """Maximum of each KHxKW window (padding counts as -inf).

    The gradient of each window goes to ONE input, its first maximum in row-major window
    order, as torch does. Forward saves only the winning kernel offset of each window.
    """

    op_name = "max_pool2d"
    saves_inputs = (0,)  # as torch's: backward depends on the input's values (the winners)
    fresh_grads = True

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, *, kernel_size: tuple[int, int], stride: tuple[int, int],
                padding: tuple[int, int], dilation: tuple[int, int], ceil_mode: bool) -> np.ndarray:
        geo = geometry("max_pool2d", x.shape, kernel_size, stride, padding, dilation, ceil_mode)
        v, nchw = _work_view(x)
        # without a backward to come (no_grad, or an input that needs no gradient), only the maxima
        best, arg = _window_max(geo, v, with_arg=is_grad_enabled() and ctx.needs_input_grad[0])
        ctx.geo, ctx.nchw, ctx.arg = geo, nchw, arg
        return _from_work(best, x.shape[0], x.shape[1], nchw)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        geo, arg, nchw = ctx.geo, ctx.arg, ctx.nchw
        n, c = grad.shape[:2]
        # each kernel offset reads g once: a strided g (an NCHW gradient of CHWN-order pooling,
        # as after flatten) made those KH*KW passes ~2x slower than one copy and contiguous reads
        g = np.ascontiguousarray(_to_work(grad, nchw))

        def parts(lo: int, hi: int, buffer: np.ndarray) -> None:
            mask = np.empty(arg[lo:hi].shape, dtype=bool)
            for k, rows, cols in geo.offsets():
                np.equal(arg[lo:hi], k, out=mask)
                target = buffer[:, rows, cols]
                if geo.overlap:
                    target += g[lo:hi] * mask
                else:
                    np.multiply(g[lo:hi], mask, out=target)

        dx = geo.gradient(arg.shape[0], arg.shape[3], grad.dtype, parts)
        return _from_work(dx, n, c, nchw)


def _flat_indices(geo: _Geometry, arg: np.ndarray) -> np.ndarray:
    """The flat index h*W + w into the input plane of each window's chosen element (torch's indices)."""
    kw = geo.kernel[1]
    rows = (np.arange(geo.out[0]) * geo.stride[0] - geo.padding[0])[None, :, None, None] + (arg // kw) * geo.dilation[0]
    cols = (np.arange(geo.out[1]) * geo.stride[1] - geo.padding[1])[None, None, :, None] + (arg % kw) * geo.dilation[1]
    return rows.astype(np.int64) * geo.size[1] + cols


class AvgPool2d(Function):
    """Mean of each KHxKW window (zero padding). The divisor is KH*KW clipped to the padded
    input (``count_include_pad``) or the number of real input elements in the window, as
    torch's, or ``divisor_override`` for every window when given; each window's gradient is
    spread evenly over the elements it summed, divided likewise."""

    op_name = "avg_pool2d"
    fresh_grads = True

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, *, kernel_size: tuple[int, int], stride: tuple[int, int],
                padding: tuple[int, int], ceil_mode: bool, count_include_pad: bool,
                divisor_override: int | None = None) -> np.ndarray:
        geo = geometry("avg_pool2d", x.shape, kernel_size, stride, padding, (1, 1), ceil_mode)
        v, nchw = _work_view(x)
        vp = geo.padded(v, 0.0)
        total = np.zeros((v.shape[0],) + geo.out + (v.shape[3],), dtype=x.dtype)
        divisor = _divisor(geo, count_include_pad) if divisor_override is None else np.float64(divisor_override)
        inverse = (1.0 / divisor).astype(x.dtype, copy=False)

        def part(block: slice) -> None:
            for _, rows, cols in geo.offsets():
                total[block] += vp[block, rows, cols]
            total[block] *= inverse

        parallel.run([partial(part, block) for block in _plane_blocks(v.shape[0], v.shape[3], geo)])
        ctx.geo, ctx.nchw, ctx.inverse = geo, nchw, inverse
        return _from_work(total, x.shape[0], x.shape[1], nchw)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        geo, nchw = ctx.geo, ctx.nchw
        n, c = grad.shape[:2]
        g = _to_work(grad, nchw) * ctx.inverse

        def parts(lo: int, hi: int, buffer: np.ndarray) -> None:
            for _, rows, cols in geo.offsets():
                if geo.overlap:
                    buffer[:, rows, cols] += g[lo:hi]
                else:
                    buffer[:, rows, cols] = g[lo:hi]

        dx = geo.gradient(g.shape[0], g.shape[3], grad.dtype, parts)
        return _from_work(dx, n, c, nchw)


def _divisor(geo: _Geometry, count_include_pad: bool) -> np.ndarray:
    """(1, OH, OW, 1) window sizes torch divides by: windows clipped to the padded input
    (``count_include_pad``) or to the input itself."""
    counts = []
    for n, k, s, p, o in zip(geo.size, geo.kernel, geo.stride, geo.padding, geo.out):
        start = np.arange(o) * s - p
        end = np.minimum(start + k, n + p)
        if not count_include_pad:
            start, end = np.maximum(start, 0), np.minimum(end, n)
        counts.append(end - start)
    return (counts[0][:, None] * counts[1][None, :])[None, :, :, None].astype(np.float64)


def pool_arguments(op: str, shape: tuple[int, ...], kernel_size: IntPair, stride: IntPair | None,
                   padding: IntPair, dilation: IntPair, ceil_mode: bool) -> dict:
    """The keyword arguments of MaxPool2d/AvgPool2d.apply for an input of ``shape``, checked
    once: kernel_size, stride (None: the kernel), padding and dilation as pairs; raises
    ValueError/TypeError naming ``op`` on bad values or a window that does not fit."""
    kernel = positive_pair(kernel_size, "kernel_size", op)
    args = dict(kernel_size=kernel, stride=kernel if stride is None else positive_pair(stride, "stride", op),
                padding=nonnegative_pair(padding, "padding", op), dilation=positive_pair(dilation, "dilation", op),
                ceil_mode=bool(ceil_mode))
    geometry(op, tuple(shape), **args)
    return args


def max_pool2d_indices(x: np.ndarray, kernel_size: tuple[int, int], stride: tuple[int, int],
                       padding: tuple[int, int], dilation: tuple[int, int], ceil_mode: bool) -> np.ndarray:
    """int64 (N, C, OH, OW): the flat position h*W + w of each window's maximum in its input
    plane (torch's return_indices), for checked arguments as pool_arguments gives them."""
    geo = geometry("max_pool2d", x.shape, kernel_size, stride, padding, dilation, ceil_mode)
    v, nchw = _work_view(x)
    indices = _from_work(_flat_indices(geo, _window_max(geo, v)[1]), x.shape[0], x.shape[1], nchw)
    return np.ascontiguousarray(indices)
