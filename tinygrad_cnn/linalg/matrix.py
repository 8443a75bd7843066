"""torch.linalg's functions of square matrices and products: det, slogdet, inv, inv_ex, solve,
cholesky, matrix_power, multi_dot, cross, vecdot and diagonal (batched over leading dims,
differentiable through the ops of ``tinygrad_cnn.ops.linalg``)."""

from __future__ import annotations

from collections import namedtuple
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from tinygrad_cnn.argcheck import tensor_arg
from tinygrad_cnn.ops import linalg as L
from tinygrad_cnn.dtypes import same_dtype

if TYPE_CHECKING:
    from tinygrad_cnn.tensor import Tensor

slogdet_result = namedtuple("slogdet", ["sign", "logabsdet"])
linalg_slogdet = namedtuple("linalg_slogdet", ["sign", "logabsdet"])
linalg_inv_ex = namedtuple("linalg_inv_ex", ["inverse", "info"])


def det(A: Tensor) -> Tensor:
    """det(A) for A (*, n, n), shape (*); differentiable, singular A included."""
    return L.Det.apply(tensor_arg(A, "A", "linalg.det"))


def slogdet(A: Tensor, *, _name: str = "linalg_slogdet") -> Any:
    """(sign, logabsdet) of det(A) for A (*, n, n), each of shape (*): sign in {-1, 0, 1} and
    log|det A| (-inf when singular); only logabsdet has a gradient."""
    packed = L.SlogDet.apply(tensor_arg(A, "A", "linalg.slogdet"))
    result = slogdet_result if _name == "slogdet" else linalg_slogdet
    return result(packed[..., 0].detach(), packed[..., 1])


def inv(A: Tensor) -> Tensor:
    """A^{-1} for A (*, n, n); a singular matrix raises LinAlgError (a RuntimeError)."""
    return L.Inverse.apply(tensor_arg(A, "A", "linalg.inv"))


def inv_ex(A: Tensor, *, check_errors: bool = False) -> Any:
    """(inverse, info) as torch.linalg.inv_ex: ``info`` (int32, shape (*)) is 0 where the matrix
    was inverted and positive where it is singular (its inverse then nan), unless ``check_errors``."""
    A = tensor_arg(A, "A", "linalg.inv_ex")
    L.check_matrix("linalg.inv_ex", A.numpy())
    flat = A.numpy().reshape(-1, *A.shape[-2:])
    info = np.array([int(L.is_singular(m)) for m in flat], dtype=np.int32).reshape(A.shape[:-2])
    if not info.any():
        return linalg_inv_ex(inv(A), A.from_op(info, None))
    if check_errors:
        inv(A)
    inverse = np.stack([np.full_like(m, np.nan) if bad else np.linalg.inv(m) for m, bad in zip(flat, info.flat)])
    return linalg_inv_ex(A.from_op(inverse.reshape(A.shape), None), A.from_op(info, None))


def solve(A: Tensor, B: Tensor, *, left: bool = True) -> Tensor:
    """X with A X = B (``left``) or X A = B, for A (*, n, n) and B (*, n, k), or B a vector
    (n,) or (*, n); batch dims broadcast. Differentiable in A and B."""
    A, B = tensor_arg(A, "A", "linalg.solve"), tensor_arg(B, "B", "linalg.solve")
    L.check_matrix("linalg.solve", A.numpy())
    same_dtype("linalg.solve", A, B)
    if not left:
        return solve(A.mT, B.mT).mT
    vector = B.ndim == 1 or (B.ndim == A.ndim - 1 and B.shape == A.shape[:-1])
    rhs = B.unsqueeze(-1) if vector else B
    n = A.shape[-1]
    if rhs.shape[-2] != n:
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation AX = B ({n}x{n} and "
                           f"{rhs.shape[-2]}x{rhs.shape[-1]})")
    try:
        np.broadcast_shapes(A.shape[:-2], rhs.shape[:-2])
    except ValueError:
        raise RuntimeError(f"linalg.solve: the batch dims of A {list(A.shape)} and B {list(B.shape)} do not "
                           "broadcast") from None
    out = L.Solve.apply(A, rhs)
    return out.squeeze(-1) if vector else out


