"""Compare an op with PyTorch's: forward values and input gradients, in float64; every output
(values, shape, dtype) and gradient of a call run with both libraries; the exception types they
raise; a module and torch's holding the same weights.

PyTorch is an optional oracle: it is imported only inside these functions.
"""

from __future__ import annotations

import warnings
from typing import Any, Callable, Sequence

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
                                   err_msg=f"gradient of input {i} (shape {tuple(a.shape)}) differs from torch")


def _outputs(out: Any) -> list:
    return list(out) if isinstance(out, (tuple, list)) else [out]


def check_outputs_against_torch(ours: Callable, theirs: Callable, inputs: Sequence[np.ndarray], grad: bool = True,
                                rtol: float = 1e-7, atol: float = 1e-9, seed: int = 1, grad_rtol: float | None = None,
                                grad_atol: float | None = None, same_requires_grad: bool = True) -> None:
    """Run ``ours`` on tinygrad_cnn tensors and ``theirs`` on torch tensors of ``inputs`` (arrays,
    the floating ones requiring grad when ``grad``); assert every output (a tensor or a tuple/list
    of them) has torch's values, shape, dtype and (when ``same_requires_grad``) requires_grad, and
    every input the gradient of sum(output * a random weight in its dtype) that torch gives (within
    ``grad_rtol``/``grad_atol``, by default ``rtol``/``atol``; a None gradient counts as zeros)."""
    import torch

    import tinygrad_cnn as tg

    needs = [grad and a.dtype.kind == "f" for a in inputs]
    mine = [tg.tensor(a, requires_grad=g) for a, g in zip(inputs, needs)]
    real = [torch.tensor(a, requires_grad=g) for a, g in zip(inputs, needs)]
    outs, refs = _outputs(ours(*mine)), _outputs(theirs(*real))
    assert len(outs) == len(refs)
    rng = np.random.default_rng(seed)
    loss_m = loss_r = 0
    for m, r in zip(outs, refs):
        expected = r.detach().numpy()
        assert tuple(m.shape) == expected.shape and m.dtype == expected.dtype, (m.shape, expected.shape, m.dtype,
                                                                               expected.dtype)
        np.testing.assert_allclose(m.numpy(), expected, rtol=rtol, atol=atol)
        assert m.requires_grad == r.requires_grad or not same_requires_grad
        if r.requires_grad:
            w = rng.standard_normal(expected.shape).astype(expected.dtype)
            loss_m, loss_r = loss_m + (m * tg.tensor(w)).sum(), loss_r + (r * torch.tensor(w)).sum()
    if isinstance(loss_r, int):
        return
    loss_m.backward()
    loss_r.backward()
    for i, (a, b) in enumerate(zip(mine, real)):
        if b.requires_grad:  # torch leaves None where a gradient is known to be zero
            want = np.zeros(b.shape) if b.grad is None else b.grad.numpy()
            got = np.zeros(a.shape) if a.grad is None else a.grad.numpy()
            np.testing.assert_allclose(got, want, rtol=rtol if grad_rtol is None else grad_rtol,
                                       atol=atol if grad_atol is None else grad_atol, err_msg=f"gradient of input {i}")


def check_case_against_torch(case: Callable, *inputs: np.ndarray, **options: Any) -> None:
    """``check_outputs_against_torch`` of ``case(lib, *tensors)`` run with lib tinygrad_cnn and torch."""
    import torch

    import tinygrad_cnn as tg

    check_outputs_against_torch(lambda *t: case(tg, *t), lambda *t: case(torch, *t), inputs, **options)


def raises_like_torch(case: Callable, *arrays: np.ndarray) -> None:
    """Assert ``case(lib, *tensors of arrays)`` raises with torch (its warnings silenced) and raises
    an exception of that type (or a subclass) with tinygrad_cnn; any other exception propagates."""
    import torch

    import tinygrad_cnn as tg

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            case(torch, *[torch.tensor(a) for a in arrays])
        except Exception as error:
            expected = type(error)
        else:
            raise AssertionError("torch did not raise")
    try:
        case(tg, *[tg.tensor(a) for a in arrays])
    except expected:
        return
    raise AssertionError(f"tinygrad_cnn did not raise {expected.__name__}")


def module_twins(make: Callable[[Any], Any]) -> tuple[Any, Any]:
    """(ours, torch's) from ``make(library)``, of the same repr and state_dict keys, both float64
    in eval mode, ours holding torch's weights."""
    import torch

    import tinygrad_cnn as tg

    ours, theirs = make(tg), make(torch)
    assert repr(ours) == repr(theirs) and list(ours.state_dict()) == list(theirs.state_dict())
    theirs.double().eval()
    ours.double().eval()
    ours.load_state_dict({k: tg.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    return ours, theirs
