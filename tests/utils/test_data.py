"""utils.data: datasets, samplers, default_collate, DataLoader (arguments, batches, workers, fast paths)."""

import collections
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn import Tensor
from tinygrad_cnn.utils.data import (
    BatchSampler, ChainDataset, ConcatDataset, DataLoader, Dataset, IterableDataset, RandomSampler,
    SequentialSampler, Subset, SubsetRandomSampler, TensorDataset, WeightedRandomSampler, default_collate,
    default_convert, get_worker_info, random_split,
)

REPO_DATA = Path(__file__).resolve().parents[2] / "data"


def toy(n=10):
    X = np.arange(n * 4, dtype=np.float32).reshape(n, 1, 2, 2)
    return TensorDataset(Tensor(X), Tensor(np.arange(n)))


class Squares(Dataset):
    """A plain map-style dataset: (i*i as float, {"i": i, "name": str(i)})."""

    def __len__(self):
        return 7

    def __getitem__(self, i):
        if not 0 <= i < 7:
            raise IndexError(i)
        return float(i * i), {"i": i, "name": str(i)}


class Stream(IterableDataset):
    """0..n-1, split between workers by get_worker_info (every num_workers-th element)."""

    def __init__(self, n=10):
        self.n = n

    def __iter__(self):
        info = get_worker_info()
        start, step = (0, 1) if info is None else (info.id, info.num_workers)
        return iter(range(start, self.n, step))

    def __len__(self):
        return self.n


# ------------------------------------------------------------------ datasets
def test_tensor_dataset_samples_batches_and_size_check():
    ds = toy()
    assert len(ds) == 10
    x, y = ds[3]
    np.testing.assert_array_equal(x.numpy(), ds.tensors[0].numpy()[3])
    assert int(y.numpy()) == 3
    xb, yb = ds.batch([4, 1])
    np.testing.assert_array_equal(yb.numpy(), [4, 1])
    items = ds.__getitems__([4, 1])
    assert [int(s[1].numpy()) for s in items] == [4, 1]
    np.testing.assert_array_equal(default_collate(items)[0].numpy(), xb.numpy())
    with pytest.raises(AssertionError, match="Size mismatch"):
        TensorDataset(Tensor(np.zeros(3)), Tensor(np.zeros(4)))
    with pytest.raises(TypeError, match="argument 1"):
        TensorDataset(Tensor(np.zeros(3)), np.zeros(3))


def test_concat_subset_and_chain():
    a, b = toy(3), toy(5)
    cat = a + b
    assert isinstance(cat, ConcatDataset) and len(cat) == 8 and cat.cumulative_sizes == [3, 8]
    assert int(cat[4][1].numpy()) == 1 and int(cat[-1][1].numpy()) == 4
    with pytest.raises(ValueError, match="absolute value"):
        cat[-9]
    with pytest.raises(AssertionError, match="IterableDataset"):
        ConcatDataset([a, Stream()])
    sub = Subset(b, [4, 0, 2])
    assert len(sub) == 3 and int(sub[0][1].numpy()) == 4
    np.testing.assert_array_equal(sub.batch([0, 2])[1].numpy(), [4, 2])
    assert list(Stream(3) + Stream(2)) == [0, 1, 2, 0, 1] and len(ChainDataset([Stream(3), Stream(2)])) == 5


def test_random_split_lengths_fractions_and_generator():
    parts = random_split(range(10), [3, 7], generator=np.random.default_rng(1))
    assert [len(p) for p in parts] == [3, 7]
    assert sorted(list(parts[0]) + list(parts[1])) == list(range(10))
    again = random_split(range(10), [3, 7], generator=np.random.default_rng(1))
    assert list(again[0]) == list(parts[0])
    assert [len(p) for p in random_split(range(30), [0.3, 0.3, 0.4])] == [9, 9, 12]
    assert [len(p) for p in random_split(range(11), [0.5, 0.5])] == [6, 5]  # remainder dealt from the first
    with pytest.raises(ValueError, match="Sum of input lengths"):
        random_split(range(10), [3, 3])
    tg.manual_seed(3)
    first = list(random_split(range(10), [5, 5])[0])
    tg.manual_seed(3)
    assert list(random_split(range(10), [5, 5])[0]) == first


