"""The training loop: fit, evaluate, predict, History, early stopping, make_optimizer and epoch_line.

```python
from tinygrad_cnn import Tensor, manual_seed, optim
from tinygrad_cnn.data import load_mnist, standardize
from tinygrad_cnn.utils.data import DataLoader, TensorDataset
import tinygrad_cnn.nn.functional as F
from tinygrad_cnn.train import fit, evaluate
from tinygrad_cnn.models import LeNet

manual_seed(0)
X_train, y_train, X_test, y_test = load_mnist()
model = LeNet()
train = DataLoader(TensorDataset(Tensor(standardize(X_train)), Tensor(y_train)), batch_size=64, shuffle=True)
test = DataLoader(TensorDataset(Tensor(standardize(X_test)), Tensor(y_test)), batch_size=1000)
opt = optim.Adam(model.parameters(), lr=1e-3)
history = fit(model, train, opt, F.cross_entropy, epochs=5, val_loader=test)
loss, acc = evaluate(model, test)
```
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field, fields
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from tinygrad_cnn import optim
from tinygrad_cnn.autograd import no_grad
from tinygrad_cnn.nn.functional import cross_entropy
from tinygrad_cnn.nn.modes import eval_mode
from tinygrad_cnn.progress import Progress, epoch_line  # noqa: F401  (epoch_line: part of this module's API)
from tinygrad_cnn.tensor import Tensor
from tinygrad_cnn.train_checks import ROLLED_BACK, check_finite_gradients, check_labels, loader_labels, sized
from tinygrad_cnn.utils.data import DataLoader, IterableDataset

LossFn = Callable[[Tensor, Tensor], Tensor]
Callback = Callable[[int, "History"], Any]

DEFAULT_LR = {"adam": 1e-3, "sgd": 0.05}


def make_optimizer(name: str, params: Iterable[Tensor], lr: float | None = None,
                   weight_decay: float = 0.0) -> optim.Optimizer:
    """The optimizer called ``name``: "adam" (Adam) or "sgd" (SGD with momentum 0.9), over ``params``.

    ``lr`` None means ``DEFAULT_LR[name]`` (1e-3 for Adam, 0.05 for SGD); ``weight_decay`` is
    the L2 penalty added to the gradient.
    """
    if name not in DEFAULT_LR:
        raise ValueError(f"make_optimizer: unknown optimizer {name!r}; use 'adam' or 'sgd'")
    lr = DEFAULT_LR[name] if lr is None else float(lr)
    if name == "adam":
        return optim.Adam(params, lr=lr, weight_decay=float(weight_decay))
    return optim.SGD(params, lr=lr, momentum=0.9, weight_decay=float(weight_decay))


@dataclass
class History:
    """Per-epoch records of a run; index i is epoch i + 1.

    ``val_loss``/``val_acc`` hold None for epochs run without a validation loader;
    ``seconds`` is each epoch's wall time (training and validation), ``train_seconds`` its
    training part; ``lr`` is the first
    parameter group's learning rate at the start of the epoch. Accuracies are fractions.
    """

    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    val_loss: list[float | None] = field(default_factory=list)
    val_acc: list[float | None] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    train_seconds: list[float] = field(default_factory=list)

    @property
    def epochs(self) -> int:
        """Number of epochs recorded."""
        return len(self.train_loss)

    def to_dict(self) -> dict[str, list]:
        """The records as a JSON-ready dict of lists."""
        return {f.name: list(getattr(self, f.name)) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Sequence]) -> "History":
        """The History saved by ``to_dict``: lists of numbers (None allowed in val_loss/val_acc),
        one per epoch (``train_seconds`` may be empty, as in older files). Unknown keys, other
        values or lists of different lengths are a ValueError; missing keys are empty."""
        names = [f.name for f in fields(cls)]
        unknown = set(data) - set(names)
        if unknown:
            raise ValueError(f"History.from_dict: unknown keys {sorted(unknown)}; expected {sorted(names)}")
        records = {name: data.get(name, []) for name in names}
        epochs = len(records["train_loss"]) if isinstance(records["train_loss"], list) else -1
        for name, values in records.items():
            if not isinstance(values, list) or len(values) not in ((0, epochs) if name == "train_seconds" else (epochs,)):
                raise ValueError(f"History.from_dict: {name} must be a list of {epochs} values, one per epoch, "
                                 f"got {values!r:.80}")
            bad = [v for v in values if not (v is None and name.startswith("val_")) and
                   (isinstance(v, bool) or not isinstance(v, (int, float)))]
            if bad:
                raise ValueError(f"History.from_dict: {name} holds {bad[0]!r:.40}, not a number")
        return cls(**{name: list(values) for name, values in records.items()})

    def truncate(self, epochs: int) -> None:
        """Keep the records of the first ``epochs`` epochs only."""
        for f in fields(self):
            del getattr(self, f.name)[epochs:]

    def best_epoch(self) -> int | None:
        """The 1-based epoch with the highest validation accuracy (ties: lowest val loss), or None."""
        scored = [(acc, -loss, -i) for i, (acc, loss) in enumerate(zip(self.val_acc, self.val_loss), 1)
                  if acc is not None]
        return -max(scored)[2] if scored else None


class EarlyStopping:
    """Stop when the validation loss has not improved by ``min_delta`` for ``patience`` epochs.

    Pass it (or just an int patience) as ``fit(..., early_stopping=...)``. With
    ``restore_best_weights`` the model gets back its weights from the best epoch when
    training stops. ``best_loss`` and ``best_epoch`` (1-based) tell the best seen so far.
    """

    def __init__(self, patience: int = 3, min_delta: float = 0.0, restore_best_weights: bool = False) -> None:
        if not isinstance(patience, int) or isinstance(patience, bool) or patience < 1:
            raise ValueError(f"EarlyStopping: patience must be a positive integer, got {patience!r}")
        if min_delta < 0:
            raise ValueError(f"EarlyStopping: min_delta must be >= 0, got {min_delta!r}")
        self.patience = patience
        self.min_delta = float(min_delta)
        self.restore_best_weights = restore_best_weights
        self.best_loss = math.inf
        self.best_epoch = 0
        self.stopped_epoch: int | None = None
        self._best_state: dict[str, np.ndarray] | None = None

    def step(self, epoch: int, val_loss: float, model: Any) -> bool:
        """Record epoch ``epoch``'s validation loss; True when training should stop now."""
        if val_loss < self.best_loss - self.min_delta:
            self.best_loss, self.best_epoch = val_loss, epoch
            if self.restore_best_weights:
                self._best_state = {k: Tensor(v) for k, v in model.state_dict().items()}  # copies: state_dict shares
            return False
        if epoch - self.best_epoch < self.patience:
            return False
        self.stopped_epoch = epoch
        if self._best_state is not None:
            model.load_state_dict(self._best_state)
        return True


