"""Figures from prediction tables: summaries, paired comparisons and `actionbias metrics`."""

from __future__ import annotations

import json

import numpy as np
import pytest

from actionbias.audit import compare, read_predictions, summarize, write_predictions
from actionbias.cli import main


def _write_csv(path, rows, header="id,label,prediction,background_label,dataset"):
    path.write_text(header + "\n" + "\n".join(rows) + "\n")
    return path


def test_summary_hand_computed_swap_and_plain(tmp_path):
    path = _write_csv(
        tmp_path / "p.csv",
        [
            "a,run,run,,test",
            "b,jump,run,,test",
            "c,run,run,jump,swap",  # human
            "d,run,jump,jump,swap",  # background
            "e,jump,jump,wave,swap",  # human
            "f,wave,,run,swap",  # no answer -> other
        ],
    )
    table = read_predictions(path)
    assert table.classes == ["jump", "run", "wave"]
    result = summarize(table, n_boot=200)
    test = result["groups"]["test"]
    assert test["n"] == 2 and test["top1"]["value"] == pytest.approx(0.5)
    swap = result["groups"]["swap"]
    assert swap["no_answer"] == 1
    assert swap["swap"]["shacc"]["value"] == pytest.approx(2 / 4)
    assert swap["swap"]["sberr"]["value"] == pytest.approx(1 / 4)
    assert swap["swap"]["other"]["value"] == pytest.approx(1 / 4)
    by_bg = {r["class"]: r for r in swap["by_background"]}
    assert by_bg["jump"]["n"] == 2 and by_bg["jump"]["sberr"]["value"] == pytest.approx(0.5)
    assert swap["highest_sberr_backgrounds"][0] == "jump"


def test_jsonl_with_scores_gives_top5_and_map(tmp_path):
    rows = [
        {"id": "x", "label": "b", "prediction": "a", "scores": [0.6, 0.4, 0.0]},
        {"id": "y", "label": "b", "prediction": "b", "scores": [0.1, 0.8, 0.1]},
    ]
    path = tmp_path / "p.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    table = read_predictions(path, classes=["a", "b", "c"])
    g = summarize(table, n_boot=100)["groups"]["all"]
    assert g["top5"]["value"] == 1.0
    assert g["mAP"]["value"] == pytest.approx(1.0)  # class b: 0.8(+), 0.4(+)
    out = tmp_path / "back.jsonl"
    write_predictions(table, out)
    again = read_predictions(out, classes=["a", "b", "c"])
    assert again.ids == table.ids
    np.testing.assert_array_equal(again.scores, table.scores)


def test_compare_pairs_by_id(tmp_path):
    a = _write_csv(tmp_path / "a.csv", [f"v{i},run,run,jump,swap" for i in range(30)])
    b = _write_csv(
        tmp_path / "b.csv", [f"v{i},run,jump,jump,swap" for i in range(25)] + ["extra,run,run,,"]
    )
    ta, tb = read_predictions(a), read_predictions(b, classes=["jump", "run"])
    result = compare(ta, tb, n_boot=200)
    assert result["shared_videos"] == 25 and result["only_in_a"] == 5 and result["only_in_b"] == 1
    shacc = result["groups"]["swap"]["shacc"]
    assert shacc["difference"]["value"] == pytest.approx(1.0)
    assert shacc["p_mcnemar"] < 1e-6
    assert result["groups"]["swap"]["sberr"]["difference"]["value"] == pytest.approx(-1.0)


def test_metrics_command(tmp_path, capsys):
    path = _write_csv(tmp_path / "p.csv", ["a,run,run,jump,swap", "b,jump,run,run,swap"])
    out = tmp_path / "m.json"
    assert (
        main(["metrics", "--predictions", str(path), "--out", str(out), "--bootstrap", "50"]) == 0
    )
    printed = json.loads(capsys.readouterr().out)
    assert json.loads(out.read_text()) == printed
    assert printed["groups"]["swap"]["swap"]["sberr"]["value"] == pytest.approx(0.5)
    assert main(["metrics", "--predictions", str(tmp_path / "nope.csv")]) == 2


def _swap_rows(outcomes, humans, backgrounds, persons=None):
    """CSV rows of swap videos: outcome h (human's class), b (background's) or o (other)."""
    rows = []
    for i, outcome in enumerate(outcomes):
        prediction = {"h": "run", "b": "jump", "o": "sit"}[outcome]
        person = "" if persons is None else persons[i]
        rows.append(f"v{i},run,{prediction},jump,swap,{humans[i]},{backgrounds[i]},{person}")
    return rows


SWAP_HEADER = "id,label,prediction,background_label,dataset,human_clip,background_clip,has_person"


