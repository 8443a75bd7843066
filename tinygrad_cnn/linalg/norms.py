"""torch.linalg's norms: vector_norm (``Tensor.norm``'s computation, with torch.linalg's
argument checks), matrix_norm (Frobenius, nuclear, the operator 1/2/inf norms and their
minimum counterparts) and norm, which picks one of the two as torch.linalg.norm does."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from tinygrad_cnn.argcheck import dim_arg, tensor_arg
from tinygrad_cnn.dtypes import dtype_arg, scalar_type_name
from tinygrad_cnn.linalg.decompositions import svdvals

if TYPE_CHECKING:
    from tinygrad_cnn.tensor import Tensor

_MATRIX_ORDERS = ("fro", "nuc", np.inf, -np.inf, 1, -1, 2, -2)


def _floating(x: Any, op: str, dtype: Any) -> Any:
    """The checked dtype argument; RuntimeError unless ``x`` (and ``dtype``) are floating, as torch."""
    tensor_arg(x, "input", op)
    if x.dtype.kind != "f":
        raise RuntimeError(f"{op}: Expected a floating point or complex tensor as input. Got "
                           f"{scalar_type_name(x.dtype)}")
    resolved = dtype_arg(dtype, op)
    if resolved is not None and resolved.kind != "f":
        raise RuntimeError(f"{op}: dtype should be floating point or complex, but got {scalar_type_name(resolved)}")
    return resolved


def vector_norm(x: Tensor, ord: float = 2, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """The vector ``ord``-norm of ``x`` over ``dim`` (all elements when None): ord a number,
    inf (max |x|), -inf (min |x|) or 0 (the count of non-zeros), computed in ``dtype``."""
    if isinstance(ord, str) or not isinstance(ord, (int, float, np.number)):
        raise TypeError(f"linalg_vector_norm(): argument 'ord' must be Number, not {type(ord).__name__}")
    dtype = _floating(x, "linalg.vector_norm", dtype)
    return x.norm(ord, dim, keepdim, dtype=dtype)


def matrix_norm(A: Tensor, ord: Any = "fro", dim: tuple[int, int] = (-2, -1), keepdim: bool = False, *,
                dtype: Any = None) -> Tensor:
    """The matrix norm of A over the two dims ``dim``: ord "fro" (Frobenius), "nuc" (the sum of
    the singular values), 2 / -2 (the largest / smallest singular value), 1 / -1 (the max / min
    column sum of |A|) or inf / -inf (the max / min row sum)."""
    dtype = _floating(A, "linalg.matrix_norm", dtype)
    if A.ndim < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 dimensions.")
    if isinstance(ord, str) and ord not in ("fro", "nuc") or not isinstance(ord, str) and ord not in _MATRIX_ORDERS:
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    if len(dim) != 2:
        raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {tuple(dim)}")
    rows, cols = (dim_arg(d, A.ndim, "linalg.matrix_norm") for d in dim)
    if rows == cols:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got ({dim[0]}, {dim[1]})")
    if dtype is not None:
        A = A._cast(dtype)
    if ord == "fro":
        return A.norm(2, (rows, cols), keepdim)
    if ord in ("nuc", 2, -2):
        s = svdvals(A.movedim((rows, cols), (-2, -1)))
        out = s.sum(-1) if ord == "nuc" else s.amax(-1) if ord == 2 else s.amin(-1)
        for d in sorted((rows, cols)) if keepdim else ():
            out = out.unsqueeze(d)
        return out
    summed, picked = (rows, cols) if ord in (1, -1) else (cols, rows)
    sums = A.abs().sum(summed, keepdim=True)
    out = sums.amax(picked, keepdim=True) if ord > 0 else sums.amin(picked, keepdim=True)
    return out if keepdim else out.squeeze((rows, cols))


def norm(A: Tensor, ord: Any = None, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """torch.linalg.norm: a vector norm when ``dim`` is an int (or 1-tuple), a matrix norm when
    it is a 2-tuple; with ``dim`` None, the 2-norm of all elements when ``ord`` is None, else
    A must be 1-D (vector norm) or 2-D (matrix norm)."""
    tensor_arg(A, "input", "linalg.norm")
    if dim is not None:
        dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
        if len(dims) == 1:
            return vector_norm(A, 2 if ord is None else ord, dims, keepdim, dtype=dtype)
        if len(dims) == 2:
            return matrix_norm(A, "fro" if ord is None else ord, dims, keepdim, dtype=dtype)
        raise RuntimeError(f"linalg.norm: If dim is specified, it must be of length 1 or 2. Got {list(dims)}")
    if ord is None:
        return vector_norm(A, 2, None, keepdim, dtype=dtype)
    if A.ndim == 1 and not isinstance(ord, str):
        return vector_norm(A, ord, None, keepdim, dtype=dtype)
    if A.ndim <= 2:  # a string ord for a 1-D input: matrix_norm refuses it, as torch
        return matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype)
    raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. Got {A.ndim}D.")