# ------------------------------------------------------------------ samplers
def test_samplers():
    assert list(SequentialSampler(range(4))) == [0, 1, 2, 3]
    perm = list(RandomSampler(range(6), generator=np.random.default_rng(0)))
    assert sorted(perm) == list(range(6))
    longer = list(RandomSampler(range(4), num_samples=10, generator=np.random.default_rng(0)))
    assert len(longer) == 10 and sorted(longer[:4]) == sorted(longer[4:8]) == [0, 1, 2, 3]
    drawn = list(RandomSampler(range(3), replacement=True, num_samples=50, generator=np.random.default_rng(0)))
    assert len(drawn) == 50 and set(drawn) == {0, 1, 2}
    with pytest.raises(TypeError, match="replacement"):
        RandomSampler(range(3), replacement=1)
    with pytest.raises(ValueError, match="num_samples should be a positive integer"):
        RandomSampler([], num_samples=None)
    assert sorted(SubsetRandomSampler([5, 7, 9])) == [5, 7, 9] and len(SubsetRandomSampler([5, 7])) == 2
    weighted = list(WeightedRandomSampler([0, 0, 1, 3], 200, generator=np.random.default_rng(0)))
    assert set(weighted) == {2, 3} and 100 < weighted.count(3) < 190
    assert sorted(WeightedRandomSampler([1, 2, 0, 4], 3, replacement=False)) == [0, 1, 3]
    with pytest.raises(ValueError, match="1d sequence"):
        WeightedRandomSampler([[1.0]], 1)
    with pytest.raises(ValueError, match="without replacement"):
        WeightedRandomSampler([1, 0], 2, replacement=False)
    assert list(BatchSampler(range(10), 3, False)) == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
    assert list(BatchSampler(range(10), 3, True)) == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
    assert len(BatchSampler(range(10), 3, False)) == 4 and len(BatchSampler(range(10), 3, True)) == 3
    with pytest.raises(ValueError, match="batch_size should be a positive integer"):
        BatchSampler(range(3), 0, False)


def test_unseeded_random_sampler_follows_manual_seed():
    sampler = RandomSampler(range(20))
    tg.manual_seed(5)
    a, b = list(sampler), list(sampler)
    tg.manual_seed(5)
    assert list(sampler) == a and a != b


# ------------------------------------------------------------------ collate
def test_default_collate_rules():
    Point = collections.namedtuple("Point", "x y")
    out = default_collate([
        {"t": Tensor(np.ones(2, np.float32)), "a": np.zeros((2, 2), np.int32), "f": 1.5, "i": 3, "b": True,
         "s": "x", "n": np.float32(2), "p": Point(1, 2.0), "l": [1, 2]},
        {"t": Tensor(np.zeros(2, np.float32)), "a": np.ones((2, 2), np.int32), "f": 2.5, "i": 4, "b": False,
         "s": "y", "n": np.float32(3), "p": Point(3, 4.0), "l": [3, 4]},
    ])
    assert out["t"].shape == (2, 2) and out["t"].dtype == np.float32
    assert out["a"].shape == (2, 2, 2) and out["a"].dtype == np.int32
    assert out["f"].dtype == np.float64 and out["i"].dtype == np.int64 and out["b"].dtype == np.bool_
    assert out["s"] == ["x", "y"] and out["n"].dtype == np.float32
    assert isinstance(out["p"], Point) and out["p"].x.dtype == np.int64 and out["p"].y.dtype == np.float64
    assert isinstance(out["l"], list) and [v.numpy().tolist() for v in out["l"]] == [[1, 3], [2, 4]]
    assert isinstance(default_collate([(1, 2), (3, 4)]), list)
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([[1, 2], [3]])
    with pytest.raises(TypeError, match="found"):
        default_collate([object()])
    with pytest.raises(TypeError, match="found"):
        default_collate([np.array(["a"])])
    converted = default_convert((np.arange(3), 5, "s"))
    assert isinstance(converted[0], Tensor) and converted[1:] == [5, "s"]


