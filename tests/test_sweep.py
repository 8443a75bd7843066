"""Sweeps: every configuration trained as `tinygrad-cnn train` trains it, in local processes or on
a Dask cluster, with the same results either way, tabulated best first."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

pytest.importorskip("matplotlib", reason="sweep runs are train runs, which need the train extra")
pytest.importorskip("graphviz", reason="sweep runs are train runs, which need the train extra")

from tinygrad_cnn.cli import build_parser, main  # noqa: E402
from tinygrad_cnn.sweep import SweepError, configurations, parse_params, run_name, sweep, write_results  # noqa: E402

OPTIONS = ["--epochs", "1", "--limit", "200"]
CLI = {"command": main, "parser": build_parser()}
MNIST = Path(__file__).resolve().parents[1] / "data" / "mnist"


def test_parse_params_and_configurations():
    params = parse_params(["lr=1e-3, 3e-3", "batch-size=32,64", "optimizer=sgd"])
    assert params == {"lr": ["1e-3", "3e-3"], "batch_size": ["32", "64"], "optimizer": ["sgd"]}
    assert configurations(params) == [
        {"lr": "1e-3", "batch_size": "32", "optimizer": "sgd"}, {"lr": "1e-3", "batch_size": "64", "optimizer": "sgd"},
        {"lr": "3e-3", "batch_size": "32", "optimizer": "sgd"}, {"lr": "3e-3", "batch_size": "64", "optimizer": "sgd"},
    ]
    assert run_name("lenet", {"lr": "1e-3", "optimizer": "a/b"}) == "lenet-lr=1e-3-optimizer=a_b"


@pytest.mark.parametrize("specs, message", [
    (["lr"], "NAME=VALUE"), (["lr="], "NAME=VALUE"), (["lr=1", "lr=2"], "twice"),
])
def test_bad_param_specs(specs, message):
    with pytest.raises(SweepError, match=message):
        parse_params(specs)


@pytest.mark.parametrize("params, message", [
    ({"learning_rate": ["0.1"]}, "unrecognized arguments"), ({"lr": ["fast"]}, "--lr"),
    ({"batch_size": ["32", "-1"]}, "--batch-size"),
])
def test_a_bad_configuration_fails_before_any_training(params, message, tmp_path):
    with pytest.raises(SweepError, match=message):
        sweep("lenet", params, tmp_path, options=OPTIONS, **CLI, workers=1, progress=None)
    assert list(tmp_path.iterdir()) == []


def test_scheduler_and_workers_exclude_each_other(tmp_path):
    with pytest.raises(SweepError, match="not both"):
        sweep("lenet", {"lr": ["1e-3"]}, tmp_path, **CLI, scheduler="tcp://x:8786",
              workers=2)


def test_sweep_on_local_processes_and_on_a_dask_cluster(dask_client, tmp_path):
    params = {"lr": ["1e-3", "1e-2"], "batch_size": ["32"]}
    lines: list[str] = []
    local = sweep("lenet", params, tmp_path / "local", options=OPTIONS, **CLI, workers=2, progress=lines.append)
    remote = sweep("lenet", {"lr": ["1e-2"], "batch_size": ["32"]}, tmp_path / "dask", options=OPTIONS, **CLI,
                   scheduler=dask_client.scheduler.address, progress=None)
    assert len(lines) == 3 and lines[0].startswith(("[1/2] lr=1e-3 batch_size=32: val acc",
                                                    "[1/2] lr=1e-2 batch_size=32: val acc"))
    assert [r["val_acc"] for r in local] == sorted((r["val_acc"] for r in local), reverse=True)
    assert local[0]["val_acc"] != local[1]["val_acc"], "the grid must tell its points apart"
    same = next(r for r in local if r["lr"] == "1e-2")
    assert len(remote) == 1 and {k: v for k, v in remote[0].items() if k not in ("run", "seconds")} == {
        k: v for k, v in same.items() if k not in ("run", "seconds")}
    for row in remote:
        history = json.loads((tmp_path / "dask" / run_name("lenet", {k: row[k] for k in params}) / "history.json")
                             .read_text())
        assert max(history["val_acc"]) == row["val_acc"] and len(history["val_acc"]) == 1
        assert "epoch 1/1" in (tmp_path / "dask" / row["run"].split("/")[-1] / "train.log").read_text()

    csv_path, md_path = write_results(local, tmp_path / "local")
    table = list(csv.DictReader(csv_path.open()))
    assert [r["lr"] for r in table] == [r["lr"] for r in local] and table[0]["rank"] == "1"
    assert float(table[0]["val_acc"]) == pytest.approx(local[0]["val_acc"], abs=1e-4)
    markdown = md_path.read_text().splitlines()
    assert markdown[0].startswith("| rank | lr | batch_size | val_acc |") and len(markdown) == 4


def test_a_failing_run_does_not_lose_the_others(tmp_path):
    lines: list[str] = []
    rows = sweep("lenet", {"data": [str(tmp_path / "nowhere"), str(MNIST)]}, tmp_path / "out", options=OPTIONS, **CLI,
                 workers=1, progress=lines.append)
    assert "error" not in rows[0] and rows[0]["val_acc"] > 0
    assert "nowhere" in rows[1]["error"] and "FAILED" in lines[0]
    assert "nowhere" in (Path(rows[1]["run"]) / "train.log").read_text()
    csv_path, md_path = write_results(rows, tmp_path / "out")
    table = list(csv.DictReader(csv_path.open()))
    assert table[0]["error"] == "" and table[1]["val_acc"] == "" and "nowhere" in table[1]["error"]
