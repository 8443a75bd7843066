"""The run report: what train writes (report.html, predictions.npz), what the page holds, rebuilding it
with ``tinygrad-cnn report``, and folders that are not runs."""

from __future__ import annotations

import base64
import io
import json
import re
import shutil
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from tinygrad_cnn.data import load_mnist
from tinygrad_cnn.plots import class_scores, confusion_matrix
from tinygrad_cnn.report import Predictions, load_predictions, save_predictions, write_report
from tinygrad_cnn.report.page import SECTIONS
from tinygrad_cnn.report.run import file_sha256, most_confident_mistakes

MNIST = Path(__file__).resolve().parents[2] / "data" / "mnist"


class Page(HTMLParser):
    """The parts of a report page the tests read: sections, images, links, tables' cell text."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.sections: list[str] = []
        self.images: list[dict[str, str]] = []
        self.links: list[str] = []
        self.tags: set[str] = set()
        self.tables: dict[str, list[list[str]]] = {}
        self._section = ""
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attrs = dict(attrs)
        self.tags.add(tag)
        if tag == "section":
            self._section = attrs["id"]
            self.sections.append(attrs["id"])
        elif tag == "img":
            self.images.append(attrs)
        elif tag in ("a", "link") and "href" in attrs:
            self.links.append(attrs["href"])
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._row is not None:
            self._row.append("".join(self._cell or []).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.tables.setdefault(self._section, []).append(self._row)
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def decode(uri: str) -> tuple[str, bytes]:
    """(mime type, bytes) of a base64 data: URI."""
    match = re.fullmatch(r"data:([\w/+.-]+);base64,([A-Za-z0-9+/=]+)", uri)
    assert match, f"not a base64 data: URI: {uri[:60]}"
    return match.group(1), base64.b64decode(match.group(2), validate=True)


def test_train_writes_the_report_with_every_section(trained_run):
    folder, stdout = trained_run
    assert stdout.splitlines()[-1].endswith("graph.svg, predictions.npz, report.html")
    text = (folder / "report.html").read_text()
    page = Page(text)
    assert page.sections == [key for key, _ in SECTIONS]
    assert "script" not in page.tags and "http:" not in text and "https:" not in text and "url(" not in text
    assert all(link.startswith(("#", "data:")) for link in page.links), page.links
    history = json.loads((folder / "history.json").read_text())
    config = dict(row for row in page.tables["config"][1:] if len(row) == 2)
    assert config["model"] == "lenet" and config["limit"] == "1000" and config["train images"] == "917"
    epochs = page.tables["epochs"][1:]
    assert [row[0] for row in epochs] == ["1", "2"]
    assert [row[1] for row in epochs] == [f"{v:.4f}" for v in history["train_loss"]]
    assert [row[4] for row in epochs] == [f"{v:.2%}" for v in history["val_acc"]]
    best = history["test"]["best"]
    assert page.tables["test"][1] == ["best", str(best["epoch"]), f"{best['loss']:.4f}", f"{best['acc']:.2%}"]
    assert f'<tr class=best><td class=key>{best["epoch"]}</td>' in text
    assert [row[0] for row in page.tables["timings"][1:3]] == ["all epochs (training and validation)", "training"]


def test_every_image_is_inline_and_decodes(trained_run):
    from PIL import Image

    folder, _ = trained_run
    page = Page((folder / "report.html").read_text())
    kinds = {}
    for attrs in page.images:
        assert attrs.get("alt"), attrs.get("src", "")[:40]
        mime, data = decode(attrs["src"])
        kinds[mime] = kinds.get(mime, 0) + 1
        if mime == "image/png":
            with Image.open(io.BytesIO(data)) as image:
                image.load()
                assert image.width > 0 and image.height > 0
        else:
            assert mime == "image/svg+xml" and data == (folder / "graph.svg").read_bytes()
            assert ET.fromstring(data).tag.endswith("svg")
    predictions = load_predictions(folder / "predictions.npz")
    assert kinds == {"image/png": 1 + len(predictions.worst), "image/svg+xml": 1}  # the curves, the mistakes, the graph


def test_the_predictions_are_the_best_checkpoint_on_the_test_set(trained_run):
    folder, _ = trained_run
    history = json.loads((folder / "history.json").read_text())
    p = load_predictions(folder / "predictions.npz")
    _, _, X_test, y_test = load_mnist(MNIST)
    np.testing.assert_array_equal(p.labels, y_test[:1000])
    assert p.probs.shape == (1000, 10) and p.probs.dtype == np.float32
    np.testing.assert_allclose(p.probs.sum(axis=1), 1.0, atol=1e-5)
    assert (p.predicted == p.labels).mean() == pytest.approx(history["test"]["best"]["acc"], abs=1e-12)
    assert p.epoch == history["test"]["best"]["epoch"] and p.checkpoint_sha256 == file_sha256(folder / "best.npz")
    # the worst mistakes: wrong, most confident first, their own pixels
    assert len(p.worst) == 24 and np.all(p.predicted[p.worst] != p.labels[p.worst])
    confidence = p.probs[p.worst, p.predicted[p.worst]]
    assert np.all(np.diff(confidence) <= 0)
    wrong = p.predicted != p.labels
    assert confidence[-1] >= np.sort(p.probs[wrong].max(axis=1))[-24]
    np.testing.assert_array_equal(p.worst_images, np.round(X_test[p.worst, 0] * 255).astype(np.uint8))


def test_the_confusion_and_class_tables_show_the_predictions(trained_run):
    folder, _ = trained_run
    page = Page((folder / "report.html").read_text())
    p = load_predictions(folder / "predictions.npz")
    matrix = confusion_matrix(p.labels, p.predicted)
    shown = np.array([[int(v) for v in row[1:11]] for row in page.tables["confusion"][1:]])
    np.testing.assert_array_equal(shown, matrix)
    scores = class_scores(matrix)
    rows = page.tables["classes"][1:11]
    assert [float(r[3]) for r in rows] == pytest.approx(scores["f1"], abs=5e-5)
    assert [int(r[4].replace(",", "")) for r in rows] == list(scores["support"])


def test_most_confident_mistakes_ranks_wrong_rows_by_their_confidence():
    probs = np.array([[0.9, 0.1], [0.3, 0.7], [0.8, 0.2], [0.45, 0.55], [0.2, 0.8]], np.float32)
    labels = np.array([0, 0, 1, 0, 1])
    assert most_confident_mistakes(labels, probs).tolist() == [2, 1, 3]
    assert most_confident_mistakes(labels, probs, count=1).tolist() == [2]
    assert most_confident_mistakes(np.array([0, 1, 0, 1, 1]), probs).tolist() == []


@pytest.fixture
def copied_run(trained_run, tmp_path):
    """A copy of the trained run that a test may change."""
    return Path(shutil.copytree(trained_run[0], tmp_path / "run"))


def test_the_report_command_rebuilds_the_page_and_missing_predictions(copied_run, run_cli):
    original = load_predictions(copied_run / "predictions.npz")
    (copied_run / "report.html").unlink()
    (copied_run / "predictions.npz").unlink()
    status, stdout, stderr = run_cli("report", copied_run, "--data", MNIST)
    assert (status, stderr) == (0, "") and stdout == f"wrote {copied_run / 'report.html'}\n"
    rebuilt = load_predictions(copied_run / "predictions.npz")
    np.testing.assert_array_equal(rebuilt.probs, original.probs)
    np.testing.assert_array_equal(rebuilt.worst_images, original.worst_images)
    assert Page((copied_run / "report.html").read_text()).sections == [key for key, _ in SECTIONS]


def test_stale_predictions_are_computed_again_from_best_npz(copied_run):
    original = load_predictions(copied_run / "predictions.npz")
    stale = Predictions(original.labels, np.roll(original.probs, 1, axis=1), original.worst[:0],
                        original.worst_images[:0], "0" * 64, 9)
    save_predictions(copied_run / "predictions.npz", stale)
    write_report(copied_run, data=str(MNIST))
    again = load_predictions(copied_run / "predictions.npz")
    np.testing.assert_array_equal(again.probs, original.probs)
    assert again.checkpoint_sha256 == file_sha256(copied_run / "best.npz")


def test_a_run_without_best_npz_gets_a_report_without_test_predictions(copied_run):
    for name in ("best.npz", "predictions.npz", "graph.svg", "curves.png"):
        (copied_run / name).unlink()
    page = Page(write_report(copied_run).read_text())
    assert page.sections == [key for key, _ in SECTIONS]
    assert len(page.images) == 1 and not (copied_run / "predictions.npz").exists()  # the curves, drawn again
    assert "no test predictions: the run folder has no best.npz" in (copied_run / "report.html").read_text()


@pytest.mark.parametrize("kind", ["empty folder", "file", "missing", "damaged history", "foreign json", "uneven"])
def test_report_on_a_folder_that_is_not_a_run_says_so_in_one_line(tmp_path, run_cli, kind):
    target = tmp_path / "target"
    if kind == "file":
        target.write_text("hello")
    elif kind != "missing":
        target.mkdir()
        if kind == "damaged history":
            (target / "history.json").write_text('{"config": {"model": "lenet"}, "train_loss": [0.5')
        elif kind == "foreign json":
            (target / "history.json").write_text('{"loss": [0.5]}')
        elif kind == "uneven":
            (target / "history.json").write_text('{"config": {"model": "lenet"}, "train_loss": [0.5], "lr": []}')
    before = sorted(tmp_path.rglob("*"))
    status, stdout, stderr = run_cli("report", target)
    assert status == 1 and stdout == ""
    assert len(stderr.splitlines()) == 1 and stderr.startswith("tinygrad-cnn: error: ") and str(target) in stderr
    assert sorted(tmp_path.rglob("*")) == before  # nothing written
