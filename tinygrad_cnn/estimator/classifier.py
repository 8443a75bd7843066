"""CNNClassifier: the scikit-learn protocol (fit, partial_fit, predict, predict_proba, score) around train.fit."""

from __future__ import annotations

import copy
import math
from contextlib import contextmanager
from typing import Any, Iterator, Sequence

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from tinygrad_cnn import random as _random
from tinygrad_cnn.argcheck import positive_int
from tinygrad_cnn.data.loader import shuffle_generator
from tinygrad_cnn.estimator.networks import build_module
from tinygrad_cnn.estimator.validation import encode_labels, infer_input_shape, is_real
from tinygrad_cnn.nn import Module
from tinygrad_cnn.nn.functional import cross_entropy
from tinygrad_cnn.tensor import Tensor
from tinygrad_cnn.train import DEFAULT_LR, History, TrainingState, evaluate, fit, make_optimizer, predict_proba
from tinygrad_cnn.utils.data import DataLoader, TensorDataset

_FLOATS = (np.float32, np.float64)
_PREDICT_BATCH = 256


@contextmanager
def _seeded(seed: int) -> Iterator[None]:
    """Run the block with the package generator seeded by ``seed``; its state is restored afterwards."""
    outer = _random.generator().bit_generator.state
    _random.manual_seed(seed)
    try:
        yield
    finally:
        _random.generator().bit_generator.state = outer


