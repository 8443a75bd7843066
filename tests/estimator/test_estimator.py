"""CNNClassifier: scikit-learn's own estimator checks, the scikit-learn tools around it
(Pipeline, cross_val_score, GridSearchCV, clone, pickle) on the bundled 8x8 digits, and
the promises of its docstring on real MNIST images."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

pytest.importorskip("sklearn", reason="CNNClassifier needs scikit-learn")

from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import tinygrad_cnn as tg
import tinygrad_cnn.nn as nn
from tinygrad_cnn.models import LeNet
from tinygrad_cnn.data import load_digits as load_digits_images
from tinygrad_cnn.data import load_mnist
from tinygrad_cnn.estimator import CNNClassifier, small_cnn


# The checks fit dozens of times on small random data (2-D float arrays of 1-10
# features, 1-300 samples, 1-3 classes): the defaults are fast enough on such data (a
# 1x1xF strip or a tiny image gets a one-block small_cnn). No check is marked as an
# expected failure.
@parametrize_with_checks([
    CNNClassifier(random_state=0),
    CNNClassifier(optimizer="sgd", validation_fraction=0.2, batch_size=16, random_state=0),
])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def digits():
    """sklearn's 8x8 digits as 2-D rows (1797, 64) in [0, 1], split 70/30 stratified."""
    X, y = load_digits(return_X_y=True)
    return train_test_split(X / 16.0, y, test_size=0.3, stratify=y, random_state=0)


@pytest.fixture(scope="module")
def mnist():
    """1,000 MNIST training images and 500 test images, (N, 1, 28, 28) float32 in [0, 1]."""
    X_train, y_train, X_test, y_test = load_mnist()
    return X_train[:1000], y_train[:1000], X_test[:500], y_test[:500]


FAST = dict(epochs=2, lr=0.01, random_state=0)


def test_learns_digits_with_auto_small_cnn(digits):
    X_train, X_test, y_train, y_test = digits
    clf = CNNClassifier(**FAST).fit(X_train, y_train)
    assert clf.input_shape_ == (1, 8, 8)
    assert clf.n_features_in_ == 64
    assert isinstance(clf.module_, nn.Sequential)
    assert clf.module_.get_params_count() == 17_258
    assert clf.score(X_test, y_test) > 0.85
    proba = clf.predict_proba(X_test)
    assert proba.shape == (len(X_test), 10) and proba.dtype == np.float64
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(clf.classes_[proba.argmax(axis=1)], clf.predict(X_test))


def test_pipeline(digits):
    X_train, X_test, y_train, y_test = digits
    pipe = make_pipeline(StandardScaler(), CNNClassifier(**FAST)).fit(X_train * 16, y_train)
    assert pipe.score(X_test * 16, y_test) > 0.9


def test_cross_val_score_on_image_arrays():
    X, y = load_digits_images()
    assert X.shape == (1797, 1, 8, 8)
    scores = cross_val_score(CNNClassifier(**{**FAST, "epochs": 3}), X, y, cv=3)
    assert scores.shape == (3,) and scores.min() > 0.8


def test_grid_search(digits):
    X_train, X_test, y_train, y_test = digits
    search = GridSearchCV(CNNClassifier(epochs=2, random_state=0), {"lr": [1e-4, 1e-2]}, cv=2).fit(X_train, y_train)
    scores = search.cv_results_["mean_test_score"]
    assert search.best_params_ == {"lr": 1e-2} and scores[1] > scores[0] + 0.2
    assert search.best_estimator_.score(X_test, y_test) > 0.85


def test_same_random_state_same_predictions(digits):
    X_train, X_test, y_train, _ = digits
    a = CNNClassifier(**FAST).fit(X_train, y_train).predict_proba(X_test)
    b = CNNClassifier(**FAST).fit(X_train, y_train).predict_proba(X_test)
    c = CNNClassifier(**{**FAST, "random_state": 1}).fit(X_train, y_train).predict_proba(X_test)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_fit_leaves_the_package_generator_alone(digits):
    X_train, _, y_train, _ = digits
    tg.manual_seed(5)
    expected = tg.randn(4).numpy()
    tg.manual_seed(5)
    CNNClassifier(epochs=1, random_state=0).fit(X_train[:200], y_train[:200])
    np.testing.assert_array_equal(tg.randn(4).numpy(), expected)


def test_evaluate_leaves_the_package_generator_alone(digits):
    X_train, X_test, y_train, y_test = digits
    clf = CNNClassifier(epochs=1, random_state=0).fit(X_train[:200], y_train[:200])
    tg.manual_seed(5)
    expected = tg.randn(4).numpy()
    tg.manual_seed(5)
    clf.evaluate(X_test, y_test)
    np.testing.assert_array_equal(tg.randn(4).numpy(), expected)


