"""Swap-pair sampling (balance, determinism), pair files, and the coverage filter."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from actionbias.data import VideoRecord, write_swap_csv
from actionbias.errors import BadInputError
from actionbias.segment import (
    filter_by_coverage,
    human_coverage,
    load_swap_pairs,
    sample_swap_pairs,
)


def _records(per_class: dict[str, int]) -> list[VideoRecord]:
    records = []
    for label_id, (label, count) in enumerate(per_class.items()):
        for i in range(count):
            clip = f"{label}/clip{i}"
            records.append(VideoRecord(clip, f"/data/{clip}.mp4", label, label_id))
    return records


def test_random_pairs_cross_classes_and_are_balanced() -> None:
    records = _records({"a": 6, "b": 6, "c": 6, "d": 6})
    pairs = sample_swap_pairs(records, mode="random", seed=3)
    assert [p.human_clip for p in pairs] == [r.id for r in records]  # input order
    assert all(p.human_label != p.background_label for p in pairs)
    by_record = {r.id: r for r in records}
    for pair in pairs:
        assert by_record[pair.background_clip].label == pair.background_label
        assert pair.extras["background_path"] == by_record[pair.background_clip].path
    # Each human class spreads its 6 clips over the 3 other classes: 2 each.
    combos = Counter((p.human_label, p.background_label) for p in pairs)
    assert set(combos.values()) == {2} and len(combos) == 12
    # Every clip serves as a background once (6 humans per background class, 6 clips).
    assert Counter(p.background_clip for p in pairs) == Counter({r.id: 1 for r in records})


def test_pairs_are_deterministic_per_seed() -> None:
    records = _records({"a": 5, "b": 3, "c": 4})
    first = [(p.human_clip, p.background_clip) for p in sample_swap_pairs(records, seed=7)]
    again = [(p.human_clip, p.background_clip) for p in sample_swap_pairs(records, seed=7)]
    other = [(p.human_clip, p.background_clip) for p in sample_swap_pairs(records, seed=8)]
    assert first == again and first != other


def test_same_class_pairs_use_each_clip_once_and_never_itself(
    caplog: pytest.LogCaptureFixture,
) -> None:
    records = _records({"a": 4, "b": 3, "lonely": 1})
    pairs = sample_swap_pairs(records, mode="same-class", seed=0)
    assert len(pairs) == 7 and "lonely" in caplog.text
    assert all(p.human_label == p.background_label for p in pairs)
    assert all(p.human_clip != p.background_clip for p in pairs)
    assert sorted(p.background_clip for p in pairs) == sorted(p.human_clip for p in pairs)


def test_pair_sampling_input_errors() -> None:
    with pytest.raises(BadInputError, match="two classes"):
        sample_swap_pairs(_records({"a": 3}), mode="random")
    with pytest.raises(BadInputError, match="no label"):
        sample_swap_pairs([VideoRecord("x", "x.mp4", None, None)])
    with pytest.raises(ValueError, match="mode"):
        sample_swap_pairs(_records({"a": 2, "b": 2}), mode="far")  # type: ignore[arg-type]


def test_load_swap_pairs_dispatches_on_the_extension(tmp_path: Path) -> None:
    pairs = sample_swap_pairs(_records({"a": 2, "b": 2}), seed=0)
    write_swap_csv(pairs, tmp_path / "pairs.csv")
    loaded = load_swap_pairs(tmp_path / "pairs.csv")
    assert [(p.human_clip, p.background_clip) for p in loaded] == [
        (p.human_clip, p.background_clip) for p in pairs
    ]
    with pytest.raises(BadInputError, match=r"pickle or a \.csv"):
        load_swap_pairs(tmp_path / "pairs.json")


def test_coverage_filter_keeps_five_to_fifty_percent() -> None:
    def masks_with_area(fraction: float) -> np.ndarray:
        masks = np.zeros((2, 10, 10), np.uint8)
        masks[:, : round(fraction * 10), :] = 255
        return masks

    coverage = {
        "a/clip0": human_coverage(masks_with_area(0.0)),
        "a/clip1": human_coverage(masks_with_area(0.1)),
        "b/clip0": human_coverage(masks_with_area(0.5)),
        "b/clip1": human_coverage(masks_with_area(0.8)),
    }
    pairs = sample_swap_pairs(_records({"a": 2, "b": 2}), seed=0)
    kept, dropped = filter_by_coverage(pairs, coverage)
    assert [p.human_clip for p in kept] == ["a/clip1", "b/clip0"]
    assert [p.human_clip for p in dropped] == ["a/clip0", "b/clip1"]
    assert kept[0].extras["coverage"] == pytest.approx(0.1)
    kept_all, _ = filter_by_coverage(pairs, lambda p: 0.3, low=0.0, high=1.0)
    assert len(kept_all) == 4
    with pytest.raises(KeyError, match="a/clip0"):
        filter_by_coverage(pairs, {})
