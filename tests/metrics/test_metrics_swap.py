from __future__ import annotations

import numpy as np
import pytest

from actionbias.metrics import extreme_classes, swap_breakdown, swap_scores


def test_swap_scores_hand_computed():
    pred = np.array([0, 1, 2, 0, -1])
    human = np.array([0, 0, 2, 1, 0])
    background = np.array([1, 1, 0, 2, 2])
    s = swap_scores(pred, human, background)
    assert s.shacc.value == pytest.approx(2 / 5)
    assert s.sberr.value == pytest.approx(1 / 5)
    assert s.other.value == pytest.approx(2 / 5)  # a wrong class and an unanswered (-1)
    assert s.shacc.n == 5


def test_breakdown_by_background_and_extremes():
    names = ["a", "b", "c"]
    pred = np.array([1, 1, 0, 2, 2, 2])
    human = np.array([0, 0, 0, 1, 1, 0])
    background = np.array([1, 1, 1, 2, 2, 2])
    rows = swap_breakdown(pred, human, background, names, by="background")
    by_name = {r.class_name: r for r in rows}
    assert set(by_name) == {"b", "c"}
    assert by_name["b"].n == 3
    assert by_name["b"].sberr.value == pytest.approx(2 / 3)
    assert by_name["b"].shacc.value == pytest.approx(1 / 3)
    assert by_name["c"].sberr.value == pytest.approx(1.0)
    high, low = extreme_classes(rows, k=1)
    assert high[0].class_name == "c" and low[0].class_name == "b"
    by_human = swap_breakdown(pred, human, background, names, by="human")
    assert {r.class_name for r in by_human} == {"a", "b"}
    with pytest.raises(ValueError):
        swap_breakdown(pred, human, background, names, by="scene")
