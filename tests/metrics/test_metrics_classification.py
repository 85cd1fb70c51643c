from __future__ import annotations

import numpy as np
import pytest

from actionbias.metrics import (
    average_precision,
    class_accuracy,
    mean_average_precision,
    top1_correct,
    topk_correct,
)


def test_topk_hand_computed():
    scores = np.array([[0.1, 0.5, 0.4], [0.3, 0.2, 0.1]])
    targets = np.array([2, 1])
    assert topk_correct(scores, targets, k=1).tolist() == [0.0, 0.0]
    assert topk_correct(scores, targets, k=2).tolist() == [1.0, 1.0]
    assert topk_correct(scores, targets, k=10).tolist() == [1.0, 1.0]


def test_top1_correct_shape_check():
    assert top1_correct(np.array([1, 2, 3]), np.array([1, 0, 3])).tolist() == [1.0, 0.0, 1.0]
    with pytest.raises(ValueError):
        top1_correct(np.array([1]), np.array([1, 2]))


def test_average_precision_hand_computed():
    # positives at ranks 1 and 3: precisions 1/1 and 2/3
    ap = average_precision(np.array([0.9, 0.8, 0.7, 0.6]), np.array([1, 0, 1, 0]))
    assert ap == pytest.approx((1 + 2 / 3) / 2)
    assert np.isnan(average_precision(np.array([0.1, 0.2]), np.array([0, 0])))


def test_mean_average_precision_skips_absent_classes():
    scores = np.array([[0.9, 0.1, 0.0], [0.2, 0.8, 0.0], [0.6, 0.4, 0.0]])
    targets = np.array([0, 1, 1])
    # class 0: ranking 0.9(+),0.6(-),0.2(-) -> AP 1; class 1: 0.8(+),0.4(+),0.1(-) -> AP 1
    assert mean_average_precision(scores, targets) == pytest.approx(1.0)
    targets2 = np.array([0, 1, 0])
    # class 0: 0.9(+),0.6(+) -> 1 ; class 1: 0.8(+) -> 1
    assert mean_average_precision(scores, targets2) == pytest.approx(1.0)
    targets3 = np.array([1, 0, 0])
    # class 0: 0.9(-),0.6(+),0.2(+) -> (1/2 + 2/3)/2 ; class 1: 0.8(-),0.4(-),0.1(+) -> 1/3
    expected = ((1 / 2 + 2 / 3) / 2 + 1 / 3) / 2
    assert mean_average_precision(scores, targets3) == pytest.approx(expected)


def test_class_accuracy_counts_ties_and_resamples_by_source():
    names = ["a", "b", "c"]
    predictions = np.array([0, 1, 2, 1, 2, -1, -1])
    targets = np.array([0, 0, 0, 1, 1, 2, 2])
    rows = class_accuracy(predictions, targets, names, n_boot=200)
    assert [r.class_name for r in rows] == ["a", "b", "c"]
    a, b, c = rows
    assert a.n == 3 and a.top1.value == pytest.approx(1 / 3)
    assert (a.confused_with, a.confused_n) == ("b", 1)  # tie between b and c: lower index
    assert b.top1.value == pytest.approx(0.5) and b.confused_with == "c"
    assert c.top1.value == 0.0 and (c.confused_with, c.confused_n) == ("(no answer)", 2)
    # two videos of class a cut from one source clip are resampled together
    clustered = class_accuracy(
        predictions, targets, names, n_boot=200, clusters={"human_clip": list("xxyzuvw")}
    )
    assert clustered[0].top1.unit == "human_clip" and clustered[1].top1.unit == "video"
    assert clustered[0].top1.value == a.top1.value
