"""tIoU / AP / mAP for temporal action localisation against a plain-loop reference.

`_loop_map` below is written from the definition of the ActivityNet detection
evaluation (one prediction at a time, one threshold at a time), deliberately
naive so that it is easy to audit; the vectorised implementation must agree
with it to 1e-6 on random inputs with score ties, tIoU ties and duplicates.
"""

from __future__ import annotations

import numpy as np
import pytest

from actionbias.metrics.tal import (
    deduplicate_ground_truth,
    evaluate_detection,
    interpolated_average_precision,
    parse_tiou_thresholds,
    segment_tiou,
)


def _loop_tiou(a: tuple[float, float], b: tuple[float, float]) -> float:
    inter = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
    union = (b[1] - b[0]) + (a[1] - a[0]) - inter
    return 0.0 if union <= 0 else inter / union


def _loop_ap(prec: list[float], rec: list[float]) -> float:
    mprec = [0.0, *prec, 0.0]
    mrec = [0.0, *rec, 1.0]
    for i in range(len(mprec) - 2, -1, -1):
        mprec[i] = max(mprec[i], mprec[i + 1])
    return sum(
        (mrec[i] - mrec[i - 1]) * mprec[i] for i in range(1, len(mrec)) if mrec[i] != mrec[i - 1]
    )


def _loop_map(gt, preds, thresholds, video_ids=None, ignore=False):
    """gt: [(video, start, end, label)], preds: [(video, start, end, label, score)].

    `ignore`: drop predictions on videos outside `video_ids` and the ground truth's
    videos (the reference keeps them: they find no ground truth and are false positives).
    """
    kept = []
    for g in gt:
        if not any(
            k[0] == g[0] and k[3] == g[3] and abs(k[1] - g[1]) <= 1e-3 and abs(k[2] - g[2]) <= 1e-3
            for k in kept
        ):
            kept.append(g)
    if ignore:
        allowed = set(video_ids or ()) | {g[0] for g in kept}
        preds = [p for p in preds if p[0] in allowed]
    classes = sorted({g[3] for g in kept})
    ap = np.zeros((len(thresholds), len(classes)))
    for c, name in enumerate(classes):
        cgt = [g for g in kept if g[3] == name]
        cpred = [p for p in preds if p[3] == name]
        if not cpred:
            continue
        scores = np.array([p[4] for p in cpred])
        order = np.argsort(scores)[::-1]  # the reference's tie rule
        for t, thr in enumerate(thresholds):
            used = [False] * len(cgt)
            tp, fp = [], []
            for i in order:
                p = cpred[i]
                mine = [j for j, g in enumerate(cgt) if g[0] == p[0]]
                hit = False
                if mine:
                    ious = np.array(
                        [_loop_tiou((p[1], p[2]), (cgt[j][1], cgt[j][2])) for j in mine]
                    )
                    for k in np.argsort(ious)[::-1]:
                        if ious[k] < thr:
                            break
                        if used[mine[k]]:
                            continue
                        used[mine[k]] = True
                        hit = True
                        break
                tp.append(1.0 if hit else 0.0)
                fp.append(0.0 if hit else 1.0)
            tpc = np.cumsum(tp)
            fpc = np.cumsum(fp)
            ap[t, c] = _loop_ap(list(tpc / (tpc + fpc)), list(tpc / len(cgt)))
    return classes, ap


def _random_case(rng: np.random.Generator, quantised: bool):
    n_videos = int(rng.integers(1, 6))
    n_classes = int(rng.integers(1, 5))
    videos = [f"v{i}" for i in range(n_videos)]
    labels = [f"c{i}" for i in range(n_classes)]
    gt = []
    for _ in range(int(rng.integers(1, 15))):
        s = float(rng.integers(0, 20)) if quantised else float(rng.uniform(0, 20))
        d = float(rng.integers(1, 8)) if quantised else float(rng.uniform(0.1, 8))
        g = (str(rng.choice(videos)), s, s + d, str(rng.choice(labels)))
        gt.append(g)
        if rng.random() < 0.2:  # duplicate within tolerance
            gt.append((g[0], g[1] + 5e-4, g[2] - 5e-4, g[3]))
    preds = []
    pool = [*videos, "unseen"]
    for _ in range(int(rng.integers(0, 40))):
        if gt and rng.random() < 0.5:  # near a ground truth segment
            g = gt[int(rng.integers(len(gt)))]
            jit = (lambda: float(rng.integers(-2, 3))) if quantised else (lambda: rng.normal(0, 1))
            s, e = g[1] + jit(), g[2] + jit()
            v, lab = g[0], g[3] if rng.random() < 0.8 else str(rng.choice(labels))
        else:
            s = float(rng.integers(0, 20)) if quantised else float(rng.uniform(0, 20))
            e = s + (float(rng.integers(1, 8)) if quantised else float(rng.uniform(0.1, 8)))
            v, lab = str(rng.choice(pool)), str(rng.choice([*labels, "extra"]))
        s, e = max(0.0, s), max(0.0, e)
        if e <= s:
            e = s + 1.0
        score = float(rng.integers(0, 4)) / 4 if quantised else float(rng.random())
        preds.append((v, s, e, lab, score))
    return gt, preds


