"""The report in a real headless browser (Debian's chromium); skipped where none is installed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from report_testkit import make_run

from actionbias.report import ScreenshotError, render_screenshot, write_report
from actionbias.report import screenshot as screenshot_mod

needs_browser = pytest.mark.skipif(
    screenshot_mod.find_browser() is None, reason="no chromium/chrome on this machine"
)


@needs_browser
def test_report_renders_in_headless_chromium(tmp_path: Path) -> None:
    runs = [
        make_run(tmp_path, "base", "baseline", scene=0.6, human=0.2),
        make_run(tmp_path, "seg", "segmented", scene=0.1, human=0.5, seed=1),
    ]
    html = write_report(runs, tmp_path / "report.html", baseline="baseline")
    png = render_screenshot(html, tmp_path / "shot.png", width=1000, height=1400)
    image = np.asarray(Image.open(png).convert("RGB")).astype(int)
    assert image.shape == (1400, 1000, 3)
    # Not a blank page: text, tables and the inline plots (their model colours) are drawn.
    assert image.std() > 20
    blue = np.abs(image - [0, 114, 178]).sum(axis=2) < 40  # Okabe-Ito blue = first model
    assert blue.sum() > 500


def test_missing_browser_is_a_clear_error(tmp_path: Path, monkeypatch) -> None:
    html = tmp_path / "r.html"
    html.write_text("<!DOCTYPE html><p>x</p>")
    monkeypatch.setattr(screenshot_mod, "find_browser", lambda: None)
    with pytest.raises(ScreenshotError, match="no headless browser found"):
        render_screenshot(html, tmp_path / "x.png")


def test_browser_override_must_exist(monkeypatch) -> None:
    monkeypatch.setenv(screenshot_mod.BROWSER_ENV, "/no/such/browser")
    assert screenshot_mod.find_browser() is None
