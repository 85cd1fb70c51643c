"""`actionbias tal demo`: the quick run end to end, its outputs and resume."""

from __future__ import annotations

import json
import math
import time

import numpy as np
import pytest

from actionbias.tal.demo import (
    demo_settings,
    run_tal_demo,
    split_untrimmed,
    synthact_descriptions,
)
from actionbias.tal.report import build_tal_html


def test_descriptions_cover_every_synthact_class_and_differ_within_reversed_pairs():
    from actionbias.synth.actions import ACTIONS, REVERSED_PAIRS

    desc = synthact_descriptions()
    assert set(ACTIONS) <= set(desc)
    for base, rev in REVERSED_PAIRS:
        assert desc[base] != desc[rev]


def test_split_untrimmed_is_seeded_and_partitions(tmp_path):
    from actionbias.data.activitynet import (
        Segment,
        TemporalAnnotations,
        VideoAnnotation,
        read_activitynet_json,
        write_activitynet_json,
    )

    videos = [
        VideoAnnotation(f"v{i}", "training", 10.0, 8.0, [Segment(1.0, 3.0, "a", 0)])
        for i in range(10)
    ]
    write_activitynet_json(TemporalAnnotations(videos), tmp_path / "in.json")
    counts = split_untrimmed(
        tmp_path / "in.json", tmp_path / "a.json", demo_settings(True).splits, 3
    )
    split_untrimmed(tmp_path / "in.json", tmp_path / "b.json", demo_settings(True).splits, 3)
    assert counts == {"training": 6, "validation": 2, "test": 2}
    a = read_activitynet_json(tmp_path / "a.json")
    b = read_activitynet_json(tmp_path / "b.json")
    assert [v.subset for v in a] == [v.subset for v in b]
    assert sorted(v.subset for v in a).count("test") == 2


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("tal_demo")
    t0 = time.perf_counter()
    result = run_tal_demo(out, quick=True, seed=0)
    return out, result, time.perf_counter() - t0


def test_quick_demo_writes_results_and_report(quick_run):
    """The one end-to-end run in the default suite (~30 s on 2 busy cores)."""
    out, result, _seconds = quick_run
    assert result.results_path.is_file() and result.report_path.is_file()
    data = json.loads(result.results_path.read_text())
    assert data["data"]["splits"] == {"training": 9, "validation": 3, "test": 3}
    assert data["reversed_pairs"] == [["arm circles forward", "arm circles backward"]]
    (seed,) = data["seeds"]
    for key in ("vision_only", "actionvlm"):
        maps = seed[key]["mAP"]
        assert set(maps) == {"0.30", "0.40", "0.50", "0.60", "0.70"}
        assert all(0.0 <= v <= 1.0 for v in maps.values())
        # mAP does not increase with a stricter tIoU
        assert all(np.diff(list(maps.values())) <= 1e-12)
        assert math.isclose(seed[key]["average_mAP"], float(np.mean(list(maps.values()))))
    assert {g["group"] for g in seed["groups"]} == {"easy", "medium", "hard"}
    for g in seed["groups"]:
        if g["mean_lambda"] is not None:
            assert 0.0 <= g["mean_lambda"] < 1.0
    if seed["lap"] is not None:
        assert seed["lap"]["lap"] <= 1.0 and len(seed["mismatched_average_mAP"]) == 2
    diag = seed["language_diagnostics"]
    hist = diag["lambda_histogram"]
    assert len(hist["counts"]) == len(hist["edges"]) - 1
    assert sum(hist["counts"]) == sum(v["frames"] for v in diag["test_per_class"].values())
    # one row per vision-language epoch (odd epochs of the alternating schedule)
    assert [e["epoch"] for e in diag["training_epochs"]] == list(range(1, 8, 2))
    for row in diag["last_epoch_per_class"].values():
        assert row["target_std"] >= 0 and 0.0 <= row["lambda_mean"] < 1.0
        assert row["vl_loss_mean"] == pytest.approx(row["vision_loss_mean"] - row["target_mean"])
    html = result.report_path.read_text()
    assert '<img src="data:image/png;base64,' in html and "Ambiguous classes" in html
    assert "Language weight and advantage targets" in html and "target A std" in html
    assert (out / "features" / "features.json").is_file()
    assert len(list((out / "detectors").glob("*.pt"))) == 2


@pytest.mark.slow
def test_quick_demo_resumes_without_retraining(quick_run):
    out, first, _ = quick_run
    t0 = time.perf_counter()
    again = run_tal_demo(out, quick=True, seed=0)
    assert time.perf_counter() - t0 < 60
    assert again.results["recogniser"]["trained_now"] is False
    assert again.results["timings_seconds"]["detector_training"] == 0
    assert again.results["seeds"] == first.results["seeds"]
    html = build_tal_html(again.results, created="x")
    assert "ActionVLM" in html


def test_other_settings_in_the_folder_are_refused(tmp_path):
    from actionbias.errors import BadInputError

    (tmp_path / "settings.json").write_text(json.dumps({"preset": "other"}))
    with pytest.raises(BadInputError, match="other settings"):
        run_tal_demo(tmp_path, quick=True)
