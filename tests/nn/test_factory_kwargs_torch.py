"""torch.nn's factory keywords ``device=None, dtype=None`` on every layer that makes tensors,
against torch: layers built with dtype=float64 or float16 have torch's state_dict (keys, dtypes,
shapes; the lazy ones once materialized), and in float64, loaded with torch's weights, torch's
outputs; "cpu" and a cpu device are accepted, other devices raise; an integer dtype raises
torch's RuntimeError (a layer of buffers alone takes it, as torch's); dtype=None leaves the
float32 default bit for bit, honours set_default_dtype, and Linear subclasses that pass the
keywords on positionally (pytorch/examples' mnist_forward_forward) work (skipped without torch)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import tinygrad_cnn as tg
import tinygrad_cnn.nn as nn

torch = pytest.importorskip("torch", reason="the oracle tests compare with PyTorch (pip install .[oracle])")

pytestmark = pytest.mark.oracle

RNG = np.random.default_rng(0)

# name, positional arguments, keyword arguments, input shapes (None: integer indices for Embedding)
LAYERS = [
    ("Linear", (4, 3), {}, [(2, 4)]),
    ("Bilinear", (4, 5, 3), {}, [(2, 4), (2, 5)]),
    ("Conv1d", (2, 3, 3), {"padding": 1}, [(2, 2, 7)]),
    ("Conv2d", (2, 4, 3), {"padding": 1, "padding_mode": "reflect", "groups": 2}, [(2, 2, 6, 6)]),
    ("ConvTranspose2d", (2, 3, 3), {"stride": 2, "output_padding": 1}, [(2, 2, 4, 4)]),
    ("BatchNorm1d", (3,), {}, [(4, 3)]),
    ("BatchNorm2d", (3,), {"momentum": None}, [(4, 3, 2, 2)]),
    ("InstanceNorm1d", (3,), {"affine": True, "track_running_stats": True}, [(2, 3, 5)]),
    ("InstanceNorm2d", (3,), {"affine": True}, [(2, 3, 4, 4)]),
    ("InstanceNorm3d", (3,), {"affine": True}, [(2, 3, 2, 3, 3)]),
    ("GroupNorm", (2, 4), {}, [(2, 4, 3)]),
    ("LayerNorm", ((2, 5),), {}, [(3, 2, 5)]),
    ("RMSNorm", (5,), {}, [(2, 5)]),
    ("PReLU", (3,), {"init": 0.1}, [(2, 3, 4)]),
    ("Embedding", (6, 3), {"padding_idx": 1}, None),
    ("RNNCell", (4, 5), {"nonlinearity": "relu"}, [(2, 4)]),
    ("LSTMCell", (4, 5), {}, [(2, 4)]),
    ("GRUCell", (4, 5), {}, [(4,)]),
    ("RNN", (4, 5), {"num_layers": 2}, [(3, 2, 4)]),
    ("LSTM", (4, 5), {"bidirectional": True, "proj_size": 3, "num_layers": 2}, [(3, 2, 4)]),
    ("GRU", (4, 5), {"batch_first": True}, [(2, 3, 4)]),
    ("MultiheadAttention", (8, 2), {"kdim": 6, "add_bias_kv": True}, [(3, 2, 8), (4, 2, 6), (4, 2, 8)]),
    ("TransformerEncoderLayer", (8, 2, 16), {"dropout": 0.0}, [(3, 2, 8)]),
    ("TransformerDecoderLayer", (8, 2, 16), {"dropout": 0.0, "norm_first": True}, [(3, 2, 8), (4, 2, 8)]),
    ("Transformer", (8, 2, 1, 1, 16), {"dropout": 0.0}, [(3, 2, 8), (4, 2, 8)]),
    ("LazyLinear", (3,), {}, [(2, 4)]),
    ("LazyConv2d", (3, 3), {}, [(2, 2, 5, 5)]),
    ("LazyBatchNorm1d", (), {}, [(4, 3)]),
    ("LazyBatchNorm2d", (), {}, [(4, 3, 2, 2)]),
]
IDS = [layer[0] for layer in LAYERS]


def _inputs(shapes) -> list[np.ndarray]:
    return [RNG.integers(0, 6, size=(2, 3))] if shapes is None else [RNG.normal(size=s) for s in shapes]


def _first(result):
    return result[0] if isinstance(result, tuple) else result


def _build(name, args, kwargs, shapes, ours_dtype, torch_dtype):
    """Our layer and torch's in the dtype, the lazy ones materialized by one call."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's Transformer notes that it cannot use nested tensors
        ours = getattr(nn, name)(*args, **kwargs, dtype=ours_dtype)
        theirs = getattr(torch.nn, name)(*args, **kwargs, dtype=torch_dtype)
    if name.startswith("Lazy"):
        xs = _inputs(shapes)
        ours(*(tg.tensor(x).to(ours_dtype) for x in xs))
        theirs(*(torch.tensor(x).to(torch_dtype) for x in xs))
    return ours, theirs


