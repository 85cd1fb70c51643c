"""SynthAct reads back through the project's real-format readers and video decoder."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from actionbias.data import (
    read_activitynet_json,
    read_hat,
    read_hat_pairs,
    read_kinetics_csv,
    read_swap_csv,
)
from actionbias.synth import (
    PRESETS,
    SPLITS,
    load_masks,
    load_plan,
    read_synthact,
    render_clip,
)
from actionbias.video import probe, read_clip, read_frame_folder

TINY = PRESETS["tiny"]


def test_read_synthact_gives_one_manifest_per_split(tiny_synthact: Path) -> None:
    manifests = read_synthact(tiny_synthact)
    assert set(manifests) == set(SPLITS)
    for split, manifest in manifests.items():
        assert manifest.classes == list(TINY.classes)
        assert len(manifest.records) > 0
        for record in manifest.records:
            assert record.split == split
            assert Path(record.path).is_file()
            assert record.label == manifest.classes[record.label_id]
            assert Path(record.extras["mask_path"]).is_file()
            assert Path(record.extras["seg_dir"]).is_dir()
            assert record.extras["scene"]
    swap = manifests["swap"].records[0]
    assert {"background_label", "human_clip", "background_clip"} <= swap.extras.keys()


def test_generic_kinetics_reader_finds_classes_and_videos(tiny_synthact: Path) -> None:
    # No class list or video root given: classes.txt beside the CSV and the videos
    # folder are what a user would point at.
    manifest = read_kinetics_csv(
        tiny_synthact / "annotations" / "test.csv", video_root=tiny_synthact / "videos", strict=True
    )
    assert manifest.classes == list(TINY.classes)
    assert len(manifest.records) == TINY.test * len(TINY.classes)


def test_videos_decode_to_the_rendered_frames(tiny_synthact: Path) -> None:
    record = read_synthact(tiny_synthact)["test"].records[0]
    info = probe(record.path)
    assert (info.width, info.height) == (TINY.size, TINY.size)
    assert info.num_frames == TINY.frames
    assert abs(info.fps - TINY.fps) < 1e-6
    clip = read_clip(record.path, num_frames=TINY.frames)
    lossless = read_frame_folder(record.extras["ori_dir"], num_frames=TINY.frames)
    assert clip.frames.shape == lossless.frames.shape == (TINY.frames, TINY.size, TINY.size, 3)
    # yuv420p halves chroma resolution, which costs textured 64x64 frames a few
    # levels per pixel; every decoded frame must still be closest to its own PNG.
    decoded = clip.frames.astype(np.int16)
    exact = lossless.frames.astype(np.int16)
    error = np.abs(decoded[:, None] - exact[None]).mean(axis=(2, 3, 4))
    assert (error.argmin(axis=1) == np.arange(TINY.frames)).all()
    assert np.diag(error).max() < 12.0, np.diag(error)


def test_lossless_frames_masks_and_plan_agree(tiny_synthact: Path) -> None:
    plan = load_plan(tiny_synthact)
    planned = plan.clips["val"][1]
    record = next(
        r for r in read_synthact(tiny_synthact)["val"].records if r.id == planned.clip_name
    )
    clip = render_clip(planned.spec)
    ori = read_frame_folder(record.extras["ori_dir"], num_frames=TINY.frames).frames
    inp = read_frame_folder(record.extras["inp_dir"], num_frames=TINY.frames).frames
    np.testing.assert_array_equal(ori, clip.frames)
    np.testing.assert_array_equal(inp, clip.background)
    masks = load_masks(record.extras["mask_path"])
    assert masks.keys() == clip.masks.keys()
    assert all(
        m.dtype == bool and m.shape == (TINY.frames, TINY.size, TINY.size) for m in masks.values()
    )
    np.testing.assert_array_equal(masks["person"], clip.masks["person"])
    # Human-only frames hold no background: outside the person mask they are black,
    # inside they differ from the background-only render wherever the actor is.
    person = masks["person"]
    human_only = ori * person[..., None]
    assert (human_only[~person] == 0).all()
    foreground = person | masks[planned.object] if planned.object else person
    np.testing.assert_array_equal(ori[~foreground], inp[~foreground])
    assert (ori[person] != inp[person]).any(axis=-1).mean() > 0.9


def test_swap_pairs_read_back_as_csv_and_hat_pickle(tiny_synthact: Path) -> None:
    hat = tiny_synthact / "hat"
    classes = list(TINY.classes)
    from_csv = read_swap_csv(hat / "swap_pairs.csv", classes=classes)
    from_pickle = read_hat_pairs(hat / "actionswap_rand_1.pickle", classes=classes, hat_root=hat)
    assert len(from_csv) == len(from_pickle) == TINY.test * len(classes)
    by_human = {p.human_clip: p for p in from_pickle}
    for pair in from_csv:
        other = by_human[pair.human_clip]
        assert (pair.background_clip, pair.background_label) == (
            other.background_clip,
            other.background_label,
        )
        assert pair.has_person is True
        assert other.extras["background_frames"] == TINY.frames
        assert Path(other.extras["background_dir"]).is_dir()
    swap_rows = {
        r.extras["human_clip"]: r.extras["background_clip"]
        for r in read_synthact(tiny_synthact)["swap"].records
    }
    assert swap_rows == {p.human_clip: p.background_clip for p in from_csv}


def test_hat_reader_sees_every_hat_clip(tiny_synthact: Path) -> None:
    manifest = read_hat(tiny_synthact / "hat", strict=True)
    description = json.loads((tiny_synthact / "synthact.json").read_text())
    expected = sum(description["counts"][s] for s in description["hat_splits"])
    assert len(manifest.records) == expected
    assert manifest.classes == list(TINY.classes)


def test_untrimmed_annotations_are_actionformer_json(tiny_synthact: Path) -> None:
    annotations = read_activitynet_json(tiny_synthact / "untrimmed" / "annotations.json")
    assert len(annotations) == TINY.untrimmed
    assert {v.subset for v in annotations} == {"training", "validation"}
    for video in annotations:
        assert video.fps == TINY.fps
        path = tiny_synthact / "untrimmed" / "videos" / f"{video.id}.mp4"
        info = probe(path)
        assert info.num_frames == round(video.duration * video.fps)
        lo, hi = TINY.untrimmed_seconds
        assert lo - 1 / TINY.fps <= video.duration <= hi + 1 / TINY.fps
        assert 1 <= len(video.segments) <= TINY.untrimmed_instances[1]
        previous_end = 0.0
        for segment in video.segments:
            assert segment.label in TINY.classes
            assert segment.label_id == TINY.classes.index(segment.label)
            assert previous_end < segment.start < segment.end < video.duration
            previous_end = segment.end
        person = load_masks(tiny_synthact / "untrimmed" / "masks" / f"{video.id}.npz")
        assert list(person) == ["person"]
        assert person["person"].shape[0] == info.num_frames
        # The annotations mark where the actor moves: the person mask changes much
        # more from frame to frame inside the segments than in the idle gaps.
        change = (person["person"][1:] ^ person["person"][:-1]).mean(axis=(1, 2))
        t = (np.arange(len(change)) + 1) / video.fps
        inside = np.zeros(len(change), bool)
        for segment in video.segments:
            inside |= (t >= segment.start) & (t < segment.end)
        assert change[inside].mean() > 2.0 * change[~inside].mean()
