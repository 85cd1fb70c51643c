"""Table 2/3 math on handmade runs: bootstrap cells for one seed, t intervals over seeds."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import pytest

from actionbias.demo.tables import (
    METRIC_KEYS,
    RunFigures,
    build_tables,
    combine,
    figures_from_metrics,
    load_run_figures,
)
from actionbias.errors import BadInputError

MODELS = ("baseline", "segmented")


def est(value: float, low: float | None = None, high: float | None = None, n: int = 100) -> dict:
    return {
        "value": value,
        "low": low if low is not None else value - 0.05,
        "high": high if high is not None else value + 0.05,
        "n": n,
    }


def run(model: str, augment: str, seed: int, test: float, sberr: float) -> RunFigures:
    return RunFigures(
        model=model,
        augment=augment,
        seed=seed,
        figures={
            "test_acc": est(test),
            "swap_shacc": est(1 - sberr - 0.1),
            "swap_sberr": est(sberr),
            "mimetic_acc": est(0.3, n=60),
        },
        num_classes=10,
    )


def test_one_seed_keeps_the_bootstrap_interval_over_videos():
    cell = combine([{"value": 0.8, "low": 0.7, "high": 0.88, "n": 100}], [0])
    assert (cell.value, cell.low, cell.high, cell.n, cell.method) == (
        0.8,
        0.7,
        0.88,
        100,
        "bootstrap",
    )
    assert cell.text() == "80.0 [70.0, 88.0]"


def test_several_seeds_give_mean_and_student_t_interval_by_hand():
    values = [0.80, 0.90, 0.70]
    cell = combine([{"value": v, "low": 0.0, "high": 1.0, "n": 100} for v in values], [0, 1, 2])
    # mean 0.8, sample sd 0.1, t_{0.975, 2} = 4.302653, half = 4.302653 * 0.1 / sqrt(3)
    half = 4.302653 * 0.1 / math.sqrt(3)
    assert cell.method == "t" and cell.n == 3 and cell.seeds == [0, 1, 2]
    assert cell.value == pytest.approx(0.8)
    assert cell.low == pytest.approx(0.8 - half, abs=1e-5)
    assert cell.high == pytest.approx(0.8 + half, abs=1e-5)
    assert cell.per_seed == pytest.approx(values)
    assert cell.text() == "80.0 ± 24.8"


def test_two_seeds_use_twelve_point_seven():
    cell = combine([{"value": 0.5}, {"value": 0.6}], [3, 7])
    half = 12.706205 * (0.1 / math.sqrt(2)) / math.sqrt(2)
    assert cell.high - cell.value == pytest.approx(half, rel=1e-5)


def test_identical_seeds_have_zero_width_and_missing_values_are_dropped():
    cell = combine([{"value": 0.4}, {"value": 0.4}, {"value": None}], [0, 1, 2])
    assert cell.n == 2 and cell.high == pytest.approx(0.4) and cell.low == pytest.approx(0.4)
    empty = combine([{"value": float("nan")}], [0])
    assert empty.value is None and empty.method == "none" and empty.text() == "–"


def test_tables_group_by_model_and_augment_with_the_baseline_first():
    runs = [
        run("segmented", "none", 0, 0.5, 0.05),
        run("baseline", "scene-swap", 0, 0.85, 0.3),
        run("baseline", "none", 0, 0.9, 0.8),
        run("segmented", "scene-swap", 0, 0.45, 0.04),
    ]
    tables = build_tables(runs, baseline="baseline")
    assert tables.models == ["baseline", "segmented"]
    assert tables.augments == ["none", "scene-swap"]
    assert tables.chance == pytest.approx(0.1)
    assert tables.videos == {"test": 100, "swap": 100, "mimetic": 60}
    md2 = tables.table2_markdown()
    lines = [line for line in md2.splitlines() if line.startswith("| ")]
    assert lines[1].startswith("| baseline | 90.0 [85.0, 95.0] | ")
    # change from the baseline in parentheses: 50 - 90 = -40 test, 5 - 80 = -75 SBErr
    assert "50.0 [45.0, 55.0] (−40.0)" in lines[2] and "5.00 [0.00, 10.0] (−75.0)" in lines[2]
    assert "Chance: 10.0 %" in md2 and "scene-swap" not in lines[2]
    md3 = tables.table3_markdown()
    rows = [line for line in md3.splitlines() if line.startswith("| baseline")]
    assert rows[0].startswith("| baseline | original | 90.0 [85.0, 95.0] | ")
    assert "(" not in rows[0]
    # with augmentation: compared with the same model without it
    assert rows[1].startswith("| baseline | + scene-swap | 85.0 [80.0, 90.0] (−5.00) | ")
    assert "30.0 [25.0, 35.0] (−50.0)" in rows[1]
    assert [line.split(" | ")[0] for line in md3.splitlines() if line.startswith("| ")][1:] == [
        "| baseline",
        "| baseline",
        "| segmented",
        "| segmented",
    ]


def test_csv_and_json_hold_every_cell_as_fractions(tmp_path: Path):
    runs = [
        run(m, a, s, 0.6 + 0.1 * s, 0.5 - 0.1 * s)
        for m in MODELS
        for a in ("none", "scene-swap")
        for s in (0, 1)
    ]
    tables = build_tables(runs)
    paths = tables.write(tmp_path)
    assert sorted(paths) == sorted(f"table{t}.{e}" for t in (2, 3) for e in ("csv", "md", "json"))
    rows = list(csv.DictReader(io.StringIO(paths["table3.csv"].read_text())))
    assert len(rows) == len(MODELS) * 2 * len(METRIC_KEYS)
    test_row = next(
        r
        for r in rows
        if r["model"] == "baseline" and r["augment"] == "none" and r["metric"] == "test_acc"
    )
    assert float(test_row["value"]) == pytest.approx(0.65)
    assert test_row["n"] == "2" and test_row["seeds"] == "0 1" and test_row["method"] == "t"
    rows2 = list(csv.DictReader(io.StringIO(paths["table2.csv"].read_text())))
    assert {r["augment"] for r in rows2} == {"none"} and len(rows2) == 2 * len(METRIC_KEYS)
    data = json.loads(paths["table3.json"].read_text())
    assert data["seeds"] == [0, 1] and data["interval"] == "t over seeds"
    cell = data["rows"][0]["cells"]["swap_sberr"]
    assert cell["per_seed"] == pytest.approx([0.5, 0.4]) and cell["level"] == 0.95


def test_a_duplicate_seed_is_refused():
    with pytest.raises(BadInputError, match="seed 0"):
        build_tables([run("baseline", "none", 0, 0.9, 0.8), run("baseline", "none", 0, 0.8, 0.7)])


def _metrics(groups: dict) -> dict:
    return {
        "run": {"tags": {"model": "dual_sum", "augment": "scene-swap", "seed": 2}},
        "summary": {"classes": 10, "groups": groups},
    }


def test_figures_come_from_the_audit_metrics(tmp_path: Path):
    groups = {
        "test": {"top1": est(0.9)},
        "swap": {
            "top1": est(0.2),
            "swap": {"shacc": est(0.2), "sberr": est(0.7), "other": est(0.1)},
        },
        "mimetic": {"top1": est(0.3)},
    }
    (tmp_path / "metrics.json").write_text(json.dumps(_metrics(groups)))
    figures = load_run_figures(tmp_path)
    assert (figures.model, figures.augment, figures.seed, figures.num_classes) == (
        "dual_sum",
        "scene-swap",
        2,
        10,
    )
    assert figures.figures["swap_sberr"]["value"] == 0.7
    assert figures.figures["test_acc"]["value"] == 0.9
    del groups["mimetic"]
    with pytest.raises(BadInputError, match="mimetic"):
        figures_from_metrics(_metrics(groups), "x/metrics.json")


def test_unfinished_run_is_named(tmp_path: Path):
    with pytest.raises(BadInputError, match=r"metrics\.json"):
        load_run_figures(tmp_path)