@pytest.mark.parametrize("dtypes", [(tg.float64, torch.float64), (tg.float16, torch.float16)], ids=["f64", "f16"])
@pytest.mark.parametrize("name, args, kwargs, shapes", LAYERS, ids=IDS)
def test_state_dict_dtypes_and_shapes_match_torch(name, args, kwargs, shapes, dtypes):
    ours, theirs = _build(name, args, kwargs, shapes, *dtypes)
    mine = {k: (v.dtype.name, tuple(v.shape)) for k, v in ours.state_dict().items()}
    reference = {k: (str(v.dtype).removeprefix("torch."), tuple(v.shape)) for k, v in theirs.state_dict().items()}
    assert mine == reference
    assert {p.dtype for p in ours.parameters()} == {np.dtype(dtypes[0])}


@pytest.mark.parametrize("name, args, kwargs, shapes", LAYERS, ids=IDS)
def test_float64_forward_matches_torch_from_its_weights(name, args, kwargs, shapes):
    ours, theirs = _build(name, args, kwargs, shapes, tg.float64, torch.float64)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    xs = _inputs(shapes)
    out, ref = _first(ours(*(tg.tensor(x) for x in xs))), _first(theirs(*(torch.tensor(x) for x in xs)))
    assert out.dtype == tg.float64
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("name, args, kwargs, shapes", LAYERS, ids=IDS)
def test_the_cpu_is_accepted_and_other_devices_raise(name, args, kwargs, shapes):
    layer = getattr(nn, name)
    for device in ("cpu", "cpu:0", tg.device("cpu"), None):
        assert isinstance(layer(*args, **kwargs, device=device), nn.Module)
    for device in ("cuda", tg.device("cuda", 0), "mps", 0):
        with pytest.raises(RuntimeError, match="CPU only"):
            layer(*args, **kwargs, device=device)


@pytest.mark.parametrize("name, args, kwargs, shapes", LAYERS, ids=IDS)
def test_a_dtype_parameters_cannot_have_raises_as_torch(name, args, kwargs, shapes):
    with pytest.raises(RuntimeError, match="Only Tensors of floating point and complex dtype can require gradients"):
        getattr(torch.nn, name)(*args, **kwargs, dtype=torch.int64)
    for dtype in (tg.int64, tg.bool, int):
        with pytest.raises(RuntimeError, match="Only Tensors of floating point and complex dtype can require"):
            getattr(nn, name)(*args, **kwargs, dtype=dtype)
    with pytest.raises(RuntimeError, match="complex parameters are not supported"):  # torch's are, ours not
        getattr(nn, name)(*args, **kwargs, dtype=tg.complex64)
    with pytest.raises(TypeError, match="dtype"):
        getattr(nn, name)(*args, **kwargs, dtype="no such dtype")


@pytest.mark.parametrize("build", [lambda lib, d: lib.nn.BatchNorm1d(3, affine=False, dtype=d),
                                   lambda lib, d: lib.nn.LazyBatchNorm2d(affine=False, dtype=d),
                                   lambda lib, d: lib.nn.LayerNorm(3, elementwise_affine=False, dtype=d),
                                   lambda lib, d: lib.nn.Embedding(2, 3, _weight=lib.zeros(2, 3), dtype=d)])