def fitted_state(clf):
    """The fitted attributes, with copies of the network's weights and the optimizer's step counts."""
    state = {k: v for k, v in vars(clf).items() if k.endswith("_") and k not in ("module_", "optimizer_")}
    steps = [s["step"] for s in clf.optimizer_.state_dict()["state"].values()]
    return state, clf.module_, clf.module_.state_dict(), clf.optimizer_, steps, clf._rng.bit_generator.state


def assert_same_fit(clf, before):
    state, module, weights, optimizer, steps, rng = fitted_state(clf)
    assert state.keys() == before[0].keys()
    for key, value in before[0].items():
        assert np.array_equal(state[key], value) if isinstance(value, np.ndarray) else state[key] == value, key
    assert module is before[1] and optimizer is before[3] and steps == before[4] and rng == before[5]
    for key, value in before[2].items():
        np.testing.assert_array_equal(weights[key], value, err_msg=key)


@pytest.mark.parametrize("warm_start", [False, True], ids=["cold", "warm"])
def test_a_failed_fit_leaves_a_fitted_estimator_unchanged(digits, warm_start):
    X_train, X_test, y_train, y_test = digits
    clf = CNNClassifier(epochs=1, random_state=0, warm_start=warm_start).fit(X_train, y_train)
    before = fitted_state(clf)
    bad_y_val = np.where(y_test == 3, 10, y_test)
    with pytest.raises(ValueError, match=r"y_val has labels not among classes_.*\[10\]"):
        clf.fit(X_train, y_train, X_test, bad_y_val)
    assert_same_fit(clf, before)
    if not warm_start:  # a new fit on 6x6 images and 9 classes, which fails on y_val
        with pytest.raises(ValueError, match="y_val has labels not among classes_"):
            clf.fit(X_train[:, :36], y_train % 9, X_test[:, :36], y_test)
        assert_same_fit(clf, before)
    with pytest.raises(ValueError, match=r"y has labels not among classes_.*\[10\]"):
        clf.partial_fit(X_train, np.where(y_train == 3, 10, y_train))
    assert_same_fit(clf, before)


def test_a_failed_first_partial_fit_leaves_the_estimator_unfitted(digits):
    X_train, _, y_train, _ = digits
    clf = CNNClassifier(random_state=0)
    with pytest.raises(ValueError, match=r"y has labels not among classes_ \[0, 1, 2\]: \[3, 4"):
        clf.partial_fit(X_train, y_train, classes=[0, 1, 2])
    assert [k for k in vars(clf) if k.endswith("_") or k.startswith("_")] == []
    with pytest.raises(NotFittedError):
        clf.predict(X_train)


def test_mnist_layouts_are_interchangeable(mnist):
    X, y, X_test, y_test = mnist
    layouts = [X.reshape(len(X), 784), X[:, 0], X]
    fitted = [CNNClassifier(epochs=2, lr=3e-3, batch_size=32, random_state=0).fit(layout, y) for layout in layouts]
    for clf in fitted:
        assert isinstance(clf.module_, LeNet)
        assert clf.n_features_in_ == 784 and clf.input_shape_ == (1, 28, 28)
    expected = fitted[0].predict_proba(X_test)
    for clf in fitted[1:]:
        np.testing.assert_array_equal(clf.predict_proba(X_test), expected)
    for layout in (X_test.reshape(len(X_test), 784), X_test[:, 0]):
        np.testing.assert_array_equal(fitted[0].predict_proba(layout), expected)
    assert fitted[0].score(X_test, y_test) > 0.75


def test_validation_data_fills_history(mnist):
    X, y, X_test, y_test = mnist
    clf = CNNClassifier("simple_cnn", epochs=2, random_state=0).fit(X, y, X_test, y_test)
    history = clf.history_
    assert set(history) == {"train_loss", "train_acc", "val_loss", "val_acc", "seconds", "lr", "train_seconds"}
    assert len(history["val_acc"]) == 2 and history["train_loss"][1] < history["train_loss"][0]
    loss, acc = clf.evaluate(X_test, y_test)
    assert loss == pytest.approx(history["val_loss"][-1]) and acc == pytest.approx(history["val_acc"][-1])
    assert acc == pytest.approx(clf.score(X_test, y_test))


