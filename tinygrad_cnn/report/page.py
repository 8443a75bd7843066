"""The run report as one self-contained HTML page: inline CSS, images as data: URIs, no script, no network."""

from __future__ import annotations

import base64
import html
import json
import time
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from tinygrad_cnn.imaging import to_png
from tinygrad_cnn.plots import class_scores, confusion_matrix, history_png
from tinygrad_cnn.report.run import Predictions, Run

CSS = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #1d232b;
       margin: 0 auto; max-width: 1100px; padding: 0 20px 40px; }
h1 { font-size: 22px; margin: 20px 0 2px; } h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid #d5dbe3; }
.sub { color: #5b6673; margin: 0 0 10px; } nav a { margin-right: 12px; color: #2b6ca3; text-decoration: none; }
.headline { display: flex; gap: 14px; flex-wrap: wrap; margin: 12px 0; }
.headline div { background: #f1f5fa; border: 1px solid #d5dbe3; border-radius: 6px; padding: 8px 14px; }
.headline b { display: block; font-size: 20px; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { border-bottom: 1px solid #e3e7ed; padding: 3px 10px; text-align: right; }
th { background: #f1f5fa; } td.key, th.key { text-align: left; } tr.best td { background: #eaf6e4; }
img.plot { max-width: 100%; height: auto; }
table.confusion td, table.confusion th { text-align: center; min-width: 34px; border: 1px solid #fff; }
.graph { max-height: 900px; overflow: auto; border: 1px solid #d5dbe3; padding: 6px; }
.graph img { max-width: 100%; height: auto; }
.mistakes { display: flex; flex-wrap: wrap; gap: 8px; }
figure { margin: 0; width: 104px; text-align: center; font-size: 12px; }
figure img { width: 84px; height: 84px; image-rendering: pixelated; border: 1px solid #c3cad3; }
.wrong { color: #b3261e; font-weight: 600; } .note { color: #5b6673; font-style: italic; }
pre { background: #f6f8fa; padding: 8px; overflow: auto; font-size: 12px; }
"""

# The browser loads nothing but the page: images only from data: URIs, styles only inline, no script.
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"

SECTIONS = (("config", "configuration"), ("curves", "curves"), ("epochs", "epochs"), ("test", "test"),
            ("confusion", "confusion matrix"), ("classes", "per class"), ("mistakes", "worst mistakes"),
            ("graph", "graph"), ("timings", "timings"))


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def data_uri(data: bytes, mime: str) -> str:
    """``data`` as a base64 data: URI of type ``mime``."""
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _table(header: Sequence[str], rows: Iterable[Sequence[Any]], classes: Iterable[str] = ()) -> str:
    """An HTML table; the first column is a key (left-aligned); ``classes`` gives each row's class."""
    classes = list(classes)
    head = "".join(f'<th{" class=key" if i == 0 else ""}>{_e(h)}</th>' for i, h in enumerate(header))
    body = []
    for r, row in enumerate(rows):
        cells = "".join(f'<td{" class=key" if i == 0 else ""}>{_e(v)}</td>' for i, v in enumerate(row))
        body.append(f'<tr{f" class={classes[r]}" if r < len(classes) and classes[r] else ""}>{cells}</tr>')
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value:.2%}"


def _num(value: float | None, digits: int = 4) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def _config_section(run: Run) -> str:
    rows = [(key, json.dumps(value) if isinstance(value, (list, dict)) else value) for key, value in run.config.items()]
    rows.append(("epochs run", run.history.epochs))
    rows += [(f"{kind} images", f"{count:,}") for kind, count in run.images.items()]
    return _table(("option", "value"), rows)


def _curves_section(run: Run) -> str:
    """The run's curves.png, or the curves drawn from its history when the folder has none."""
    if not run.history.epochs:
        return '<p class="note">no epoch recorded</p>'
    png = run.folder / "curves.png"
    data = png.read_bytes() if png.is_file() else history_png(run.history)
    return f'<img class="plot" src="{data_uri(data, "image/png")}" alt="loss and accuracy per epoch">'


def _epoch_rows(run: Run, best_epoch: int | None) -> str:
    h, n_train = run.history, run.images.get("train")
    header = ["epoch", "train loss", "train acc", "val loss", "val acc", "lr", "seconds", "training s", "img/s"]
    rows = []
    for i in range(h.epochs):
        train_s = h.train_seconds[i] if i < len(h.train_seconds) else None
        rate = f"{n_train / train_s:,.0f}" if n_train and train_s else ""
        rows.append((i + 1, _num(h.train_loss[i]), _pct(h.train_acc[i]), _num(h.val_loss[i]), _pct(h.val_acc[i]),
                     f"{h.lr[i]:.2e}", f"{h.seconds[i]:.2f}", "" if train_s is None else f"{train_s:.2f}", rate))
    marks = ["best" if i + 1 == best_epoch else "" for i in range(h.epochs)]
    return _table(header, rows, marks) + ('<p class="sub">the highlighted epoch is best.npz\'s (lowest validation '
                                          'loss)</p>' if best_epoch else "")


def _test_section(run: Run, predictions: Predictions | None) -> str:
    if not run.test:
        return '<p class="note">no test results: the run did not finish</p>'
    rows = [(name, r["epoch"], _num(r["loss"]), _pct(r["acc"])) for name, r in sorted(run.test.items())]
    text = _table(("checkpoint", "epoch", "test loss", "test accuracy"), rows)
    if predictions is not None:
        text += (f'<p class="sub">{len(predictions.labels):,} test images; the sections below are best.npz\'s '
                 f'(epoch {predictions.epoch}) predictions on them</p>')
    return text


def _confusion_section(matrix: np.ndarray) -> str:
    """The confusion matrix as a heat-map table: rows true, columns predicted, each cell shaded by
    log(1 + count) as plots.confusion_png draws it, and each row's recall."""
    shade = np.log1p(matrix) / max(np.log1p(matrix.max()), 1e-12)
    k = len(matrix)
    head = "".join(f"<th>{j}</th>" for j in range(k))
    rows = []
    for i in range(k):
        cells = []
        for j in range(k):
            light = 97 - 62 * shade[i, j]  # from near white to the blue of the diagonal
            colour = "#fff" if light < 60 else "#1d232b"
            cells.append(f'<td style="background:hsl(211,65%,{light:.0f}%);color:{colour}">{matrix[i, j]}</td>')
        recall = matrix[i, i] / matrix[i].sum() if matrix[i].sum() else float("nan")
        rows.append(f"<tr><th>{i}</th>{''.join(cells)}<td>{recall:.2%}</td></tr>")
    accuracy = np.trace(matrix) / max(matrix.sum(), 1)
    return (f'<p class="sub">rows: true class, columns: predicted class; accuracy {accuracy:.2%} on '
            f'{int(matrix.sum()):,} images</p><table class="confusion"><thead><tr><th>true \\ predicted</th>{head}'
            f'<th>recall</th></tr></thead><tbody>{"".join(rows)}</tbody></table>')


def _class_section(matrix: np.ndarray) -> str:
    scores = class_scores(matrix)
    rows = [(k, f"{scores['precision'][k]:.4f}", f"{scores['recall'][k]:.4f}", f"{scores['f1'][k]:.4f}",
             f"{scores['support'][k]:,}") for k in range(len(matrix))]
    total = int(scores["support"].sum())
    rows.append(("macro avg", *(f"{scores[m].mean():.4f}" for m in ("precision", "recall", "f1")), f"{total:,}"))
    rows.append(("accuracy", "", "", f"{np.trace(matrix) / total:.4f}", f"{total:,}"))
    return _table(("class", "precision", "recall", "F1", "support"), rows)


def _mistakes_section(predictions: Predictions) -> str:
    if not len(predictions.worst):
        return '<p class="note">no mistakes on the test set</p>'
    predicted = predictions.predicted
    cards = []
    for row, pixels in zip(predictions.worst, predictions.worst_images):
        true, guess = int(predictions.labels[row]), int(predicted[row])
        confidence, given = predictions.probs[row, guess], predictions.probs[row, true]
        cards.append(f'<figure><img src="{data_uri(to_png(pixels), "image/png")}" alt="test image {row}: a {true}">'
                     f'<figcaption>#{row}<br>true {true} &rarr; <span class="wrong">{guess}</span><br>'
                     f'{confidence:.1%} (true {given:.1%})</figcaption></figure>')
    return (f'<p class="sub">the {len(cards)} test images misclassified with the highest confidence, most confident '
            f'first: test index, true label &rarr; prediction, its probability (and the true class\'s)</p>'
            f'<div class="mistakes">{"".join(cards)}</div>')


def _graph_section(folder: Path) -> str:
    svg = folder / "graph.svg"
    if svg.is_file():
        return (f'<p class="sub">one training step (forward and loss) of a validation batch, as graph.svg</p>'
                f'<div class="graph"><img src="{data_uri(svg.read_bytes(), "image/svg+xml")}" '
                f'alt="the computation graph of the loss"></div>')
    if (folder / "graph.dot").is_file():
        return '<p class="note">graph.dot only: Graphviz\'s dot was not installed when the run was written</p>'
    return '<p class="note">no graph in the run folder</p>'


def _timings_section(run: Run, built_in: float) -> str:
    h = run.history
    total = sum(h.seconds)
    training = sum(h.train_seconds) if len(h.train_seconds) == h.epochs else None
    rows = [("all epochs (training and validation)", f"{total:.1f} s")]
    if training is not None:
        rows += [("training", f"{training:.1f} s"), ("validation", f"{total - training:.1f} s")]
    if h.epochs:
        rows.append(("mean epoch", f"{total / h.epochs:.2f} s"))
    if training and run.images.get("train"):
        rows.append(("training speed", f"{run.images['train'] * h.epochs / training:,.0f} images/s"))
    rows.append(("this report's pictures and predictions", f"{built_in:.1f} s"))
    return _table(("what", "time"), rows)


def render(run: Run, predictions: Predictions | None, *, version: str = "", started: float | None = None) -> str:
    """The report page of ``run`` (with its test ``predictions``, None when it has none) as HTML
    text. ``started`` (a time.perf_counter value) times the report's own work."""
    started = time.perf_counter() if started is None else started
    h, name = run.history, run.folder.resolve().name
    best = run.test["best"] if run.test else None
    headline = [("model", run.config["model"]), ("epochs", h.epochs)]
    if best:
        headline.append((f"test accuracy (best, epoch {best['epoch']})", _pct(best["acc"])))
    if h.epochs and h.val_acc[-1] is not None:
        headline.append(("last validation accuracy", _pct(h.val_acc[-1])))
    parts = {
        "config": _config_section(run),
        "curves": _curves_section(run),
        "epochs": _epoch_rows(run, best["epoch"] if best else None),
        "test": _test_section(run, predictions),
    }
    if predictions is None:
        missing = '<p class="note">no test predictions: the run folder has no best.npz</p>'
        parts.update(confusion=missing, classes=missing, mistakes=missing)
    else:
        matrix = confusion_matrix(predictions.labels, predictions.predicted, predictions.probs.shape[1])
        parts["confusion"] = _confusion_section(matrix)
        parts["classes"] = _class_section(matrix)
        parts["mistakes"] = _mistakes_section(predictions)
    parts["graph"] = _graph_section(run.folder)
    parts["timings"] = _timings_section(run, time.perf_counter() - started)
    cards = "".join(f"<div>{_e(label)}<b>{_e(value)}</b></div>" for label, value in headline)
    nav = "".join(f'<a href="#{key}">{_e(title)}</a>' for key, title in SECTIONS)
    body = "".join(f'<section id="{key}"><h2>{_e(title)}</h2>{parts[key]}</section>' for key, title in SECTIONS)
    stamp = time.strftime("%Y-%m-%d %H:%M")
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
            f'<link rel="icon" href="data:,"><title>{_e(name)}: tinygrad_cnn run report</title>'
            f'<style>{CSS}</style></head>\n<body><h1>run {_e(name)}</h1>'
            f'<p class="sub">report of {_e(run.folder)}, written {stamp} by tinygrad_cnn {_e(version)}</p>'
            f'<nav>{nav}</nav><div class="headline">{cards}</div>\n{body}\n</body></html>\n')