def test_layers_without_new_parameters_take_any_dtype_as_torch(build):
    ours, theirs = build(tg, tg.int64), build(torch, torch.int64)
    assert ({k: v.dtype.name for k, v in ours.state_dict().items()}
            == {k: str(v.dtype).removeprefix("torch.") for k, v in theirs.state_dict().items()})


@pytest.mark.parametrize("name, args, kwargs, shapes", LAYERS, ids=IDS)
def test_no_dtype_or_float32_leaves_the_default_path_bit_for_bit(name, args, kwargs, shapes):
    built, draws_after = [], []
    for factory in ({}, {"device": "cpu", "dtype": tg.float32}):
        tg.manual_seed(3)
        built.append(getattr(nn, name)(*args, **kwargs, **factory))
        draws_after.append(tg.rand(3).numpy())
    default, explicit = built
    for (key, a), b in zip(default.state_dict().items(), explicit.state_dict().values()):
        assert a.dtype == b.dtype and (a.dtype == tg.float32 or key.endswith("num_batches_tracked"))
        assert np.array_equal(a.numpy(), b.numpy()), key
    assert np.array_equal(*draws_after)  # the same random numbers used


def test_the_default_dtype_is_honoured_as_torch():
    try:
        tg.set_default_dtype(tg.float64)
        torch.set_default_dtype(torch.float64)
        for name, args, kwargs, shapes in LAYERS:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # torch's Transformer notes that it cannot use nested tensors
                ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
            if not name.startswith("Lazy"):
                assert ({k: v.dtype.name for k, v in ours.state_dict().items()}
                        == {k: str(v.dtype).removeprefix("torch.") for k, v in theirs.state_dict().items()}), name
        assert nn.LazyLinear(2)(tg.ones(1, 3)).dtype == tg.float64
    finally:
        tg.set_default_dtype(tg.float32)
        torch.set_default_dtype(torch.float32)
    assert nn.Linear(2, 2).weight.dtype == tg.float32


def test_a_linear_subclass_passing_the_factory_keywords_positionally_works():
    class Layer(nn.Linear):  # as pytorch/examples mnist_forward_forward's
        def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
            super().__init__(in_features, out_features, bias, device, dtype)
            self.relu = nn.ReLU()

    layer = Layer(4, 2, True, "cpu", tg.float64)
    assert layer.weight.dtype == tg.float64 and layer(tg.ones(3, 4, dtype=tg.float64)).shape == (3, 2)
    assert nn.Linear(4, 2, device=tg.device("cpu")).weight.dtype == tg.float32


def test_uninitialized_tensors_keep_their_dtype_through_materialize_as_torch():
    for lib in (tg, torch):
        param = lib.nn.UninitializedParameter(dtype=lib.float64)
        buffer = lib.nn.UninitializedBuffer(dtype=lib.int64, persistent=False)
        assert param.requires_grad and not buffer.requires_grad and buffer.persistent is False
        param.materialize((2, 3))
        buffer.materialize((4,))
        assert (tuple(param.shape), tuple(buffer.shape)) == ((2, 3), (4,))
        assert (str(param.dtype), str(buffer.dtype)) in (("float64", "int64"), ("torch.float64", "torch.int64"))
        other = lib.nn.UninitializedParameter()
        other.materialize((1,), dtype=lib.float16)
        assert str(other.dtype).endswith("float16")
        with pytest.raises(RuntimeError, match="Only Tensors of floating point"):
            lib.nn.UninitializedParameter(dtype=lib.int64)
        with pytest.raises(RuntimeError, match="Can't share memory on an uninitialized parameter"):
            lib.nn.UninitializedParameter().share_memory_()
    with pytest.raises(RuntimeError, match="CPU only"):
        nn.UninitializedParameter(device="cuda")


def test_embedding_keeps_a_given_weight_and_from_pretrained_its_embeddings_dtype_as_torch():
    table = RNG.normal(size=(4, 3))
    for lib in (tg, torch):
        given = lib.tensor(table.astype(np.float16))
        layer = lib.nn.Embedding(4, 3, _weight=given, dtype=lib.float64)
        assert str(layer.weight.dtype).endswith("float16")
        assert str(lib.nn.Embedding.from_pretrained(lib.tensor(table)).weight.dtype).endswith("float64")