class TrainingState:
    """A copy of the state (``state_dict()``) of each of ``parts`` (a model, its optimizer, a
    scheduler; None is skipped) at the moment it is made; ``restore()`` loads it back, so
    that a run that fails part-way leaves them as they were at that moment, consistent with
    each other."""

    def __init__(self, *parts: Any) -> None:
        self._saved = [(part, copy.deepcopy(part.state_dict())) for part in parts
                       if part is not None and hasattr(part, "state_dict")]

    def restore(self) -> None:
        """Put every part back as it was when this state was taken."""
        for part, state in self._saved:
            part.load_state_dict(state)


def _check_fit_arguments(train_loader: Any, val_loader: Any, callbacks: list, early_stopping: Any) -> None:
    """Refuse bad loaders, callbacks and early stopping before the first step changes the model."""
    for name, loader in (("train_loader", train_loader), ("val_loader", val_loader)):
        if loader is None and name == "val_loader":
            continue
        if not hasattr(loader, "__iter__"):
            raise TypeError(f"fit: {name} must be an iterable of (inputs, labels) batches, got {type(loader).__name__}")
        if sized(loader) and len(loader) == 0:
            raise ValueError(f"fit: {name} yields no batch (empty data, or drop_last with too few samples)")
    for callback in callbacks:
        if not callable(callback):
            raise TypeError(f"fit: callbacks must be callables callback(epoch, history), got {callback!r}")
    if early_stopping is not None and not isinstance(early_stopping, EarlyStopping):
        raise TypeError(f"fit: early_stopping must be an EarlyStopping, a patience (int) or None, "
                        f"got {early_stopping!r}")


