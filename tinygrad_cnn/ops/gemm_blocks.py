"""How conv2d feeds its matmuls to BLAS: in blocks of columns, where that is faster and gives
the same bits (OpenBLAS's small-matrix kernel), and as one batched np.matmul per product."""

from __future__ import annotations

import numpy as np

# OpenBLAS is slow on a matmul whose C*KH*KW side is tiny (a first layer: 1*5*5) and whose
# other side is a long row of OH*OW*N columns: fed in blocks of 4096 columns it ran 2-3x
# faster (benchmarks/ops.py). Larger C*KH*KW runs best unblocked. The weight gradient sums
# over these blocks, so they fix its bits; the forward uses them where small_gemm_step
# does not apply.
SMALL_PATCH = 64
COLUMN_BLOCK = 4096
# OpenBLAS (0.3.31, its SkylakeX kernels on this machine) computes a float32 product of at most
# SMALL_GEMM multiply-adds (M*N*K) with its small-matrix kernel, which ran the skinny products
# of conv2d up to 2x faster than its blocked kernel: LeNet conv2's forward matmul (16 x 150 x
# 4096 columns) took 0.44 ms whole and 0.22 ms in blocks of 416 columns, its input-gradient
# matmul 0.47 and 0.27 ms. Both kernels sum each element's K terms in order, one FMA each, so
# they give the same bits, as long as every block's column count is a multiple of 16 (their
# tails round differently) and K <= SMALL_GEMM_SUM (above, the blocked kernel splits the sum
# in two): measured over K = 9..576 and 6..512 rows. Blocks below SMALL_GEMM_COLUMNS columns
# lose (ResNet20's 64 x 288 forward in blocks of 48 ran 2-3% slower; its 32 x 288 one in
# blocks of 96 10% faster).
SMALL_GEMM = 1_000_000
SMALL_GEMM_SUM = 448
SMALL_GEMM_COLUMNS = 64


def column_step(patch: int, length: int) -> int:
    """How many of the OH*OW*N columns to feed BLAS at a time (all unless ``patch`` is small)."""
    return COLUMN_BLOCK if patch < SMALL_PATCH else length


def small_gemm_step(rows: int, inner: int, length: int, dtype: np.dtype) -> int | None:
    """The width of the column blocks of a (``rows`` x ``inner``) @ (``inner`` x ``length``)
    product that BLAS computes with its small-matrix kernel to the same bits as in one call,
    or None where blocks would not pay or could round differently (see SMALL_GEMM)."""
    step = SMALL_GEMM // (rows * inner) // 16 * 16
    if dtype != np.float32 or inner > SMALL_GEMM_SUM or length % 16 or step < SMALL_GEMM_COLUMNS or step >= length:
        return None
    return step


def column_blocks(x: np.ndarray, step: int) -> np.ndarray:
    """``x`` (G, R, L), L a multiple of ``step``, as the view (G, L / step, R, step) of its
    blocks of ``step`` columns: one batched np.matmul over it is one BLAS product per block."""
    groups, rows, length = x.shape
    return x.reshape(groups, rows, length // step, step).transpose(0, 2, 1, 3)


def matmul_blocks(a: np.ndarray, b: np.ndarray, out: np.ndarray, step: int) -> None:
    """out = a @ b for a (G, M, K), b (G, K, L) and out (G, M, L), as one BLAS product per block
    of ``step`` columns: the whole blocks in one batched np.matmul over a (G, blocks, K, step)
    view (one release of the GIL, where a loop of calls would hand the GIL to and fro between
    threads at each), the remaining columns in one more call."""
    length = b.shape[2]
    whole = length // step * step
    if whole:
        np.matmul(a[:, None], column_blocks(b[:, :, :whole], step), out=column_blocks(out[:, :, :whole], step))
    if whole < length:
        np.matmul(a, b[:, :, whole:], out=out[:, :, whole:])
