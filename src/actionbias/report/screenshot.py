"""Render a report in a real headless browser and save what it shows as PNG.

The report is checked the way a reader sees it (layout, sticky headers,
inline images decoding), not only parsed. Debian's chromium is the browser;
the flags keep it offline and stateless: a fresh profile per call, no
background networking, component updates, sync or QUIC, so rendering a
report never reaches the network.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from actionbias.errors import ActionBiasError, BadInputError

BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
BROWSER_ENV = "ACTIONBIAS_BROWSER"


class ScreenshotError(ActionBiasError):
    """No headless browser was found, or it failed to render the page."""


def find_browser() -> str | None:
    """$ACTIONBIAS_BROWSER, /usr/bin/chromium, or a Chromium/Chrome on PATH; None if absent."""
    override = os.environ.get(BROWSER_ENV)
    if override:
        return override if shutil.which(override) else None
    if os.access("/usr/bin/chromium", os.X_OK):
        return "/usr/bin/chromium"
    for name in BROWSER_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def render_screenshot(
    html_path: str | Path,
    png_path: str | Path,
    width: int = 1280,
    height: int = 2400,
    timeout: float = 120.0,
) -> Path:
    """Screenshot the top `width` x `height` pixels of a local HTML file with headless chromium."""
    html_path = Path(html_path).resolve()
    png_path = Path(png_path).resolve()
    if not html_path.is_file():
        raise BadInputError("HTML file not found", html_path)
    if width < 1 or height < 1:
        raise ValueError(f"window size must be positive, got {width}x{height}")
    browser = find_browser()
    if browser is None:
        raise ScreenshotError(
            "no headless browser found (looked for $ACTIONBIAS_BROWSER, /usr/bin/chromium and "
            f"{', '.join(BROWSER_NAMES)} on PATH); on Debian: apt-get install chromium"
        )
    png_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="actionbias-chromium-") as profile:
        tmp_png = Path(profile) / "shot.png"
        command = [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--hide-scrollbars",
            "--force-device-scale-factor=1",
            f"--user-data-dir={profile}",
            f"--screenshot={tmp_png}",
            f"--window-size={width},{height}",
            html_path.as_uri(),
        ]
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=timeout, check=False
            )
        except subprocess.TimeoutExpired:
            raise ScreenshotError(f"{browser} did not finish within {timeout:.0f} s") from None
        if done.returncode != 0 or not tmp_png.is_file() or tmp_png.stat().st_size == 0:
            tail = " ".join(done.stderr.strip().splitlines()[-3:])[-400:]
            raise ScreenshotError(
                f"{browser} exited with code {done.returncode} without a screenshot: {tail}"
            )
        shutil.move(str(tmp_png), png_path)
    return png_path
