"""Feature datasets: seconds <-> grid, truncation, resizing, padding, bad files."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from actionbias.data.activitynet import read_activitynet_json
from actionbias.errors import BadInputError
from actionbias.tal.features import (
    FeatureGrid,
    TALFeatureDataset,
    collate_samples,
    load_feature_file,
    resize_features,
    truncate_window,
)


def _write_db(tmp_path, videos):
    db = {"database": videos}
    path = tmp_path / "gt.json"
    path.write_text(json.dumps(db))
    return read_activitynet_json(path)


def test_grid_round_trip_and_centre_offset() -> None:
    grid = FeatureGrid(feat_stride=4, num_frames=16, fps=30.0)
    # feature 0 covers frames 0..15, its centre (frame 8) is at 8/30 s
    assert grid.to_seconds(np.array(0.0)) == pytest.approx(8 / 30)
    assert grid.to_grid(np.array(8 / 30)) == pytest.approx(0.0)
    secs = np.random.default_rng(0).uniform(0, 100, size=(20, 2))
    np.testing.assert_allclose(grid.to_seconds(grid.to_grid(secs)), secs, rtol=1e-12)


def test_truncation_keeps_half_of_an_action() -> None:
    rng = np.random.default_rng(0)
    segments = np.array([[500.0, 540.0]])
    for _ in range(20):
        start, kept = truncate_window(1000, segments, 100, rng)
        assert 0 <= start <= 900
        assert list(kept) == [0]
        inter = min(540, start + 100) - max(500, start)
        assert inter / 40 >= 0.5
    assert truncate_window(50, segments, 100, rng)[0] == 0


def test_dataset_reads_layout_crops_and_resizes(tmp_path) -> None:
    feats = np.random.default_rng(0).normal(size=(300, 8)).astype(np.float32)
    np.save(tmp_path / "vid_a.npy", feats)
    np.save(tmp_path / "vid_b.npy", feats[:50])
    ann = _write_db(
        tmp_path,
        {
            "vid_a": {
                "subset": "validation",
                "duration": 40.0,
                "fps": 30.0,
                "annotations": [{"label": "jump", "segment": [10.0, 12.0]}],
            },
            "vid_b": {"subset": "validation", "duration": 7.0, "fps": 30.0, "annotations": []},
        },
    )
    ds = TALFeatureDataset(ann, tmp_path, max_seq_len=64, train=True, seed=1)
    assert len(ds) == 1  # training skips videos without actions
    sample = ds[0]
    assert sample.feats.shape == (8, 64)
    grid = sample.grid
    seconds = grid.to_seconds(sample.segments.double() + sample.start_step)
    np.testing.assert_allclose(seconds.numpy(), [[10.0, 12.0]], atol=1e-4)

    full = TALFeatureDataset(ann, tmp_path)
    assert len(full) == 2 and full[0].feats.shape == (8, 300)
    batch = collate_samples([full[0], full[1]], pad_to=32)
    assert batch["feats"].shape == (2, 8, 320)
    assert batch["mask"][1].sum() == 50 and not batch["mask"][1, 50:].any()

    resized = TALFeatureDataset(ann, tmp_path, resize_length=128)[0]
    assert resized.feats.shape == (8, 128)
    back = resized.grid.to_seconds(resized.segments.double())
    np.testing.assert_allclose(back.numpy(), [[10.0, 12.0]], atol=1e-5)


def test_resize_is_identity_at_same_length() -> None:
    x = torch.randn(3, 17)
    torch.testing.assert_close(resize_features(x, 17), x)


def test_bad_feature_files(tmp_path) -> None:
    np.save(tmp_path / "one_d.npy", np.zeros(5))
    with pytest.raises(BadInputError, match=r"one_d\.npy"):
        load_feature_file(tmp_path / "one_d.npy")
    np.save(tmp_path / "nan.npy", np.full((3, 2), np.nan))
    with pytest.raises(BadInputError, match="finite"):
        load_feature_file(tmp_path / "nan.npy")
    (tmp_path / "junk.npy").write_bytes(b"not numpy")
    with pytest.raises(BadInputError, match=r"junk\.npy"):
        load_feature_file(tmp_path / "junk.npy")
    with pytest.raises(BadInputError, match="not found"):
        load_feature_file(tmp_path / "missing.npy")


def test_detections_map_back_to_video_seconds_through_a_crop() -> None:
    from actionbias.tal.inference import to_seconds

    grid = FeatureGrid(feat_stride=4, num_frames=16, fps=25.0)
    seconds = torch.tensor([[3.0, 7.5], [40.0, 45.0]], dtype=torch.float64)
    start = 100  # the crop began at feature 100
    local = grid.to_grid(seconds) - start
    back = to_seconds(local, grid, duration=42.0, start_step=start)
    torch.testing.assert_close(back, torch.tensor([[3.0, 7.5], [40.0, 42.0]]))