def _train_epoch(model: Any, loader: DataLoader, optimizer: Any, loss_fn: LossFn, scheduler: Any,
                 scheduler_interval: str, progress: Progress, epoch: int,
                 labels: dict[str, np.ndarray | None] | None) -> tuple[float, float]:
    """One pass over ``loader``: (mean loss, accuracy). With ``labels`` (the first epoch of a fit
    call), the loaders' labels are checked against the model's outputs at the first step."""
    model.train()
    total_loss, correct, seen = 0.0, 0, 0
    for step, (xb, yb) in enumerate(loader, 1):
        out = model(xb)
        if labels is not None and step == 1:
            check_labels(out, labels, loss_fn)
        loss = loss_fn(out, yb)
        value = loss.item()
        if not math.isfinite(value):
            raise FloatingPointError(f"fit: the training loss became {value} at step {step} of epoch {epoch}; "
                                     f"lower the learning rate ({ROLLED_BACK.format(epoch=epoch)})")
        optimizer.zero_grad()
        loss.backward()
        check_finite_gradients(optimizer, epoch, step, value)
        optimizer.step()
        if scheduler is not None and scheduler_interval == "step":
            scheduler.step()
        n = len(yb)
        total_loss += value * n
        correct += int((out.numpy().argmax(axis=1) == yb.numpy()).sum())
        seen += n
        progress.step(seen, total_loss, correct)
    if seen == 0:
        raise ValueError("fit: the training loader yielded no batch (empty data, or drop_last with too few samples)")
    return total_loss / seen, correct / seen


def _run_epoch(model: Any, train_loader: Any, optimizer: Any, loss_fn: LossFn, val_loader: Any, scheduler: Any,
               scheduler_interval: str, progress: Progress, epoch: int, last: int, history: History,
               labels: dict[str, np.ndarray | None] | None, callbacks: list, early_stopping: Any) -> bool:
    """Epoch ``epoch`` of ``last`` of fit: training, the scheduler, validation, the history's
    records, the epoch line, callbacks and early stopping. True when training should stop."""
    lr = float(optimizer.param_groups[0]["lr"])
    start = time.perf_counter()
    progress.start_epoch(epoch, last)
    try:
        train_loss, train_acc = _train_epoch(model, train_loader, optimizer, loss_fn, scheduler, scheduler_interval,
                                             progress, epoch, labels)
    finally:
        train_seconds = progress.end_training()
    if scheduler is not None and scheduler_interval == "epoch":
        scheduler.step()
    val_loss, val_acc = evaluate(model, val_loader, loss_fn) if val_loader is not None else (None, None)
    history.train_loss.append(train_loss)
    history.train_acc.append(train_acc)
    history.val_loss.append(val_loss)
    history.val_acc.append(val_acc)
    history.seconds.append(time.perf_counter() - start)
    history.lr.append(lr)
    history.train_seconds.append(train_seconds)
    progress.end_epoch(epoch_line(epoch, last, history, progress.samples))
    stop = [callback(epoch, history) is True for callback in callbacks]
    return (early_stopping is not None and early_stopping.step(epoch, val_loss, model)) or any(stop)


def fit(model: Any, train_loader: DataLoader, optimizer: Any, loss_fn: LossFn, epochs: int,
        val_loader: DataLoader | None = None, scheduler: Any = None, callbacks: Iterable[Callback] = (),
        early_stopping: EarlyStopping | int | None = None, quiet: bool = False, *,
        scheduler_interval: str = "epoch", history: History | None = None, verbose: int = 1) -> History:
    """Train ``model`` for ``epochs`` more epochs and return the History.

    Each step: ``loss_fn(model(x), y)`` (a scalar, mean over the batch), backward,
    ``optimizer.step()``. ``scheduler.step()`` runs after every epoch, or after every
    step with ``scheduler_interval="step"``. After each epoch the model is evaluated on
    ``val_loader`` (when given), then each callback is called as ``callback(epoch,
    history)`` (epoch counted from 1 over the whole history); a callback returning True
    stops training. ``early_stopping`` (an EarlyStopping or a patience) stops on the
    validation loss. Passing the ``history`` of an earlier run (as restored from a
    checkpoint) continues it: epochs are numbered after it and appended to it.

    Fails early: the loaders, callbacks and options are checked before training, and the
    labels of the loaders (when their datasets hold them readably) against the model's
    outputs at the first step, before it updates anything. An epoch that fails (a loss or
    gradient that is not finite, an error, Ctrl-C) is undone: the model, optimizer, scheduler
    and history are put back as they were before it, so they always agree with each other.

    ``verbose`` as Keras' ``fit``: 1 (default) a live bar (terminal or Jupyter widget) with
    loss, accuracy, images/s and the ETA of the whole run, and one line per epoch on stdout
    (``progress.epoch_line``); 2 the epoch lines only; 0 nothing. ``quiet=True`` is ``verbose=0``.
    """
    if not isinstance(epochs, int) or isinstance(epochs, bool) or epochs < 0:
        raise ValueError(f"fit: epochs must be a non-negative integer, got {epochs!r}")
    if scheduler_interval not in ("epoch", "step"):
        raise ValueError(f"fit: scheduler_interval must be 'epoch' or 'step', got {scheduler_interval!r}")
    if isinstance(early_stopping, int) and not isinstance(early_stopping, bool):
        early_stopping = EarlyStopping(patience=early_stopping)
    if early_stopping is not None and val_loader is None:
        raise ValueError("fit: early_stopping watches the validation loss and needs a val_loader")
    callbacks = list(callbacks)
    _check_fit_arguments(train_loader, val_loader, callbacks, early_stopping)
    progress = Progress(epochs, len(train_loader) if sized(train_loader) else None, 0 if quiet else verbose)
    history = History() if history is None else history
    labels = {"train_loader": loader_labels(train_loader), "val_loader": loader_labels(val_loader)}
    first = history.epochs + 1
    last = first + epochs - 1
    for epoch in range(first, first + epochs):
        state = TrainingState(model, optimizer, scheduler)
        try:
            stop = _run_epoch(model, train_loader, optimizer, loss_fn, val_loader, scheduler, scheduler_interval,
                              progress, epoch, last, history, labels if epoch == first else None, callbacks,
                              early_stopping)
        except BaseException:
            state.restore()
            history.truncate(epoch - 1)
            raise
        if stop:
            break
    return history