def test_validation_fraction_holds_out_data(digits):
    X_train, _, y_train, _ = digits
    clf = CNNClassifier(epochs=2, validation_fraction=0.25, random_state=0).fit(X_train, y_train)
    assert all(v is not None and 0 <= v <= 1 for v in clf.history_["val_acc"])
    no_val = CNNClassifier(epochs=2, random_state=0).fit(X_train, y_train)
    assert no_val.history_["val_acc"] == [None, None]


def test_string_labels(digits):
    X_train, X_test, y_train, y_test = digits
    names = np.array(["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"])
    clf = CNNClassifier(**FAST).fit(X_train, names[y_train])
    assert sorted(clf.classes_) == list(clf.classes_) and set(clf.classes_) == set(names)
    predicted = clf.predict(X_test)
    assert predicted.dtype.kind == "U" and np.mean(predicted == names[y_test]) > 0.85
    loss, acc = clf.evaluate(X_test, names[y_test])
    assert acc == pytest.approx(clf.score(X_test, names[y_test])) and loss > 0
    with pytest.raises(ValueError, match="not among classes_.*'ten'"):
        clf.evaluate(X_test[:2], ["one", "ten"])


def seed_layers():
    """SimpleCNN as the seed notebook builds it: a list of layers with the seed's names."""
    return [nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2D(2), nn.Flatten(), nn.FullyConnected(8 * 4 * 4, 10)]


@pytest.mark.parametrize("as_list", [True, False], ids=["layer list", "Module"])
def test_module_argument_is_copied_not_trained(digits, as_list):
    X_train, X_test, y_train, y_test = digits
    layers = seed_layers()
    module = layers if as_list else nn.Sequential(*layers)
    before = nn.Sequential(*layers).state_dict()
    clf = CNNClassifier(module, **FAST).fit(X_train, y_train)
    assert clf.module is module and clf.get_params()["module"] is module
    for key, value in nn.Sequential(*layers).state_dict().items():
        np.testing.assert_array_equal(value, before[key])
    assert all(p is not q for p, q in zip(clf.module_.parameters(), nn.Sequential(*layers).parameters()))
    assert clf.score(X_test, y_test) > 0.8
    twin = clone(clf).fit(X_train, y_train)
    np.testing.assert_array_equal(twin.predict_proba(X_test), clf.predict_proba(X_test))


def test_module_that_does_not_fit_the_data(digits):
    X_train, _, y_train, _ = digits
    with pytest.raises(ValueError, match=r"to \(1, 10\); for 3 classes it must output \(N, 3\)"):
        CNNClassifier(seed_layers(), epochs=1).fit(X_train[y_train < 3], y_train[y_train < 3])
    with pytest.raises(ValueError, match=r"'lenet' takes samples of shape \(1, 28, 28\).*\(1, 8, 8\)"):
        CNNClassifier("lenet", epochs=1).fit(X_train, y_train)
    with pytest.raises(ValueError, match="cannot take samples of shape"):
        CNNClassifier([nn.Flatten(), nn.Linear(10, 10)], epochs=1).fit(X_train, y_train)
    with pytest.raises(ValueError, match="unknown module 'resnet152'"):
        CNNClassifier("resnet152", epochs=1).fit(X_train, y_train)
    with pytest.raises(TypeError, match="module must be"):
        CNNClassifier(42, epochs=1).fit(X_train, y_train)


def test_input_shape(digits):
    X_train, X_test, y_train, _ = digits
    inferred = CNNClassifier(**FAST).fit(X_train, y_train)
    explicit = CNNClassifier(**FAST, input_shape=(8, 8)).fit(X_train, y_train)
    assert explicit.input_shape_ == (1, 8, 8)
    np.testing.assert_array_equal(explicit.predict_proba(X_test), inferred.predict_proba(X_test))
    strip = CNNClassifier(**FAST, input_shape=(1, 1, 64)).fit(X_train, y_train)
    assert strip.input_shape_ == (1, 1, 64)
    with pytest.raises(ValueError, match="input_shape .* holding the 64 features"):
        CNNClassifier(**FAST, input_shape=(1, 7, 7)).fit(X_train, y_train)


@pytest.mark.parametrize("bad, message", [
    (np.full((5, 1, 8, 8), np.nan), "Input X contains NaN"),
    (np.full((5, 1, 8, 8), np.inf), "Input X contains infinity"),
    (np.zeros((0, 1, 8, 8)), r"0 sample\(s\)"),
    (np.zeros((0, 64)), r"0 sample\(s\)"),
    (np.zeros(64), "Expected 2D array, got 1D array"),
])
def test_rejects_bad_input_with_sklearn_errors(bad, message):
    with pytest.raises(ValueError, match=message):
        CNNClassifier(epochs=1).fit(bad, np.zeros(len(bad) if bad.ndim > 1 else 1))


