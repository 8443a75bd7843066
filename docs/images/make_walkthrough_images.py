"""Regenerate the walkthrough's figures (walkthrough_*.png) in this folder.

The figures are exactly what docs/walkthrough.md's code draws: this runs the page's
python blocks in order in one namespace, in a temporary folder (as the docs test does),
then copies the PNG files they saved here. Seeded, so a rerun draws the same curves.

    python docs/images/make_walkthrough_images.py
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
PAGE = REPO / "docs" / "walkthrough.md"
PYTHON_BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


def main() -> None:
    sys.path.insert(0, str(REPO))  # run from a checkout without installing
    os.environ.setdefault("TINYGRAD_CNN_DATA", str(REPO / "data" / "mnist"))
    os.environ["MPLBACKEND"] = "Agg"
    text = PAGE.read_text()
    namespace: dict[str, object] = {"__name__": "docs_walkthrough"}
    with tempfile.TemporaryDirectory() as folder:
        os.chdir(folder)
        for match in PYTHON_BLOCK.finditer(text):
            line = text[: match.start()].count("\n") + 1
            exec(compile("\n" * line + match.group(1), str(PAGE), "exec"), namespace)
        for image in sorted(Path(folder).glob("walkthrough_*.png")):
            shutil.copyfile(image, HERE / image.name)
            print(f"wrote {HERE / image.name}")


if __name__ == "__main__":
    main()
