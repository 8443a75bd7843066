"""Rendering with Graphviz's `dot` (SVG, PNG), and the one clear error without it."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

pytest.importorskip("graphviz", reason="tinygrad_cnn.viz builds graphviz.Digraph objects")

from tinygrad_cnn import viz  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's `dot` is not installed")

EXPRESSION = """
import tinygrad_cnn as tg
from tinygrad_cnn.autograd import scope
tg.manual_seed(0)
w = tg.randn(3, 2, requires_grad=True)
with scope("fc"):
    loss = (tg.randn(4, 3) @ w).relu().sum()
graph = loss.draw(params={"fc.weight": w})
"""


def small_graph():
    namespace: dict = {}
    exec(EXPRESSION, namespace)
    return namespace["graph"]


def run_python(code: str, path: str) -> subprocess.CompletedProcess:
    env = {"PATH": path, "PYTHONPATH": str(REPO), "HOME": os.environ.get("HOME", "/tmp")}
    return subprocess.run([sys.executable, "-c", code], env=env, cwd=REPO, capture_output=True, text=True, timeout=120)


@needs_dot
def test_svg_renders_to_valid_xml_holding_the_labels(tmp_path):
    out = viz.render(small_graph(), tmp_path / "graph.svg")
    assert out == tmp_path / "graph.svg"
    root = ET.parse(out).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    texts = {t.text for t in root.iter("{http://www.w3.org/2000/svg}text")}
    assert {"matmul", "relu", "sum", "fc.weight (3,2)", "fc"} <= texts
    assert sorted(p.name for p in tmp_path.iterdir()) == ["graph.svg"]  # no temporary left behind


@needs_dot
def test_png_renders_with_signature_and_a_real_size(tmp_path):
    out = viz.render(small_graph(), tmp_path / "graph", format="png")
    assert out == tmp_path / "graph.png"
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    assert 100 < width < 2000 and 200 < height < 3000


@needs_dot
def test_the_digraph_renders_itself_and_displays_in_jupyter(tmp_path):
    graph = small_graph()
    svg = graph.pipe(format="svg", encoding="utf-8")
    assert ET.fromstring(svg).tag.endswith("svg")
    assert graph._repr_mimebundle_()["image/svg+xml"].lstrip().startswith("<?xml")
    written = graph.render(tmp_path / "g", format="svg")
    assert Path(written).read_bytes().startswith(b"<?xml")


def test_without_dot_the_graph_builds_and_rendering_says_how_to_install_it(tmp_path):
    code = EXPRESSION + textwrap.dedent(f"""
        from tinygrad_cnn import viz
        assert "relu" in graph.source and "cluster_0" in graph.source
        messages = []
        for attempt in (lambda: viz.render(graph, {str(tmp_path / "g.svg")!r}),
                        lambda: graph.pipe(format="png"),
                        lambda: graph.render({str(tmp_path / "h")!r}, format="svg"),
                        lambda: graph._repr_mimebundle_()):
            try:
                attempt()
            except RuntimeError as error:
                messages.append((type(error).__name__, str(error), error.__cause__ is None))
        print(repr(messages))
    """)
    result = run_python(code, path="")
    assert result.returncode == 0, result.stderr
    messages = eval(result.stdout)
    assert len(messages) == 4
    for name, message, no_chain in messages:
        assert name == "RuntimeError" and no_chain
        assert "`dot`" in message and "apt-get install graphviz" in message and "brew install graphviz" in message
    assert not (tmp_path / "g.svg").exists()
    # only the DOT source graphviz saves before it runs `dot`: no rendered file, no temporary left behind
    assert sorted(p.name for p in tmp_path.iterdir()) == ["h"]


def test_the_package_imports_without_graphviz_and_draw_explains_the_missing_package():
    code = textwrap.dedent("""
        import sys
        import tinygrad_cnn, tinygrad_cnn.viz
        assert "graphviz" not in sys.modules
        sys.modules["graphviz"] = None
        x = tinygrad_cnn.ones(2, requires_grad=True)
        try:
            x.sum().draw()
        except ImportError as error:
            print(error)
    """)
    result = run_python(code, path=os.environ.get("PATH", ""))
    assert result.returncode == 0, result.stderr
    assert "pip install graphviz" in result.stdout


def test_rendering_a_missing_format_is_refused(tmp_path):
    with pytest.raises(ValueError, match="format"):
        viz.render(small_graph(), tmp_path / "graph.nosuchformat")
    assert list(tmp_path.iterdir()) == []
