"""Class 4 of issue 16: fit refuses bad loaders, callbacks, options and out-of-range labels (in
the training or the validation set) before the first step, stops before a step whose gradient
is not finite even though the loss is, and a fit that fails part-way (train.fit or the
estimator's warm-start fit/partial_fit) leaves model, optimizer and history consistent."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_cnn.nn.functional as F
from tinygrad_cnn import nn, optim
from tinygrad_cnn.data.augment import Standardize
from tinygrad_cnn.utils.data import ConcatDataset, DataLoader, IterableDataset, Subset, TensorDataset
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
    with pytest.raises(FloatingPointError, match="gradient.*non-finite at step 1 of epoch 1"):
        fit(model, loader, opt, F.cross_entropy, 1, quiet=True)
    assert weights(model) == before and not opt.state


def labelled(labels, wrap=None):
    """A loader of len(labels) random 4-feature samples with these labels, its dataset wrapped by ``wrap``."""
    X = np.random.default_rng(1).random((len(labels), 4), dtype=np.float32)
    data = TensorDataset(Tensor(X), Tensor(np.asarray(labels, dtype=np.int64)))
    return DataLoader(data if wrap is None else wrap(data), batch_size=4)


WRAPS = {
    "tensor_dataset": None,
    "subset": lambda d: Subset(d, list(range(len(d)))[::-1]),
    "concat": lambda d: ConcatDataset([Subset(d, range(4)), Subset(d, range(4, len(d)))]),
    "standardize": lambda d: Standardize(d, 0.5, 0.25),
}


@pytest.mark.parametrize("wrap", WRAPS)
@pytest.mark.parametrize("which", ["train_loader", "val_loader"])
@given(bad=st.sampled_from([2, 7, -1, -5]), at=st.integers(0, 11))
@settings(max_examples=4, deadline=None)
def test_labels_out_of_range_anywhere_are_refused_before_the_first_step(which, wrap, bad, at):
    _, loader, _ = setup()
    model = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.Linear(3, 2))  # a forward changes its buffers
    opt = optim.SGD(model.parameters(), lr=0.1)
    labels = np.arange(12) % 2
    labels[at] = bad
    loaders = {"train_loader": loader, "val_loader": loader, which: labelled(labels, WRAPS[wrap])}
    before = weights(model) + [b.numpy().tolist() for b in model.buffers()]
    with pytest.raises(ValueError, match=rf"fit: {which} has labels outside the model's 2 classes \[0, 1\]: \[{bad}\]"):
        fit(model, loaders["train_loader"], opt, F.cross_entropy, 2, val_loader=loaders["val_loader"], quiet=True)
    assert weights(model) + [b.numpy().tolist() for b in model.buffers()] == before and not opt.state


def test_the_loss_ignore_index_is_not_out_of_range():
    model, loader, opt = setup()
    history = fit(model, labelled([0, 1, -100, 1, 0, 1, 0, -100]), opt, F.cross_entropy, 1, quiet=True,
                  val_loader=labelled([1, 0, 1, 0]))
    assert history.epochs == 1


def test_a_loader_without_len_trains():
    class Stream(IterableDataset):
        def __iter__(self):
            X = np.random.default_rng(2).random((8, 4), dtype=np.float32)
            return iter([(Tensor(x), Tensor(np.int64(i % 2))) for i, x in enumerate(X)])

    model, _, opt = setup()
    history = fit(model, DataLoader(Stream(), batch_size=4), opt, F.cross_entropy, 2, quiet=True)
    assert history.epochs == 2 and np.isfinite(history.train_loss).all()


def plain(state):
    """A state dict with every Tensor as nested lists, to compare exactly."""
    if isinstance(state, dict):
        return {k: plain(v) for k, v in state.items()}
    if isinstance(state, (list, tuple)):
        return [plain(v) for v in state]
    return state.numpy().tolist() if isinstance(state, Tensor) else state


def snapshot(model, opt, scheduler, history):
    return (weights(model) + [b.numpy().tolist() for b in model.buffers()], plain(opt.state_dict()),
            plain(scheduler.state_dict()), history.to_dict())


@given(epochs=st.integers(1, 3), fail_at=st.integers(1, 9), interval=st.sampled_from(["epoch", "step"]),
       error=st.sampled_from([KeyboardInterrupt, RuntimeError, "nan"]))
@settings(max_examples=20, deadline=None)
def test_a_failing_warm_start_fit_leaves_model_optimizer_scheduler_and_history_consistent(epochs, fail_at, interval,
                                                                                          error):
    """A run of 1 epoch, then fit for ``epochs`` more whose loss fails at its ``fail_at``-th step:
    model (weights and BatchNorm buffers), optimizer, scheduler and history are those at the end
    of the last complete epoch, recorded by a callback."""
    rng = np.random.default_rng(0)
    loader = DataLoader(TensorDataset(Tensor(rng.random((8, 4), dtype=np.float32)), Tensor(np.arange(8) % 2)),
                        batch_size=4, shuffle=True, generator=np.random.default_rng(0))
    model = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.Linear(3, 2))
    opt = optim.Adam(model.parameters(), lr=0.01)
    scheduler = optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    history = fit(model, loader, opt, F.cross_entropy, 1, quiet=True, scheduler=scheduler,
                  scheduler_interval=interval)
    ends = [snapshot(model, opt, scheduler, history)]
    calls = []

    def loss_fn(out, target):
        calls.append(1)
        if len(calls) == fail_at:
            if error == "nan":
                return F.cross_entropy(out, target) * np.float32(np.nan)
            raise error("injected")
        return F.cross_entropy(out, target)

    record = lambda epoch, h: ends.append(snapshot(model, opt, scheduler, h))  # noqa: E731
    expected = FloatingPointError if error == "nan" else error
    if fail_at > 2 * epochs:  # two steps an epoch: this fit ends before the failure
        fit(model, loader, opt, loss_fn, epochs, quiet=True, scheduler=scheduler, scheduler_interval=interval,
            history=history, callbacks=[record])
        assert snapshot(model, opt, scheduler, history) == ends[-1] and history.epochs == 1 + epochs
        return
    with pytest.raises(expected):
        fit(model, loader, opt, loss_fn, epochs, quiet=True, scheduler=scheduler, scheduler_interval=interval,
            history=history, callbacks=[record])
    assert history.epochs == 1 + (fail_at - 1) // 2
    assert snapshot(model, opt, scheduler, history) == ends[-1]


class Fuse(nn.Module):
    """A small network whose training forward raises once ``Fuse.left`` reaches 0 (None: never)."""

    left = None

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(16, 2))

    def forward(self, x):
        if self.training and Fuse.left is not None:
            Fuse.left -= 1
            if Fuse.left == 0:
                raise KeyboardInterrupt
        return self.net(x)


@pytest.mark.parametrize("call", ["fit", "partial_fit"])
def test_a_failing_warm_start_estimator_fit_changes_nothing(call):
    from tinygrad_cnn.estimator import CNNClassifier

    rng = np.random.default_rng(0)
    X, y = rng.random((16, 1, 4, 4), dtype=np.float32), np.arange(16) % 2
    clf = CNNClassifier(Fuse(), epochs=3, batch_size=4, random_state=0, warm_start=True).fit(X, y)
    before = (weights(clf.module_), plain(clf.optimizer_.state_dict()), clf.history_)
    Fuse.left = 6 if call == "fit" else 3  # 4 steps an epoch: fit fails in its second epoch, partial_fit in its one
    try:
        with pytest.raises(KeyboardInterrupt):
            clf.fit(X, y) if call == "fit" else clf.partial_fit(X, y)
    finally:
        Fuse.left = None
    assert (weights(clf.module_), plain(clf.optimizer_.state_dict()), clf.history_) == before
    assert len(clf.history_["train_loss"]) == 3