def test_repeated_human_clips_are_resampled_as_wholes(tmp_path):
    rng = np.random.default_rng(0)
    outcomes = np.repeat(rng.choice(["h", "b"], 40), 3)  # each human clip on 3 backgrounds
    humans = [f"run/h{i // 3}" for i in range(120)]
    backgrounds = [f"jump/b{i}" for i in range(120)]
    clustered = _write_csv(
        tmp_path / "c.csv", _swap_rows(outcomes, humans, backgrounds), SWAP_HEADER
    )
    plain = _write_csv(
        tmp_path / "p.csv",
        _swap_rows(outcomes, [f"h{i}" for i in range(120)], backgrounds),
        SWAP_HEADER,
    )
    g = summarize(read_predictions(clustered), n_boot=2000)["groups"]["swap"]
    ref = summarize(read_predictions(plain), n_boot=2000)["groups"]["swap"]
    assert g["resampling"] == {"unit": "human_clip", "videos": 120, "human_clip": 40}
    assert ref["resampling"] == {"unit": "video", "videos": 120}
    sberr, naive = g["swap"]["sberr"], ref["swap"]["sberr"]
    assert sberr["unit"] == "human_clip" and naive["unit"] == "video"
    assert sberr["value"] == naive["value"] == pytest.approx(np.mean(outcomes == "b"))
    assert (sberr["high"] - sberr["low"]) > 1.4 * (naive["high"] - naive["low"])
    assert g["by_background"][0]["sberr"]["unit"] == "human_clip"


def test_swap_videos_without_a_person_are_reported_apart(tmp_path):
    outcomes = ["h", "b", "b", "o", "b", "h"]
    persons = ["1", "yes", "", "0", "false", "true"]
    path = _write_csv(
        tmp_path / "p.csv",
        _swap_rows(outcomes, [f"h{i}" for i in range(6)], [f"b{i}" for i in range(6)], persons),
        SWAP_HEADER,
    )
    table = read_predictions(path)
    assert table.has_person.tolist() == [1, 1, -1, 0, 0, 1]
    g = summarize(table, n_boot=100)["groups"]["swap"]
    assert g["n"] == 4 and g["swap"]["n"] == 4  # unknown counts as having a person
    assert g["swap"]["shacc"]["value"] == pytest.approx(2 / 4)
    assert g["swap"]["sberr"]["value"] == pytest.approx(2 / 4)
    apart = g["no_person"]
    assert apart["n"] == 2 and apart["swap"]["n"] == 2
    assert apart["swap"]["sberr"]["value"] == pytest.approx(1 / 2)
    assert apart["swap"]["other"]["value"] == pytest.approx(1 / 2)
    # round trip through our JSONL keeps the sources and the flag
    out = tmp_path / "back.jsonl"
    write_predictions(table, out)
    again = read_predictions(out, table.classes)
    assert again.has_person.tolist() == table.has_person.tolist()
    assert again.human_clips == table.human_clips
    assert again.background_clips == table.background_clips
    # a paired comparison leaves them out too, and says so
    other = _write_csv(
        tmp_path / "o.csv",
        _swap_rows(["h"] * 6, [f"h{i}" for i in range(6)], [f"b{i}" for i in range(6)]),
        SWAP_HEADER,
    )
    result = compare(table, read_predictions(other, table.classes), n_boot=100)
    assert result["groups"]["swap"]["n"] == 4
    assert result["groups"]["swap"]["no_person_left_out"] == 2
    assert result["groups"]["swap"]["shacc"]["difference"]["value"] == pytest.approx(-0.5)


def test_paired_tests_resample_shared_clips(tmp_path):
    rng = np.random.default_rng(1)
    base = np.repeat(rng.choice(["h", "b"], 30), 4)
    worse = np.where(np.repeat(rng.random(30) < 0.3, 4), "b", base)
    humans = [f"h{i // 4}" for i in range(120)]
    backgrounds = [f"b{i}" for i in range(120)]
    a = read_predictions(
        _write_csv(tmp_path / "a.csv", _swap_rows(base, humans, backgrounds), SWAP_HEADER)
    )
    b = read_predictions(
        _write_csv(tmp_path / "b.csv", _swap_rows(worse, humans, backgrounds), SWAP_HEADER),
        a.classes,
    )
    g = compare(a, b, n_boot=1000)["groups"]["swap"]
    assert g["resampling"]["unit"] == "human_clip" and g["resampling"]["human_clip"] == 30
    assert g["sberr"]["difference"]["unit"] == "human_clip"
    assert g["sberr"]["mcnemar"] == "clustered by human_clip"
    assert 0.0 <= g["sberr"]["p_mcnemar"] <= 1.0


def test_plain_rows_get_accuracy_per_class_and_their_most_frequent_wrong_answer(tmp_path):
    path = _write_csv(
        tmp_path / "p.csv",
        [
            "a,run,run,,mimetic",
            "b,run,jump,,mimetic",
            "c,run,jump,,mimetic",
            "d,run,wave,,mimetic",
            "e,jump,jump,,mimetic",
            "f,wave,,,mimetic",  # no answer
            "g,run,run,jump,swap",
        ],
    )
    result = summarize(read_predictions(path), n_boot=200)
    rows = {r["class"]: r for r in result["groups"]["mimetic"]["by_class"]}
    assert list(rows) == ["jump", "run", "wave"]  # class order, only the classes present
    assert rows["run"]["n"] == 4 and rows["run"]["top1"]["value"] == pytest.approx(0.25)
    assert rows["run"]["confused_with"] == "jump" and rows["run"]["confused_n"] == 2
    assert 0.0 <= rows["run"]["top1"]["low"] <= 0.25 <= rows["run"]["top1"]["high"] <= 1.0
    assert rows["jump"]["top1"]["value"] == 1.0 and rows["jump"]["confused_with"] is None
    assert rows["wave"]["confused_with"] == "(no answer)" and rows["wave"]["confused_n"] == 1
    # swap rows keep their own per-class breakdowns and get no accuracy table
    assert "by_class" not in result["groups"]["swap"]
