"""Matrix ops on the last two dims (batched over the leading ones): diagonals (read and
embedded), determinants, the inverse, linear solves and the Cholesky factor, each with the
gradient torch's derivatives.yaml gives it; and the checks torch makes of a matrix argument."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from tinygrad_cnn.autograd import Context, Function
from tinygrad_cnn.dtypes import scalar_type_name
from tinygrad_cnn.ops.reduce import _exclusive_products


class LinAlgError(RuntimeError):
    """A linear-algebra routine could not finish (a singular or non positive-definite input),
    as torch.linalg.LinAlgError (a RuntimeError)."""


def check_matrix(op: str, a: np.ndarray, square: bool = True, name: str = "A") -> None:
    """Raise RuntimeError, as torch, unless ``a`` is a floating (batch of) matrix (square when asked)."""
    if a.dtype.kind != "f":
        raise RuntimeError(f"{op}: Expected a floating point or complex tensor as input. Got {scalar_type_name(a.dtype)}")
    if a.ndim < 2:
        raise RuntimeError(f"{op}: The input tensor {name} must have at least 2 dimensions.")
    if square and a.shape[-1] != a.shape[-2]:
        raise RuntimeError(f"{op}: {name} must be batches of square matrices, but they are {a.shape[-2]} by "
                           f"{a.shape[-1]} matrices")


def mT(a: np.ndarray) -> np.ndarray:
    """The transpose of the last two dims."""
    return np.swapaxes(a, -1, -2)


def first_failure(a: np.ndarray, fails: Callable[[np.ndarray], bool]) -> tuple[str, np.ndarray]:
    """(torch's "(Batch element k): " prefix, or "" for one matrix; that matrix) for the first
    matrix of ``a`` where ``fails(matrix)``."""
    if a.ndim == 2:
        return "", a
    flat = a.reshape(-1, *a.shape[-2:])
    k = next((i for i in range(len(flat)) if fails(flat[i])), 0)
    return f"(Batch element {k}): ", flat[k]


def refuses(routine: Callable[[np.ndarray], Any], matrix: np.ndarray) -> bool:
    """True when the np.linalg ``routine`` raises LinAlgError for ``matrix``."""
    try:
        routine(matrix)
    except np.linalg.LinAlgError:
        return True
    return False


def is_singular(matrix: np.ndarray) -> bool:
    """True when np.linalg.inv refuses ``matrix`` (an exactly singular LU factor)."""
    return refuses(np.linalg.inv, matrix)


def inverse(a: np.ndarray, op: str) -> np.ndarray:
    """np.linalg.inv, raising torch's LinAlgError for a singular matrix."""
    try:
        return np.linalg.inv(a)
    except np.linalg.LinAlgError:
        raise LinAlgError(f"{op}: {first_failure(a, is_singular)[0]}The inversion could not be completed because the "
                          "input matrix is singular.") from None


def diagonal_view(a: np.ndarray, offset: int, dim1: int, dim2: int) -> np.ndarray:
    """The ``offset`` diagonal of dims ``dim1``, ``dim2`` (non-negative) of ``a`` as a view that
    is writeable when ``a`` is, its length as the last dim (np.diagonal's layout)."""
    index = [slice(None)] * a.ndim
    index[dim2 if offset >= 0 else dim1] = slice(abs(offset), None)
    shifted = a[tuple(index)]
    view = np.diagonal(shifted, 0, dim1, dim2)
    if view.size == 0:  # nothing to share (and np.diagonal's empty view is read-only)
        return view.copy()
    return np.lib.stride_tricks.as_strided(shifted, view.shape, view.strides, writeable=shifted.flags.writeable)


class Diagonal(Function):
    """The ``offset`` diagonal of dims ``dim1`` and ``dim2`` (non-negative), appended as the last
    dim, a view as torch.diagonal; the gradient is zeros with the gradient on that diagonal."""

    is_view = True

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, offset: int, dim1: int, dim2: int) -> np.ndarray:
        ctx.in_shape = a.shape
        return diagonal_view(a, offset, dim1, dim2)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        out = np.zeros(ctx.in_shape, dtype=grad.dtype)
        diagonal_view(out, ctx.params["offset"], ctx.params["dim1"], ctx.params["dim2"])[...] = grad
        return out


class DiagEmbed(Function):
    """``a``'s last dim (length n) placed on the ``offset`` diagonal of two new dims ``dim1``,
    ``dim2`` (non-negative, of the output) of size n + |offset|, zeros elsewhere, as
    torch.diag_embed; the gradient is that diagonal of the output's gradient."""

    op_name = "diag_embed"

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, offset: int, dim1: int, dim2: int) -> np.ndarray:
        n = a.shape[-1] + abs(offset)
        shape = list(a.shape[:-1])
        for d in sorted((dim1, dim2)):
            shape.insert(d, n)
        out = np.zeros(shape, dtype=a.dtype)
        diagonal_view(out, offset, dim1, dim2)[...] = a
        return out

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        return np.diagonal(grad, ctx.params["offset"], ctx.params["dim1"], ctx.params["dim2"]).copy()