def _run(gt, preds, thresholds, video_ids=None, ignore=False):
    return evaluate_detection(
        [g[0] for g in gt],
        np.array([[g[1], g[2]] for g in gt]).reshape(-1, 2),
        [g[3] for g in gt],
        [p[0] for p in preds],
        np.array([[p[1], p[2]] for p in preds]).reshape(-1, 2),
        [p[3] for p in preds],
        np.array([p[4] for p in preds]),
        thresholds,
        video_ids=video_ids,
        ignore_unknown_videos=ignore,
    )


@pytest.mark.parametrize("quantised", [False, True])
def test_matches_loop_reference_on_random_cases(quantised: bool) -> None:
    rng = np.random.default_rng(7 + quantised)
    thresholds = np.linspace(0.1, 0.9, 9)
    for _ in range(150):
        gt, preds = _random_case(rng, quantised)
        video_ids = None if rng.random() < 0.5 else [*sorted({g[0] for g in gt}), "empty"]
        ignore = bool(rng.random() < 0.5)
        classes, ref = _loop_map(gt, preds, thresholds, video_ids, ignore)
        got = _run(gt, preds, thresholds, video_ids, ignore)
        assert got.classes == classes
        np.testing.assert_allclose(got.ap, ref, atol=1e-6, rtol=0)


def test_hand_computed_case() -> None:
    # one class, two GT in one video; predictions: hit (0.9), duplicate of the hit
    # (0.8, FP because GT already matched), miss on the 2nd GT region (0.7), hit (0.6)
    gt = [("a", 0.0, 10.0, "run"), ("a", 20.0, 30.0, "run")]
    preds = [
        ("a", 0.0, 10.0, "run", 0.9),
        ("a", 1.0, 10.0, "run", 0.8),
        ("a", 40.0, 50.0, "run", 0.7),
        ("a", 21.0, 30.0, "run", 0.6),
    ]
    res = _run(gt, preds, [0.5])
    # precision at hits: 1/1 then 2/4; recall 0.5 then 1.0 -> AP = 0.5*1 + 0.5*0.5
    assert res.ap[0, 0] == pytest.approx(0.75)
    assert res.average_map == pytest.approx(0.75)
    # a threshold the 2nd hit (tIoU 0.9) fails but the 1st (1.0) passes
    assert _run(gt, preds, [0.95]).ap[0, 0] == pytest.approx(0.5)


def test_class_without_predictions_scores_zero_and_extra_classes_ignored() -> None:
    gt = [("a", 0.0, 10.0, "x"), ("a", 20.0, 30.0, "y")]
    preds = [("a", 0.0, 10.0, "x", 0.5), ("a", 20.0, 30.0, "z", 0.9)]
    res = _run(gt, preds, [0.5])
    assert res.classes == ["x", "y"]
    np.testing.assert_allclose(res.ap[0], [1.0, 0.0])
    assert res.to_dict()["mAP"]["0.50"] == pytest.approx(0.5)


def test_unknown_videos_are_false_positives_unless_ignored() -> None:
    gt = [("a", 0.0, 10.0, "x")]
    preds = [("b", 0.0, 10.0, "x", 0.9), ("a", 0.0, 10.0, "x", 0.5)]
    res = _run(gt, preds, [0.5])
    assert res.ap[0, 0] == pytest.approx(0.5)  # reference: FP
    assert (res.unknown_video_predictions, res.ignored_predictions) == (1, 0)
    # naming the subset does not change the reference rule
    assert _run(gt, preds, [0.5], video_ids=["a"]).ap[0, 0] == pytest.approx(0.5)
    res = _run(gt, preds, [0.5], video_ids=["a"], ignore=True)
    assert res.ap[0, 0] == pytest.approx(1.0)
    assert (res.unknown_video_predictions, res.ignored_predictions) == (1, 1)
    assert res.num_predictions == 2 and res.to_dict()["unknown_videos"] == "ignored"
    # a subset video without any ground truth still turns its predictions into FPs
    res = _run(gt, preds, [0.5], video_ids=["a", "b"], ignore=True)
    assert res.ap[0, 0] == pytest.approx(0.5)
    assert (res.unknown_video_predictions, res.no_ground_truth_predictions) == (0, 1)


