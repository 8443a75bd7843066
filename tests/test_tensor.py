"""Tensor construction, attributes, factories, seeding, comparisons and error messages."""

import numpy as np
import pytest

import tinygrad_cnn as tg


def test_lists_and_numbers_default_to_float32_arrays_keep_their_dtype():
    assert tg.Tensor([1, 2, 3]).dtype == np.float32
    assert tg.Tensor(2.5).dtype == np.float32 and tg.Tensor(2.5).shape == ()
    assert tg.Tensor(np.arange(3)).dtype == np.arange(3).dtype
    assert tg.Tensor(np.ones(2, dtype=np.float64)).dtype == np.float64
    assert tg.Tensor([1, 2], dtype=np.int64).dtype == np.int64


def test_tensor_from_tensor_copies_data():
    a = tg.Tensor([1.0, 2.0])
    b = tg.Tensor(a)
    b.numpy()[0] = 9.0
    assert a.numpy()[0] == 1.0


def test_attributes():
    t = tg.Tensor(np.arange(6, dtype=np.float32).reshape(2, 3), requires_grad=True)
    assert t.shape == (2, 3) and t.ndim == 2 and t.size() == (2, 3) and t.size(1) == 3 and t.numel() == 6 and len(t) == 2
    assert t.T.shape == (3, 2) and t.is_leaf
    assert t.numpy() is t.numpy()
    assert t[1, 2].item() == 5.0
    assert t.tolist() == [[0, 1, 2], [3, 4, 5]]
    with pytest.raises(ValueError, match="one-element"):
        t.item()


def test_repr_shows_data_shape_and_grad_fn():
    x = tg.Tensor([1.0, 2.0], requires_grad=True)
    assert "requires_grad=True" in repr(x)
    text = repr(x * 2.0)
    assert "[2., 4.]" in text and "shape=(2,)" in text and "grad_fn=<MulBackward0>" in text


def test_factories_shapes_dtypes_and_requires_grad():
    assert tg.zeros(2, 3).shape == (2, 3) and tg.zeros((2, 3)).numpy().sum() == 0
    assert tg.ones(4, dtype=np.float64).dtype == np.float64
    assert tg.full((2, 2), 7.0).numpy().tolist() == [[7.0, 7.0], [7.0, 7.0]]
    assert tg.eye(3).numpy().trace() == 3.0 and tg.eye(2, 3).shape == (2, 3)
    assert tg.arange(5).dtype == np.int64 and tg.arange(0.0, 1.0, 0.25).shape == (4,)
    assert tg.arange(5).tolist() == [0, 1, 2, 3, 4]
    assert tg.randn(3, 4, requires_grad=True).requires_grad
    base = tg.Tensor(np.ones((2, 5), dtype=np.float64))
    assert tg.zeros_like(base).dtype == np.float64 and tg.ones_like(base).shape == (2, 5)
    r = tg.rand(1000)
    assert 0.0 <= r.numpy().min() and r.numpy().max() < 1.0


def test_manual_seed_makes_randomness_reproducible():
    tg.manual_seed(123)
    a = tg.randn(5).numpy().copy()
    tg.manual_seed(123)
    b = tg.randn(5).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, tg.randn(5).numpy())
    with pytest.raises(ValueError, match="seed"):
        tg.manual_seed(-1)


def test_comparisons_return_boolean_tensors_without_grad():
    x = tg.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    assert (x > 1.5).tolist() == [False, True, True]
    assert (x == tg.Tensor([1.0, 0.0, 3.0])).tolist() == [True, False, True]
    assert (x <= 2.0).dtype == np.bool_ and not (x < 2.0).requires_grad
    assert ((x >= 2.0).to(np.float32) * 1.0).tolist() == [0.0, 1.0, 1.0]


def test_argmax_and_max_with_dim_return_indices_as_torch():
    x = tg.Tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]])
    assert x.argmax().item() == 3
    assert x.argmax(dim=1).tolist() == [1, 0]
    values, indices = x.max(dim=1)
    assert values.tolist() == [5.0, 7.0] and indices.tolist() == [1, 0]
    assert x.min(1).indices.tolist() == [0, 1]
    assert x.max().item() == 7.0


def test_scalar_arithmetic_keeps_float32():
    x = tg.Tensor([1.0, 2.0])
    for y in (x + 1.5, 2.0 * x, x / 3.0, 1.0 - x, x ** 2, np.float64(2.0) * x, x * np.int64(2),
              x / np.array(2.0), x + [1, 2], x ** np.float64(0.5)):
        assert y.dtype == np.float32


def test_comparisons_do_not_round_the_other_side():
    labels = tg.Tensor(np.array([0, 1, 2]))
    assert (labels < 1.5).tolist() == [True, True, False]
    assert (labels == 1.5).tolist() == [False, False, False]


def test_tensor_infers_dtypes_as_torch_tensor():
    assert tg.tensor([0, 1]).dtype == np.int64
    assert tg.tensor([0.5, 1]).dtype == np.float32
    assert tg.tensor([True]).dtype == np.bool_
    assert tg.tensor(np.zeros(2, dtype=np.float64)).dtype == np.float64


