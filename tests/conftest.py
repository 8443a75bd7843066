"""Shared test settings: one hypothesis profile, "ci" (derandomized, 25 examples), for the README's
command and CI alike; HYPOTHESIS_PROFILE=dev (60 random examples) searches harder on demand.
What collection leaves is frozen for the garbage collector (pytest_collection)."""

import gc
import logging
import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.hookimpl(wrapper=True)
def pytest_collection(session):
    """Collect with the garbage collector off, then freeze what collection left (gc.freeze).

    Collection imports torch, scikit-learn, dask and the test modules and builds some 4,000
    items: hundreds of thousands of long-lived objects that each full collection would walk
    again, about 0.4 s a time, some 30 times per worker. Frozen, they are never walked; the
    objects the tests make are collected as usual once the collector is back on."""
    gc.disable()
    try:
        return (yield)
    finally:
        gc.collect()
        gc.freeze()
        gc.enable()


@pytest.fixture(scope="module")
def dask_client():
    """A Client of a dask.distributed LocalCluster with two single-threaded worker processes
    (skipped without the dask extra). Started once per module that uses it, not per session: an
    idle cluster's heartbeats cost more CPU over the rest of the suite than a second start does."""
    distributed = pytest.importorskip("distributed", reason="the dask extra is not installed (pip install -e '.[dask]')")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                                  silence_logs=logging.ERROR) as cluster, distributed.Client(cluster) as client:
        yield client
