"""Class 4 of issue 16: fit refuses bad loaders, callbacks and options before the first step,
and stops before a step whose gradient is not finite even though the loss is."""

import numpy as np
import pytest

import tinygrad_cnn.nn.functional as F
from tinygrad_cnn import nn, optim
from tinygrad_cnn.utils.data import DataLoader, TensorDataset
from tinygrad_cnn.tensor import Tensor
from tinygrad_cnn.train import fit


def setup():
    rng = np.random.default_rng(0)
    X = rng.random((8, 4), dtype=np.float32)
    y = np.arange(8) % 2
    model = nn.Linear(4, 2)
    return model, DataLoader(TensorDataset(Tensor(X), Tensor(y)), batch_size=4), optim.SGD(model.parameters(), lr=0.1)


def weights(model):
    return [p.numpy().tolist() for p in model.parameters()]


@pytest.mark.parametrize("case", ["empty_val", "early_stopping_str", "callback_not_callable", "loader_not_iterable",
                                  "early_stopping_float"])
def test_bad_arguments_are_refused_before_the_first_step(case):
    model, loader, opt = setup()
    before = weights(model)
    kwargs = dict(val_loader=loader)
    empty = DataLoader(TensorDataset(Tensor(np.zeros((0, 4), dtype=np.float32)), Tensor(np.zeros(0, dtype=np.int64))),
                       batch_size=4)
    if case == "empty_val":
        kwargs["val_loader"] = empty
    elif case == "early_stopping_str":
        kwargs["early_stopping"] = "3"
    elif case == "early_stopping_float":
        kwargs["early_stopping"] = 2.5
    elif case == "callback_not_callable":
        kwargs["callbacks"] = ["print"]
    train = 42 if case == "loader_not_iterable" else loader
    with pytest.raises((TypeError, ValueError), match="fit"):
        fit(model, train, opt, F.cross_entropy, 1, quiet=True, **kwargs)
    assert weights(model) == before and not opt.state


def test_finite_loss_with_non_finite_gradient_stops_before_the_step():
    model, loader, opt = setup()
    model.weight.register_hook(lambda g: g * np.float32(np.inf))  # finite loss, infinite gradient
    before = weights(model)
    with pytest.raises(FloatingPointError, match="gradient.*non-finite at step 1"):
        fit(model, loader, opt, F.cross_entropy, 1, quiet=True)
    assert weights(model) == before and not opt.state
