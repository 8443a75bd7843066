"""Compare an op with PyTorch's: forward values and input gradients, in float64.

PyTorch is an optional oracle: it is imported only inside ``check_against_torch``.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from tinygrad_cnn.tensor import Tensor


def check_against_torch(fn: Callable[..., Tensor], torch_fn: Callable, arrays: Sequence[np.ndarray],
                        rtol: float = 1e-6, atol: float = 1e-9, seed: int = 0) -> None:
    """Assert ``fn(*tensors)`` equals ``torch_fn(*torch_tensors)`` and so do their input gradients.

    Every array becomes a float64 leaf requiring grad on both sides (integer arrays are passed
    as they are); the same random upstream gradient is pushed back through both graphs. Raises
    AssertionError naming the output or the input whose values differ.
    """
    import torch

    ours = [Tensor(a, requires_grad=np.issubdtype(a.dtype, np.floating)) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=bool(np.issubdtype(a.dtype, np.floating))) for a in arrays]
    out = fn(*ours)
    expected = torch_fn(*theirs)
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=rtol, atol=atol,
                               err_msg="forward values differ from torch")
    if not expected.requires_grad:
        return
    upstream = np.random.default_rng(seed).standard_normal(out.shape)
    out.backward(upstream)
    expected.backward(torch.from_numpy(upstream))
    for i, (a, b) in enumerate(zip(ours, theirs)):
        if not a.requires_grad:
            continue
        want = np.zeros(a.shape) if b.grad is None else b.grad.numpy()
        got = np.zeros(a.shape) if a.grad is None else a.grad.numpy()
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol,
                                   err_msg=f"gradient of input {i} (shape {a.shape}) differs from torch")
