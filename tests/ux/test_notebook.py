"""examples/training.ipynb runs in Jupyter as a user runs it: ``jupyter nbconvert --to notebook --execute``
with a real kernel. fit's progress shows (the ipywidgets bar, or tqdm's text bar without it), one line
per epoch stays, no cell fails and nothing warns. Skipped without nbconvert and ipykernel (the dev extra)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
NOTEBOOK = REPO / "examples" / "training.ipynb"


def test_the_example_notebook_runs_and_shows_fit_progress(tmp_path):
    pytest.importorskip("nbconvert", reason="nbconvert is not installed (the dev extra: pip install -e '.[dev]')")
    pytest.importorskip("ipykernel", reason="ipykernel is not installed (the dev extra: pip install -e '.[dev]')")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
           "TINYGRAD_CNN_DATA": str(REPO / "data" / "mnist"), "MPLBACKEND": "Agg", "JUPYTER_PLATFORM_DIRS": "1"}
    done = subprocess.run([sys.executable, "-m", "nbconvert", "--to", "notebook", "--execute",
                           "--ExecutePreprocessor.kernel_name=python3", "--ExecutePreprocessor.timeout=300",
                           "--output-dir", str(tmp_path), str(NOTEBOOK)],
                          capture_output=True, text=True, timeout=600, cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    cells = [c for c in json.loads((tmp_path / NOTEBOOK.name).read_text())["cells"] if c["cell_type"] == "code"]
    outputs = [o for c in cells for o in c["outputs"]]
    assert not [o for o in outputs if o["output_type"] == "error"]
    text = {name: "".join("".join(o["text"]) for o in outputs if o.get("name") == name) for name in ("stdout", "stderr")}
    assert "Warning" not in text["stderr"] and "Traceback" not in text["stderr"], text["stderr"][:500]

    fit_cell = next(c for c in cells if "fit(" in "".join(c["source"]))
    lines = [line for o in fit_cell["outputs"] if o.get("name") == "stdout" for line in "".join(o["text"]).splitlines()]
    assert [line.split("  ")[0] for line in lines] == ["epoch 1/2", "epoch 2/2"]
    assert all(" val " in line and "img/s" in line for line in lines)
    widgets = [o for o in fit_cell["outputs"] if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    bar = "".join("".join(o["text"]) for o in fit_cell["outputs"] if o.get("name") == "stderr")
    try:
        import ipywidgets  # noqa: F401  (the kernel runs this same Python)
    except ImportError:
        assert not widgets and "epoch 1/2 loss " in bar and "ETA" in bar  # tqdm's text bar, redrawn with \r
    else:
        assert len(widgets) == 2 and bar == ""  # one widget per epoch

    summary = next(c for c in cells if "summary()" in "".join(c["source"]))["outputs"][0]["data"]
    assert "<table" in "".join(summary["text/html"]) and "fc1" in "".join(summary["text/plain"])
    assert "test loss" in text["stdout"]
