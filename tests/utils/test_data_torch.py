"""utils.data against torch.utils.data: collated batches, split lengths, batch samplers, argument errors."""

import collections
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_cnn import Tensor
from tinygrad_cnn.utils import data as ours

torch = pytest.importorskip("torch", reason="the oracle tests need PyTorch (the 'oracle' extra)")
tdata = torch.utils.data

pytestmark = pytest.mark.oracle
Point = collections.namedtuple("Point", "x y")


def _same(a, b):
    """Our collated structure equals torch's: same containers, dtypes and values."""
    if isinstance(b, torch.Tensor):
        assert isinstance(a, Tensor), type(a)
        assert a.dtype == b.numpy().dtype and a.shape == tuple(b.shape)
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    elif isinstance(b, dict):
        assert type(a) is type(b) and a.keys() == b.keys()
        for key in b:
            _same(a[key], b[key])
    elif isinstance(b, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
    else:
        assert a == b


def _sample(rng, i):
    arr = rng.normal(size=(2, 3)).astype(np.float32)
    return {"img": arr, "label": i, "w": float(i) / 3, "flag": i % 2 == 0, "name": f"s{i}",
            "np": np.int16(i), "pair": (i, [i, i + 1]), "pt": Point(np.float64(i), arr[0])}


def test_default_collate_matches_torch():
    rng = np.random.default_rng(0)
    batch = [_sample(rng, i) for i in range(4)]
    mine = ours.default_collate([{**s, "t": Tensor(s["img"])} for s in batch])
    theirs = tdata.default_collate([{**s, "t": torch.from_numpy(s["img"])} for s in batch])
    _same(mine, theirs)
    _same(ours.default_convert(batch[0]), tdata.default_convert(batch[0]))


@given(n=st.integers(1, 60), fractions=st.lists(st.integers(1, 9), min_size=1, max_size=5))
def test_random_split_fraction_lengths_and_warnings_match_torch(n, fractions):
    lengths = [f / sum(fractions) for f in fractions]
    def split(lib):
        with warnings.catch_warnings(record=True) as warned:
            warnings.simplefilter("always")
            try:
                return [len(s) for s in lib.random_split(range(n), lengths)], len(warned)
            except ValueError as error:  # fractions summing to just above 1
                return str(error)[:60], len(warned)

    assert split(ours) == split(tdata)


@given(n=st.integers(0, 40), batch=st.integers(1, 12), drop_last=st.booleans())
def test_batch_sampler_and_sequential_loader_match_torch(n, batch, drop_last):
    assert list(ours.BatchSampler(range(n), batch, drop_last)) == list(tdata.BatchSampler(range(n), batch, drop_last))
    assert len(ours.BatchSampler(range(n), batch, drop_last)) == len(tdata.BatchSampler(range(n), batch, drop_last))
    X = np.arange(n * 2, dtype=np.float64).reshape(n, 2)
    mine = ours.DataLoader(ours.TensorDataset(Tensor(X)), batch_size=batch, drop_last=drop_last)
    theirs = tdata.DataLoader(tdata.TensorDataset(torch.from_numpy(X)), batch_size=batch, drop_last=drop_last)
    assert len(mine) == len(theirs)
    for a, b in zip(mine, theirs, strict=True):
        _same(a, b)


def _error(make):
    try:
        make()
    except Exception as error:  # the type and message are what is compared
        return type(error), str(error)
    return None


@pytest.mark.parametrize("kwargs", [
    dict(num_workers=-1), dict(timeout=-1), dict(prefetch_factor=2), dict(persistent_workers=True),
    dict(shuffle=True, sampler="sampler"), dict(batch_sampler="bs", batch_size=2), dict(batch_sampler="bs", shuffle=True),
    dict(batch_sampler="bs", drop_last=True), dict(batch_size=None, drop_last=True), dict(batch_size=0),
    dict(batch_size=2, drop_last=1),
])
def test_loader_argument_errors_match_torch(kwargs):
    X = np.zeros((6, 2))

    def build(lib, dataset):
        args = dict(kwargs)
        if args.get("sampler") == "sampler":
            args["sampler"] = lib.SequentialSampler(range(6))
        if args.get("batch_sampler") == "bs":
            args["batch_sampler"] = lib.BatchSampler(range(6), 2, False)
        return lambda: lib.DataLoader(dataset, **args)

    mine = _error(build(ours, ours.TensorDataset(Tensor(X))))
    theirs = _error(build(tdata, tdata.TensorDataset(torch.from_numpy(X))))
    assert mine is not None and mine == theirs
