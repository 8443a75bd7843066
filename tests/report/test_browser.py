"""The run report in a real browser: headless Chromium loads report.html, every image decodes, the
console stays silent (no script error, no blocked load), and a screenshot is taken.

The page is loaded from a copy with one probe script added (the report itself has none): on
``load`` it writes how many <img> decoded (naturalWidth > 0) into the <html> element, which
``--dump-dom`` prints. ``--enable-logging=stderr --v=0`` prints every console message, including
the browser's own (a load the page's Content-Security-Policy blocked), as a ``:CONSOLE`` line.
Skipped, saying why, where no Chromium or Chrome is installed (.ci/run installs Debian's chromium).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from tinygrad_cnn.imaging import to_png
from tinygrad_cnn.report.page import CSP, data_uri

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
PROBE = """<script>
window.addEventListener("load", () => {
  const images = [...document.images];
  const broken = images.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.alt || "(no alt)");
  document.documentElement.setAttribute("data-images", `${images.length - broken.length}/${images.length}`);
  document.documentElement.setAttribute("data-broken", broken.join("|"));
});
</script>"""


def browser() -> str:
    """The path of an installed Chromium or Chrome; skips the test when there is none."""
    found = next((path for name in BROWSERS if (path := shutil.which(name))), None)
    if found is None:
        pytest.skip(f"no headless browser: none of {', '.join(BROWSERS)} is on PATH "
                    "(.ci/run installs Debian's chromium; apt-get install chromium)")
    return found


def with_probe(page: str) -> str:
    """``page`` with PROBE before </body>, and the one script allowed by its CSP."""
    assert CSP in page and page.count("</body>") == 1
    return page.replace(CSP, CSP + "; script-src 'unsafe-inline'").replace("</body>", PROBE + "</body>")


def load(page: Path, tmp_path: Path, screenshot: Path) -> tuple[str, str, list[str]]:
    """Load ``page`` headless: (data-images, data-broken, console lines); writes ``screenshot``."""
    command = [browser(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
               f"--user-data-dir={tmp_path / 'profile'}", "--host-resolver-rules=MAP * ~NOTFOUND",
               "--enable-logging=stderr", "--v=0", "--virtual-time-budget=5000", "--window-size=1200,4000",
               "--hide-scrollbars", f"--screenshot={screenshot}", "--dump-dom", page.as_uri()]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=tmp_path,
                          env={**os.environ, "HOME": str(tmp_path)})
    assert done.returncode == 0, done.stderr[-2000:]
    root = re.search(r"<html[^>]*>", done.stdout)
    assert root, f"no page in --dump-dom's output: {done.stdout[:300]!r}"
    attrs = dict(re.findall(r'(data-[a-z]+)="([^"]*)"', root.group(0)))
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    return attrs.get("data-images", "probe did not run"), attrs.get("data-broken", ""), console


def test_the_report_loads_in_chromium_with_every_image_and_a_silent_console(trained_run, tmp_path):
    folder, _ = trained_run
    page = tmp_path / "report.html"
    text = (folder / "report.html").read_text()
    page.write_text(with_probe(text))
    screenshot = tmp_path / "report.png"
    images, broken, console = load(page, tmp_path, screenshot)
    count = text.count("<img ")
    assert count >= 26  # the curves, 24 mistakes, the graph
    assert (images, broken) == (f"{count}/{count}", "")
    assert console == []
    shot = screenshot.read_bytes()
    assert shot[:8] == b"\x89PNG\r\n\x1a\n" and len(shot) > 50_000  # a page of pictures, not a blank one
    keep = os.environ.get("TINYGRAD_CNN_SCREENSHOTS")  # a folder to keep the picture in, for a person to look at
    if keep:
        shutil.copy(screenshot, Path(keep) / "report.png")


def test_the_probe_sees_broken_images_and_console_errors(tmp_path):
    """The check above can fail: a broken image, a load the CSP blocks and a console error are all seen."""
    page = tmp_path / "bad.html"
    page.write_text(with_probe(
        f'<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" content="{CSP}"></head><body>'
        '<img alt="damaged" src="data:image/png;base64,iVBORw0KGgoAAAA="><img alt="outside" src="elsewhere.png">'
        f'<img alt="fine" src="{data_uri(to_png(np.ones((2, 3))), "image/png")}">'
        '<script>console.error("an error")</script></body></html>'))
    images, broken, console = load(page, tmp_path, tmp_path / "bad.png")
    assert (images, broken) == ("1/3", "damaged|outside")
    assert any("elsewhere.png" in line and "Content Security Policy" in line for line in console), console
    assert any('"an error"' in line for line in console), console
