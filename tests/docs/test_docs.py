"""Every code block in docs/*.md runs: the python blocks of one page in order, in one namespace,
and the bash blocks with bash -e, all inside a temporary working folder."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PAGES = sorted((REPO / "docs").glob("*.md"))
BLOCK = re.compile(r"^```(python|bash)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def code_blocks(page: Path) -> list[tuple[str, str, int]]:
    """(language, source, line number) of each fenced python or bash block of ``page``."""
    text = page.read_text()
    return [(m.group(1), m.group(2), text[: m.start()].count("\n") + 1) for m in BLOCK.finditer(text)]


def test_every_page_has_code():
    assert PAGES, "docs/ has no pages"
    for page in PAGES:
        assert code_blocks(page), f"{page.name} has no python or bash block"


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_page_code_runs(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TINYGRAD_CNN_DATA", str(REPO / "data" / "mnist"))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.syspath_prepend(str(REPO))
    namespace: dict[str, object] = {"__name__": f"docs_{page.stem}"}
    for language, source, line in code_blocks(page):
        where = f"{page.name}:{line}"
        if language == "python":
            exec(compile("\n" * line + source, str(page), "exec"), namespace)
        else:
            env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
            done = subprocess.run(["bash", "-e", "-c", source], cwd=tmp_path, env=env, capture_output=True,
                                  text=True, timeout=600)
            assert done.returncode == 0, f"{where} failed:\n{done.stdout}\n{done.stderr}"