def test_pow_of_integer_tensors_and_at_zero():
    np.testing.assert_allclose((tg.Tensor(np.array([4, 9])) ** 0.5).numpy(), [2.0, 3.0])
    a = tg.Tensor([0.0, 2.0], requires_grad=True)
    (a ** 0).sum().backward()
    assert a.grad.numpy().tolist() == [0.0, 0.0]
    a = tg.Tensor([0.0, 2.0], requires_grad=True)
    b = tg.Tensor([2.0, 3.0], requires_grad=True)
    (a ** b).sum().backward()
    np.testing.assert_allclose(a.grad, [0.0, 12.0])
    np.testing.assert_allclose(b.grad, [0.0, 8.0 * np.log(2.0)], rtol=1e-6)


def test_max_over_one_dim_sends_the_gradient_to_the_returned_index_on_ties():
    x = tg.Tensor([[1.0, 1.0], [3.0, 2.0]], requires_grad=True)
    values, indices = x.max(1)
    values.sum().backward()
    assert indices.tolist() == [0, 0]
    assert x.grad.numpy().tolist() == [[1.0, 0.0], [1.0, 0.0]]
    y = tg.Tensor([[1.0, 1.0]], requires_grad=True)
    y.amax(1).sum().backward()
    assert y.grad.numpy().tolist() == [[0.5, 0.5]]


def test_ops_refuse_non_tensor_inputs_by_name():
    import tinygrad_cnn.nn.functional as F

    with pytest.raises(TypeError, match="relu: input 0 must be a Tensor, got ndarray"):
        F.relu(np.ones(3))


def test_matmul_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"\(2, 3\) and \(4, 5\)"):
        tg.ones(2, 3) @ tg.ones(4, 5)


def test_reshape_and_axis_errors_are_clear():
    with pytest.raises(ValueError, match=r"reshape: cannot reshape a tensor of shape \(2, 3\) into \(4, -1\)"):
        tg.ones(2, 3).reshape(4, -1)
    with pytest.raises(ValueError, match="sum: dim 2 is out of range"):
        tg.ones(2, 3).sum(2)
    with pytest.raises(ValueError, match=r"expand: shape \(2, 3\) cannot be expanded"):
        tg.ones(2, 3).expand(4, 3)
    with pytest.raises(ValueError, match=r"permute: dims \(0, 1, 5\) are not a permutation"):
        tg.ones(2, 3, 4).permute(0, 1, 5)
    with pytest.raises(ValueError, match="cat: shapes"):
        tg.cat([tg.ones(2, 3), tg.ones(2, 4)], dim=0)


def test_softmax_family_is_finite_for_huge_inputs():
    x = tg.Tensor([[1e4, 0.0, -1e4], [-1e4, -1e4, -1e4]], requires_grad=True)
    for out in (x.softmax(1), x.log_softmax(1), x.logsumexp(1)):
        assert np.isfinite(out.numpy()).all()
    np.testing.assert_allclose(x.softmax(1).numpy()[0], [1.0, 0.0, 0.0])
    np.testing.assert_allclose(x.logsumexp(1).numpy(), [1e4, -1e4 + np.log(3.0)], rtol=1e-6)
    x.log_softmax(1).sum().backward()
    assert np.isfinite(x.grad).all()


def test_getitem_with_repeated_indices_accumulates_gradient():
    x = tg.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[np.array([0, 0, 2])].sum().backward()
    np.testing.assert_allclose(x.grad, [2.0, 0.0, 1.0])
    y = tg.Tensor([[1.0, -2.0], [3.0, -4.0]], requires_grad=True)
    y[y > 0].sum().backward()
    np.testing.assert_allclose(y.grad, [[1.0, 0.0], [1.0, 0.0]])


def test_split_and_casts():
    x = tg.Tensor(np.arange(5, dtype=np.float32), requires_grad=True)
    parts = x.split(2)
    assert [p.shape for p in parts] == [(2,), (2,), (1,)]
    d = x.double()
    assert d.dtype == np.float64 and d.requires_grad
    (d * 2.0).sum().backward()
    assert x.grad.numpy().dtype == np.float32 and x.long().dtype == np.int64


@pytest.mark.parametrize("args", [(2, 3), (1, 4, 2), (0, 3)])
def test_the_legacy_sizes_constructor_makes_torchs_shape(args):
    torch = pytest.importorskip("torch")
    ours, theirs = tg.Tensor(*args), torch.Tensor(*args)
    assert ours.shape == tuple(theirs.shape) and ours.dtype == np.float32 and not ours.requires_grad
    assert tg.Tensor(tg.Size(args)).shape == tuple(torch.Tensor(torch.Size(args)).shape)
    np.testing.assert_array_equal(tg.Tensor(*args).fill_(-1).numpy(), theirs.fill_(-1).numpy())


def test_the_legacy_constructor_without_data_and_with_bad_sizes():
    assert tg.Tensor().shape == (0,) and tg.Tensor().dtype == np.float32
    assert tg.Tensor([2, 3]).tolist() == [2.0, 3.0]  # one list is data, as torch's
    with pytest.raises(TypeError, match="sizes must be non-negative ints"):
        tg.Tensor(2, 3.0)
