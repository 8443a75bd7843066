"""Matrix decompositions with gradients (batched over leading dims): QR, SVD, the symmetric
eigendecomposition and the pseudo-inverse, the backward formulas of torch's FunctionsManual.

An op returns one array, so a decomposition returns its factors packed: each flattened over
its own trailing dims and concatenated on one last dim (``pack``); the tensor layer cuts them
apart with differentiable slices (``factor_shapes`` says where), and backward receives the
packed gradient (zeros for a factor that was not used)."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_cnn.autograd import Context, Function
from tinygrad_cnn.ops.linalg import check_matrix, mT


def pack(batch: tuple[int, ...], *arrays: np.ndarray) -> np.ndarray:
    """The arrays (each ``batch`` + its own shape) flattened past ``batch`` and joined on the last dim."""
    return np.concatenate([a.reshape(batch + (int(np.prod(a.shape[len(batch):])),)) for a in arrays], axis=-1)


def unpack(packed: Any, shapes: list[tuple[int, ...]]) -> list[Any]:
    """``pack``'s arrays back from ``packed``, given each one's shape past the batch dims (an
    array, or a Tensor: then by differentiable slices)."""
    batch, out, at = packed.shape[:-1], [], 0
    for shape in shapes:
        n = int(np.prod(shape))
        out.append(packed[..., at:at + n].reshape(batch + shape))
        at += n
    return out


def factor_shapes(kind: str, shape: tuple[int, ...], **params) -> list[tuple[int, ...]]:
    """The trailing shapes of the factors that the ``kind`` op packs for an input of ``shape``:
    qr (Q, R), svd (U, S, Vh), eigh (eigenvalues, eigenvectors)."""
    m, n = shape[-2:]
    k = min(m, n)
    if kind == "qr":
        mode = params["mode"]
        return {"reduced": [(m, k), (k, n)], "complete": [(m, m), (m, n)], "r": [(0,), (k, n)]}[mode]
    if kind == "svd":
        return [(m, m), (k,), (n, n)] if params["full_matrices"] else [(m, k), (k,), (k, n)]
    return [(n,), (n, n)]


def _copyltu(x: np.ndarray) -> np.ndarray:
    """The symmetric matrix with ``x``'s lower triangle."""
    return np.tril(x) + mT(np.tril(x, -1))


def _qr_backward_tall(q: np.ndarray, r: np.ndarray, gq: np.ndarray, gr: np.ndarray) -> np.ndarray:
    """d/dA of the reduced QR of A (m >= n): (gQ + Q copyltu(M)) R^{-T}, M = R gR^T - gQ^T Q."""
    m = r @ mT(gr) - mT(gq) @ q
    b = gq + q @ _copyltu(m)
    return mT(np.linalg.solve(r, mT(b)))


class QR(Function):
    """Q and R with A = Q R (``mode`` "reduced", "complete" or "r", as torch.linalg.qr), packed.
    The gradient (torch's linalg_qr_backward) needs Q: mode "r" and "complete" with more rows
    than columns raise RuntimeError at backward, as torch."""

    op_name = "linalg_qr"

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, mode: str) -> np.ndarray:
        check_matrix("linalg.qr", a, square=False)
        batch = a.shape[:-2]
        if mode == "r":
            q, r = np.zeros(batch + (0,), a.dtype), np.linalg.qr(a, mode="r")
        else:
            q, r = np.linalg.qr(a, mode=mode)
        ctx.save_for_backward(q, r)
        return pack(batch, q, r)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        q, r = ctx.saved_tensors
        if ctx.params["mode"] == "r":
            raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed when mode='r'. "
                               "Please use linalg.qr(A, mode='reduced') if you are going to differentiate through "
                               "linalg.qr.")
        m, n = q.shape[-2], r.shape[-1]
        if ctx.params["mode"] == "complete" and m > n:
            raise RuntimeError("The QR decomposition is not differentiable when mode='complete' and nrows > ncols.")
        gq, gr = unpack(grad, [q.shape[-2:], r.shape[-2:]])
        if m >= n:
            return _qr_backward_tall(q, r, gq, gr)
        # wide: A = [X | Y] with X = Q U square and Y = Q V
        u, gu, gv = r[..., :m], gr[..., :m], gr[..., m:]
        y = q @ r[..., m:]
        gx = _qr_backward_tall(q, u, gq + y @ mT(gv), gu)
        return np.concatenate([gx, q @ gv], axis=-1)


