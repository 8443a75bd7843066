"""Tensor methods' semantics beyond their gradients (those are in tests/ops/test_tensor_ops.py):
torch's dtype promotion, conversions and new_* factories, queries, comparisons and logic,
orderings' indices, var/std's argument forms, splitting, and the errors for bad arguments."""

import numpy as np
import pytest

import tinygrad_cnn as torch


def real_torch():
    return pytest.importorskip("torch", reason="torch is the optional oracle")


@pytest.mark.parametrize("left, right", [
    ("int64", "float32"), ("float32", "int64"), ("int64", "int64"), ("bool", "float64"), ("int32", "int64"),
    ("float32", "float64"), ("uint8", "int64"),
])
@pytest.mark.parametrize("op", ["add", "sub", "mul", "truediv", "pow", "maximum"])
def test_tensor_operands_promote_as_torchs(left, right, op):
    t = real_torch()
    a, b = np.array([1, 2, 3], dtype=left), np.array([2, 1, 2], dtype=right)
    if op == "sub" and "bool" in (left, right):
        pytest.skip("torch refuses - on bool")
    fn = {"maximum": lambda x, y: x.maximum(y)}.get(op, lambda x, y: getattr(x, f"__{op}__")(y))
    ours, theirs = fn(torch.from_numpy(a), torch.from_numpy(b)), fn(t.from_numpy(a), t.from_numpy(b))
    assert ours.dtype == theirs.numpy().dtype
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


@pytest.mark.parametrize("dtype", ["int64", "int32", "float32", "float64", "bool"])
@pytest.mark.parametrize("scalar", [2, 2.5, True])
def test_python_scalars_are_weak_as_in_torch(dtype, scalar):
    t = real_torch()
    a = np.array([1, 0, 3]).astype(dtype)
    for op in ("__mul__", "__radd__", "__truediv__"):
        if dtype == "bool" and isinstance(scalar, bool) and op == "__radd__":
            continue
        ours, theirs = getattr(torch.from_numpy(a), op)(scalar), getattr(t.from_numpy(a), op)(scalar)
        assert ours.dtype == theirs.numpy().dtype, (op, dtype, scalar)


