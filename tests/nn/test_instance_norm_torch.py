"""InstanceNorm1d/2d/3d and F.instance_norm against PyTorch: values, input and affine gradients,
running statistics in training and their use in eval, unbatched inputs, reprs, state_dict keys
and errors (skipped without torch)."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn as tg
import tinygrad_cnn.nn as nn
from tinygrad_cnn.testing.oracle import check_against_torch

torch = pytest.importorskip("torch", reason="the oracle tests compare with PyTorch (pip install .[oracle])")

pytestmark = pytest.mark.oracle

RNG = np.random.default_rng(0)


@pytest.mark.parametrize("name, shape", [("InstanceNorm1d", (2, 3, 5)), ("InstanceNorm1d", (3, 6)),
                                         ("InstanceNorm2d", (2, 3, 4, 5)), ("InstanceNorm2d", (3, 4, 4)),
                                         ("InstanceNorm3d", (2, 3, 2, 3, 4))])
@pytest.mark.parametrize("affine, track", [(False, False), (True, False), (True, True), (False, True)])
def test_instance_norm_layers_match_torch_in_training_and_eval(name, shape, affine, track):
    ours, theirs = getattr(nn, name)(3, affine=affine, track_running_stats=track), \
        getattr(torch.nn, name)(3, affine=affine, track_running_stats=track).double()
    assert repr(ours) == repr(theirs.float()) and list(ours.state_dict()) == list(theirs.state_dict())
    ours.double(), theirs.double()
    x = RNG.normal(size=shape) * 3 + 1
    check_against_torch(lambda t: ours(t), lambda t: theirs(t), [x])
    if affine:  # the affine gradients, from one more step on fresh tensors
        a, b = tg.tensor(x), torch.tensor(x)
        (ours(a) * tg.tensor(x)).sum().backward()
        (theirs(b) * torch.tensor(x)).sum().backward()
        np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(ours.bias.grad.numpy(), theirs.bias.grad.numpy(), rtol=1e-8, atol=1e-10)
    if track:
        np.testing.assert_allclose(ours.running_mean.numpy(), theirs.running_mean.numpy(), rtol=1e-6)
        np.testing.assert_allclose(ours.running_var.numpy(), theirs.running_var.numpy(), rtol=1e-6)
    ours.eval(), theirs.eval()
    check_against_torch(lambda t: ours(t), lambda t: theirs(t), [x + 2])


def test_instance_norm_refuses_what_torch_refuses():
    for lib in (tg, torch):
        with pytest.raises(ValueError, match="Expected more than 1 spatial element when training"):
            lib.nn.InstanceNorm2d(3)(lib.ones(2, 3, 1, 1))
        with pytest.raises(ValueError, match="to match num_features"):
            lib.nn.InstanceNorm2d(3, affine=True)(lib.ones(2, 4, 2, 2))
        with pytest.warns(UserWarning, match="does not match num_features"):
            lib.nn.InstanceNorm2d(3)(lib.ones(2, 4, 2, 2))
        with pytest.raises(ValueError, match="expected 3D or 4D input"):
            lib.nn.InstanceNorm2d(3)(lib.ones(3, 2))