class SVD(Function):
    """U, S, Vh with A = U diag(S) Vh, S descending (``full_matrices`` as torch.linalg.svd), packed.

    The gradient is torch's svd_backward: with full matrices only the first min(m, n) singular
    vectors count (as torch narrows them); when the singular vectors' gradients are zero it is
    U diag(gS) Vh, finite for repeated singular values, otherwise repeated values give inf/nan
    as in torch.
    """

    op_name = "linalg_svd"

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, full_matrices: bool) -> np.ndarray:
        check_matrix("linalg.svd", a, square=False)
        u, s, vh = np.linalg.svd(a, full_matrices=full_matrices)
        ctx.save_for_backward(u, s, vh)
        return pack(a.shape[:-2], u, s, vh)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        u, s, vh = ctx.saved_tensors
        gu, gs, gvh = unpack(grad, [u.shape[-2:], s.shape[-1:], vh.shape[-2:]])
        k = s.shape[-1]
        u, gu, vh, gvh = u[..., :k], gu[..., :k], vh[..., :k, :], gvh[..., :k, :]
        m, n = u.shape[-2], vh.shape[-1]
        if not gu.any() and not gvh.any():
            return (u * gs[..., None, :]) @ vh
        v, gv = mT(vh), mT(gvh)
        s2 = s * s
        e = s2[..., None, :] - s2[..., :, None]
        e[..., range(k), range(k)] = 1
        uhgu, vhgv = mT(u) @ gu, vh @ gv
        ga = ((uhgu - mT(uhgu)) * s[..., None, :] + s[..., :, None] * (vhgv - mT(vhgv))) / e
        ga[..., range(k), range(k)] += gs
        if m > n:
            gu_sinv = gu / s[..., None, :]
            return (u @ ga + gu_sinv - u @ (mT(u) @ gu_sinv)) @ vh
        if m < n:
            gv_sinv_t = mT(gv / s[..., None, :])
            return u @ (ga @ vh + gv_sinv_t - (gv_sinv_t @ v) @ vh)
        return u @ ga @ vh


class Eigh(Function):
    """Eigenvalues (ascending) and eigenvectors of symmetric A, read from its ``UPLO`` triangle,
    packed. The gradient (torch's linalg_eig_backward, Hermitian case) is
    V (diag(gL) + skew(V^T gV) / E) V^T with E_ij = L_j - L_i; repeated eigenvalues give inf/nan
    unless the eigenvectors' gradient is zero, as torch."""

    op_name = "linalg_eigh"

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, UPLO: str) -> np.ndarray:
        check_matrix("linalg.eigh", a)
        values, vectors = np.linalg.eigh(a, UPLO=UPLO)
        ctx.save_for_backward(values, vectors)
        return pack(a.shape[:-2], values, vectors)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        values, v = ctx.saved_tensors
        n = values.shape[-1]
        gl, gv = unpack(grad, [(n,), (n, n)])
        if not gv.any():
            return (v * gl[..., None, :]) @ mT(v)
        vhgv = mT(v) @ gv
        e = values[..., None, :] - values[..., :, None]
        e[..., range(n), range(n)] = 1
        inner = 0.5 * (vhgv - mT(vhgv)) / e
        inner[..., range(n), range(n)] = gl
        return v @ inner @ mT(v)


class Pinv(Function):
    """The Moore-Penrose pseudo-inverse (n, m) of A (m, n): the SVD (the eigendecomposition when
    ``hermitian``) with the singular values <= max(atol, rtol * largest) dropped, as
    torch.linalg.pinv. The gradient is torch's pinv_backward."""

    op_name = "linalg_pinv"

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, atol: float, rtol: float, hermitian: bool) -> np.ndarray:
        check_matrix("linalg.pinv", a, square=hermitian)
        if hermitian:
            values, v = np.linalg.eigh(a)
            u, s, vh = v, np.abs(values), mT(v * np.sign(values)[..., None, :])
        else:
            u, s, vh = np.linalg.svd(a, full_matrices=False)
        largest = s.max(axis=-1, keepdims=True) if s.shape[-1] else np.zeros(s.shape[:-1] + (1,), s.dtype)
        keep = s > np.maximum(atol, rtol * largest)
        inverse_s = np.where(keep, 1 / np.where(keep, s, 1), 0).astype(a.dtype)
        out = (mT(vh) * inverse_s[..., None, :]) @ mT(u)
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        a, p = ctx.saved_tensors
        m, n = a.shape[-2:]
        ph, gh = mT(p), mT(grad)
        if m <= n:
            k = gh @ p
            k_ph = k @ ph
            return -mT(p @ k) + k_ph - (a @ p) @ k_ph + (ph @ p) @ (gh - k @ a)
        k = p @ gh
        ph_k = ph @ k
        return -mT(k @ p) + (gh - a @ k) @ p @ ph + ph_k - ph_k @ p @ a