# ------------------------------------------------------------------ DataLoader
@pytest.mark.parametrize("kwargs, message", [
    (dict(num_workers=-1), "num_workers option should be non-negative"),
    (dict(timeout=-1), "timeout option should be non-negative"),
    (dict(prefetch_factor=2), "prefetch_factor option could only be specified"),
    (dict(persistent_workers=True), "persistent_workers option needs num_workers > 0"),
    (dict(sampler=SequentialSampler(range(10)), shuffle=True), "sampler option is mutually exclusive with shuffle"),
    (dict(batch_sampler=BatchSampler(range(10), 2, False), batch_size=2), "batch_sampler option is mutually exclusive"),
    (dict(batch_sampler=BatchSampler(range(10), 2, False), drop_last=True), "batch_sampler option is mutually"),
    (dict(batch_size=None, drop_last=True), "batch_size=None option disables auto-batching"),
    (dict(batch_size=0), "batch_size should be a positive integer"),
])
def test_loader_argument_checks(kwargs, message):
    with pytest.raises(ValueError, match=message):
        DataLoader(toy(), **kwargs)


def test_loader_checks_iterable_datasets_and_fixed_attributes():
    for kwargs in (dict(shuffle=True), dict(sampler=[0]), dict(batch_sampler=[[0]])):
        with pytest.raises(ValueError, match="DataLoader with IterableDataset: expected unspecified"):
            DataLoader(Stream(), **kwargs)
    loader = DataLoader(toy(), batch_size=4)
    for attr in ("batch_size", "sampler", "drop_last", "dataset"):
        with pytest.raises(ValueError, match=f"{attr} attribute should not be set"):
            setattr(loader, attr, None)


@pytest.mark.parametrize("n, batch, drop_last, sizes", [
    (10, 4, False, [4, 4, 2]), (10, 4, True, [4, 4]), (3, 64, False, [3]), (3, 64, True, []),
])
def test_loader_batches_len_and_attributes(n, batch, drop_last, sizes):
    ds = toy(n)
    loader = DataLoader(ds, batch_size=batch, drop_last=drop_last)
    batches = list(loader)
    assert len(loader) == len(sizes) and [len(xb) for xb, _ in batches] == sizes
    assert loader.dataset is ds and loader.batch_size == batch and loader.drop_last is drop_last
    assert isinstance(loader.sampler, SequentialSampler)
    for xb, yb in batches:
        np.testing.assert_array_equal(xb.numpy(), ds.tensors[0].numpy()[yb.numpy()])


def test_shuffle_with_generator_is_reproducible_and_resumable():
    loader = DataLoader(toy(20), batch_size=6, shuffle=True, generator=np.random.default_rng(4))
    assert isinstance(loader.sampler, RandomSampler)
    first = np.concatenate([yb.numpy() for _, yb in loader])
    assert sorted(first) == list(range(20))
    state = loader.state_dict()
    second = np.concatenate([yb.numpy() for _, yb in loader])
    assert not np.array_equal(first, second)
    loader.load_state_dict(state)
    np.testing.assert_array_equal(np.concatenate([yb.numpy() for _, yb in loader]), second)
    assert DataLoader(toy(), shuffle=True).state_dict() == {}


def test_plain_dataset_collates_samples_and_batch_size_none_converts():
    values, extra = next(iter(DataLoader(Squares(), batch_size=3)))
    np.testing.assert_array_equal(values.numpy(), [0.0, 1.0, 4.0])
    assert values.dtype == np.float64 and extra["name"] == ["0", "1", "2"]
    assert [s[0] for s in DataLoader(Squares(), batch_size=None)] == [float(i * i) for i in range(7)]
    custom = DataLoader(Squares(), batch_size=2, collate_fn=lambda samples: len(samples))
    assert list(custom) == [2, 2, 2, 1]
    sampled = DataLoader(Squares(), batch_sampler=[[6, 0], [3]])
    assert [b[1]["i"].numpy().tolist() for b in sampled] == [[6, 0], [3]]


@pytest.mark.parametrize("workers", [1, 3])
def test_workers_give_the_same_batches_in_order(workers):
    ds = toy(50)
    plain = [yb.numpy() for _, yb in DataLoader(ds, batch_size=7, shuffle=True, generator=np.random.default_rng(0))]
    threaded = DataLoader(ds, batch_size=7, shuffle=True, generator=np.random.default_rng(0), num_workers=workers,
                          prefetch_factor=1)
    got = [yb.numpy() for _, yb in threaded]
    assert len(got) == len(plain)
    for a, b in zip(got, plain):
        np.testing.assert_array_equal(a, b)
    slow = DataLoader(Squares(), batch_size=2, num_workers=workers)
    assert [v.numpy().tolist() for v, _ in slow] == [[0, 1], [4, 9], [16, 25], [36]]