def test_float_valued_functions_of_integers_give_the_default_float():
    x = torch.tensor([1, 4, 9])
    assert x.sqrt().dtype == np.float32 and x.sqrt().tolist() == [1, 2, 3] and x.sin().dtype == np.float32
    assert x.square().dtype == np.int64 and x.abs().dtype == np.int64 and (x / 2).dtype == np.float32
    assert (x // 2).tolist() == [0, 2, 4] and (x % 4).tolist() == [1, 0, 1] and (-x % 4).tolist() == [3, 0, 3]
    assert x.div(2, rounding_mode="trunc").tolist() == [0, 2, 4] and (-x).div(2, rounding_mode="floor").tolist() == [-1, -2, -5]
    assert x.sum().dtype == np.int64 and (x > 3).sum().item() == 2 and isinstance((x > 3).sum().item(), int)
    with pytest.raises(RuntimeError, match="floating point"):
        x.mean()
    assert x.mean(dtype=torch.float64).item() == pytest.approx(14 / 3)


def test_conversions_and_new_factories():
    x = torch.tensor([1.7, -2.2], requires_grad=True)
    assert x.long().tolist() == [1, -2] and x.int().dtype == np.int32 and x.bool().tolist() == [True, True]
    assert x.double().dtype == np.float64 and x.half().dtype == np.float16 and x.float() is x
    assert x.type("torch.LongTensor").dtype == np.int64 and x.type_as(torch.zeros(1, dtype=torch.double)).dtype == np.float64
    assert x.double().requires_grad and not x.long().requires_grad
    n = x.new_ones(2, 3)
    assert n.shape == (2, 3) and n.dtype == np.float32 and not n.requires_grad
    assert x.new_zeros((2,), dtype=torch.double).dtype == np.float64 and x.new_full((2,), 7).tolist() == [7.0, 7.0]
    assert x.new_tensor([1, 2]).dtype == np.float32 and x.new_empty(3).shape == (3,)
    assert x.new_ones(2, requires_grad=True).requires_grad


def test_queries():
    x = torch.zeros(2, 3)
    assert x.is_floating_point() and not torch.tensor([1]).is_floating_point() and not x.is_complex()
    assert x.element_size() == 4 and x.nelement() == 6 and x.ndimension() == 2 and x.dim() == 2
    assert x.stride() == (3, 1) and x.stride(0) == 3 and x.is_contiguous() and not x.t().is_contiguous()
    assert x.t().contiguous().is_contiguous() and x.contiguous() is x and not x.is_cuda
    assert x.allclose(x + 1e-9) and not x.allclose(x + 1) and x.equal(torch.zeros(2, 3)) and not x.equal(torch.zeros(3))
    c = x.clone()
    c.numpy()[0, 0] = 5
    assert x[0, 0].item() == 0


def test_device_and_layout_flags_are_torchs_for_a_dense_cpu_tensor():
    real = real_torch().ones(1)
    flags = [name for name in dir(real) if name.startswith("is_") and not callable(getattr(real, name))]
    assert {name: getattr(torch.ones(1), name) for name in flags} == {name: getattr(real, name) for name in flags}


@pytest.mark.parametrize("value, spec", [(3.14159, "+.2f"), (2.0, ".1f"), (5, ">4"), (True, ">4"), (-7, "x"),
                                         (0.5, "e"), (1.5, "")])
def test_a_0d_tensor_formats_as_its_number(value, spec):
    assert format(torch.tensor(value), spec) == format(real_torch().tensor(value), spec) == format(value, spec)


def test_formatting_a_tensor_with_elements_needs_an_empty_spec():
    assert f"{torch.ones(2)}" == str(torch.ones(2))
    with pytest.raises(TypeError, match="unsupported format string"):
        format(torch.ones(2), ".2f")
    with pytest.raises(TypeError, match="unsupported format string"):
        format(real_torch().ones(2), ".2f")


def test_comparisons_logic_and_finiteness():
    a, b = torch.tensor([1.0, 2.0, 3.0]), torch.tensor([3.0, 2.0, 1.0])
    assert a.eq(b).tolist() == [False, True, False] and a.ne(2).tolist() == [True, False, True]
    assert a.lt(b).tolist() == [True, False, False] and a.ge(b).tolist() == [False, True, True]
    assert ((a > 1) & (b > 1)).tolist() == [False, True, False] and ((a > 2) | (b > 2)).tolist() == [True, False, True]
    assert (~(a > 1)).tolist() == [True, False, False] and a.logical_xor(b > 2).tolist() == [False, True, True]
    z = torch.tensor([1.0, float("nan"), float("inf"), -float("inf")])
    assert z.isnan().tolist() == [False, True, False, False] and z.isinf().tolist() == [False, False, True, True]
    assert z.isfinite().tolist() == [True, False, False, False] and z.nan_to_num(posinf=1.0, neginf=-1.0).tolist() == [1, 0, 1, -1]


def test_orderings_return_torchs_indices():
    t = real_torch()
    values = np.array([[3.0, 1.0, 2.0, 1.0], [0.5, 0.5, -1.0, 4.0]])
    ours, theirs = torch.from_numpy(values), t.from_numpy(values)
    for kwargs in ({}, {"descending": True}, {"dim": 0}):
        assert ours.sort(stable=True, **kwargs).indices.tolist() == theirs.sort(stable=True, **kwargs).indices.tolist()
        assert ours.argsort(stable=True, **kwargs).tolist() == theirs.argsort(stable=True, **kwargs).tolist()
    assert ours[:1].topk(2).indices.tolist() == theirs[:1].topk(2).indices.tolist()  # no ties: torch's order is unspecified
    assert ours.topk(3, largest=False).values.tolist() == theirs.topk(3, largest=False).values.tolist()
    assert ours.median().item() == theirs.median().item() and ours.median(1).indices.tolist() == [3, 0]
    assert ours.max(1).indices.tolist() == [0, 3] and ours.argmax(dim=1, keepdim=True).shape == (2, 1)
    with pytest.raises(RuntimeError, match="out of range"):
        ours.topk(5)


def test_var_and_std_take_torchs_argument_forms():
    t = real_torch()
    values = np.arange(12.0).reshape(3, 4) ** 1.5
    ours, theirs = torch.from_numpy(values), t.from_numpy(values)
    for args, kwargs in [((), {}), ((False,), {}), ((1,), {}), ((1, False), {}), ((1, True, True), {}),
                         ((), {"dim": 0, "correction": 0}), ((0,), {"keepdim": True}), (((0, 1),), {"unbiased": False})]:
        for name in ("var", "std"):
            np.testing.assert_allclose(getattr(ours, name)(*args, **kwargs).numpy(),
                                       getattr(theirs, name)(*args, **kwargs).numpy(), rtol=1e-12)
    with pytest.raises(TypeError, match="not both"):
        ours.var(0, True, correction=1)


def test_splits_views_and_their_errors():
    x = torch.arange(10).reshape(2, 5)
    assert [p.shape for p in x.split(2, 1)] == [(2, 2), (2, 2), (2, 1)]
    assert [p.shape for p in x.split([1, 4], dim=1)] == [(2, 1), (2, 4)] and len(x.chunk(3, 1)) == 3
    assert [p.shape[1] for p in x.tensor_split(3, 1)] == [2, 2, 1] and x.unbind(1)[4].tolist() == [4, 9]
    assert x.narrow(1, -2, 2).tolist() == [[3, 4], [8, 9]] and x.select(1, -1).tolist() == [4, 9]
    assert x.view(5, 2).view_as(x).shape == (2, 5) and torch.tensor([1, 2]).t().shape == (2,)
    assert x.unflatten(1, (1, 5)).shape == (2, 1, 5) and x.movedim(0, -1).shape == (5, 2)
    assert x.nonzero().shape == (9, 2) and x.repeat_interleave(2).shape == (20,) and x.roll(1).tolist()[0][0] == 9
    for bad, error in [(lambda: x.split([2, 2], 1), "add up"), (lambda: x.narrow(1, 3, 4), "exceeds"),
                       (lambda: x.t().reshape(3, 3), "cannot reshape"), (lambda: torch.ones(2, 2, 2).t(), "<= 2"),
                       (lambda: x.repeat(2), "at least 2"), (lambda: x.gather(1, torch.tensor([[5]])), "out of bounds"),
                       (lambda: x.gather(1, torch.tensor([0])), "dims"),
                       (lambda: x.masked_fill(torch.tensor([1, 0]), 0), "bool"),
                       (lambda: torch.mm(x, torch.ones(5)), "2-D")]:
        with pytest.raises((RuntimeError, ValueError), match=error):
            bad()


def test_scatter_with_a_value_and_an_elementwise_max():
    x = torch.zeros(2, 3)
    assert x.scatter(1, torch.tensor([[2], [0]]), value=7.0).tolist() == [[0, 0, 7], [7, 0, 0]]
    assert x.scatter_add(0, torch.tensor([[1, 1, 0]]), torch.ones(1, 3)).tolist() == [[0, 0, 1], [1, 1, 0]]
    assert torch.max(torch.tensor([1.0, 5.0]), torch.tensor([3.0, 2.0])).tolist() == [3.0, 5.0]
    assert torch.tensor([4.0, 1.0]).min(torch.tensor(2.0)).tolist() == [2.0, 1.0]
    assert torch.ones(3, 3).triu(1).sum().item() == 3 and torch.tril(torch.ones(2, 3, dtype=torch.bool)).sum().item() == 3


@pytest.mark.parametrize("call", [
    lambda lib, x: x.sum(2), lambda lib, x: x.mean(-3), lambda lib, x: x.softmax(2), lambda lib, x: x.cumsum(5),
    lambda lib, x: x.mode(2), lambda lib, x: x.kthvalue(1, 3), lambda lib, x: x.argmax(2), lambda lib, x: x.max(4),
    lambda lib, x: lib.cat([x, x], 2), lambda lib, x: lib.stack([x, x], 4), lambda lib, x: x.diagonal(0, 0, 2),
    lambda lib, x: x.unfold(3, 1, 1), lambda lib, x: x.logcumsumexp(2), lambda lib, x: x.prod(2),
])
def test_a_dim_out_of_range_is_torchs_index_error(call):
    """(DimensionError is also a ValueError, what the reductions here raised before.)"""
    real = real_torch()
    with pytest.raises(IndexError, match="Dimension out of range"):
        call(real, real.ones(2, 3))
    with pytest.raises(IndexError, match="Dimension out of range") as caught:
        call(torch, torch.ones(2, 3))
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize("first, second", [("int64", "float32"), ("int32", "float16"), ("uint8", "int8"),
                                           ("bool", "int16"), ("float16", "float64"), ("bool", "bool")])
def test_promote_types_cat_and_stack_follow_torchs_promotion(first, second):
    real = real_torch()
    expected = real.promote_types(getattr(real, first), getattr(real, second))
    ours = torch.promote_types(getattr(torch, first), getattr(torch, second))
    assert str(ours) == str(expected).removeprefix("torch.")
    a, b = torch.zeros(2, dtype=getattr(torch, first)), torch.ones(2, dtype=getattr(torch, second))
    assert torch.cat([a, b]).dtype == ours and torch.stack([a, b]).dtype == ours


def test_sign_of_nan_and_frac_of_integers_are_torchs():
    real = real_torch()
    values = [float("nan"), -2.5, 0.0, 3.0]
    assert torch.sign(torch.tensor(values)).tolist() == real.sign(real.tensor(values)).tolist() == [0.0, -1.0, 0.0, 1.0]
    for value in values:  # 0-d tensors too (np.sign returns a scalar for a 0-d array)
        assert torch.tensor(value).sign().item() == real.tensor(value).sign().item()
    for lib in (real, torch):
        with pytest.raises(NotImplementedError, match="\"frac_cpu\" not implemented for 'Long'"):
            lib.frac(lib.tensor([1, 2]))
    np.testing.assert_array_equal(torch.tensor([1.5, -2.25]).frac().numpy(), [0.5, -0.25])


@pytest.mark.parametrize("p, dim", [("nuc", None), ("nuc", (0, 2)), ("fro", (1, 2)), (2, (0, 2))])
def test_norm_takes_torchs_matrix_norms(p, dim):
    real = real_torch()
    data = np.random.default_rng(3).normal(size=(3, 2, 4)) if dim is not None else np.arange(6.0).reshape(2, 3) + 1
    results = []
    for lib in (torch, real):
        x = lib.tensor(data, requires_grad=True)
        out = lib.norm(x, p, dim)
        out.sum().backward()
        results.append((out.detach().numpy(), x.grad.numpy()))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-10)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-8, atol=1e-12)


def test_a_matrix_norm_over_three_dims_is_refused_as_torchs():
    real = real_torch()
    for lib in (torch, real):
        with pytest.raises(RuntimeError, match="dim must be a 2-tuple"):
            lib.norm(lib.ones(2, 3, 4), "fro", (0, 1, 2))