# Evaluated subset: videos a and b. "t" belongs to another subset (its ground truth is
# not passed), "zz" is in no annotation file.
SUBSET_GT = [("a", 0.0, 10.0, "x"), ("a", 20.0, 30.0, "x"), ("b", 0.0, 10.0, "y")]
MIXED_PREDS = [
    ("t", 0.0, 5.0, "y", 0.95),  # other subset: no ground truth here -> FP
    ("b", 0.0, 10.0, "y", 0.9),  # hit
    ("zz", 0.0, 10.0, "x", 0.8),  # unknown video -> FP
    ("a", 0.0, 10.0, "x", 0.7),  # hit (tIoU 1)
    ("b", 0.0, 10.0, "x", 0.6),  # subset video without x -> FP either way
    ("a", 21.0, 30.0, "x", 0.5),  # hit at 0.5 (tIoU 0.9), miss at 0.95
    ("a", 0.0, 10.0, "w", 0.4),  # label without ground truth: not scored
]


def test_hand_computed_reference_rule_for_other_subsets_and_unknown_videos() -> None:
    res = _run(SUBSET_GT, MIXED_PREDS, [0.5, 0.95], video_ids=["a", "b"])
    # x @0.5: FP, TP, FP, TP -> precision 0, 1/2, 1/3, 2/4 at recall 0, .5, .5, 1;
    #   envelope 1/2 on both recall steps -> AP 0.5*0.5 + 0.5*0.5 = 0.5
    # x @0.95: FP, TP, FP, FP -> only recall 0.5 at precision 1/2 -> 0.25
    # y: FP, TP -> recall 1 at precision 1/2 -> 0.5 at both thresholds
    np.testing.assert_allclose(res.ap, [[0.5, 0.5], [0.25, 0.5]])
    assert res.average_map == pytest.approx((0.5 + 0.375) / 2)
    assert res.unknown_video_predictions == 2  # "t" and "zz"
    assert res.no_ground_truth_predictions == 3  # "t"'s y, "zz"'s x, "b"'s x
    assert res.unscored_label_predictions == 1 and res.num_predictions == 7
    out = res.to_dict()
    assert out["unknown_videos"] == "false positives" and out["ignored_predictions"] == 0

    ign = _run(SUBSET_GT, MIXED_PREDS, [0.5, 0.95], video_ids=["a", "b"], ignore=True)
    # x @0.5: TP, FP, TP -> 0.5*1 + 0.5*2/3; @0.95: TP, FP, FP -> 0.5; y: TP -> 1
    np.testing.assert_allclose(ign.ap, [[0.5 + 1 / 3, 1.0], [0.5, 1.0]])
    assert (ign.ignored_predictions, ign.no_ground_truth_predictions) == (2, 1)
    # without a subset list, "unknown" means a video without any ground truth
    assert _run(SUBSET_GT, MIXED_PREDS, [0.5]).unknown_video_predictions == 2


def test_duplicates_removed_within_tolerance_only() -> None:
    videos = ["a", "a", "a", "a"]
    starts = np.array([0.0, 0.0005, 0.0, 0.01])
    ends = np.array([5.0, 5.0, 5.0, 5.0])
    labels = ["x", "x", "y", "x"]
    np.testing.assert_array_equal(deduplicate_ground_truth(videos, starts, ends, labels), [0, 2, 3])


def test_segment_tiou_and_interpolated_ap() -> None:
    tiou = segment_tiou(np.array([[0.0, 10.0]]), np.array([[5.0, 15.0], [20.0, 30.0], [0, 10]]))
    np.testing.assert_allclose(tiou, [[5 / 15, 0.0, 1.0]])
    assert interpolated_average_precision(np.array([1.0, 0.5]), np.array([0.5, 0.5])) == 0.5
    assert interpolated_average_precision(np.array([0.5, 1.0]), np.array([0.5, 1.0])) == 1.0


def test_parse_tiou_thresholds() -> None:
    np.testing.assert_allclose(parse_tiou_thresholds("0.3:0.7:5"), [0.3, 0.4, 0.5, 0.6, 0.7])
    np.testing.assert_allclose(parse_tiou_thresholds("0.5,0.75"), [0.5, 0.75])
    for bad in ("0.3:0.7", "a", "1.5", "0.1:0.2:0"):
        with pytest.raises(ValueError):
            parse_tiou_thresholds(bad)


def test_empty_predictions_give_zero() -> None:
    res = _run([("a", 0.0, 1.0, "x")], [], [0.5])
    assert res.average_map == 0.0
