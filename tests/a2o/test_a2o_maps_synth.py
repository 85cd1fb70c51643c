"""synth-oracle maps and the MapStore cache, on a tiny SynthAct set and hand-made videos."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import cv2
import numpy as np
import pytest
from a2o_testkit import tiny_synthact

from actionbias.a2o.maps import MapStore, build_backend, list_backends
from actionbias.a2o.maps.oracle import OracleMapBackend, shift
from actionbias.a2o.maps.vocabulary import RegionVocabulary
from actionbias.data import VideoRecord
from actionbias.errors import BadInputError, VideoReadError
from actionbias.synth import load_masks
from actionbias.synth.files import save_masks
from actionbias.video import read_all_frames, read_clip, write_video

ARM_PARTS = ["left upper arm", "left forearm", "right upper arm", "right forearm"]


@pytest.fixture(scope="module")
def synth_records(tmp_path_factory: pytest.TempPathFactory) -> list[VideoRecord]:
    out = tmp_path_factory.mktemp("a2o_maps_synth") / "tiny"
    manifests = tiny_synthact(
        out, classes=2, train=1, val=1, test=1, mimetic=1, untrimmed=0, hat_splits="test"
    )
    return manifests["test"].records


def _oracle(**options) -> OracleMapBackend:
    backend = OracleMapBackend(**options)
    backend.vocabulary = RegionVocabulary(use_embedding=False)  # rule matches only: no MiniLM
    return backend


class Spy:
    """Wraps a backend and records the queries of every compute call."""

    def __init__(self, backend):
        self.inner = backend
        self.name = backend.name
        self.input_size = backend.input_size
        self.asked: list[list[str]] = []

    def cache_key(self) -> dict:
        return self.inner.cache_key()

    def compute(self, record, frames, queries, **kwargs):
        self.asked.append(list(queries))
        return self.inner.compute(record, frames, queries, **kwargs)


def _wide_video(tmp_path: Path, frames: int = 6) -> VideoRecord:
    """A 48 x 80 video with a mask file: a 'ball' square moving right, a 'net' band."""
    height, width = 48, 80
    ball = np.zeros((frames, height, width), dtype=bool)
    for t in range(frames):
        ball[t, 10:30, 5 + 8 * t : 25 + 8 * t] = True
    net = np.zeros_like(ball)
    net[:, 40:44, :] = True
    rgb = np.full((frames, height, width, 3), 90, dtype=np.uint8)
    rgb[ball] = 250
    video = write_video(tmp_path / "wide.mp4", rgb, fps=8.0)
    masks = save_masks(tmp_path / "wide.npz", {"ball": ball, "net": net})
    return VideoRecord("wide clip", str(video), "x", 0, extras={"mask_path": str(masks)})


# ------------------------------------------------------------------- oracle


def test_registry_lists_every_backend() -> None:
    assert list_backends() == ["grounding-dino", "owlv2", "pose", "synth-oracle"]
    with pytest.raises(BadInputError, match="unknown map backend"):
        build_backend("yolo")
    with pytest.raises(BadInputError, match="no option 'jiter'"):
        build_backend("synth-oracle", jiter=2)


def test_oracle_maps_are_the_union_of_the_right_masks(synth_records) -> None:
    record = synth_records[0]
    masks = load_masks(record.extras["mask_path"])
    frames = read_all_frames(record.path).frames
    out = _oracle().compute(record, frames, ["arm", "person", "left hand", "xylophone"])
    assert out.shape == (4, *frames.shape[:3]) and out.dtype == np.float32
    arm = np.any([masks[p] for p in ARM_PARTS], axis=0)
    np.testing.assert_array_equal(out[0], arm.astype(np.float32))
    np.testing.assert_array_equal(out[1], masks["person"].astype(np.float32))
    np.testing.assert_array_equal(out[2], masks["left hand"].astype(np.float32))
    assert not out[3].any()
    obj = record.extras["object"]
    if obj:
        np.testing.assert_array_equal(
            _oracle().compute(record, frames, [obj.upper()])[0], masks[obj].astype(np.float32)
        )


def test_oracle_indices_pick_mask_frames(synth_records) -> None:
    record = synth_records[0]
    masks = load_masks(record.extras["mask_path"])
    clip = read_clip(record.path, num_frames=3, sampling="uniform")
    out = _oracle().compute(record, clip.frames, ["person"], indices=clip.indices)
    np.testing.assert_array_equal(out[0], masks["person"][clip.indices].astype(np.float32))
    with pytest.raises(BadInputError, match="outside the"):
        _oracle().compute(record, clip.frames, ["person"], indices=clip.indices + 100)


def _long_record(tmp_path: Path, frames: int = 2000, name: str = "long") -> VideoRecord:
    masks = save_masks(tmp_path / f"{name}.npz", {"ball": np.ones((frames, 4, 4), dtype=bool)})
    return VideoRecord(
        name, str(tmp_path / f"{name}.mp4"), None, None, extras={"mask_path": str(masks)}
    )


def test_oracle_miss_rate_is_reproducible_and_per_frame(tmp_path: Path) -> None:
    record = _long_record(tmp_path)
    frames = np.zeros((2000, 4, 4, 3), dtype=np.uint8)
    backend = _oracle(miss_rate=0.3)
    first = backend.compute(record, frames, ["ball"])[0]
    missed = ~first.any(axis=(1, 2))
    assert abs(missed.mean() - 0.3) < 0.04  # 2000 Bernoulli(0.3) draws: sd 0.01
    again = _oracle(miss_rate=0.3).compute(record, frames, ["balls"])[0]  # same normalised query
    np.testing.assert_array_equal(first, again)
    subset = np.array([5, 17, 1999])
    part = backend.compute(record, frames[subset], ["ball"], indices=subset)[0]
    np.testing.assert_array_equal(part, first[subset])  # a frame's draw does not depend on the ask
    other = _oracle(miss_rate=0.3).compute(_long_record(tmp_path, name="other"), frames, ["ball"])
    assert not np.array_equal(~other[0].any(axis=(1, 2)), missed)
    assert not _oracle(miss_rate=0.0).compute(record, frames, ["ball"])[0].min() < 1


def test_oracle_jitter_score_and_blur(tmp_path: Path) -> None:
    record = _wide_video(tmp_path)
    frames = np.zeros((6, 48, 80, 3), dtype=np.uint8)
    exact = _oracle().compute(record, frames, ["ball"])[0]
    jittered = _oracle(jitter=3, score=0.8).compute(record, frames, ["ball"])[0]
    for t in range(6):
        candidates = [shift(exact[t], dx, dy) * 0.8 for dx in range(-3, 4) for dy in range(-3, 4)]
        assert any(np.allclose(jittered[t], c) for c in candidates)
    assert not np.array_equal(jittered, exact * 0.8)  # some frame moved
    blurred = _oracle(blur=2.0).compute(record, frames, ["ball"])[0]
    soft = (blurred > 0.05) & (blurred < 0.95)
    assert soft.sum() > 50 and blurred.max() <= 1.0


# -------------------------------------------------------------------- store


def test_store_caches_per_query_and_shares_across_sets(synth_records, tmp_path: Path) -> None:
    record = synth_records[0]
    spy = Spy(_oracle())
    store = MapStore(spy, tmp_path / "cache", map_size=32)
    indices = [0, 2, 7]
    first = store.load(record, indices, ["arm", "person"])
    assert first.shape == (2, 3, 32, 32) and first.dtype == np.float32
    assert first.min() >= 0.0 and first.max() <= 1.0
    masks = load_masks(record.extras["mask_path"])
    person = masks["person"][indices].astype(np.float32)
    expected = np.stack([cv2.resize(m, (32, 32), interpolation=cv2.INTER_AREA) for m in person])
    np.testing.assert_allclose(first[1], np.round(expected * 255) / 255, atol=1e-6)
    assert spy.asked == [["arm", "person"]]
    np.testing.assert_array_equal(store.load(record, indices, ["arm", "person"]), first)
    assert len(spy.asked) == 1  # memory hit
    fresh = MapStore(spy, tmp_path / "cache", map_size=32)
    np.testing.assert_array_equal(fresh.load(record, indices, ["person", "arm"]), first[::-1])
    assert len(spy.asked) == 1  # disk hit, any order
    fresh.load(record, [1], ["person", "ball", "sky", "arm"])
    assert spy.asked[-1] == ["ball", "sky"]  # only the new queries, in one call
    files = sorted(p.name for p in fresh.directory.glob("*/*.npz"))
    assert len(files) == 4 and all(f.endswith(".npz") for f in files)
    assert json.loads((fresh.directory / "config.json").read_text())["map_size"] == 32


def test_store_recomputes_a_corrupted_file(synth_records, tmp_path: Path) -> None:
    record = synth_records[0]
    spy = Spy(_oracle())
    store = MapStore(spy, tmp_path / "cache", map_size=16)
    good = store.load(record, [0, 1], ["person"])
    path = store.path_for(record, "person")
    path.write_bytes(b"not an npz")
    again = MapStore(spy, tmp_path / "cache", map_size=16).load(record, [0, 1], ["person"])
    np.testing.assert_array_equal(again, good)
    assert len(spy.asked) == 2
    np.load(path)  # rewritten as a valid archive


def test_store_options_change_the_cache_dir(synth_records, tmp_path: Path) -> None:
    a = MapStore("synth-oracle", tmp_path, map_size=16)
    b = MapStore("synth-oracle", tmp_path, map_size=16, miss_rate=0.5)
    c = MapStore("synth-oracle", tmp_path, map_size=24)
    assert len({a.directory, b.directory, c.directory}) == 3
    assert a.directory.parent == b.directory.parent == tmp_path / "synth-oracle"
    assert MapStore("synth-oracle", tmp_path, map_size=16).directory == a.directory


def test_store_keeps_aspect_and_works_without_cache_root(tmp_path: Path) -> None:
    record = _wide_video(tmp_path)
    spy = Spy(_oracle())
    store = MapStore(spy, None, map_size=24)
    maps = store.load(record, [0, 5], ["ball", "net"])
    assert maps.shape == (2, 2, 24, 40)  # 48 x 80 -> short side 24
    # the ball moved right by 40 px (20 map px) between frames 0 and 5
    cols0 = np.nonzero(maps[0, 0].max(0) > 0.5)[0]
    cols5 = np.nonzero(maps[0, 1].max(0) > 0.5)[0]
    assert cols5.mean() - cols0.mean() == pytest.approx(20, abs=1)
    store.load(record, [1, 2], ["net"])
    assert len(spy.asked) == 1
    with pytest.raises(BadInputError, match="not among"):
        store.load(record, [6], ["net"])
    clone = pickle.loads(pickle.dumps(store))
    np.testing.assert_array_equal(clone.load(record, [0, 5], ["ball", "net"]), maps)


def test_store_broken_video_raises_and_prefetch_counts_it(synth_records, tmp_path: Path) -> None:
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00" * 100)
    bad = VideoRecord("bad", str(broken), "x", 0, extras=dict(synth_records[0].extras))
    missing = VideoRecord("gone", str(tmp_path / "nope.mp4"), "x", 0, extras={})
    store = MapStore(Spy(_oracle()), tmp_path / "cache", map_size=16)
    with pytest.raises(VideoReadError):
        store.load(bad, [0], ["person"])
    with pytest.raises(VideoReadError):
        store.load(missing, [0], ["person"])
    records = [synth_records[0], bad, synth_records[1], missing]
    counts = store.prefetch(records, ["person", "arm"])
    assert counts == {"computed": 2, "cached": 0, "failed": 2}
    assert store.prefetch(records, ["arm"]) == {"computed": 0, "cached": 2, "failed": 2}
