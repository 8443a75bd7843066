"""The creation functions as torch's: dtypes inferred and given, devices, requires_grad,
generators, values of the ranges against torch's, memory sharing, and the torch.* function
table with its ``out=``."""

import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_cnn as torch
from tinygrad_cnn.functions import METHOD_FUNCTIONS


def real_torch():
    return pytest.importorskip("torch", reason="torch is the optional oracle")


def test_tensor_infers_dtypes_as_torch_and_copies():
    assert torch.tensor([1.5, 2]).dtype == np.float32 and torch.tensor([1, 2]).dtype == np.int64
    assert torch.tensor(True).dtype == np.bool_ and torch.tensor(3.7, dtype=torch.long).item() == 3
    assert torch.tensor([torch.tensor(1.0), torch.tensor(2.0)]).tolist() == [1.0, 2.0]
    array = np.zeros(2)
    t = torch.tensor(array)
    array[0] = 1
    assert t.dtype == np.float64 and t.tolist() == [0.0, 0.0]
    with pytest.raises(RuntimeError, match="floating point"):
        torch.tensor([1, 2], requires_grad=True)


def test_from_numpy_and_as_tensor_share_memory():
    a = np.ones(3)
    t = torch.from_numpy(a)
    np.add(a, 1, out=a)
    assert t.tolist() == [2.0, 2.0, 2.0] and t.dtype == np.float64
    assert torch.as_tensor(a).numpy() is a and torch.as_tensor(t) is t
    assert torch.as_tensor(a, dtype=torch.float32).dtype == np.float32
    with pytest.raises(TypeError, match="np.ndarray"):
        torch.from_numpy([1, 2])


def test_factories_take_sizes_dtype_device_and_requires_grad():
    for make in (torch.zeros, torch.ones, torch.empty, torch.rand, torch.randn):
        assert make(2, 3).shape == (2, 3) == make((2, 3)).shape == make([2, 3]).shape == make(torch.Size([2, 3])).shape
        assert make(2, dtype=torch.float64).dtype == np.float64 and make(()).shape == ()
        leaf = make(2, requires_grad=True, device="cpu")
        assert leaf.requires_grad and leaf.is_leaf and leaf.dtype == np.float32
    assert torch.full((2,), 7).dtype == np.int64 and torch.full((2,), 7.0).dtype == np.float32
    assert torch.full((), 0.0, dtype=torch.float64, requires_grad=True).shape == ()
    assert torch.eye(2, 3).tolist() == [[1, 0, 0], [0, 1, 0]] and torch.eye(2, dtype=torch.long).dtype == np.int64
    with pytest.raises(RuntimeError, match="floating dtype"):
        torch.rand(2, dtype=torch.long)
    with pytest.raises(NotImplementedError, match="out="):
        torch.zeros(2, out=torch.zeros(2))


def test_like_factories_keep_shape_and_dtype():
    x = torch.tensor([[1, 2], [3, 4]])
    assert torch.ones_like(x).dtype == np.int64 and torch.zeros_like(x).shape == (2, 2)
    assert torch.full_like(x, 5).tolist() == [[5, 5], [5, 5]] and torch.empty_like(x).shape == (2, 2)
    assert torch.rand_like(x, dtype=torch.float).dtype == np.float32 and torch.randn_like(x.float()).shape == (2, 2)
    assert 0 <= torch.randint_like(x, 3).min().item() and torch.randint_like(x, 3).max().item() < 3
    with pytest.raises(RuntimeError, match="floating dtype"):
        torch.rand_like(x)


def test_float32_factories_never_hold_a_float64_array():
    tracemalloc.start()
    try:
        for make in (torch.zeros, torch.ones, torch.empty, torch.rand, torch.randn):
            tracemalloc.reset_peak()
            make(250_000)
            assert tracemalloc.get_traced_memory()[1] < 1.5 * 1_000_000, make.__name__
        tracemalloc.reset_peak()
        torch.normal(0.0, 1.0, (250_000,))
        assert tracemalloc.get_traced_memory()[1] < 2.5 * 1_000_000
    finally:
        tracemalloc.stop()


def test_generators_make_draws_reproducible_and_independent():
    g = torch.Generator().manual_seed(3)
    first = torch.randn(4, generator=g), torch.rand(2, generator=g), torch.randperm(5, generator=g)
    g.manual_seed(3)
    again = torch.randn(4, generator=g), torch.rand(2, generator=g), torch.randperm(5, generator=g)
    assert all(a.equal(b) for a, b in zip(first, again)) and g.initial_seed() == 3
    torch.manual_seed(7)
    a = torch.randn(3)
    torch.randn(3, generator=torch.Generator().manual_seed(1))  # does not advance the global stream
    b = torch.randn(3)
    torch.manual_seed(7)
    assert torch.randn(3).equal(a) and torch.randn(3).equal(b) and torch.initial_seed() == 7
    assert sorted(torch.randperm(6).tolist()) == list(range(6)) and torch.randperm(6).dtype == np.int64
    draws = torch.randint(2, 5, (200,))
    assert draws.dtype == np.int64 and draws.min().item() == 2 and draws.max().item() == 4
    assert torch.randint(3, size=(2, 2)).shape == (2, 2) and torch.normal(torch.zeros(3), 1.0).shape == (3,)
    with pytest.raises(TypeError, match="generator"):
        torch.rand(2, generator=42)


