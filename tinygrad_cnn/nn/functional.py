"""Functional interface (``import tinygrad_cnn.nn.functional as F``), as torch.nn.functional.

flatten and pad live here; everything else lives in the sibling files functional_*.py
(convolution and linear, pooling, dropout, activations, losses, normalization, the 1-d forms,
distances, sparse and vision functions) and is re-exported, so ``F.<name>`` reaches all of them.
"""

from __future__ import annotations

from typing import Sequence

from tinygrad_cnn.functions import pad as _pad
from tinygrad_cnn.nn.functional_1d import (
    adaptive_avg_pool1d, adaptive_max_pool1d, avg_pool1d, conv1d, dropout1d, max_pool1d,
)
from tinygrad_cnn.nn.functional_activations import (
    elu, elu_, gelu, hardtanh, hardtanh_, leaky_relu, leaky_relu_, log_softmax, relu, relu6, relu_, sigmoid, silu,
    softmax, softplus, tanh,
)
from tinygrad_cnn.nn.functional_composed import (
    celu, celu_, glu, gumbel_softmax, hardshrink, hardsigmoid, hardswish, logsigmoid, mish, prelu, rrelu, rrelu_,
    selu, selu_, softmin, softshrink, softsign, tanhshrink, threshold, threshold_,
)
from tinygrad_cnn.nn.functional_conv import bilinear, conv2d, conv_transpose2d, linear
from tinygrad_cnn.nn.functional_distance import cosine_similarity, pairwise_distance
from tinygrad_cnn.nn.functional_attention import scaled_dot_product_attention
from tinygrad_cnn.nn.functional_dropout import alpha_dropout, dropout, dropout2d, dropout3d, feature_alpha_dropout
from tinygrad_cnn.nn.functional_losses import (
    binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy, huber_loss, kl_div, l1_loss, mse_loss,
    nll_loss, smooth_l1_loss,
)
from tinygrad_cnn.nn.functional_margin_losses import (
    cosine_embedding_loss, gaussian_nll_loss, hinge_embedding_loss, margin_ranking_loss, multi_margin_loss,
    multilabel_soft_margin_loss, poisson_nll_loss, soft_margin_loss, triplet_margin_loss,
)
from tinygrad_cnn.nn.functional_norm import (
    batch_norm, group_norm, instance_norm, layer_norm, local_response_norm, normalize, rms_norm,
)
from tinygrad_cnn.nn.functional_pooling import (
    adaptive_avg_pool2d, adaptive_max_pool2d, avg_pool2d, max_pool2d, max_unpool2d,
)
from tinygrad_cnn.nn.functional_sparse import embedding, one_hot
from tinygrad_cnn.nn.functional_vision import (
    affine_grid, channel_shuffle, grid_sample, interpolate, pixel_shuffle, pixel_unshuffle,
)
from tinygrad_cnn.ops.conv_geometry import calculate_output_size, count_parameters
from tinygrad_cnn.tensor import Tensor

__all__ = [
    "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_max_pool1d", "adaptive_max_pool2d", "affine_grid",
    "alpha_dropout", "avg_pool1d", "avg_pool2d", "batch_norm", "bilinear", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "calculate_output_size", "celu", "celu_", "channel_shuffle", "conv1d",
    "conv2d", "conv_transpose2d", "cosine_embedding_loss", "cosine_similarity", "count_parameters", "cross_entropy",
    "dropout", "dropout1d", "dropout2d", "dropout3d", "elu", "elu_", "embedding", "feature_alpha_dropout",
    "flatten", "gaussian_nll_loss", "gelu", "glu", "grid_sample", "group_norm", "gumbel_softmax", "hardshrink",
    "hardsigmoid", "hardswish", "hardtanh", "hardtanh_", "hinge_embedding_loss", "huber_loss", "instance_norm",
    "interpolate", "kl_div", "l1_loss", "layer_norm", "leaky_relu", "leaky_relu_", "linear", "local_response_norm",
    "log_softmax", "logsigmoid", "margin_ranking_loss", "max_pool1d", "max_pool2d", "max_unpool2d", "mish",
    "mse_loss", "multi_margin_loss", "multilabel_soft_margin_loss", "nll_loss", "normalize", "one_hot", "pad",
    "pairwise_distance", "pixel_shuffle", "pixel_unshuffle", "poisson_nll_loss", "prelu", "relu", "relu6", "relu_",
    "rms_norm", "rrelu", "rrelu_", "scaled_dot_product_attention", "selu", "selu_", "sigmoid", "silu",
    "smooth_l1_loss", "soft_margin_loss", "softmax", "softmin", "softplus", "softshrink", "softsign", "tanh",
    "tanhshrink", "threshold", "threshold_", "triplet_margin_loss",
]


def flatten(input: Tensor, start_dim: int = 1, end_dim: int = -1) -> Tensor:
    """Dims ``start_dim``..``end_dim`` merged into one: (N, C, H, W) -> (N, C*H*W) by default."""
    return input.flatten(start_dim, end_dim)


def pad(input: Tensor, pad: Sequence[int], mode: str = "constant", value: float | None = None) -> Tensor:
    """Padding in ``mode`` "constant" (with ``value``, 0 by default), "reflect", "replicate" or
    "circular"; ``pad`` lists (before, after) pairs starting from the LAST dim, as torch."""
    return _pad(input, pad, mode, value)


