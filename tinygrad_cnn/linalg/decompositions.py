"""torch.linalg's decompositions and what is built on them: qr, svd (and torch.svd's older
(U, S, V) form), svdvals, eigh, eigvalsh, pinv, matrix_rank and lstsq, batched over leading
dims, returning torch's named tuples, differentiable through ``tinygrad_cnn.ops.decompositions``."""

from __future__ import annotations

from collections import namedtuple
from typing import TYPE_CHECKING, Any

import numpy as np

from tinygrad_cnn.argcheck import tensor_arg
from tinygrad_cnn.ops import decompositions as D
from tinygrad_cnn.ops.linalg import check_matrix
from tinygrad_cnn.dtypes import same_dtype

if TYPE_CHECKING:
    from tinygrad_cnn.tensor import Tensor

qr_result = namedtuple("qr", ["Q", "R"])
linalg_qr = namedtuple("linalg_qr", ["Q", "R"])
svd_result = namedtuple("svd", ["U", "S", "V"])
linalg_svd = namedtuple("linalg_svd", ["U", "S", "Vh"])
linalg_eigh = namedtuple("linalg_eigh", ["eigenvalues", "eigenvectors"])
linalg_lstsq = namedtuple("linalg_lstsq", ["solution", "residuals", "rank", "singular_values"])

_LSTSQ_DRIVERS = ("gels", "gelsy", "gelsd", "gelss")


def _checked(A: Any, op: str, square: bool = False) -> Tensor:
    check_matrix(op, tensor_arg(A, "A", op).numpy(), square=square)
    return A


def qr(A: Tensor, mode: str = "reduced", *, _name: str = "linalg_qr") -> Any:
    """(Q, R) with A = Q R for A (*, m, n), R upper triangular: ``mode`` "reduced" (Q (*, m, k),
    R (*, k, n), k = min(m, n)), "complete" (Q (*, m, m)) or "r" (R only, Q empty)."""
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), 'r', "
                           "or 'complete'")
    A = _checked(A, "linalg.qr")
    q, r = D.unpack(D.QR.apply(A, mode=mode), D.factor_shapes("qr", A.shape, mode=mode))
    if mode == "r":
        q = q.reshape(0)
    return (qr_result if _name == "qr" else linalg_qr)(q, r)


def svd(A: Tensor, full_matrices: bool = True, *, driver: str | None = None) -> Any:
    """(U, S, Vh) with A = U diag(S) Vh for A (*, m, n), S (*, k) descending: U (*, m, m) and
    Vh (*, n, n) when ``full_matrices``, else (*, m, k) and (*, k, n)."""
    A = _checked(A, "linalg.svd")
    shapes = D.factor_shapes("svd", A.shape, full_matrices=bool(full_matrices))
    return linalg_svd(*D.unpack(D.SVD.apply(A, full_matrices=bool(full_matrices)), shapes))


def torch_svd(A: Tensor, some: bool = True, compute_uv: bool = True) -> Any:
    """torch.svd's (U, S, V) (V, not Vh): reduced when ``some``; ``compute_uv=False`` gives
    S and zero U (*, m, m) and V (*, n, n)."""
    A = _checked(A, "svd")
    if not compute_uv:
        m, n = A.shape[-2:]
        zeros = [A.from_op(np.zeros(A.shape[:-2] + (k, k), A.dtype), None) for k in (m, n)]
        return svd_result(zeros[0], svdvals(A), zeros[1])
    u, s, vh = svd(A, full_matrices=not some)
    return svd_result(u, s, vh.mT)


def svdvals(A: Tensor) -> Tensor:
    """The singular values (*, k) of A (*, m, n), descending; differentiable (repeated values too)."""
    return svd(A, full_matrices=False).S


def eigh(A: Tensor, UPLO: str = "L") -> Any:
    """(eigenvalues (*, n) ascending, eigenvectors (*, n, n) as columns) of symmetric A, read
    from its lower (``UPLO`` "L") or upper ("U") triangle."""
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    A = _checked(A, "linalg.eigh", square=True)
    return linalg_eigh(*D.unpack(D.Eigh.apply(A, UPLO=UPLO), D.factor_shapes("eigh", A.shape)))


def eigvalsh(A: Tensor, UPLO: str = "L") -> Tensor:
    """The eigenvalues (*, n), ascending, of symmetric A (see ``eigh``)."""
    return eigh(A, UPLO).eigenvalues


