"""2-D transposed convolution on NCHW arrays: the gradient of conv2d with respect to its input,
run forwards, built from conv.py's CHWN helpers.

With the input viewed as (C_in, H, W, N), ONE matmul per group, cols = W^T @ x, gives every
kernel offset's contribution, (KH, KW, C_out/groups, H, W, N); col2im adds each offset's block
into the output at rows i*dh + y*sh (likewise columns), and the padding is cropped away.
Backward is conv2d's forward: im2col of the padded output gradient, then matmuls.
"""

from __future__ import annotations

import numpy as np

from tinygrad_cnn.autograd import Context, Function
from tinygrad_cnn.ops.conv import chwn_padded
from tinygrad_cnn.ops.conv_geometry import window


def transposed_output_size(size: tuple[int, int], kernel: tuple[int, int], stride: tuple[int, int],
                           padding: tuple[int, int], output_padding: tuple[int, int],
                           dilation: tuple[int, int]) -> tuple[int, int]:
    """(OH, OW) with O = (L - 1) * s - 2 p + d (k - 1) + output_padding + 1 per side, as torch's."""
    return tuple((n - 1) * s - 2 * p + d * (k - 1) + op + 1  # type: ignore[return-value]
                 for n, k, s, p, op, d in zip(size, kernel, stride, padding, output_padding, dilation))


def _offsets(kh: int, kw: int, h: int, w: int, stride: tuple[int, int], dilation: tuple[int, int]):
    """(i, j, rows, columns) per kernel offset: where its (h, w) block lands in the uncropped output."""
    for i in range(kh):
        rows = window(i * dilation[0], h, stride[0])
        for j in range(kw):
            yield i, j, rows, window(j * dilation[1], w, stride[1])


class ConvTranspose2d(Function):
    """Transposed convolution of x (N, C_in, H, W) with weight (C_in, C_out/groups, KH, KW)
    (+ bias (C_out,)) -> (N, C_out, OH, OW), OH from ``transposed_output_size``.

    out[n, g*C_out/groups + o, y*sh + i*dh - ph, x*sw + j*dw - pw] += x[n, c, y, x] w[c, o, i, j]
    summed over the C_in/groups channels c of group g. The result has NCHW shape and
    (C, H, W, N) memory, as conv2d's.
    """

    op_name = "conv_transpose2d"

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None = None, *,
                stride: tuple[int, int], padding: tuple[int, int], output_padding: tuple[int, int],
                dilation: tuple[int, int], groups: int) -> np.ndarray:
        n, in_channels, h, w = x.shape
        _, group_out, kh, kw = weight.shape
        group_in = in_channels // groups
        oh, ow = transposed_output_size((h, w), (kh, kw), stride, padding, output_padding, dilation)
        full = (oh + 2 * padding[0], ow + 2 * padding[1])
        xc = chwn_padded(x, (0, 0, 0, 0)).reshape(groups, group_in, h * w * n)
        # rows ordered (kernel row, kernel column, output channel): each offset's block is contiguous
        w3 = (weight.reshape(groups, group_in, group_out, kh, kw).transpose(0, 3, 4, 2, 1)
              .reshape(groups, kh * kw * group_out, group_in))
        cols = np.matmul(w3, xc).reshape(groups, kh, kw, group_out, h, w, n)
        out = np.zeros((groups, group_out) + full + (n,), dtype=cols.dtype)
        for i, j, rows, columns in _offsets(kh, kw, h, w, stride, dilation):
            target = out[:, :, rows, columns]
            np.add(target, cols[:, i, j], out=target)
        out = out.reshape(groups * group_out, *full, n)[:, padding[0]:padding[0] + oh, padding[1]:padding[1] + ow]
        out = np.ascontiguousarray(out)
        if bias is not None:
            out += bias.reshape(-1, 1, 1, 1)
        ctx.save_for_backward(xc if ctx.needs_input_grad[1] else None, w3 if ctx.needs_input_grad[0] else None)
        return out.transpose(3, 0, 1, 2)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        xc, w3 = ctx.saved_tensors
        groups, (ph, pw) = ctx.params["groups"], ctx.params["padding"]
        n, in_channels, h, w = ctx.inputs[0].shape
        _, group_out, kh, kw = ctx.inputs[1].shape
        padded = chwn_padded(grad, (ph, ph, pw, pw))
        gp = padded.reshape(groups, group_out, *padded.shape[1:])
        gcols = np.empty((groups, kh, kw, group_out, h, w, n), dtype=grad.dtype)
        for i, j, rows, columns in _offsets(kh, kw, h, w, ctx.params["stride"], ctx.params["dilation"]):
            gcols[:, i, j] = gp[:, :, rows, columns]
        gcols = gcols.reshape(groups, kh * kw * group_out, h * w * n)
        needs = ctx.needs_input_grad
        grad_x = grad_w = grad_b = None
        if needs[0]:
            grad_x = np.matmul(w3.transpose(0, 2, 1), gcols).reshape(in_channels, h, w, n).transpose(3, 0, 1, 2)
        if needs[1]:
            grad_w = (np.matmul(xc, gcols.transpose(0, 2, 1))  # (groups, C_in/groups, KH*KW*C_out/groups)
                      .reshape(groups, in_channels // groups, kh, kw, group_out).transpose(0, 1, 4, 2, 3)
                      .reshape(in_channels, group_out, kh, kw))
        if len(needs) == 3 and needs[2]:
            grad_b = padded.sum(axis=(1, 2, 3))
        return (grad_x, grad_w, grad_b)[:len(needs)]
