"""Against SynthAct's exact renders: the swap constructions reproduce ground truth.

SynthAct renders its swap split directly (the actor of test clip A drawn into the
scene of test clip B) and also writes the HAT layout (ori, exact person masks in
seg, exact background-only frames in inp). Composing the swap from those parts with
our code must give back the direct render wherever only the person is involved —
hand-held objects are not part of the "person" mask, so their pixels are excluded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from actionbias import synth
from actionbias.segment import (
    MaskCache,
    alpha_swap,
    build_segmenter,
    hat_swap,
    load_hat_masks,
    load_oracle_masks,
    segment_videos,
)
from actionbias.video import read_all_frames


@pytest.fixture(scope="module")
def synthact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synthact_for_segment")
    synth.generate(out, preset="tiny", seed=0, progress=False)
    return out


def _object_pixels(synthact: Path, mask_path: str) -> np.ndarray:
    """Pixels of hand-held objects (named in synthact.json), which are not "person"."""
    objects = {name for name in synth.read_description(synthact)["objects"].values() if name}
    with np.load(mask_path) as data:
        pixels = np.zeros(data["person"].shape, bool)
        for name in objects & set(data.files):
            pixels |= data[name]
    return pixels


def _swaps_with_humans(synthact: Path) -> list[tuple[Any, Any]]:
    """Each swap record with the test record of its human clip."""
    manifests = synth.read_synthact(synthact)
    tests = {r.extras["hat_key"]: r for r in manifests["test"]}
    return [(r, tests[r.extras["human_clip"]]) for r in manifests["swap"]]


def test_alpha_swap_with_oracle_masks_equals_the_exact_swap_render(synthact: Path) -> None:
    swaps = _swaps_with_humans(synthact)
    checked = 0
    for record, human in swaps:
        background = read_all_frames(synthact / "hat" / "inp" / record.extras["background_clip"])
        frames = read_all_frames(human.extras["ori_dir"]).frames
        masks = load_oracle_masks(human.extras["mask_path"])
        exact = read_all_frames(record.extras["ori_dir"]).frames
        composed = alpha_swap(frames, masks, background.frames)
        keep = ~_object_pixels(synthact, human.extras["mask_path"])
        np.testing.assert_array_equal(composed.frames[keep], exact[keep])
        assert composed.has_person
        checked += 1
    assert checked == len(swaps) > 0


def test_hat_swap_equals_the_exact_render_when_no_shift_is_needed(synthact: Path) -> None:
    unshifted = 0
    for record, human in _swaps_with_humans(synthact):
        seg_b = synthact / "hat" / "seg" / record.extras["background_clip"]
        inp_b = synthact / "hat" / "inp" / record.extras["background_clip"]
        result = hat_swap(
            read_all_frames(human.extras["ori_dir"]).frames,
            load_hat_masks(human.extras["seg_dir"]),
            read_all_frames(inp_b).frames,
            load_hat_masks(seg_b),
        )
        exact = read_all_frames(record.extras["ori_dir"]).frames
        assert result.frames.shape == exact.shape  # same-size clips: HAT's canvas is B's
        if result.shift == (0, 0):
            keep = ~_object_pixels(synthact, human.extras["mask_path"])
            np.testing.assert_array_equal(result.frames[keep], exact[keep])
            unshifted += 1
    assert unshifted >= 1


def test_oracle_backend_over_a_synthact_split(synthact: Path, tmp_path: Path) -> None:
    records = synth.read_synthact(synthact)["test"].records
    cache = MaskCache(tmp_path)
    stats = segment_videos(records, build_segmenter("oracle"), cache)
    assert (stats.computed, stats.failed) == (len(records), 0)
    assert stats.videos_without_person == 0
    entry = cache.load(records[0].path, "oracle", {"key": "person"})
    assert entry is not None
    seg = load_hat_masks(records[0].extras["seg_dir"])
    np.testing.assert_array_equal(entry.masks, seg)  # HAT seg = the same exact mask