def _tolerances(A: Tensor, atol: Any, rtol: Any) -> tuple[float, float]:
    """torch's (atol, rtol) defaults: rtol = eps * max(m, n) when neither is given, 0 when only atol is."""
    if rtol is None:
        rtol = np.finfo(A.dtype).eps * max(A.shape[-2:]) if atol is None or float(atol) <= 0 else 0.0
    return float(0.0 if atol is None else atol), float(rtol)


def pinv(A: Tensor, rcond: float | None = None, hermitian: bool = False, *, atol: float | None = None,
         rtol: float | None = None) -> Tensor:
    """The pseudo-inverse (*, n, m) of A (*, m, n): singular values <= max(atol, rtol * largest)
    are dropped (``rcond`` is torch's older name of rtol); ``hermitian`` uses eigh (A symmetric)."""
    A = _checked(A, "linalg.pinv", square=hermitian)
    if rcond is not None:
        rtol = rcond
    atol, rtol = _tolerances(A, atol, rtol)
    return D.Pinv.apply(A, atol=atol, rtol=rtol, hermitian=bool(hermitian))


def matrix_rank(A: Tensor, tol: float | None = None, hermitian: bool = False, *, atol: float | None = None,
                rtol: float | None = None) -> Tensor:
    """The number (int64, shape (*)) of singular values of A (*, m, n) above
    max(atol, rtol * largest) (``tol``: torch's older atol, with rtol 0)."""
    A = _checked(A, "linalg.matrix_rank", square=hermitian)
    if tol is not None:
        atol, rtol = tol, 0.0
    atol, rtol = _tolerances(A, atol, rtol)
    a = A.numpy()
    s = np.abs(np.linalg.eigvalsh(a)) if hermitian else np.linalg.svd(a, compute_uv=False)
    largest = s.max(axis=-1, keepdims=True) if s.shape[-1] else np.zeros(s.shape[:-1] + (1,), s.dtype)
    rank = (s > np.maximum(atol, rtol * largest)).sum(axis=-1)
    return A.from_op(np.asarray(rank, dtype=np.int64), None)


def lstsq(A: Tensor, B: Tensor, rcond: float | None = None, *, driver: str | None = None) -> Any:
    """The least-squares solution X (*, n, k) of A X = B for A (*, m, n), B (*, m, k) or (m,),
    as torch.linalg.lstsq: the minimum-norm solution pinv(A) B (singular values below rcond *
    the largest dropped), differentiable in A and B. As torch on the CPU: ``rank`` is given
    except for driver "gels", ``singular_values`` for "gelsd"/"gelss", and ``residuals``
    (squared residual norms) only for those and "gels" when m > n and A has full rank."""
    if driver is None:
        driver = "gelsy"
    if driver not in _LSTSQ_DRIVERS:
        raise RuntimeError(f"torch.linalg.lstsq: parameter `driver` should be one of ({', '.join(_LSTSQ_DRIVERS)})")
    A = _checked(A, "torch.linalg.lstsq")
    tensor_arg(B, "B", "lstsq")
    same_dtype("torch.linalg.lstsq", A, B)
    vector = B.ndim == 1
    rhs = B.unsqueeze(-1) if vector else B
    m, n = A.shape[-2:]
    if rhs.shape[-2] != m:
        raise RuntimeError(f"torch.linalg.lstsq: input.size(-2) should match other.size(-2), got {m} and "
                           f"{rhs.shape[-2]}")
    rtol = np.finfo(A.dtype).eps * max(m, n) if rcond is None or rcond < 0 else float(rcond)
    solution = pinv(A, rtol=rtol, atol=0.0) @ rhs
    s = np.linalg.svd(A.numpy(), compute_uv=False)
    largest = s.max(axis=-1, keepdims=True) if s.shape[-1] else np.zeros(s.shape[:-1] + (1,), s.dtype)
    rank = (s > rtol * largest).sum(axis=-1)
    empty = A.from_op(np.zeros((0,), A.dtype), None)
    residuals = empty
    if driver != "gelsy" and m > n and bool((rank == n).all()):
        residuals = ((A @ solution - rhs) ** 2).sum(-2)
        residuals = residuals.squeeze(-1) if vector else residuals
    rank_t = A.from_op(np.zeros((0,), np.int64), None) if driver == "gels" else A.from_op(rank.astype(np.int64), None)
    values = A.from_op(s, None) if driver in ("gelsd", "gelss") else empty
    return linalg_lstsq(solution.squeeze(-1) if vector else solution, residuals, rank_t, values)
