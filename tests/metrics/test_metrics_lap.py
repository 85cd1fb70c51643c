"""LAP, hallucination rates, visual-ambiguity metrics and class groups vs hand computations."""

from __future__ import annotations

import math

import numpy as np
import pytest

from actionbias.metrics import lap as L


def test_lap_is_the_relative_drop():
    assert math.isclose(L.language_advantage_on_performance(0.72, 0.7013), (0.72 - 0.7013) / 0.72)
    assert L.language_advantage_on_performance(0.5, 0.6) == pytest.approx(-0.2)
    with pytest.raises(ValueError, match="positive"):
        L.language_advantage_on_performance(0.0, 0.1)
    with pytest.raises(ValueError):
        L.language_advantage_on_performance(0.5, float("nan"))
    res = L.lap_over_permutations(0.8, [0.6, 0.7])
    assert res["lap"] == pytest.approx((0.25 + 0.125) / 2)
    assert res["lap_std"] == pytest.approx(np.std([0.25, 0.125], ddof=1))
    assert L.lap_over_permutations(0.8, [0.6])["lap_std"] == 0.0
    with pytest.raises(ValueError):
        L.lap_over_permutations(0.8, [])


def test_parse_segments_from_free_text():
    text = "Billiards from 12.5 to 20 seconds; then 30-41.2s, also [50, 60] and 7 until 9 frames."
    assert L.parse_segments(text) == [(12.5, 20.0), (30.0, 41.2), (50.0, 60.0), (7.0, 9.0)]
    assert L.parse_segments("no action here") == []


def test_hallucination_rates_by_hand():
    fixed = ((10.0, 40.0),)
    answers = [
        L.QAAnswer("v1", fixed, 100.0),
        L.QAAnswer("v2", fixed, 100.0),
        L.QAAnswer("v3", fixed, 100.0),  # same boundaries for 3 videos: fixed
        L.QAAnswer("v4", ((5.0, 9.0),), 100.0),
        L.QAAnswer("v5", ((30.0, 20.0),), 100.0),  # end before start: fake
        L.QAAnswer("v6", ((90.0, 130.0),), 100.0),  # past the end: fake
        L.QAAnswer("v7", ((1.0, 2.0),) * 3, 100.0),  # one segment 3 times: endless
        L.QAAnswer("v8", ((1.0, 2.0),), 100.0, truncated=True),  # hit the token limit
        L.QAAnswer("v9", tuple((float(i), i + 0.5) for i in range(60)), 100.0),  # > 50 segments
        L.QAAnswer("v1", fixed, 100.0),  # second query on v1: still only 3 distinct videos
    ]
    fixed_flags = L.fixed_output_flags(answers)
    assert fixed_flags.tolist() == [True, True, True, False, True, True, False, False, False, True]
    endless = L.endless_listing_flags(answers)
    assert endless.tolist() == [False] * 6 + [True, True, True, False]
    rates = L.hallucination_rates(answers)
    assert rates == {"fixed": 0.6, "endless": 0.3}
    assert L.hallucination_rates(answers, min_videos=4)["fixed"] == pytest.approx(0.2)
    with pytest.raises(ValueError):
        L.hallucination_rates([])


def test_ambiguity_metrics_by_hand():
    scores = np.array([0.9, 0.2, 0.5, 0.0])
    preds = np.array([[0.0, 10.0], [12.0, 13.0], [14.0, 30.0], [0.0, 1.0]])
    clips = np.array([[2.0, 6.0], [10.0, 20.0], [10.0, 20.0], [5.0, 6.0]])
    # spans inside clips: 4/4, 1/10, 6/10, 0/1
    spans = L.normalised_spans(preds, clips)
    np.testing.assert_allclose(spans, [1.0, 0.1, 0.6, 0.0])
    m = L.ambiguity_metrics(scores, preds, clips)
    assert m["mconf"] == pytest.approx(0.4)
    assert m["mlen"] == pytest.approx(0.425)
    assert m["acc@0.3"] == 0.5 and m["acc@0.5"] == 0.5 and m["acc@0.7"] == 0.75
    with pytest.raises(ValueError, match="end > start"):
        L.normalised_spans(preds[:1], np.array([[3.0, 3.0]]))
    with pytest.raises(ValueError):
        L.ambiguity_metrics(scores[:2], preds, clips)


def test_groups_and_table3_rows():
    ap = {f"c{i}": ap for i, ap in enumerate([0.9, 0.1, 0.5, 0.95, 0.3, 0.6, 0.7, 0.2, 0.8, 0.4])}
    groups = L.group_classes_by_ap(ap)  # 10 classes: 2 easy, 1 hard
    assert groups == {
        "easy": ["c3", "c0"],
        "medium": ["c8", "c6", "c5", "c2", "c9", "c4", "c7"],
        "hard": ["c1"],
    }
    assert L.group_classes_by_ap(ap, n_easy=1, n_hard=2)["hard"] == ["c7", "c1"]
    with pytest.raises(ValueError):
        L.group_classes_by_ap({"a": 1.0, "b": 0.5})

    model = {c: v + 0.05 for c, v in ap.items()}
    model["c3"] = 0.85
    adv = {"c3": np.array([0.1, 0.3]), "c0": np.array([0.2]), "c1": np.array([0.5, 0.7, 0.9])}
    rows = L.advantage_by_group(groups, model, ap, adv)
    easy, medium, hard = rows
    assert easy.map == pytest.approx((0.85 + 0.95) / 2)
    assert easy.gain == pytest.approx((0.85 + 0.95) / 2 - (0.95 + 0.9) / 2)
    assert easy.mean_advantage == pytest.approx(0.2)  # frames pooled: (0.1 + 0.3 + 0.2) / 3
    assert medium.mean_advantage is None
    assert hard.map == pytest.approx(0.15) and hard.mean_advantage == pytest.approx(0.7)
    with pytest.raises(ValueError, match="c3"):
        L.advantage_by_group({"easy": ["c3"]}, {})


def test_thumos14_paper_groups():
    names = ["Billiards", "HighJump", "GolfSwing", "FrisbeeCatch", "LongJump"]
    g = L.thumos14_groups(names)
    assert g == {
        "easy": ["HighJump", "LongJump"],
        "medium": ["GolfSwing"],
        "hard": ["Billiards", "FrisbeeCatch"],
    }
