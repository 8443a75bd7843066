"""torch.nn.functional's distance functions, from differentiable ops: cosine_similarity and
pairwise_distance (both broadcast their two inputs). Re-exported by ``tinygrad_cnn.nn.functional``."""

from __future__ import annotations

from tinygrad_cnn.nn.checks import check_tensor
from tinygrad_cnn.tensor import Tensor


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """sum(x1 * x2) / (max(||x1||, eps) * max(||x2||, eps)) along ``dim``, as torch's."""
    check_tensor("cosine_similarity", "x1", x1)
    check_tensor("cosine_similarity", "x2", x2)
    norms = x1.norm(2, dim, keepdim=True).clamp(min=eps) * x2.norm(2, dim, keepdim=True).clamp(min=eps)
    return ((x1 * x2) / norms).sum(dim)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> Tensor:
    """||x1 - x2 + eps||_p along the last dim (``eps`` keeps the gradient finite where x1 == x2)."""
    check_tensor("pairwise_distance", "x1", x1)
    check_tensor("pairwise_distance", "x2", x2)
    difference = x1 - x2 + eps
    return difference.norm(p, -1 if difference.ndim else None, keepdim=keepdim)