class CNNClassifier(ClassifierMixin, BaseEstimator):
    """A convolutional network as a scikit-learn classifier: fit, predict, predict_proba, score.

    Parameters (stored unchanged, as scikit-learn requires):

    module : "auto", "lenet", "simple_cnn", "lenet5", a Module, or a list of layers
        The network. "auto" (default) is LeNet for 1x28x28 images and ``small_cnn`` sized
        to the input otherwise. A registry name builds that model (it expects 1x28x28
        images) with one output per class. A Module, or a list of layers (put in a
        Sequential, as the seed notebook builds models), is deep-copied on each fit (so
        the argument itself is never trained) and must end with one output per class.
    epochs : int, default 5
        Passes over the training data per ``fit`` (``partial_fit`` runs one).
    batch_size : int, default 64
    optimizer : "adam" or "sgd", default "adam"
        Adam, or SGD with momentum 0.9.
    lr : float or None, default None
        Learning rate; None means 1e-3 for Adam and 0.05 for SGD.
    weight_decay : float, default 0.0
        L2 penalty added to the gradient.
    validation_fraction : float, default 0.0
        Fraction of the training data held out (stratified) to fill ``history_``'s
        validation columns when ``fit`` gets no ``X_val``/``y_val``.
    random_state : None, int or numpy RandomState
        Seeds the weights, shuffling and dropout: the same int gives the same predictions.
        Fitting does not disturb the package generator (``tinygrad_cnn.manual_seed``).
    verbose : int, default 0
        1 or more prints a line per epoch (and a progress bar on a terminal).
    warm_start : bool, default False
        When True, ``fit`` on a fitted estimator trains its network further instead of
        starting anew.
    input_shape : None or tuple
        One sample's shape, (C, H, W) or (H, W), to reshape rows of features into
        images. None infers it: the sample shape of 3-D (N, H, W) or 4-D (N, C, H, W)
        input; for 2-D (N, F) input, a 1xSxS image when F = S*S (784 -> 28x28,
        64 -> 8x8), else a 1x1xF strip.

    Fitted attributes: ``classes_`` (the sorted labels, any type), ``n_features_in_``
    (features per sample, C*H*W), ``input_shape_`` (C, H, W), ``module_`` (the trained
    network), ``optimizer_``, ``history_`` (a dict of per-epoch lists: train_loss,
    train_acc, val_loss, val_acc, seconds, lr; e.g. ``history_["val_acc"]``).

    X may be any layout with n_features_in_ values per sample: (N, 784), (N, 28, 28) and
    (N, 1, 28, 28) are the same data. Values are used as given (scale them yourself,
    e.g. in a Pipeline); inputs are converted to the network's dtype (float32).
    """

    def __init__(self, module: str | Module | Sequence[Module] = "auto", *, epochs: int = 5, batch_size: int = 64,
                 optimizer: str = "adam", lr: float | None = None, weight_decay: float = 0.0,
                 validation_fraction: float = 0.0, random_state: Any = None, verbose: int = 0,
                 warm_start: bool = False, input_shape: tuple[int, ...] | None = None) -> None:
        self.module = module
        self.epochs = epochs
        self.batch_size = batch_size
        self.optimizer = optimizer
        self.lr = lr
        self.weight_decay = weight_decay
        self.validation_fraction = validation_fraction
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start
        self.input_shape = input_shape

    # ------------------------------------------------------------------ checks
    def _check_params(self) -> None:
        for name in ("epochs", "batch_size"):
            positive_int(getattr(self, name), name, "CNNClassifier")
        if self.optimizer not in DEFAULT_LR:
            raise ValueError(f"CNNClassifier: optimizer must be 'adam' or 'sgd', got {self.optimizer!r}")
        if self.lr is not None and not (is_real(self.lr) and 0 < self.lr < math.inf):
            raise ValueError(f"CNNClassifier: lr must be a positive number or None, got {self.lr!r}")
        if not (is_real(self.weight_decay) and 0 <= self.weight_decay < math.inf):
            raise ValueError(f"CNNClassifier: weight_decay must be a number >= 0, got {self.weight_decay!r}")
        if not (is_real(self.validation_fraction) and 0 <= self.validation_fraction < 1):
            raise ValueError(
                f"CNNClassifier: validation_fraction must be in [0, 1), got {self.validation_fraction!r}"
            )

    def _validate(self, X: Any, y: Any = None, *, reset: bool) -> tuple[np.ndarray, Any, tuple[int, ...] | None]:
        """(X as (N, F) rows, y as 1-D or None, the sample shape of 3-D/4-D X or None).

        X must be finite, non-empty and at least 2-D (scikit-learn's errors); with
        ``reset`` n_features_in_ is set, else X must have that many values per sample and 3-D/4-D
        X samples the fitted layout (an (H, W, C) image is not silently reshaped into (C, H, W)).
        """
        sample_shape = None
        if not hasattr(X, "ndim"):
            X = np.asarray(X)
        if X.ndim > 2:
            X = check_array(X, allow_nd=True, dtype=_FLOATS, estimator=self, input_name="X")
            sample_shape = X.shape[1:]
            X = X.reshape(len(X), -1)
            fitted = getattr(self, "input_shape_", None)
            if (not reset and fitted is not None and math.prod(sample_shape) == math.prod(fitted)
                    and sample_shape not in (fitted, fitted[1:] if fitted[0] == 1 else None)):
                raise ValueError(f"X has samples of shape {sample_shape}, but {type(self).__name__} was fitted on "
                                 f"samples of shape {fitted} (channels first, (C, H, W)); transpose X to match")
        if y is None and not reset:
            return validate_data(self, X, reset=False, dtype=_FLOATS), None, sample_shape
        X, y = validate_data(self, X, y, reset=reset, dtype=_FLOATS)
        return X, y, sample_shape

    def _images(self, X: np.ndarray) -> np.ndarray:
        """Validated (N, F) rows as (N, C, H, W) in the network's dtype."""
        dtype = next(self.module_.parameters()).dtype
        return X.astype(dtype, copy=False).reshape((len(X),) + self.input_shape_)

    def _dataset(self, X: np.ndarray, y_index: np.ndarray) -> TensorDataset:
        """(image, class index) pairs of validated rows X (N, F) and encoded labels (N,)."""
        return TensorDataset(Tensor(self._images(X)), Tensor(np.asarray(y_index)))

    # ------------------------------------------------------------------ building
    def _staged(self) -> "CNNClassifier":
        """A shallow copy for fit/partial_fit to work on. scikit-learn's validate_data sets
        n_features_in_ (and feature_names_in_) on the estimator it checks, and the new fitted
        state is built on the copy too; ``_commit`` takes it all over only once everything
        succeeded, so a fit that fails leaves the estimator as it was."""
        staged = copy.copy(self)
        if hasattr(self, "_rng"):
            staged._rng = copy.deepcopy(self._rng)
        return staged

    def _commit(self, staged: "CNNClassifier") -> "CNNClassifier":
        """Take over every attribute of ``staged`` (see ``_staged``); returns self."""
        vars(self).clear()
        vars(self).update(vars(staged))
        return self

    def _initialize(self, n_features: int, sample_shape: tuple[int, ...] | None, classes: np.ndarray) -> None:
        """Fresh fitted state: input shape, a new network and optimizer, an empty history."""
        input_shape = infer_input_shape(self.input_shape, sample_shape, n_features)
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        with _seeded(seed):
            module = build_module(self.module, input_shape, len(classes))
        self.classes_ = classes
        self.input_shape_ = input_shape
        self.module_ = module
        self._rng = np.random.default_rng(seed)
        self.optimizer_ = make_optimizer(self.optimizer, module.parameters(), self.lr, self.weight_decay)
        self.history_ = History().to_dict()

    # ------------------------------------------------------------------ training
    def _train(self, X: np.ndarray, y_index: np.ndarray, epochs: int,
               validation: tuple[np.ndarray, np.ndarray] | None) -> None:
        """Train ``module_`` and ``optimizer_`` on (X, y_index) for ``epochs`` epochs, appending to
        ``history_``. All or nothing: when training fails (a diverging loss, Ctrl-C, ...) the
        module and optimizer, which a warm start shares with the estimator, are put back as they
        were, so they agree with the history_ the failed call leaves untouched."""
        history = History.from_dict(self.history_)
        before = TrainingState(self.module_, self.optimizer_)
        with _seeded(int(self._rng.integers(2**63))):
            train_loader = DataLoader(self._dataset(X, y_index), batch_size=int(self.batch_size), shuffle=True,
                                      generator=shuffle_generator())
            val_loader = None
            if validation is not None:
                val_loader = DataLoader(self._dataset(*validation), batch_size=max(int(self.batch_size), _PREDICT_BATCH))
            try:
                fit(self.module_, train_loader, self.optimizer_, cross_entropy, epochs, val_loader=val_loader,
                    verbose=2 if self.verbose else 0, history=history)
            except BaseException:
                before.restore()
                raise
        self.history_ = history.to_dict()

    def fit(self, X: Any, y: Any, X_val: Any = None, y_val: Any = None) -> "CNNClassifier":
        """Train on X (N, F), (N, H, W) or (N, C, H, W) with labels y (N,) for ``epochs`` epochs; returns self.

        ``X_val``/``y_val`` (labels among y's) are evaluated after every epoch into
        ``history_``; without them, ``validation_fraction`` of X is held out for that.
        With ``warm_start`` and a fitted estimator, training continues where it stopped.
        Everything is checked before anything changes, and a fit that fails (on its input, or
        in training: a diverging loss, Ctrl-C) leaves the estimator as it was.
        """
        self._check_params()
        if (X_val is None) != (y_val is None):
            raise ValueError("CNNClassifier.fit: pass both X_val and y_val, or neither")
        warm = bool(self.warm_start) and hasattr(self, "module_")
        new = self._staged()
        X, y, sample_shape = new._validate(X, y, reset=not warm)
        check_classification_targets(y)
        if warm:
            classes, y_index = self.classes_, encode_labels(self.classes_, y)
        else:
            classes, y_index = np.unique(y, return_inverse=True)
        validation = None
        if X_val is not None:
            X_val, y_val, _ = new._validate(X_val, y_val, reset=False)
            validation = (X_val, encode_labels(classes, y_val, "y_val"))
        if not warm:
            new._initialize(X.shape[1], sample_shape, classes)
        if validation is None and self.validation_fraction > 0:
            X, X_held, y_index, y_held = train_test_split(
                X, y_index, test_size=self.validation_fraction, stratify=y_index,
                random_state=int(new._rng.integers(np.iinfo(np.int32).max)))
            validation = (X_held, y_held)
        new._train(X, y_index, int(self.epochs), validation)
        return self._commit(new)

    def partial_fit(self, X: Any, y: Any, classes: Any = None) -> "CNNClassifier":
        """One epoch over (X, y), continuing from the current network; returns self.

        ``classes`` (every label that will ever be seen) is required on the first call, as
        for scikit-learn's other incremental classifiers; later calls may repeat it. A call
        that fails (on its input, or in training) leaves the estimator as it was.
        """
        self._check_params()
        first = not hasattr(self, "module_")
        if first and classes is None:
            raise ValueError("CNNClassifier.partial_fit: classes must be passed on the first call")
        if classes is None:
            classes = self.classes_
        else:
            classes = np.unique(np.asarray(classes))
            if not first and not np.array_equal(classes, self.classes_):
                raise ValueError(f"CNNClassifier.partial_fit: classes={classes.tolist()} differs from classes_ "
                                 f"{self.classes_.tolist()} of the earlier calls")
        new = self._staged()
        X, y, sample_shape = new._validate(X, y, reset=first)
        check_classification_targets(y)
        y_index = encode_labels(classes, y)
        if first:
            new._initialize(X.shape[1], sample_shape, classes)
        new._train(X, y_index, 1, None)
        return self._commit(new)

    # ------------------------------------------------------------------ inference
    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities (N, len(classes_)), columns in the order of classes_."""
        check_is_fitted(self)
        X, _, _ = self._validate(X, reset=False)
        return predict_proba(self.module_, self._images(X), _PREDICT_BATCH).astype(np.float64)

    def predict(self, X: Any) -> np.ndarray:
        """The most probable label (from classes_) of each sample, (N,)."""
        proba = self.predict_proba(X)
        return self.classes_[proba.argmax(axis=1)]

    def evaluate(self, X: Any, y: Any) -> tuple[float, float]:
        """Mean cross-entropy loss and accuracy (a fraction) on (X, y), as the seed's ``evaluate``."""
        check_is_fitted(self)
        X, y, _ = self._validate(X, y, reset=False)
        loader = DataLoader(self._dataset(X, encode_labels(self.classes_, y)), batch_size=_PREDICT_BATCH)
        return evaluate(self.module_, loader, cross_entropy)

    def summary(self) -> str:
        """The layer table of the network (``Module.summary``) for one sample.

        Fitted: ``module_`` on ``input_shape_``. Before fit: the network fit would build
        for samples of ``input_shape`` (default 1x28x28) and 10 classes.
        """
        if hasattr(self, "module_"):
            return self.module_.summary(self.input_shape_)
        shape = (1, 28, 28) if self.input_shape is None else tuple(self.input_shape)
        input_shape = infer_input_shape(self.input_shape, shape, math.prod(shape))
        with _seeded(0):
            return build_module(self.module, input_shape, 10).summary(input_shape)