def test_workers_run_in_threads_with_init_and_seeded_randomness():
    seen = []

    class Noisy(Dataset):
        def __len__(self):
            return 12

        def __getitem__(self, i):
            time.sleep(0.001 * (i % 3))  # uneven timing: order must still hold
            return i, float(tg.random.generator().random()), get_worker_info().id, threading.get_ident()

    def run():
        tg.manual_seed(0)
        loader = DataLoader(Noisy(), batch_size=2, num_workers=2, worker_init_fn=seen.append)
        return [tuple(x.numpy().tolist() if isinstance(x, Tensor) else x for x in b[:3]) for b in loader]

    first, second = run(), run()
    assert first == second  # per-worker generators seeded from manual_seed
    assert [b[0] for b in first] == [[2 * k, 2 * k + 1] for k in range(6)]
    assert [b[2] for b in first] == [[k % 2] * 2 for k in range(6)]  # batch k on worker k % 2
    assert sorted(seen) == [0, 0, 1, 1]
    assert get_worker_info() is None


def test_worker_errors_and_timeouts_reach_the_caller():
    class Broken(Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            if i == 2:
                raise KeyError("sample 2 is broken")
            time.sleep(0.5 if i == 3 else 0)
            return i

    with pytest.raises(KeyError, match="sample 2 is broken"):
        list(DataLoader(Broken(), batch_size=1, num_workers=2))
    with pytest.raises(RuntimeError, match="DataLoader timed out after 0.05 seconds"):
        list(DataLoader(Subset(Broken(), [0, 3]), batch_size=1, num_workers=1, timeout=0.05))


def test_iterable_dataset_batches_with_and_without_workers():
    assert [b.numpy().tolist() for b in DataLoader(Stream(), batch_size=4)] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert [b.numpy().tolist() for b in DataLoader(Stream(), batch_size=4, drop_last=True)] == [[0, 1, 2, 3],
                                                                                               [4, 5, 6, 7]]
    assert len(DataLoader(Stream(), batch_size=4)) == 3
    # torch's order: batches round-robin over the workers, each worker batching its own stream
    loader = DataLoader(Stream(), batch_size=2, num_workers=2, persistent_workers=True)
    expected = [[0, 2], [1, 3], [4, 6], [5, 7], [8], [9]]
    assert [b.numpy().tolist() for b in loader] == expected
    assert [b.numpy().tolist() for b in loader] == expected


def test_mnist_fast_path_equals_sample_by_sample():
    from tinygrad_cnn.vision import datasets
    from tinygrad_cnn.vision import transforms as T

    mnist = Subset(datasets.MNIST(REPO_DATA, train=False, transform=T.Compose([T.ToTensor(), T.Normalize((0.1307,),
                                                                                                          (0.3081,))])),
                   range(100))
    fast = list(DataLoader(mnist, batch_size=32))
    slow = list(DataLoader(mnist, batch_size=32, collate_fn=lambda s: default_collate(s)))
    assert [len(x) for x, _ in fast] == [32, 32, 32, 4]
    for (xa, ya), (xb, yb) in zip(fast, slow):
        assert xa.shape[1:] == (1, 28, 28) and xa.dtype == np.float32
        np.testing.assert_array_equal(xa.numpy(), xb.numpy())
        np.testing.assert_array_equal(ya.numpy(), yb.numpy())


def test_unseeded_shuffle_is_the_same_with_or_without_workers_and_plain_iteration_draws_nothing():
    def order(workers):
        tg.manual_seed(11)
        return [yb.numpy().tolist() for _, yb in DataLoader(toy(30), batch_size=4, shuffle=True, num_workers=workers)]

    assert order(0) == order(2)
    before = tg.random.generator().bit_generator.state
    list(DataLoader(toy(30), batch_size=4))
    assert tg.random.generator().bit_generator.state == before
