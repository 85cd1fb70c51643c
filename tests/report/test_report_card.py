"""The benchmark card's section and page: what a reader sees, and bad card files."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest

from actionbias.cli import main
from actionbias.errors import BadInputError
from actionbias.report.card import card_section, read_card, write_card_page


def _estimate(value: float, n: int = 100) -> dict[str, float]:
    return {"value": value, "low": value - 0.05, "high": value + 0.05, "n": n, "level": 0.95}


def _card() -> dict:
    curve = [0.1, 0.3, 0.5]
    return {
        "format": "synthact-card-1",
        "classes": [f"c{i}" for i in range(10)],
        "chance": 0.1,
        "seed": 7,
        "config": {"correlation": 0.9, "scene_sets": 3},
        "budget": {"model": "slow_tiny", "epochs": 3},
        "probe": {"frames": 8, "size": 64},
        "measurements": {
            "scene_only": {"test_accuracy": _estimate(0.55), "val_curve": curve},
            "human_only": {"test_accuracy": _estimate(0.61), "val_curve": curve},
            "baseline": {
                "test_accuracy": _estimate(0.68),
                "swap_shacc": _estimate(0.12),
                "swap_sberr": _estimate(0.34),
                "swap_other": _estimate(0.54),
                "mimetic_accuracy": _estimate(0.2, 60),
                "val_curve": curve,
            },
        },
    }


def test_section_lists_every_figure_with_its_interval() -> None:
    body = str(card_section(_card()).body)
    for text in ("scene only", "human only", "baseline swap SBErr", "34.0", "[29.0, 39.0]"):
        assert text in body
    assert "RGB, scenes shuffled" not in body  # not measured, not shown
    uri = re.search(r'src="data:image/png;base64,([^"]+)"', body)
    assert uri is not None and base64.b64decode(uri.group(1))[:4] == b"\x89PNG"


def test_card_page_and_report_option(tmp_path: Path, study_root: Path) -> None:
    path = tmp_path / "card.json"
    path.write_text(json.dumps(_card()))
    page = write_card_page(read_card(path), tmp_path / "card.html")
    assert "Benchmark card" in page.read_text()
    out = tmp_path / "report.html"
    assert main(["report", str(study_root / "demo"), "--out", str(out), "--card", str(path)]) == 0
    html = out.read_text()
    assert 'id="card"' in html and 'href="#card"' in html


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "unreadable"),
        ('{"format": "x"}', "not a SynthAct"),
        ('{"format": "synthact-card-1"}', "classes"),
    ],
)
def test_bad_card_files_name_the_file(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "card.json"
    path.write_text(text)
    with pytest.raises(BadInputError, match=message) as err:
        read_card(path)
    assert str(path) in str(err.value)
