"""Tensor's linear-algebra methods (a mixin of Tensor): the fused products (addmm, addmv, addr,
baddbmm, addbmm and their in-place forms), mv, inner, ger, kron, the diagonal family (trace,
diag, diagonal, diag_embed, diagflat), cross, dist, cov and corrcoef, and the matrix
functions (det, slogdet, logdet, inverse, pinverse, cholesky, qr, svd, matrix_power), which
are ``tinygrad_cnn.linalg``'s (imported on first use: that package imports Tensor)."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from tinygrad_cnn.argcheck import dim_arg
from tinygrad_cnn.dtypes import get_default_dtype, same_dtype, scalar_type_name
from tinygrad_cnn.ops import linalg as L

if TYPE_CHECKING:
    from tinygrad_cnn.tensor import Tensor

Number = int | float


def _linalg() -> Any:
    from tinygrad_cnn import linalg

    return linalg


class LinalgMixin:
    """Products, diagonals, cross products, covariances and the matrix functions."""

    _array: np.ndarray

    # ---------------------------------------------------------------- beta * self + alpha * product
    def _scaled_sum(self, product: "Tensor", beta: Number, alpha: Number, op: str) -> "Tensor":
        """beta * self + alpha * product, self broadcast to the product's shape; beta = 0 ignores
        self's values (nan and inf included), as torch's BLAS-style ops. For integer tensors
        float scalars raise in addr and are truncated to ints elsewhere, as torch."""
        if self.dtype.kind in "biu" and any(isinstance(v, float) for v in (beta, alpha)):
            if op.startswith("addr"):
                which = "beta" if isinstance(beta, float) else "alpha"
                raise RuntimeError(f"{op}: For integral input tensors, argument {which} must not be a floating "
                                   "point number.")
            beta, alpha = int(beta), int(alpha)
        try:
            fits = np.broadcast_shapes(self.shape, product.shape) == product.shape
        except ValueError:
            fits = False
        if not fits:
            raise RuntimeError(f"{op}: The expanded size of the tensor ({list(product.shape)}) must match the "
                               f"existing size {list(self.shape)} of input")
        term = product if alpha == 1 else product * alpha
        if beta == 0:  # self still gets its (zero) gradient, as torch's, without its values touching the result
            keep = self.from_op(np.ones(product.shape, dtype=bool), None)
            return term.where(keep, self) if self.requires_grad else term
        return (self if beta == 1 else self * beta) + term

    def _matrix_args(self, op: str, *args: tuple[str, Any, int]) -> None:
        for name, t, ndim in args:
            if not hasattr(t, "_array"):
                raise TypeError(f"{op}(): argument '{name}' must be a Tensor, not {type(t).__name__}")
            if t.ndim != ndim:
                raise RuntimeError(f"{op}: {name} must be a {ndim}-D tensor, got a {t.ndim}-D tensor of shape "
                                   f"{list(t.shape)}")
        same_dtype(op, self, *(t for _, t, _ in args))

    def addmm(self, mat1: "Tensor", mat2: "Tensor", *, beta: Number = 1, alpha: Number = 1) -> "Tensor":
        """beta * self + alpha * (mat1 @ mat2): mat1 (n, m), mat2 (m, p), self broadcast to (n, p)."""
        self._matrix_args("addmm", ("mat1", mat1, 2), ("mat2", mat2, 2))
        if mat1.shape[1] != mat2.shape[0]:
            raise RuntimeError(f"addmm: mat1 and mat2 shapes cannot be multiplied ({mat1.shape[0]}x{mat1.shape[1]} "
                               f"and {mat2.shape[0]}x{mat2.shape[1]})")
        return self._scaled_sum(mat1 @ mat2, beta, alpha, "addmm")

    def addmv(self, mat: "Tensor", vec: "Tensor", *, beta: Number = 1, alpha: Number = 1) -> "Tensor":
        """beta * self + alpha * (mat @ vec): mat (n, m), vec (m,), self broadcast to (n,)."""
        self._matrix_args("addmv", ("mat", mat, 2), ("vec", vec, 1))
        if mat.shape[1] != vec.shape[0]:
            raise RuntimeError(f"addmv: size mismatch, got input ({', '.join(map(str, self.shape))}), mat "
                               f"({mat.shape[0]}x{mat.shape[1]}), vec ({vec.shape[0]})")
        return self._scaled_sum(mat @ vec, beta, alpha, "addmv")

    def addr(self, vec1: "Tensor", vec2: "Tensor", *, beta: Number = 1, alpha: Number = 1) -> "Tensor":
        """beta * self + alpha * outer(vec1, vec2): vec1 (n,), vec2 (m,), self broadcast to (n, m)."""
        self._matrix_args("addr", ("vec1", vec1, 1), ("vec2", vec2, 1))
        return self._scaled_sum(vec1.outer(vec2), beta, alpha, "addr")

    def _batches(self, op: str, batch1: "Tensor", batch2: "Tensor") -> None:
        self._matrix_args(op, ("batch1", batch1, 3), ("batch2", batch2, 3))
        b, _, m = batch1.shape
        if batch2.shape[:2] != (b, m):
            raise RuntimeError(f"{op}: Expected size for first two dimensions of batch2 tensor to be: [{b}, {m}] but "
                               f"got: [{batch2.shape[0]}, {batch2.shape[1]}].")

    def baddbmm(self, batch1: "Tensor", batch2: "Tensor", *, beta: Number = 1, alpha: Number = 1) -> "Tensor":
        """beta * self + alpha * (batch1 @ batch2): (b, n, m) @ (b, m, p), self broadcast to (b, n, p)."""
        self._batches("baddbmm", batch1, batch2)
        return self._scaled_sum(batch1 @ batch2, beta, alpha, "baddbmm")

    def addbmm(self, batch1: "Tensor", batch2: "Tensor", *, beta: Number = 1, alpha: Number = 1) -> "Tensor":
        """beta * self + alpha * sum_i batch1[i] @ batch2[i]: (b, n, m), (b, m, p), self broadcast to (n, p)."""
        self._batches("addbmm", batch1, batch2)
        return self._scaled_sum((batch1 @ batch2).sum(0), beta, alpha, "addbmm")

    def addmm_(self, mat1: "Tensor", mat2: "Tensor", *, beta: Number = 1, alpha: Number = 1) -> "Tensor":
        """``addmm`` written into self (which must have the product's shape)."""
        return self._inplace_("addmm_", lambda s: s.addmm(mat1, mat2, beta=beta, alpha=alpha), mat1, mat2)

    def addmv_(self, mat: "Tensor", vec: "Tensor", *, beta: Number = 1, alpha: Number = 1) -> "Tensor":
        """``addmv`` written into self."""
        return self._inplace_("addmv_", lambda s: s.addmv(mat, vec, beta=beta, alpha=alpha), mat, vec)

    def addr_(self, vec1: "Tensor", vec2: "Tensor", *, beta: Number = 1, alpha: Number = 1) -> "Tensor":
        """``addr`` written into self."""
        return self._inplace_("addr_", lambda s: s.addr(vec1, vec2, beta=beta, alpha=alpha), vec1, vec2)

    def baddbmm_(self, batch1: "Tensor", batch2: "Tensor", *, beta: Number = 1, alpha: Number = 1) -> "Tensor":
        """``baddbmm`` written into self."""
        return self._inplace_("baddbmm_", lambda s: s.baddbmm(batch1, batch2, beta=beta, alpha=alpha),
                              batch1, batch2)

    def addbmm_(self, batch1: "Tensor", batch2: "Tensor", *, beta: Number = 1, alpha: Number = 1) -> "Tensor":
        """``addbmm`` written into self."""
        return self._inplace_("addbmm_", lambda s: s.addbmm(batch1, batch2, beta=beta, alpha=alpha),
                              batch1, batch2)

    # ---------------------------------------------------------------- products
    def mv(self, vec: "Tensor") -> "Tensor":
        """The matrix-vector product (n, m) @ (m,) -> (n,), as torch.mv."""
        if self.ndim != 2 or getattr(vec, "ndim", None) != 1:
            raise RuntimeError(f"mv: vector + matrix @ vector expected, got shapes {list(self.shape)} and "
                               f"{list(np.shape(vec))}")
        same_dtype("mv", self, vec)
        if self.shape[1] != vec.shape[0]:
            raise RuntimeError(f"mv: size mismatch, got mat ({self.shape[0]}x{self.shape[1]}), vec ({vec.shape[0]})")
        return self @ vec

    def inner(self, other: "Tensor") -> "Tensor":
        """Sums of products over the last dims: shape self.shape[:-1] + other.shape[:-1] (a 0-D
        operand multiplies), as torch.inner."""
        if not hasattr(other, "_array"):
            raise TypeError(f"inner(): argument 'other' (position 2) must be Tensor, not {type(other).__name__}")
        if self.ndim == 0 or other.ndim == 0:
            return self * other
        same_dtype("inner", self, other)
        if self.shape[-1] != other.shape[-1]:
            raise RuntimeError(f"inner() the last dimension must match on both input tensors but got shapes "
                               f"{list(self.shape)} and {list(other.shape)}")
        flat = self.reshape(-1, self.shape[-1]) @ other.reshape(-1, other.shape[-1]).t()
        return flat.reshape(self.shape[:-1] + other.shape[:-1])

    def ger(self, vec2: "Tensor") -> "Tensor":
        """The outer product (n,) x (m,) -> (n, m): torch's older name of ``outer``."""
        return self.outer(vec2)

    def kron(self, other: "Tensor") -> "Tensor":
        """The Kronecker product: each element of self times all of ``other``, dims paired from
        the right (the shorter shape padded with 1s), shape the products of the sizes."""
        other = self._lift(other)
        ndim = max(self.ndim, other.ndim)
        a_shape, b_shape = (1,) * (ndim - self.ndim) + self.shape, (1,) * (ndim - other.ndim) + other.shape
        a = self.reshape(tuple(x for n in a_shape for x in (n, 1)))
        b = other.reshape(tuple(x for n in b_shape for x in (1, n)))
        return (a * b).reshape(tuple(m * n for m, n in zip(a_shape, b_shape)))

    # ---------------------------------------------------------------- diagonals
    def diagonal(self, offset: int = 0, dim1: int = 0, dim2: int = 1) -> "Tensor":
        """The ``offset`` diagonal (above the main one for offset > 0) of dims ``dim1`` and ``dim2``,
        as a last dim of length the diagonal's: a view, as torch.diagonal."""
        d1, d2 = (dim_arg(d, self.ndim, "diagonal") for d in (dim1, dim2))
        if d1 == d2:
            raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
        return L.Diagonal.apply(self, offset=int(offset), dim1=d1, dim2=d2)

    def diag_embed(self, offset: int = 0, dim1: int = -2, dim2: int = -1) -> "Tensor":
        """The last dim (length n) placed on the ``offset`` diagonal of new dims ``dim1``, ``dim2``
        (of the result, each n + |offset| long), zeros elsewhere, as torch.diag_embed."""
        d1, d2 = (dim_arg(d, self.ndim + 1, "diag_embed") for d in (dim1, dim2))
        if d1 == d2:
            raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
        source = self.reshape(1) if self.ndim == 0 else self
        return L.DiagEmbed.apply(source, offset=int(offset), dim1=d1, dim2=d2)

    def diag(self, diagonal: int = 0) -> "Tensor":
        """1-D (n,) -> the square matrix with self on the ``diagonal`` diagonal; 2-D -> that
        diagonal, as torch.diag."""
        if self.ndim == 1:
            return self.diag_embed(diagonal, 0, 1)
        if self.ndim == 2:
            return self.diagonal(diagonal)
        raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {self.ndim}D")

    def diagflat(self, offset: int = 0) -> "Tensor":
        """The flattened values on the ``offset`` diagonal of a square matrix, as torch.diagflat."""
        return self.reshape(-1).diag_embed(offset, 0, 1)

    def trace(self) -> "Tensor":
        """The sum of the main diagonal of a 2-D tensor (int64 for integer tensors)."""
        if self.ndim != 2:
            raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {self.ndim}")
        return self.diagonal().sum()

    @property
    def mT(self) -> "Tensor":
        """The transpose of the last two dims (a view)."""
        if self.ndim < 2:
            raise RuntimeError(f"tensor.mT is only supported on matrices or batches of matrices. Got {self.ndim}-D "
                               "tensor.")
        return self.transpose(-2, -1)

    mH = mT  # real tensors: the conjugate transpose is the transpose

    # ---------------------------------------------------------------- cross products, distances, covariance
    def cross(self, other: "Tensor", dim: int | None = None) -> "Tensor":
        """The 3-D cross product along ``dim`` (broadcast); ``dim`` None is torch.cross's old
        default, the first dim of size 3 (with its deprecation warning)."""
        if dim is None:
            warnings.warn("Using torch.cross without specifying the dim arg is deprecated.\nPlease either pass the "
                          "dim explicitly or simply use torch.linalg.cross.\nThe default value of dim will change to "
                          "agree with that of linalg.cross in a future release.", UserWarning, stacklevel=2)
            shape = np.broadcast_shapes(self.shape, np.shape(other))
            dim = next((i for i, n in enumerate(shape) if n == 3), None)
            if dim is None:
                raise RuntimeError("no dimension of size 3 in input")
        return _linalg().cross(self, other, dim=dim)

    def dist(self, other: "Tensor", p: Number = 2) -> "Tensor":
        """The p-norm of self - other (broadcast), as torch.dist."""
        if self.dtype.kind != "f":
            raise RuntimeError(f"norm(): input dtype should be either floating point or complex. Got "
                               f"{scalar_type_name(self.dtype)} instead.")
        return (self - other).norm(p)

    def cov(self, *, correction: int = 1, fweights: "Tensor | None" = None,
            aweights: "Tensor | None" = None) -> "Tensor":
        """The covariance matrix (v, v) of the v variables (rows) observed in the columns of a
        2-D tensor (a 1-D one is one variable: a 0-D result), as torch.cov: ``fweights`` integer
        frequencies, ``aweights`` observation weights, ``correction`` 1 for Bessel's."""
        if self.ndim > 2:
            raise RuntimeError(f"cov(): expected input to have two or fewer dimensions but got an input with "
                               f"{self.ndim} dimensions")
        x = self.reshape(1, -1) if self.ndim < 2 else self
        if x.dtype.kind != "f":
            x = x._cast(get_default_dtype())
        n = x.shape[1]
        w = None
        for name, weights, integral in (("fweights", fweights, True), ("aweights", aweights, False)):
            if weights is None:
                continue
            if weights.ndim > 1:
                raise RuntimeError(f"cov(): expected {name} to have one or fewer dimensions but got {name} with "
                                   f"{weights.ndim} dimensions")
            if integral != (weights.dtype.kind in "iu"):
                raise RuntimeError(f"cov(): expected {name} to have {'integral' if integral else 'floating point'} "
                                   f"dtype but got {name} with {scalar_type_name(weights.dtype)} dtype")
            if weights.numel() != n:
                raise RuntimeError(f"cov(): expected {name} to have the same numel as there are observations in "
                                   f"the input but got {weights.numel()} != {n}")
            if weights.numel() and weights._array.min() < 0:
                raise RuntimeError(f"cov(): {name} cannot be negative")
            weights = weights._cast(x.dtype)
            w = weights if w is None else w * weights
        if w is None:
            mean, factor = x.mean(1, keepdim=True), n - correction
        else:
            w_sum = w.sum()
            mean = (x * w).sum(1, keepdim=True) / w_sum
            if correction == 0:
                factor = w_sum
            elif aweights is None:
                factor = w_sum - correction
            else:
                factor = w_sum - correction * (w * aweights._cast(x.dtype)).sum() / w_sum
        if float(np.asarray(getattr(factor, "_array", factor))) <= 0:
            warnings.warn("cov(): degrees of freedom is <= 0. Correction should be strictly less than the number of "
                          "observations.", UserWarning, stacklevel=2)
            factor = 0 if w is None else factor * 0
        centred = x - mean
        with np.errstate(divide="ignore", invalid="ignore"):
            c = (centred @ (centred if w is None else centred * w).t()) / factor
        return c.squeeze()

    def corrcoef(self) -> "Tensor":
        """Pearson correlation coefficients (v, v) of the rows of a 2-D tensor (``cov``
        normalised by the standard deviations, clamped to [-1, 1]), as torch.corrcoef."""
        c = self.cov()
        if c.ndim == 0:
            return c / c
        std = c.diagonal().sqrt()
        return (c / std.reshape(-1, 1) / std.reshape(1, -1)).clamp(-1, 1)

    # ---------------------------------------------------------------- matrix functions (tinygrad_cnn.linalg)
    def det(self) -> "Tensor":
        """The determinant of (batches of) square matrices, as torch.det."""
        return _linalg().det(self)

    def slogdet(self) -> Any:
        """(sign, logabsdet) of the determinant, as torch.slogdet."""
        return _linalg().slogdet(self, _name="slogdet")

    def logdet(self) -> "Tensor":
        """log(det): nan for a negative determinant, -inf for 0, as torch.logdet."""
        sign, logabsdet = self.slogdet()
        with np.errstate(divide="ignore", invalid="ignore"):
            return logabsdet + self.from_op(np.log(sign._array), None)

    def inverse(self) -> "Tensor":
        """The inverse of (batches of) square matrices, as torch.inverse."""
        return _linalg().inv(self)

    def pinverse(self, rcond: float = 1e-15) -> "Tensor":
        """The pseudo-inverse, singular values below rcond * the largest dropped, as torch.pinverse."""
        return _linalg().pinv(self, rtol=rcond)

    def cholesky(self, upper: bool = False) -> "Tensor":
        """The Cholesky factor, lower (L L^T = self) or ``upper`` (U^T U = self), as torch.cholesky
        (deprecated there, with its warning)."""
        _deprecated("cholesky", "L = torch.linalg.cholesky(A)")
        return _linalg().cholesky(self, upper=upper)

    def qr(self, some: bool = True) -> Any:
        """(Q, R), reduced when ``some`` (torch.qr's older, deprecated form of linalg.qr)."""
        _deprecated("qr", "Q, R = torch.linalg.qr(A)")
        return _linalg().qr(self, "reduced" if some else "complete", _name="qr")

    def svd(self, some: bool = True, compute_uv: bool = True) -> Any:
        """(U, S, V) with self = U diag(S) V^T (note: V, not Vh), reduced when ``some``;
        ``compute_uv=False`` gives zero U and V, as torch.svd."""
        return _linalg().decompositions.torch_svd(self, some, compute_uv)

    def matrix_power(self, n: int) -> "Tensor":
        """The n-th power of (batches of) square matrices (n < 0: of the inverse), as torch.matrix_power."""
        return _linalg().matrix_power(self, n)


def _deprecated(name: str, instead: str) -> None:
    warnings.warn(f"torch.{name} is deprecated in favor of torch.linalg.{name} and will be removed in a future "
                  f"PyTorch release.\nUse {instead} instead.", UserWarning, stacklevel=3)


__all__ = ["LinalgMixin"]
