"""The report in a real headless browser (Debian's chromium), checked as a reader sees it.

Skipped where no browser is installed, unless ``ACTIONBIAS_REQUIRE_BROWSER=1``
(set by ``.ci/run``, which installs chromium): then a missing browser fails.

What is checked: the page renders (a screenshot that is not blank and shows
the plots' colours); every inline plot decodes to an image of non-zero size;
every link of the section bar lands on its section; and the page fetches
nothing from the network (the browser's resource timing lists no request
other than the page's own data: URIs, and any host lookup would fail). Each
check is also run on a deliberately broken copy, so it is known to fail.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from report_testkit import make_run

from actionbias.report import ScreenshotError, render_screenshot, write_report
from actionbias.report import screenshot as screenshot_mod

REQUIRED = os.environ.get("ACTIONBIAS_REQUIRE_BROWSER") == "1"
BROWSER = screenshot_mod.find_browser()

if BROWSER is None and REQUIRED:
    # a module-level failure: CI promised a browser and there is none
    raise RuntimeError(
        "ACTIONBIAS_REQUIRE_BROWSER=1 but no chromium/chrome was found "
        "(on Debian: apt-get install chromium)"
    )

needs_browser = pytest.mark.skipif(BROWSER is None, reason="no chromium/chrome on this machine")

# Appended to a copy of the report: after the load event it records what the
# reader's browser made of the page into <pre id="probe-result">.
PROBE = """
<script>
window.addEventListener("load", () => {
  const images = [...document.images].map((img) => ({
    src: img.getAttribute("src").slice(0, 30),
    complete: img.complete,
    width: img.naturalWidth,
    height: img.naturalHeight,
  }));
  const links = [...document.querySelectorAll("nav a")].map((a) => {
    const href = a.getAttribute("href") || "";
    const target = href.startsWith("#") ? document.getElementById(href.slice(1)) : null;
    let landed = false;
    if (target) {
      location.hash = href.slice(1);
      const top = target.getBoundingClientRect().top;
      landed = document.querySelector(":target") === target && top > -2 && top < innerHeight;
    }
    return { href: href, target: target ? target.tagName : null, landed: landed };
  });
  const resources = performance.getEntriesByType("resource").map((e) => e.name);
  const out = document.createElement("pre");
  out.id = "probe-result";
  out.textContent = JSON.stringify({
    images: images,
    links: links,
    resources: resources,
    text: document.body.innerText.length,
  });
  document.body.appendChild(out);
});
</script>
"""


def _probe(html: str, tmp: Path) -> dict[str, Any]:
    """Load ``html`` (plus the probe) in headless chromium, offline; the probe's findings."""
    assert BROWSER is not None
    page = tmp / "probe.html"
    page.write_text(html.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    with tempfile.TemporaryDirectory(prefix="actionbias-probe-") as profile:
        command = [
            BROWSER,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--host-resolver-rules=MAP * ~NOTFOUND",  # no host can be reached
            "--window-size=1000,800",
            "--virtual-time-budget=10000",  # let the load event and the probe run
            f"--user-data-dir={profile}",
            "--dump-dom",
            page.as_uri(),
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    match = re.search(r'<pre id="probe-result">(.*?)</pre>', done.stdout, re.S)
    assert match, f"no probe result (exit {done.returncode}): {done.stderr[-800:]}"
    text = match.group(1).replace("&quot;", '"').replace("&lt;", "<").replace("&gt;", ">")
    return json.loads(text.replace("&amp;", "&"))


def _problems(found: dict[str, Any]) -> list[str]:
    """Everything a reader would notice: broken plots, dead links, network requests."""
    problems = []
    for image in found["images"]:
        if not (image["complete"] and image["width"] > 0 and image["height"] > 0):
            problems.append(f"image {image['src']}... does not decode")
    for link in found["links"]:
        if not (link["target"] == "SECTION" and link["landed"]):
            problems.append(f"link {link['href']} does not land on a section")
    for name in found["resources"]:
        if not name.startswith(("data:", "file:")):
            problems.append(f"fetched {name}")
    return problems


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("browser")
    runs = [
        make_run(tmp, "base", "baseline", scene=0.6, human=0.2),
        make_run(tmp, "seg", "segmented", scene=0.1, human=0.5, seed=1),
    ]
    return write_report(runs, tmp / "report.html", baseline="baseline")


@needs_browser
def test_report_renders_in_headless_chromium(report: Path, tmp_path: Path) -> None:
    png = render_screenshot(report, tmp_path / "shot.png", width=1000, height=1400)
    image = np.asarray(Image.open(png).convert("RGB")).astype(int)
    assert image.shape == (1400, 1000, 3)
    # Not a blank page: text, tables and the inline plots (their model colours) are drawn.
    assert image.std() > 20
    blue = np.abs(image - [0, 114, 178]).sum(axis=2) < 40  # Okabe-Ito blue = first model
    assert blue.sum() > 500


@needs_browser
def test_plots_decode_links_land_and_nothing_is_fetched(report: Path, tmp_path: Path) -> None:
    html = report.read_text(encoding="utf-8")
    found = _probe(html, tmp_path)
    assert found["text"] > 1000  # the page has its words
    plots = html.count('src="data:image/png;base64,')
    assert plots >= 3 and len(found["images"]) == plots
    sections = re.findall(r'<section id="([a-z-]+)">', html)
    assert [link["href"] for link in found["links"]] == [f"#{s}" for s in sections]
    assert _problems(found) == []


@needs_browser
def test_the_browser_checks_catch_broken_pages(report: Path, tmp_path: Path) -> None:
    """A corrupt plot, a dead link and a remote image are each reported."""
    html = report.read_text(encoding="utf-8")
    first_plot = re.search(r'src="data:image/png;base64,([^"]{40})', html)
    assert first_plot
    broken = html.replace(first_plot.group(1), "A" * 40, 1)
    broken = broken.replace('<nav><a href="#', '<nav><a href="#nowhere-', 1)
    broken = broken.replace("</main>", '<img src="http://example.invalid/x.png" alt=""></main>')
    problems = _problems(_probe(broken, tmp_path))
    assert any("does not decode" in p and "data:image/png" in p for p in problems), problems
    assert any("#nowhere-" in p for p in problems), problems
    assert any("fetched http://example.invalid/x.png" in p for p in problems), problems


def test_missing_browser_is_a_clear_error(tmp_path: Path, monkeypatch) -> None:
    html = tmp_path / "r.html"
    html.write_text("<!DOCTYPE html><p>x</p>")
    monkeypatch.setattr(screenshot_mod, "find_browser", lambda: None)
    with pytest.raises(ScreenshotError, match="no headless browser found"):
        render_screenshot(html, tmp_path / "x.png")


def test_browser_override_must_exist(monkeypatch) -> None:
    monkeypatch.setenv(screenshot_mod.BROWSER_ENV, "/no/such/browser")
    assert screenshot_mod.find_browser() is None
