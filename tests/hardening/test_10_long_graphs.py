"""Class 10 of issue 16: long graphs. Copying, pickling, printing, walking and differentiating
a tensor at the end of a 20,000-op graph never raises RecursionError."""

import copy
import pickle

import numpy as np
import pytest

from tinygrad_cnn import nn
from tinygrad_cnn.tensor import Tensor

DEPTH = 20_000


@pytest.fixture(scope="module")
def chain():
    leaf = Tensor(np.arange(3.0), requires_grad=True)
    x = leaf
    for _ in range(DEPTH):
        x = x * 1.0
    return leaf, x


def test_deepcopy_of_a_long_graph_is_refused_as_torch(chain):
    _, x = chain
    with pytest.raises(RuntimeError, match="graph leaves.*detach"):
        copy.deepcopy(x)
    try:
        import torch
    except ImportError:
        return
    with pytest.raises(RuntimeError):
        copy.deepcopy(torch.ones(1, requires_grad=True) * 2)


def test_deepcopy_of_its_detached_end_is_an_independent_copy(chain):
    _, x = chain
    y = copy.deepcopy(x.detach())
    y.numpy()[0] = 99
    assert x.numpy()[0] == 0 and y.is_leaf


def test_pickle_of_a_long_graph_gives_a_leaf_with_its_values(chain):
    _, x = chain
    back = pickle.loads(pickle.dumps(x))
    assert back.is_leaf and back.requires_grad
    np.testing.assert_array_equal(back.numpy(), x.numpy())


def test_repr_next_functions_and_backward_of_a_long_graph(chain):
    leaf, x = chain
    assert "grad_fn" in repr(x)
    assert x.grad_fn.next_functions[0][0] is not None
    x.sum().backward(retain_graph=True)
    np.testing.assert_array_equal(leaf.grad.numpy(), np.ones(3))
    leaf.grad = None


def test_deepcopy_keeps_leaf_grad_subclass_and_module_structure():
    layer = nn.Linear(2, 2)
    layer.weight.grad = Tensor(np.ones((2, 2), dtype=np.float32))
    twin = copy.deepcopy(layer)
    assert type(twin.weight) is type(layer.weight) and twin.weight is not layer.weight
    np.testing.assert_array_equal(twin.weight.grad.numpy(), 1.0)
    twin.weight.numpy()[...] = 7
    assert not np.any(layer.weight.numpy() == 7)
    shared = {"a": layer.weight, "b": layer.weight}
    copied = copy.deepcopy(shared)
    assert copied["a"] is copied["b"]


def test_pickled_parameter_stays_a_parameter():
    p = nn.Linear(2, 2).weight
    assert type(pickle.loads(pickle.dumps(p))) is type(p)
