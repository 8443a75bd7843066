"""CNNClassifier under joblib's Dask backend: GridSearchCV on a two-process LocalCluster
finds what n_jobs=1 finds, score for score (training is deterministic by random_state)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("sklearn")
joblib = pytest.importorskip("joblib")
pytest.importorskip("distributed", reason="the dask extra is not installed (pip install -e '.[dask]')")

from distributed import get_task_stream  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402

from tinygrad_cnn.data import load_digits  # noqa: E402
from tinygrad_cnn.estimator import CNNClassifier  # noqa: E402


def test_grid_search_on_a_dask_cluster_matches_n_jobs_1(dask_client):
    X, y = load_digits()
    X, y = X[:500].reshape(500, -1), y[:500]
    grid = {"lr": [1e-3, 1e-2], "batch_size": [32, 64]}

    def search(n_jobs: int) -> GridSearchCV:
        return GridSearchCV(CNNClassifier(epochs=1, random_state=0), grid, cv=2, n_jobs=n_jobs).fit(X, y)

    serial = search(1)
    with joblib.parallel_backend("dask"), get_task_stream(dask_client) as tasks:
        distributed = search(-1)
    assert len(dask_client.scheduler_info()["workers"]) == 2
    assert {task["worker"] for task in tasks.data} == set(dask_client.scheduler_info()["workers"])
    assert distributed.best_params_ == serial.best_params_
    np.testing.assert_array_equal(distributed.cv_results_["mean_test_score"], serial.cv_results_["mean_test_score"])
    np.testing.assert_array_equal(distributed.predict(X[:50]), serial.predict(X[:50]))
    assert len(set(serial.cv_results_["mean_test_score"])) > 1, "the grid must tell its points apart"