def test_predict_checks_fit_and_feature_count(digits):
    X_train, X_test, y_train, _ = digits
    with pytest.raises(NotFittedError):
        CNNClassifier().predict(X_test)
    clf = CNNClassifier(epochs=1, random_state=0).fit(X_train, y_train)
    with pytest.raises(ValueError, match="X has 63 features, but CNNClassifier is expecting 64"):
        clf.predict(X_test[:, :63])
    with pytest.raises(ValueError, match="X has 7 features, but CNNClassifier is expecting 64"):
        clf.predict(X_test.reshape(-1, 1, 8, 8)[:, :, :7, :1])


def test_partial_fit(digits):
    X_train, X_test, y_train, y_test = digits
    clf = CNNClassifier(lr=0.01, random_state=0)
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        clf.partial_fit(X_train, y_train)
    half = len(X_train) // 2
    clf.partial_fit(X_train[:half], y_train[:half], classes=np.arange(10))
    first = clf.score(X_test, y_test)
    for _ in range(3):
        clf.partial_fit(X_train[half:], y_train[half:])
    assert len(clf.history_["train_loss"]) == 4
    assert clf.score(X_test, y_test) > max(first, 0.85)
    with pytest.raises(ValueError, match="differs from classes_"):
        clf.partial_fit(X_train, y_train, classes=np.arange(11))


def test_warm_start_continues_training(digits):
    X_train, _, y_train, _ = digits
    clf = CNNClassifier(epochs=1, lr=0.01, warm_start=True, random_state=0).fit(X_train, y_train)
    module, weights = clf.module_, {k: v.numpy().copy() for k, v in clf.module_.state_dict().items()}
    clf.fit(X_train, y_train)
    assert clf.module_ is module and len(clf.history_["train_loss"]) == 2
    assert not np.array_equal(module.state_dict()["0.weight"], weights["0.weight"])
    cold = CNNClassifier(epochs=1, lr=0.01, random_state=0).fit(X_train, y_train)
    first = cold.module_
    cold.fit(X_train, y_train)
    assert cold.module_ is not first and len(cold.history_["train_loss"]) == 1


def test_pickle_round_trip(digits):
    X_train, X_test, y_train, _ = digits
    clf = CNNClassifier(**FAST).fit(X_train, y_train)
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X_test), clf.predict_proba(X_test))
    assert restored.history_ == clf.history_


def test_summary_before_and_after_fit(digits):
    X_train, _, y_train, _ = digits
    assert "Total params: 44,426" in CNNClassifier().summary()
    assert "Total params: 103,018" in CNNClassifier("simple_cnn").summary()
    assert "Total params: 17,258" in CNNClassifier(input_shape=(8, 8)).summary()
    clf = CNNClassifier(epochs=1, random_state=0).fit(X_train, y_train % 3)
    table = clf.summary()
    assert "input shape (1, 1, 8, 8)" in table and "(1, 3)" in table


def test_verbose_prints_one_line_per_epoch(digits, capsys):
    X_train, X_test, y_train, y_test = digits
    CNNClassifier(epochs=2, verbose=1, random_state=0).fit(X_train, y_train, X_test, y_test)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[:2] for line in lines] == [["epoch", "1/2"], ["epoch", "2/2"]]
    assert all(" val " in line and " lr " in line and "img/s" in line for line in lines)


@pytest.mark.parametrize("params, message", [
    (dict(epochs=0), "epochs must be a positive integer"),
    (dict(batch_size=2.5), "batch_size must be a positive integer"),
    (dict(optimizer="rmsprop"), "optimizer must be 'adam' or 'sgd'"),
    (dict(lr=-1.0), "lr must be a positive number"),
    (dict(weight_decay=-0.1), "weight_decay must be a number >= 0"),
    (dict(validation_fraction=1.0), r"validation_fraction must be in \[0, 1\)"),
])
def test_bad_parameters_fail_in_fit(digits, params, message):
    X_train, _, y_train, _ = digits
    clf = CNNClassifier(**params)
    with pytest.raises(ValueError, match=message):
        clf.fit(X_train, y_train)
    assert not hasattr(clf, "module_")


def test_small_cnn_shapes():
    assert small_cnn((1, 1, 2), 3)(tg.zeros(5, 1, 1, 2)).shape == (5, 3)
    net = small_cnn((3, 32, 32), 10)
    assert [type(m).__name__ for m in net].count("MaxPool2d") == 3
    assert net[-3].in_features == 64 * 4 * 4
    assert net(tg.zeros(2, 3, 32, 32)).shape == (2, 10)