class Det(Function):
    """det(A) of (batches of) square matrices. The gradient is g times the cofactor matrix,
    computed from the SVD A = U S Vh as det(U) det(Vh) U diag(prod_{j != i} s_j) Vh, which
    stays right for singular A (as torch's linalg_det_backward)."""

    op_name = "linalg_det"

    @staticmethod
    def forward(ctx: Context, a: np.ndarray) -> np.ndarray:
        check_matrix("linalg.det", a)
        ctx.save_for_backward(a)
        return np.asarray(np.linalg.det(a)) if a.shape[-1] else np.ones(a.shape[:-2], dtype=a.dtype)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        (a,) = ctx.saved_tensors
        if a.shape[-1] == 0:
            return np.zeros_like(a)
        u, s, vh = np.linalg.svd(a)
        sign = np.linalg.det(u) * np.linalg.det(vh)
        cofactors = (u * _exclusive_products(s, -1)[..., None, :]) @ vh
        return (grad * sign)[..., None, None] * cofactors


class SlogDet(Function):
    """(sign, log|det A|) stacked on a new last dim of size 2. Only log|det| has a gradient:
    g A^{-T} (torch's slogdet_backward)."""

    op_name = "linalg_slogdet"

    @staticmethod
    def forward(ctx: Context, a: np.ndarray) -> np.ndarray:
        check_matrix("linalg.slogdet", a)
        sign, logabsdet = np.linalg.slogdet(a)
        ctx.save_for_backward(a)
        return np.stack([sign, logabsdet], axis=-1).astype(a.dtype)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        (a,) = ctx.saved_tensors
        try:
            inv_t = mT(np.linalg.inv(a))
        except np.linalg.LinAlgError:  # singular: log|det| is -inf, its derivative unbounded
            inv_t = np.full_like(a, np.inf)
        return grad[..., 1, None, None] * inv_t


class Inverse(Function):
    """A^{-1} of (batches of) square matrices; singular ones raise LinAlgError. The gradient
    is -A^{-T} g A^{-T}."""

    op_name = "linalg_inv_ex"

    @staticmethod
    def forward(ctx: Context, a: np.ndarray) -> np.ndarray:
        check_matrix("linalg.inv", a)
        out = inverse(a, "linalg.inv")
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        (inv,) = ctx.saved_tensors
        inv_t = mT(inv)
        return -(inv_t @ grad @ inv_t)


class Solve(Function):
    """X with A X = B for square A (..., n, n) and B (..., n, k), batch dims broadcast; a
    singular A raises LinAlgError. d/dB = A^{-T} g, d/dA = -(d/dB) X^T."""

    op_name = "linalg_solve_ex"

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        try:
            out = np.linalg.solve(a, b)
        except np.linalg.LinAlgError:
            raise LinAlgError(f"torch.linalg.solve: {first_failure(a, is_singular)[0]}The solver failed because the "
                              "input matrix is singular.") from None
        ctx.save_for_backward(a, out if ctx.needs_input_grad[0] else None)
        return out

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        a, out = ctx.saved_tensors
        grad_b = np.linalg.solve(np.broadcast_to(mT(a), grad.shape[:-2] + a.shape[-2:]), grad)
        grad_a = -(grad_b @ mT(out)) if ctx.needs_input_grad[0] else None
        return grad_a, grad_b if ctx.needs_input_grad[1] else None


def _not_positive_definite(matrix: np.ndarray) -> bool:
    return refuses(np.linalg.cholesky, matrix)


def cholesky_error(a: np.ndarray, op: str) -> LinAlgError:
    """torch's LinAlgError for the first matrix of ``a`` that is not positive-definite, naming
    the order of its first leading minor that is not."""
    prefix, bad = first_failure(a, _not_positive_definite)
    order = next(k for k in range(1, len(bad) + 1) if _not_positive_definite(bad[:k, :k]))
    return LinAlgError(f"{op}: {prefix}The factorization could not be completed because the input is not "
                       f"positive-definite (the leading minor of order {order} is not positive-definite).")


class Cholesky(Function):
    """The lower Cholesky factor L (A = L L^T) of symmetric positive-definite A, read from its
    lower triangle; otherwise LinAlgError. The gradient (torch's cholesky_backward) is
    sym(L^{-T} Phi(L^T g) L^{-1}), Phi keeping the lower triangle with the diagonal halved."""

    op_name = "linalg_cholesky_ex"

    @staticmethod
    def forward(ctx: Context, a: np.ndarray) -> np.ndarray:
        check_matrix("linalg.cholesky", a)
        try:
            out = np.linalg.cholesky(a)
        except np.linalg.LinAlgError:
            raise cholesky_error(a, "linalg.cholesky") from None
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        (low,) = ctx.saved_tensors
        low_inv = np.linalg.inv(low)
        phi = np.tril(mT(low) @ grad)
        diag = np.diagonal(phi, 0, -2, -1)
        phi[..., range(phi.shape[-1]), range(phi.shape[-1])] = diag * 0.5
        g = mT(low_inv) @ phi @ low_inv
        return (g + mT(g)) * 0.5
