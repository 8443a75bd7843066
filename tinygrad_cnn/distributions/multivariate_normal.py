"""Multivariate normal distribution, as torch.distributions.MultivariateNormal."""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from tinygrad_cnn.distributions import constraints
from tinygrad_cnn.distributions._linalg import cholesky_inverse, solve_lower
from tinygrad_cnn.distributions.distribution import Distribution
from tinygrad_cnn.distributions.utils import as_size, lazy_property, standard_normal
from tinygrad_cnn.functions import broadcast_shapes
from tinygrad_cnn.linalg import cholesky
from tinygrad_cnn.tensor import Size, Tensor

__all__ = ["MultivariateNormal"]


def batch_mv(bmat: Tensor, bvec: Tensor) -> Tensor:
    """Matrix-vector products of (..., n, n) matrices and (..., n) vectors, batch dims broadcast."""
    return (bmat @ bvec.unsqueeze(-1)).squeeze(-1)


def batch_mahalanobis(bL: Tensor, bx: Tensor) -> Tensor:
    """x^T (L L^T)^-1 x for lower-triangular ``bL`` (..., n, n) and ``bx`` (..., n) whose batch
    dims end with (a broadcast of) bL's: one triangular solve, the extra dims of x as columns."""
    n = bx.shape[-1]
    bx_batch_shape = bx.shape[:-1]
    bL_batch_dims = bL.dim() - 2
    outer_batch_dims = len(bx_batch_shape) - bL_batch_dims
    old_batch_dims = outer_batch_dims + bL_batch_dims
    new_batch_dims = outer_batch_dims + 2 * bL_batch_dims
    # split each of x's dims matched with bL's into (copies, bL's size) so bL's dims can lead
    bx_new_shape = tuple(bx.shape[:outer_batch_dims])
    for sL, sx in zip(bL.shape[:-2], bx.shape[outer_batch_dims:-1]):
        bx_new_shape += (sx // sL, sL)
    bx = bx.reshape(bx_new_shape + (n,))
    permute_dims = (list(range(outer_batch_dims)) + list(range(outer_batch_dims, new_batch_dims, 2))
                    + list(range(outer_batch_dims + 1, new_batch_dims, 2)) + [new_batch_dims])
    bx = bx.permute(permute_dims)

    flat_L = bL.reshape(-1, n, n)  # b x n x n
    flat_x = bx.reshape(-1, flat_L.shape[0], n)  # c x b x n
    flat_x_swap = flat_x.permute(1, 2, 0)  # b x n x c
    M = solve_lower(flat_L, flat_x_swap).pow(2).sum(-2).t()  # c x b

    permuted_M = M.reshape(bx.shape[:-1])
    permute_inv_dims = list(range(outer_batch_dims))
    for i in range(bL_batch_dims):
        permute_inv_dims += [outer_batch_dims + i, old_batch_dims + i]
    return permuted_M.permute(permute_inv_dims).reshape(bx_batch_shape)


def precision_to_scale_tril(P: Tensor) -> Tensor:
    """The lower Cholesky factor of P^-1, from the Cholesky factor of P with its rows and
    columns reversed (no explicit inverse of P)."""
    Lf = cholesky(P.flip((-2, -1)))
    L_inv = Lf.flip((-2, -1)).transpose(-2, -1)
    return solve_lower(L_inv, Tensor(np.eye(P.shape[-1], dtype=P.dtype)))


class MultivariateNormal(Distribution):
    """N(loc, Sigma) over vectors of length n (event_shape (n,)), Sigma given by exactly one of
    ``covariance_matrix``, ``precision_matrix`` (Sigma^-1) or ``scale_tril`` (L, Sigma = L L^T);
    batch dims of ``loc`` and the matrix broadcast. Everything is computed from L (a Cholesky
    factorisation when not given), differentiably."""

    arg_constraints = {"loc": constraints.real_vector, "covariance_matrix": constraints.positive_definite,
                       "precision_matrix": constraints.positive_definite, "scale_tril": constraints.lower_cholesky}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, loc: Tensor, covariance_matrix: Tensor | None = None, precision_matrix: Tensor | None = None,
                 scale_tril: Tensor | None = None, validate_args: bool | None = None) -> None:
        if loc.dim() < 1:
            raise ValueError("loc must be at least one-dimensional.")
        given = {"covariance_matrix": covariance_matrix, "precision_matrix": precision_matrix,
                 "scale_tril": scale_tril}
        given = {k: v for k, v in given.items() if v is not None}
        if len(given) != 1:
            raise ValueError("Exactly one of covariance_matrix or precision_matrix or scale_tril may be specified.")
        ((name, matrix),) = given.items()
        if matrix.dim() < 2:
            what = f"{name} matrix" if name == "scale_tril" else name
            raise ValueError(f"{what} must be at least two-dimensional, with optional leading batch dimensions")
        batch_shape = broadcast_shapes(matrix.shape[:-2], loc.shape[:-1])
        setattr(self, name, matrix.expand(tuple(batch_shape) + (-1, -1)))
        self.loc = loc.expand(tuple(batch_shape) + (-1,))
        super().__init__(batch_shape, self.loc.shape[-1:], validate_args=validate_args)
        if name == "scale_tril":
            self._unbroadcasted_scale_tril = matrix
        elif name == "covariance_matrix":
            self._unbroadcasted_scale_tril = cholesky(matrix)
        else:
            self._unbroadcasted_scale_tril = precision_to_scale_tril(matrix)

    def expand(self, batch_shape: Sequence[int], _instance: Any = None) -> "MultivariateNormal":
        new = self._get_checked_instance(MultivariateNormal, _instance)
        batch_shape = as_size(batch_shape)
        cov_shape = batch_shape + self._event_shape + self._event_shape
        new.loc = self.loc.expand(batch_shape + self._event_shape)
        new._unbroadcasted_scale_tril = self._unbroadcasted_scale_tril
        for name in ("covariance_matrix", "scale_tril", "precision_matrix"):
            if name in self.__dict__:
                setattr(new, name, getattr(self, name).expand(cov_shape))
        return self._expanded_from(new, batch_shape)

    def _matrix_shape(self) -> tuple[int, ...]:
        return tuple(self._batch_shape + self._event_shape + self._event_shape)

    @lazy_property
    def scale_tril(self) -> Tensor:
        """L, the lower Cholesky factor of the covariance (batch_shape + (n, n))."""
        return self._unbroadcasted_scale_tril.expand(self._matrix_shape())

    @lazy_property
    def covariance_matrix(self) -> Tensor:
        """Sigma = L L^T (batch_shape + (n, n))."""
        L = self._unbroadcasted_scale_tril
        return (L @ L.transpose(-1, -2)).expand(self._matrix_shape())

    @lazy_property
    def precision_matrix(self) -> Tensor:
        """Sigma^-1 = L^-T L^-1 (batch_shape + (n, n))."""
        return cholesky_inverse(self._unbroadcasted_scale_tril).expand(self._matrix_shape())

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        """The diagonal of Sigma: the squared row norms of L."""
        return self._unbroadcasted_scale_tril.pow(2).sum(-1).expand(tuple(self._batch_shape + self._event_shape))

    def rsample(self, sample_shape: Sequence[int] = Size()) -> Tensor:
        """loc + L eps with eps ~ N(0, I), differentiable in loc and L."""
        eps = standard_normal(self._extended_shape(sample_shape), self.loc.dtype)
        return self.loc + batch_mv(self._unbroadcasted_scale_tril, eps)

    def _half_log_det(self) -> Tensor:
        return self._unbroadcasted_scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)

    def log_prob(self, value: Tensor) -> Tensor:
        """-(n log(2 pi) + (x - loc)^T Sigma^-1 (x - loc)) / 2 - log det L."""
        if self._validate_args:
            self._validate_sample(value)
        M = batch_mahalanobis(self._unbroadcasted_scale_tril, value - self.loc)
        return -0.5 * (self._event_shape[0] * math.log(2 * math.pi) + M) - self._half_log_det()

    def entropy(self) -> Tensor:
        """n (1 + log(2 pi)) / 2 + log det L, of shape batch_shape."""
        H = 0.5 * self._event_shape[0] * (1.0 + math.log(2 * math.pi)) + self._half_log_det()
        return H if len(self._batch_shape) == 0 else H.expand(tuple(self._batch_shape))
