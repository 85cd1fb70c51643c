"""generate(): layout, determinism, the split design (correlation, swap, mimetic), reruns."""

from __future__ import annotations

import csv
import hashlib
import json
from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import pytest

from actionbias.errors import BadInputError
from actionbias.synth import (
    ACTIONS,
    NEUTRAL_SCENES,
    PRESETS,
    SPLITS,
    generate,
    load_masks,
    make_plan,
    resolve_config,
)
from actionbias.synth.plan import assign_scenes, scene_sets

TINY_SEED = 0  # the seed tests/synth/conftest.py generates the tiny preset with


def _rows(out: Path, split: str) -> list[dict[str, str]]:
    with open(out / "annotations" / f"{split}.csv", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _digests(out: Path) -> dict[str, str]:
    return {
        str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(out.rglob("*"))
        if p.is_file() and p.name != "generation.json"
    }


def _frames(folder: Path) -> np.ndarray:
    files = sorted(folder.glob("*.png"))
    images = [cv2.imread(str(f), cv2.IMREAD_UNCHANGED) for f in files]
    return np.stack([img[..., ::-1] if img.ndim == 3 else img for img in images])


def test_layout_and_counts(tiny_synthact: Path) -> None:
    out = tiny_synthact
    config = PRESETS["tiny"]
    description = json.loads((out / "synthact.json").read_text())
    assert description["classes"] == list(config.classes)
    assert (out / "classes.txt").read_text().splitlines() == list(config.classes)
    k = len(config.classes)
    expected = {"train": config.train * k, "val": config.val * k, "test": config.test * k}
    expected.update(swap=config.test * k, mimetic=config.mimetic * k, untrimmed=config.untrimmed)
    assert description["counts"] == expected
    assert description["home_scenes"] == {c: ACTIONS[c].home_scene for c in config.classes}
    for split in SPLITS:
        rows = _rows(out, split)
        assert len(rows) == expected[split]
        for row in rows:
            name = f"{row['youtube_id']}_{int(row['time_start']):06d}_{int(row['time_end']):06d}"
            assert row["youtube_id"].startswith(f"sa-{split}-") and row["split"] == split
            assert (out / "videos" / split / row["label"] / f"{name}.mp4").is_file()
            assert (out / "masks" / split / f"{name}.npz").is_file()
            for kind in ("ori", "seg", "inp"):
                assert (
                    len(list((out / "hat" / kind / row["label"] / name).glob("*.png")))
                    == config.frames
                )
    videos = sorted((out / "untrimmed" / "videos").glob("*.mp4"))
    assert len(videos) == config.untrimmed
    status = json.loads((out / "generation.json").read_text())
    assert status["status"] == "complete"


def test_same_seed_gives_identical_bytes_with_any_worker_count(
    tiny_synthact: Path, tmp_path: Path
) -> None:
    again = tmp_path / "again"
    generate(again, preset="tiny", seed=TINY_SEED, workers=2, progress=False)
    first, second = _digests(tiny_synthact), _digests(again)
    assert first.keys() == second.keys()
    differing = [name for name in first if first[name] != second[name]]
    assert not differing, differing[:5]


def test_different_seed_gives_different_clips(tiny_synthact: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    generate(
        other,
        preset="tiny",
        seed=TINY_SEED + 1,
        workers=1,
        progress=False,
        untrimmed=0,
        train=1,
        val=1,
        test=1,
        mimetic=1,
    )
    first, second = _digests(tiny_synthact), _digests(other)
    common = [n for n in second if n in first and n.endswith((".mp4", ".npz"))]
    assert common
    assert all(first[n] != second[n] for n in common)


def test_correlation_is_the_home_scene_fraction(tiny_synthact: Path) -> None:
    config = PRESETS["tiny"]
    for split in ("train", "val", "test"):
        rows = _rows(tiny_synthact, split)
        home = sum(r["scene"] == ACTIONS[r["label"]].home_scene for r in rows)
        assert home == int(np.floor(config.correlation * len(rows) + 0.5))
        off = [r for r in rows if r["scene"] != ACTIONS[r["label"]].home_scene]
        homes_of_active = {ACTIONS[c].home_scene for c in config.classes}
        assert all(r["scene"] in homes_of_active for r in off)
    # Other correlations, checked on the plan alone (no rendering needed).
    for correlation in (0.0, 0.5, 0.75, 1.0):
        cfg = resolve_config("legacy", {"correlation": correlation})
        scenes = assign_scenes(cfg, 3, "train")
        home = sum(scene == ACTIONS[label].home_scene for label, scene in scenes)
        assert abs(home / len(scenes) - correlation) <= 0.5 / len(scenes)
        per_class = Counter(label for label, scene in scenes if scene != ACTIONS[label].home_scene)
        assert max(per_class.values(), default=0) - min(per_class.values(), default=0) <= 1
        # With scene sets (the default preset) correlation is the share of clips filmed
        # in their class's set; the others go on another class's home scene, which can
        # belong to the set too, so at most the off share lands outside it.
        cfg = resolve_config("default", {"correlation": correlation})
        sets = {c: {n for n, _ in options} for c, options in scene_sets(cfg).items()}
        scenes = assign_scenes(cfg, 3, "train")
        outside = sum(scene not in sets[label] for label, scene in scenes)
        assert outside <= len(scenes) - round(correlation * len(scenes))
        if correlation == 1.0:
            assert outside == 0


def test_swap_split_pairs_humans_with_other_backgrounds(tiny_synthact: Path) -> None:
    out = tiny_synthact
    test_rows = {
        f"{r['label']}/{r['youtube_id']}_000000_{int(r['time_end']):06d}": r
        for r in _rows(out, "test")
    }
    swap_rows = _rows(out, "swap")
    assert len(swap_rows) == len(test_rows)
    assert Counter(r["human_clip"] for r in swap_rows) == Counter(list(test_rows))  # each once
    pairs = Counter()
    for row in swap_rows:
        human, background = test_rows[row["human_clip"]], test_rows[row["background_clip"]]
        assert row["label"] == human["label"]
        assert row["background_label"] == background["label"] != row["label"]
        assert row["scene"] == background["scene"] == ACTIONS[row["background_label"]].home_scene
        assert row["object"] == ""
        pairs[(row["label"], row["background_label"])] += 1
    others = len(PRESETS["tiny"].classes) - 1
    for label in PRESETS["tiny"].classes:
        counts = [n for (a, _), n in pairs.items() if a == label]
        n_human = sum(counts)
        assert max(counts) <= -(-n_human // others), "(A, B) pairs as balanced as counts allow"
        assert len(counts) == min(n_human, others)

    # Pixels: human of the human clip, background of the background clip, exactly (lossless PNGs).
    for row in swap_rows[:6]:
        name = f"{row['youtube_id']}_000000_{int(row['time_end']):06d}"
        swap_ori = _frames(out / "hat" / "ori" / row["label"] / name)
        human_ori = _frames(out / "hat" / "ori" / row["human_clip"])
        human_seg = _frames(out / "hat" / "seg" / row["human_clip"]) > 128
        background_inp = _frames(out / "hat" / "inp" / row["background_clip"])
        np.testing.assert_array_equal(
            swap_ori, np.where(human_seg[..., None], human_ori, background_inp)
        )
        swap_masks = load_masks(out / "masks" / "swap" / f"{name}.npz")
        human_split_name = row["human_clip"].split("/")[1]
        human_masks = load_masks(out / "masks" / "test" / f"{human_split_name}.npz")
        np.testing.assert_array_equal(swap_masks["person"], human_masks["person"])
        np.testing.assert_array_equal(swap_masks["person"], human_seg)


def test_mimetic_uses_only_unseen_neutral_scenes(tiny_synthact: Path) -> None:
    in_distribution = {
        r["scene"] for split in ("train", "val", "test") for r in _rows(tiny_synthact, split)
    }
    mimetic = _rows(tiny_synthact, "mimetic")
    scenes = {r["scene"] for r in mimetic}
    assert scenes <= set(NEUTRAL_SCENES)
    assert not scenes & in_distribution
    assert all(r["object"] == "" for r in mimetic)
    assert Counter(r["label"] for r in mimetic) == Counter(
        {c: PRESETS["tiny"].mimetic for c in PRESETS["tiny"].classes}
    )
    for row in mimetic[:3]:
        masks = load_masks(
            tiny_synthact / "masks" / "mimetic" / f"{row['youtube_id']}_000000_000001.npz"
        )
        assert {"studio backdrop", "studio floor", "person"} <= masks.keys()
        assert not {a.object for a in ACTIONS.values()} & masks.keys()


def test_rerun_is_skipped_and_foreign_folders_are_refused(
    tiny_synthact: Path, tmp_path: Path
) -> None:
    before = (tiny_synthact / "synthact.json").stat().st_mtime_ns
    summary = generate(tiny_synthact, preset="tiny", seed=TINY_SEED, workers=1, progress=False)
    assert summary["skipped"] is True
    assert (tiny_synthact / "synthact.json").stat().st_mtime_ns == before

    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(BadInputError, match="not empty"):
        generate(foreign, preset="tiny", progress=False)
    assert (foreign / "notes.txt").read_text() == "mine"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"correlation": 1.5}, "correlation"),
        ({"size": 63}, "size"),
        ({"classes": 40}, "classes"),
        ({"classes": "waving,flying"}, "classes"),
        ({"frames": "many"}, "frames"),
        ({"hat_splits": "train"}, "hat_splits"),
        ({"colour": 3}, "colour"),
    ],
)
def test_bad_overrides_name_the_field(overrides: dict, field: str, tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match=f"field {field}"):
        generate(tmp_path / "x", preset="tiny", progress=False, **overrides)
    assert not (tmp_path / "x").exists()


def test_overrides_shape_the_plan() -> None:
    config = resolve_config("default", {"classes": 4, "frames": 12, "size": 96, "train": 3})
    plan = make_plan(config, 5)
    assert config.classes == tuple(list(ACTIONS)[:4])
    assert len(plan.clips["train"]) == 12
    spec = plan.clips["train"][0].spec
    assert (spec.frames, spec.size) == (12, 96)
    named = resolve_config("tiny", {"classes": "kicking, bowing ,jumping"})
    assert named.classes == ("kicking", "bowing", "jumping")