@settings(max_examples=15)
@given(start=st.integers(-50, 50), length=st.integers(0, 40), step=st.sampled_from([1, 2, 3, 0.5, 0.1, -0.25, -3]),
       steps=st.integers(0, 30), float64=st.booleans())
def test_ranges_equal_torchs(start, length, step, steps, float64):
    t = real_torch()
    end = start + length * step
    dtype, theirs = (torch.float64, t.float64) if float64 else (torch.float32, t.float32)
    # torch's float arange rounds once per element or per SIMD block (machine-dependent): 1 ulp apart at most
    np.testing.assert_allclose(torch.arange(start, end, step).numpy(), t.arange(start, end, step).numpy(), rtol=2e-7)
    ours = torch.linspace(start, end, steps, dtype=dtype).numpy()
    np.testing.assert_allclose(ours, t.linspace(start, end, steps, dtype=theirs).numpy(), rtol=1e-6, atol=1e-5)
    np.testing.assert_allclose(torch.logspace(-2, 2, steps, base=2.0).numpy(),
                               t.logspace(-2, 2, steps, base=2.0).numpy(), rtol=1e-6)
    assert torch.arange(start, end, step).dtype == t.arange(start, end, step).numpy().dtype


def test_meshgrid_defaults_to_ij():
    a, b = torch.arange(3), torch.arange(2)
    i, j = torch.meshgrid(a, b)
    assert i.shape == (3, 2) and i[:, 0].tolist() == [0, 1, 2] and j[0].tolist() == [0, 1]
    x, y = torch.meshgrid([a, b], indexing="xy")
    assert x.shape == (2, 3) and x[0].tolist() == [0, 1, 2]


def test_legacy_constructors():
    assert torch.FloatTensor([1, 2]).dtype == np.float32 and torch.LongTensor([1.7]).tolist() == [1]
    assert torch.FloatTensor(2, 3).shape == (2, 3) and torch.BoolTensor([1, 0]).tolist() == [True, False]


def test_every_table_function_is_the_method_and_exported():
    for name in METHOD_FUNCTIONS:
        assert getattr(torch, name).__name__ == name and f"input.{name}" in getattr(torch, name).__doc__
    x = torch.tensor([[3.0, -1.0], [2.0, 5.0]])
    assert torch.max(x, 1).indices.tolist() == [0, 1] and torch.flatten(torch.ones(2, 3, 4), 1).shape == (2, 12)
    assert torch.sum(x, dim=0).tolist() == [5.0, 4.0] and torch.clamp(x, min=0).min().item() == 0
    assert torch.mm(x, x).tolist() == (x @ x).tolist() and torch.pow(2, torch.tensor([3.0])).item() == 8.0
    assert torch.where(x > 2)[1].tolist() == [0, 1] and torch.where(x > 2, x, 0.0).tolist() == [[3, 0], [0, 5]]
    with pytest.raises(TypeError, match="must be a Tensor"):
        torch.exp(2.0)


def test_out_writes_into_the_given_tensor_and_refuses_to_record_a_graph():
    x, y = torch.ones(2, 2), torch.full((2, 2), 2.0)
    result = torch.empty(2, 2)
    assert torch.add(x, y, out=result) is result and result.tolist() == [[3, 3], [3, 3]]
    grown = torch.zeros(1)
    with pytest.warns(UserWarning, match="was resized"):
        torch.matmul(x, y.T, out=grown)
    assert grown.shape == (2, 2) and grown.tolist() == [[4, 4], [4, 4]]
    assert torch.cat([x, y], out=torch.empty(0)).shape == (4, 2)
    with pytest.raises(RuntimeError, match="out=... arguments don't support automatic differentiation"):
        torch.mul(torch.ones(2, requires_grad=True), 2.0, out=torch.empty(2))
    with pytest.raises(RuntimeError, match="can't be cast"):
        torch.add(x, y, out=torch.zeros(2, 2, dtype=torch.long))
    with pytest.raises(RuntimeError, match="single memory location"):
        torch.add(x, y, out=torch.zeros(2).expand(2, 2))


@pytest.mark.filterwarnings("ignore:.*n output with one or more elements was resized")
@pytest.mark.parametrize("same_shape", [True, False])
def test_out_is_an_inplace_write_that_backward_through_a_saved_out_refuses_as_torchs(same_shape):
    theirs = real_torch()
    for lib in (torch, theirs):
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        c = lib.zeros(2 if same_shape else 3)
        loss = (c[:2] * a).sum()  # saves c's view, which shares c's version counter
        before = c._version
        lib.add(a.detach(), 1.0, out=c)
        assert c._version > before and c.tolist() == [2.0, 3.0]
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            loss.backward()