def cholesky(A: Tensor, *, upper: bool = False) -> Tensor:
    """The Cholesky factor of symmetric positive-definite A (*, n, n): lower L with A = L L^T,
    or ``upper`` U = L^T; otherwise LinAlgError naming the failing leading minor."""
    low = L.Cholesky.apply(tensor_arg(A, "A", "linalg.cholesky"))
    return low.mT if upper else low


def matrix_power(A: Tensor, n: int) -> Tensor:
    """A^n for A (*, m, m) by repeated squaring: the identity for n = 0, powers of A^{-1} for
    n < 0 (floating A only), differentiable."""
    A = tensor_arg(A, "A", "linalg.matrix_power")
    if A.ndim < 2:
        raise RuntimeError("linalg.matrix_power: The input tensor A must have at least 2 dimensions.")
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"linalg.matrix_power: A must be batches of square matrices, but they are {A.shape[-2]} "
                           f"by {A.shape[-1]} matrices")
    if n == 0:  # the identity, A's gradient zero (as torch's, which keeps the graph)
        eye = A.from_op(np.broadcast_to(np.eye(A.shape[-1], dtype=A.dtype), A.shape).copy(), None)
        return eye.where(A.from_op(np.ones(A.shape, dtype=bool), None), A) if A.requires_grad else eye
    base, result = (inv(A) if n < 0 else A), None
    k = abs(int(n))
    while k:
        if k & 1:
            result = base if result is None else result @ base
        k >>= 1
        if k:
            base = base @ base
    return result


def multi_dot(tensors: Sequence[Tensor]) -> Tensor:
    """The product of a chain of matrices; the first may be a 1-D row and the last a 1-D
    column (their dims then dropped from the result), as torch.linalg.multi_dot."""
    items = list(tensors)
    if len(items) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(items)}")
    for i, t in enumerate(items):
        where = "the first tensor" if i == 0 else "the last tensor" if i == len(items) - 1 else f"tensor {i}"
        allowed = (1, 2) if i in (0, len(items) - 1) else (2,)
        if tensor_arg(t, "tensors", "multi_dot").ndim not in allowed:
            raise RuntimeError(f"multi_dot(): {where} must be {' or '.join(f'{d}D' for d in allowed)} but got "
                               f"{t.ndim}D")
    same_dtype("multi_dot", *items)
    out = items[0]
    for t in items[1:]:
        if out.shape[-1] != t.shape[0]:
            raise RuntimeError(f"multi_dot(): tensors cannot be chain-multiplied: shapes {[list(x.shape) for x in items]}")
        out = out @ t
    return out


def cross(input: Tensor, other: Tensor, *, dim: int = -1) -> Tensor:
    """The cross product of 3-vectors along ``dim`` (inputs broadcast), differentiable."""
    input, other = tensor_arg(input, "input", "linalg.cross"), tensor_arg(other, "other", "linalg.cross")
    if input.ndim != other.ndim:
        raise RuntimeError(f"linalg.cross: inputs must have the same number of dimensions, got {input.ndim} and "
                           f"{other.ndim}")
    shape = np.broadcast_shapes(input.shape, other.shape)
    d = dim if -len(shape) <= dim < len(shape) else None
    if d is None or input.shape[d] != 3 or other.shape[d] != 3:
        got = f"Got {input.shape[dim]} and {other.shape[dim]}" if d is not None else f"Shape {list(shape)}"
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. {got}")
    a, b = input.expand(shape), other.expand(shape)
    return a.roll(-1, d) * b.roll(-2, d) - a.roll(-2, d) * b.roll(-1, d)


def vecdot(x: Tensor, y: Tensor, *, dim: int = -1) -> Tensor:
    """The dot product of vectors along ``dim`` (inputs broadcast): sum(x * y, dim)."""
    return (tensor_arg(x, "x", "linalg.vecdot") * y).sum(dim)


def diagonal(A: Tensor, *, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """torch.diagonal with the last two dims as default: the diagonals of a batch of matrices."""
    return tensor_arg(A, "A", "linalg.diagonal").diagonal(offset, dim1, dim2)
