"""Every code block in docs/*.md runs: the python blocks of one page in order, in one namespace,
and the bash blocks with bash -e, one after the other as in one terminal (each starts in the
folder the one before ended in). The examples write their files to temporary folders
(``tempfile.mkdtemp()``, ``cd "$(mktemp -d)"``), never to the folder they are run from: the
test runs them from an empty folder and checks it stays empty."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
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
    start, scratch = tmp_path / "start", tmp_path / "tmp"
    start.mkdir()
    scratch.mkdir()
    monkeypatch.chdir(start)
    monkeypatch.setenv("TMPDIR", str(scratch))  # mktemp -d and tempfile.mkdtemp() make their folders here
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    monkeypatch.setenv("TINYGRAD_CNN_DATA", str(REPO / "data" / "mnist"))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.syspath_prepend(str(REPO))
    namespace: dict[str, object] = {"__name__": f"docs_{page.stem}"}
    shell_folder, where_ended = start, tmp_path / "pwd"
    for language, source, line in code_blocks(page):
        where = f"{page.name}:{line}"
        if language == "python":
            exec(compile("\n" * line + source, str(page), "exec"), namespace)
        else:
            env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
            done = subprocess.run(["bash", "-e", "-c", f'{source}\npwd > "{where_ended}"'], cwd=shell_folder,
                                  env=env, capture_output=True, text=True, timeout=600)
            assert done.returncode == 0, f"{where} failed:\n{done.stdout}\n{done.stderr}"
            shell_folder = Path(where_ended.read_text().strip())
    written = sorted(p.name for p in start.iterdir())
    assert not written, f"{page.name}'s examples wrote {written} where they were run; write to a temporary folder"
