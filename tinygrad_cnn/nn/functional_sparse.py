"""torch.nn.functional's "sparse functions": one_hot and embedding (rows of a weight matrix
picked by integer indices; the gradient is added back into the rows picked). Re-exported by
``tinygrad_cnn.nn.functional``."""

from __future__ import annotations

import numpy as np

from tinygrad_cnn.autograd import no_grad
from tinygrad_cnn.dtypes import scalar_type_name
from tinygrad_cnn.nn.checks import check_tensor
from tinygrad_cnn.tensor import Tensor


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """int64 (*tensor.shape, num_classes): 1 at each index's class, else 0; ``num_classes=-1``
    takes the largest index + 1. The indices must be an int64 tensor of values in [0, num_classes)."""
    check_tensor("one_hot", "tensor", tensor)
    if tensor.dtype != np.int64:
        raise RuntimeError(f"one_hot: one_hot is only applicable to index tensor of type LongTensor "
                           f"(got {scalar_type_name(tensor.dtype)})")
    labels = tensor.numpy()
    if num_classes == -1:
        if labels.size == 0:
            raise RuntimeError("one_hot: Can not infer total number of classes from empty tensor.")
        num_classes = int(labels.max()) + 1
    if labels.size and labels.min() < 0:
        raise RuntimeError(f"one_hot: Class values must be non-negative (got {int(labels.min())}).")
    if labels.size and labels.max() >= num_classes:
        raise RuntimeError(f"one_hot: Class values must be smaller than num_classes ({int(labels.max())} >= "
                           f"{num_classes}).")
    return Tensor((labels[..., None] == np.arange(num_classes)).astype(np.int64))


def _embedding_indices(op: str, input: Tensor, rows: int) -> np.ndarray:
    """The int64/int32 indices of ``input``, checked to pick rows of a (rows, D) weight."""
    check_tensor(op, "input", input)
    if input.dtype not in (np.int64, np.int32):
        raise RuntimeError(f"{op}: Expected tensor for argument #1 'indices' to have one of the following scalar "
                           f"types: Long, Int; but got {scalar_type_name(input.dtype)} instead")
    indices = input.numpy()
    if indices.size and (indices.min() < -rows or indices.max() >= rows):
        raise IndexError(f"{op}: index out of range in self (indices in [{int(indices.min())}, "
                         f"{int(indices.max())}] for a weight of {rows} rows)")
    return indices


def renormalize_rows(weight: Tensor, indices: np.ndarray, max_norm: float, norm_type: float) -> None:
    """Scale, in place and unrecorded, the rows of ``weight`` that ``indices`` pick whose
    ``norm_type``-norm exceeds ``max_norm`` down to that norm (torch's embedding_renorm_)."""
    rows = np.unique(indices)
    with no_grad():
        values = weight.numpy()[rows]
        norms = np.linalg.norm(values, ord=norm_type, axis=1)
        scale = np.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0).astype(values.dtype)
        weight[Tensor(rows)] = Tensor(values * scale[:, None])


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None, max_norm: float | None = None,
              norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """weight[input]: (*input.shape, D) for a (num_embeddings, D) weight. The row ``padding_idx``
    gets no gradient; with ``max_norm``, the rows looked up are first renormalised in place."""
    check_tensor("embedding", "weight", weight)
    if weight.ndim != 2:
        raise RuntimeError(f"embedding: 'weight' must be 2-D, got shape {tuple(weight.shape)}")
    if scale_grad_by_freq or sparse:
        raise NotImplementedError("embedding: scale_grad_by_freq=True and sparse=True are not supported "
                                  "(tinygrad_cnn's gradients are dense and unscaled)")
    indices = _embedding_indices("embedding", input, weight.shape[0])
    if max_norm is not None:
        renormalize_rows(weight, indices, max_norm, norm_type)
    picked = weight[input]
    if padding_idx is None:
        return picked
    padding = padding_idx + weight.shape[0] if padding_idx < 0 else padding_idx
    indices = np.where(indices < 0, indices + weight.shape[0], indices)
    # the same values, with the padding row's lookups taken from a copy cut from the graph
    return picked.where((indices != padding)[..., None], weight.detach()[input])
