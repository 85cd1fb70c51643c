"""Table 8 statistics, repeated runs, few-shot draws, the background ablation and cost."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from actionbias.a2o.policies import LISTING1_AFTER
from actionbias.a2o.protocols import (
    compare_runs,
    comparison_table,
    compute_accounting,
    paired_t_test,
    regularized_beta,
    remove_background,
    repeated_runs,
    summarize_runs,
    t_two_sided_p,
)
from actionbias.errors import BadInputError


def test_t_tail_closed_forms() -> None:
    # df = 1 (Cauchy): p = 1 - 2/pi * atan|t|; df = 2: p = 1 - |t| / sqrt(2 + t^2).
    for t in (0.0, 0.3, 1.0, 2.5, 12.7, 300.0):
        assert t_two_sided_p(t, 1) == pytest.approx(1 - 2 / math.pi * math.atan(t), abs=1e-13)
        assert t_two_sided_p(-t, 2) == pytest.approx(1 - t / math.sqrt(2 + t * t), abs=1e-13)
    assert t_two_sided_p(math.inf, 3) == 0.0
    assert regularized_beta(2.0, 3.0, 0.0) == 0.0 and regularized_beta(2.0, 3.0, 1.0) == 1.0
    # I_x(1, b) = 1 - (1 - x)^b
    assert regularized_beta(1.0, 3.5, 0.3) == pytest.approx(1 - 0.7**3.5, rel=1e-13)


def test_paired_t_test_hand_computed() -> None:
    # Differences 1, 2, 3: mean 2, sd 1, t = 2 * sqrt(3), df 2, p = 1 - t / sqrt(2 + t^2).
    test = paired_t_test([11.0, 12.0, 13.0], [10.0, 10.0, 10.0])
    assert test.n == 3 and test.df == 2
    assert test.mean_difference == pytest.approx(2.0)
    assert test.std_difference == pytest.approx(1.0)
    assert test.t == pytest.approx(2 * math.sqrt(3))
    assert test.p_value == pytest.approx(1 - 12**0.5 / 14**0.5, rel=1e-10)
    assert test.half_width == pytest.approx(4.302652729911275 / math.sqrt(3), rel=1e-6)


def test_against_scipy() -> None:
    stats = pytest.importorskip("scipy.stats")
    ours = [76.31, 76.52, 76.40, 76.28, 76.47]
    base = [75.42, 75.61, 75.20, 75.38, 75.44]
    test = paired_t_test(ours, base)
    ref = stats.ttest_rel(ours, base)
    assert test.t == pytest.approx(float(ref.statistic), rel=1e-12)
    assert test.p_value == pytest.approx(float(ref.pvalue), rel=1e-9)
    for t, df in ((0.5, 4), (3.1, 9), (25.0, 2), (8.0, 30)):
        assert t_two_sided_p(t, df) == pytest.approx(2 * stats.t.sf(t, df), rel=1e-9)
    summary = summarize_runs(ours)
    low, high = stats.t.interval(0.95, 4, loc=summary.mean, scale=stats.sem(ours))
    assert summary.low == pytest.approx(low, rel=1e-9)
    assert summary.high == pytest.approx(high, rel=1e-9)


def test_summaries_and_matching() -> None:
    one = summarize_runs([0.5])
    assert one.n == 1 and one.std is None and one.low is None
    stats = summarize_runs([1.0, 2.0, 3.0])
    assert stats.std == pytest.approx(1.0)
    assert stats.half_width == pytest.approx(4.302652729911275 / math.sqrt(3), rel=1e-6)
    # Matched by seed, whatever the order of the mappings.
    by_seed = compare_runs({1: 0.6, 2: 0.7, 3: 0.65}, {3: 0.6, 1: 0.5, 2: 0.62})
    assert by_seed["paired"]["mean_difference"] == pytest.approx((0.1 + 0.08 + 0.05) / 3)
    assert by_seed["a"]["mean"] == pytest.approx(0.65)
    with pytest.raises(BadInputError, match="seeds without a match: 2, 4"):
        paired_t_test({1: 0.5, 4: 0.6}, {1: 0.5, 2: 0.6})
    with pytest.raises(BadInputError, match="matched"):
        paired_t_test([1.0, 2.0], [1.0])
    with pytest.raises(BadInputError, match="finite"):
        summarize_runs([1.0, float("nan")])
    same = paired_t_test([0.5, 0.6], [0.5, 0.6])
    assert same.p_value == 1.0
    shifted = paired_t_test([0.6, 0.7], [0.5, 0.6])
    assert shifted.p_value == 0.0 and shifted.t == math.inf
    rows = comparison_table(("plain", {1: 0.5, 2: 0.52}), {"ours": {1: 0.55, 2: 0.58}})
    assert [r["method"] for r in rows] == ["plain", "ours"]
    assert rows[0]["p"] is None and 0 < rows[1]["p"] < 1


def test_repeated_runs_resume(tmp_path: Path) -> None:
    store = tmp_path / "runs.jsonl"
    calls: list[int] = []

    def run(seed: int) -> float:
        calls.append(seed)
        if seed == 2 and len(calls) == 2:
            raise KeyboardInterrupt
        return 0.5 + seed / 100

    with pytest.raises(KeyboardInterrupt):
        repeated_runs(run, [1, 2, 3], store=store)
    result = repeated_runs(run, [1, 2, 3], store=store)
    assert calls == [1, 2, 2, 3]
    assert result.values == {1: 0.51, 2: 0.52, 3: 0.53}
    assert result.stats.mean == pytest.approx(0.52)
    assert len(store.read_text().splitlines()) == 3
    with pytest.raises(BadInputError, match="repeat"):
        repeated_runs(run, [1, 1])


def test_remove_background() -> None:
    split = remove_background(LISTING1_AFTER)
    assert split.removed == ["floor", "court", "grass"]
    assert "rim" in split.kept and "net" in split.kept and len(split.kept) == 12
    mixed = remove_background(["basketball court", "wall clock", "Sky", "person"])
    assert mixed.removed == ["basketball court", "Sky"] and mixed.kept == ["wall clock", "person"]
    scene = remove_background(["net", "person"], scene_objects=["net"])
    assert scene.removed == ["net"]
    only = remove_background(["floor", "ball"], background_terms=["ball"])
    assert only.removed == ["ball"]


def test_compute_accounting(tmp_path: Path) -> None:
    summary = {"policy": {"label": "offline search, not an LLM"}, "search_seconds": 7200.0,
               "completed": 4, "failed": 1}  # fmt: skip
    (tmp_path / "summary.json").write_text(json.dumps(summary))
    cost = compute_accounting(tmp_path, inference_ms_per_clip=764.0, clips=100)
    assert cost["search_hours"] == pytest.approx(2.0)
    assert cost["seconds_per_trial"] == pytest.approx(1800.0)
    assert cost["inference_ms_per_clip"] == 764.0 and cost["failed_trials"] == 1
    assert cost["policy"] == "offline search, not an LLM"
    with pytest.raises(BadInputError, match="no ICRL summary"):
        compute_accounting(tmp_path / "missing")
