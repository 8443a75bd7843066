"""The arithmetic of sliding windows, shared by convolution and pooling: the padding of each
side, the output size, a conv layer's parameter count and the slice one kernel offset reads."""

from __future__ import annotations

from tinygrad_cnn.argcheck import IntPair, Padding, padding_arg, positive_int, positive_pair


def side_padding(padding: Padding, kernel: tuple[int, int], stride: tuple[int, int], dilation: tuple[int, int],
             op: str) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) padding for an int, a pair, "valid" or "same" (stride 1 only;
    an even total goes half each side, an odd one puts the extra row/column at the bottom/right
    as torch does)."""
    padding = padding_arg(padding, stride, op)
    if padding == "valid":
        return 0, 0, 0, 0
    if padding == "same":
        total_h, total_w = dilation[0] * (kernel[0] - 1), dilation[1] * (kernel[1] - 1)
        return total_h // 2, total_h - total_h // 2, total_w // 2, total_w - total_w // 2
    ph, pw = padding
    return ph, ph, pw, pw


def calculate_output_size(input_size: IntPair, kernel_size: IntPair, stride: IntPair = 1, padding: Padding = 0,
                          dilation: IntPair = 1, strict: bool = False) -> tuple[int, int]:
    """Spatial output size (H_out, W_out) of a convolution or pooling window.

    Per side: N_out = floor((N_in + 2P - D(F - 1) - 1) / S) + 1, with every argument an int
    or an (H, W) pair; ``padding`` may also be "valid" (0) or "same" (N_out = N_in, stride 1).
    Raises ValueError when an output side is below 1, and, with ``strict=True``, when the
    division by the stride is not exact (windows would leave input rows/columns unused).
    """
    op = "calculate_output_size"
    size = positive_pair(input_size, "input_size", op)
    kernel = positive_pair(kernel_size, "kernel_size", op)
    strides = positive_pair(stride, "stride", op)
    dilations = positive_pair(dilation, "dilation", op)
    top, bottom, left, right = side_padding(padding, kernel, strides, dilations, op)
    out = []
    for axis, n, k, s, p, d in zip("HW", size, kernel, strides, (top + bottom, left + right), dilations):
        span = n + p - d * (k - 1) - 1
        if span < 0:
            raise ValueError(
                f"{op}: kernel {k} (dilation {d}, effective {d * (k - 1) + 1}) is larger than the padded "
                f"input {n + p} along {axis} (input {n}, padding {p} in total)"
            )
        if strict and span % s:
            raise ValueError(
                f"{op}: (input {n} + padding {p} - effective kernel {d * (k - 1) + 1}) = {span} is not "
                f"divisible by stride {s} along {axis}; {span % s} input row(s)/column(s) would be unused"
            )
        out.append(span // s + 1)
    return out[0], out[1]


def count_parameters(in_channels: int, out_channels: int, kernel_size: IntPair, bias: bool = True) -> int:
    """Learnable parameters of a conv layer: in*out*KH*KW weights, plus ``out`` biases.

    ``kernel_size=1`` gives a Linear(in_channels, out_channels) layer's count, in*out + out.
    """
    kh, kw = positive_pair(kernel_size, "kernel_size", "count_parameters")
    positive_int(in_channels, "in_channels", "count_parameters")
    positive_int(out_channels, "out_channels", "count_parameters")
    return in_channels * out_channels * kh * kw + (out_channels if bias else 0)


def window(start: int, count: int, step: int) -> slice:
    """The slice of ``count`` positions from ``start`` every ``step`` (one kernel offset's rows)."""
    return slice(start, start + step * (count - 1) + 1, step)