def _batches(data: Any, batch_size: int) -> Iterable[Tensor]:
    """The inputs of ``data`` in order, in batches. A DataLoader over a map-style dataset gives all
    its samples in dataset order (an unshuffled loader over the same dataset and collate_fn, so its
    sampler and generator are not touched); the input is the first element of each batch."""
    if isinstance(data, DataLoader):
        ordered = data
        if data.batch_sampler is not None and not isinstance(data.dataset, IterableDataset):
            size = data.batch_size or getattr(data.batch_sampler, "batch_size", batch_size)
            ordered = DataLoader(data.dataset, batch_size=size, collate_fn=data.collate_fn)
        return (batch[0] if isinstance(batch, (list, tuple)) else batch for batch in ordered)
    X = data.numpy() if isinstance(data, Tensor) else np.asarray(data)
    return (Tensor(X[i:i + batch_size]) for i in range(0, len(X), batch_size))


def evaluate(model: Any, loader: DataLoader, loss_fn: LossFn | None = None) -> tuple[float, float]:
    """Mean loss and accuracy (a fraction) of ``model`` over ``loader``, in eval mode without grad.

    ``loss_fn`` defaults to cross-entropy; it must return the batch mean. Every submodule's
    train/eval mode is restored afterwards (``nn.modes.eval_mode``).
    """
    if loss_fn is None:
        loss_fn = cross_entropy
    total_loss, correct, seen = 0.0, 0, 0
    with eval_mode(model), no_grad():
        for xb, yb in loader:
            out = model(xb)
            n = len(yb)
            total_loss += loss_fn(out, yb).item() * n
            correct += int((out.numpy().argmax(axis=1) == yb.numpy()).sum())
            seen += n
    if seen == 0:
        raise ValueError("evaluate: the loader yielded no batch")
    return total_loss / seen, correct / seen


def predict_proba(model: Any, data: Any, batch_size: int = 256) -> np.ndarray:
    """Class probabilities (softmax of the outputs), float (N, classes), for ``data``.

    ``data`` is an array or Tensor of inputs (N, C, H, W), already preprocessed as in
    training, or a DataLoader: all its dataset's samples in their order, through its collate_fn, in
    batches of its batch size (its labels, shuffling and drop_last are ignored, its generator is
    left alone).
    Runs in eval mode without grad; every submodule's mode is restored afterwards.
    """
    with eval_mode(model), no_grad():
        chunks = [model(xb).softmax(dim=1).numpy() for xb in _batches(data, batch_size)]
    if not chunks:
        raise ValueError("predict_proba: no input")
    return np.concatenate(chunks)


def predict(model: Any, data: Any, batch_size: int = 256) -> np.ndarray:
    """Predicted class indices, int64 (N,), for ``data`` (as ``predict_proba`` takes it)."""
    return predict_proba(model, data, batch_size).argmax(axis=1).astype(np.int64)
