"""Encode -> decode round trips and the seeking reader against the decode-everything one."""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np
import pytest
from video_testkit import decode_indices, index_frame

from actionbias.video import decode as decode_mod
from actionbias.video import (
    iter_frames,
    probe,
    read_all_frames,
    read_clip,
    sample_indices,
    write_video,
)


def test_probe_reports_what_was_written(index_video):
    path = index_video(num=50, fps=25)
    info = probe(path)
    assert (info.num_frames, info.fps, info.duration) == (50, 25.0, 2.0)
    assert (info.width, info.height, info.rotation, info.kind) == (64, 48, 0, "video")
    assert info.path == str(path)


def test_h264_yuv420p_stream(index_video):
    with av.open(str(index_video(num=10))) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert stream.codec_context.pix_fmt == "yuv420p"


def test_round_trip_flat_colours_are_close(tmp_path):
    colours = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (128, 128, 128), (250, 200, 10)]
    frames = np.stack([np.full((48, 64, 3), c, np.uint8) for c in colours])
    path = write_video(tmp_path / "flat.mp4", frames, fps=10)
    clip = read_all_frames(path)
    assert clip.frames.shape == (5, 48, 64, 3) and clip.frames.dtype == np.uint8
    # yuv420p + BT.601 limited range round trip: a few levels of error at most
    assert np.abs(clip.frames.astype(int) - frames).max() <= 6
    assert clip.indices.tolist() == [0, 1, 2, 3, 4]
    assert np.allclose(clip.timestamps, [0, 0.1, 0.2, 0.3, 0.4])


def test_every_frame_comes_back_in_order(index_video):
    clip = read_all_frames(index_video(num=60))
    assert decode_indices(clip.frames) == list(range(60))
    assert clip.indices.tolist() == list(range(60))
    assert np.allclose(clip.timestamps, np.arange(60) / 25)
    assert clip.fps == 25.0 and len(clip) == 60


@pytest.mark.parametrize(
    ("sampling", "stride", "seed"),
    [("uniform", 1, None), ("center", 3, None), ("dense", 2, None), ("dense", 2, 5)],
)
def test_read_clip_returns_exactly_the_sampled_frames(index_video, sampling, stride, seed):
    path = index_video(num=120, gop=10)
    clip = read_clip(path, 8, sampling, stride=stride, seed=seed)
    expected = sample_indices(120, 8, sampling, stride, seed)
    assert clip.frames.shape == (8, 48, 64, 3)
    assert clip.indices.tolist() == expected.tolist()
    assert decode_indices(clip.frames) == expected.tolist()
    assert np.allclose(clip.timestamps, expected / 25)


@pytest.fixture
def seeks(monkeypatch) -> list:
    """The seek target of every decoder restart (None: from the start), in order."""
    targets: list = []
    original = decode_mod._Cursor.restart

    def recording_restart(self, seek_g):
        targets.append(seek_g)
        return original(self, seek_g)

    monkeypatch.setattr(decode_mod._Cursor, "restart", recording_restart)
    return targets


@pytest.mark.parametrize("threads", ["SLICE", "AUTO"])
def test_seek_and_decode_all_give_identical_frames(index_video, seeks, threads):
    path = index_video(num=200, gop=15)
    rng = np.random.default_rng(0)
    requests = [sample_indices(200, 8), np.array([0, 199]), np.array([150, 3, 150, 77])]
    requests += [rng.integers(0, 200, size=rng.integers(1, 16)) for _ in range(8)]
    for wanted in requests:
        with decode_mod.open_video(path, threads) as video:
            sought = video.read_indices(wanted, seek=True)
        with decode_mod.open_video(path, threads) as video:
            everything = video.read_indices(wanted, seek=False)
        for a, b in zip(sought, everything, strict=True):
            assert np.array_equal(a.rgb, b.rgb)
            assert (a.index, a.time) == (b.index, b.time)
        assert [decode_indices(r.rgb[None])[0] for r in sought] == [int(i) for i in wanted]
    assert any(g is not None for g in seeks), "the seek path never seeked"


def test_seek_path_skips_most_of_a_long_video(index_video, monkeypatch):
    """Two frames near the end of a 240-frame clip: far fewer frames decoded than 240."""
    path = index_video(num=240, gop=20)
    decoded = []
    original = decode_mod._Cursor.next

    def counting_next(self):
        got = original(self)
        decoded.append(got is not None)
        return got

    monkeypatch.setattr(decode_mod._Cursor, "next", counting_next)
    clip = read_clip(path, 2, "center", stride=10, start=8.0)
    assert decode_indices(clip.frames) == clip.indices.tolist()
    assert sum(decoded) < 60


def test_no_seek_when_the_only_keyframe_is_behind(index_video, seeks):
    """One keyframe (x264 keyint 250, no scene cuts) in 120 frames: never seek back to it."""
    path = index_video(num=120, gop=250, codec_options={"x264-params": "scenecut=0"})
    with av.open(str(path)) as container:
        assert sum(e.is_keyframe for e in container.streams.video[0].index_entries) == 1
    clip = read_clip(path, 8)
    assert decode_indices(clip.frames) == clip.indices.tolist()
    assert seeks == [None]  # one pass from the start


def test_time_window_indices_refer_to_the_whole_source(index_video):
    path = index_video(num=100, fps=25)
    clip = read_clip(path, 4, "uniform", start=1.0, end=2.0)  # frames 25..49
    assert clip.indices.tolist() == [28, 34, 40, 46]  # 25 + [3, 9, 15, 21]
    assert decode_indices(clip.frames) == [28, 34, 40, 46]
    assert np.allclose(clip.timestamps, clip.indices / 25)
    tail = read_all_frames(path, start=3.0)
    assert tail.indices.tolist() == list(range(75, 100))
    assert decode_indices(tail.frames) == list(range(75, 100))
    middle = read_all_frames(path, start=1.0, end=1.2)
    assert middle.indices.tolist() == [25, 26, 27, 28, 29]


def test_short_clip_repeats_frames(index_video):
    path = index_video(num=3, gop=None)
    clip = read_clip(path, 8)
    assert clip.indices.tolist() == [0, 0, 0, 1, 1, 2, 2, 2]
    assert decode_indices(clip.frames) == [0, 0, 0, 1, 1, 2, 2, 2]
    dense = read_clip(path, 4, "dense", stride=4, seed=0)
    assert dense.frames.shape[0] == 4
    assert decode_indices(dense.frames) == dense.indices.tolist()


def test_resize_and_crop_are_applied(index_video):
    path = index_video(num=10)
    assert read_clip(path, 2, short_side=24).frames.shape == (2, 24, 32, 3)
    assert read_clip(path, 2, size=(20, 30)).frames.shape == (2, 20, 30, 3)
    assert read_clip(path, 2, short_side=32, size=24, crop="center").frames.shape == (2, 24, 24, 3)
    assert read_all_frames(path, size=16).frames.shape == (10, 16, 16, 3)


def test_iter_frames_streams_the_same_frames(index_video):
    path = index_video(num=30)
    streamed = list(iter_frames(path, start=0.4))
    whole = read_all_frames(path, start=0.4)
    assert [f.index for f in streamed] == whole.indices.tolist()
    assert all(np.array_equal(f.rgb, g) for f, g in zip(streamed, whole.frames, strict=True))


def test_odd_size_is_padded_to_even(tmp_path):
    frames = np.full((4, 49, 65, 3), 90, np.uint8)
    frames[:, :, -1] = 200  # last column: replicated into the padding
    path = write_video(tmp_path / "odd.mp4", frames, fps=10)
    info = probe(path)
    assert (info.width, info.height) == (66, 50)
    out = read_all_frames(path).frames
    assert abs(int(out[0, 10, 65, 0]) - 200) <= 8  # padded column copies the last one
    assert abs(int(out[0, 49, 10, 0]) - 90) <= 8
    with pytest.raises(ValueError, match="even width and height"):
        write_video(tmp_path / "odd2.mp4", frames, pad_to_even=False)


def test_fractional_frame_rate(tmp_path):
    path = write_video(tmp_path / "ntsc.mp4", [index_frame(i) for i in range(30)], fps=29.97)
    info = probe(path)
    assert info.fps == pytest.approx(29.97, abs=1e-3)
    clip = read_clip(path, 5)
    assert decode_indices(clip.frames) == clip.indices.tolist() == [3, 9, 15, 21, 27]


def test_write_video_accepts_an_iterator_and_is_atomic(tmp_path):
    path = write_video(tmp_path / "sub" / "gen.mp4", (index_frame(i) for i in range(5)))
    assert probe(path).num_frames == 5
    assert [p.name for p in path.parent.iterdir()] == ["gen.mp4"]  # no temp files left


@pytest.mark.parametrize(
    ("frames", "message"),
    [
        (np.zeros((0, 8, 8, 3), np.uint8), "no frames"),
        (np.zeros((2, 8, 8, 3), np.float32), "uint8"),
        (np.zeros((2, 8, 8), np.uint8), "T x H x W x 3"),
        ([np.zeros((8, 8, 3), np.uint8), np.zeros((8, 10, 3), np.uint8)], "differs"),
    ],
)
def test_write_video_rejects_bad_frames(tmp_path, frames, message):
    with pytest.raises(ValueError, match=message):
        write_video(tmp_path / "bad.mp4", frames)
    assert not any(tmp_path.iterdir())  # nothing half-written


def test_write_video_rejects_unknown_container(tmp_path):
    with pytest.raises(ValueError, match="suffix"):
        write_video(tmp_path / "x.gif", np.zeros((1, 8, 8, 3), np.uint8))


@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_rotation_metadata_is_applied(tmp_path, rotation):
    frame = np.zeros((48, 64, 3), np.uint8)
    frame[:12, :16] = 255  # top-left marker
    path = write_video(tmp_path / f"rot{rotation}.mp4", [frame] * 3, fps=10, rotation=rotation)
    info = probe(path)
    assert info.rotation == rotation
    expected = np.rot90(frame, -rotation // 90)  # clockwise
    assert (info.height, info.width) == expected.shape[:2]
    got = read_clip(path, 1).frames[0]
    assert got.shape == expected.shape
    assert np.abs(got.astype(int) - expected).mean() < 4


def test_matroska_without_frame_count(tmp_path):
    """MKV declares no frame count (estimated from duration) and indexes only keyframes."""
    path = write_video(tmp_path / "c.mkv", [index_frame(i) for i in range(90)], fps=30, gop=10)
    info = probe(path)
    assert info.num_frames == 90
    clip = read_clip(path, 6)
    assert decode_indices(clip.frames) == clip.indices.tolist() == sample_indices(90, 6).tolist()
    slow = read_clip(path, 6, seek=False)
    assert np.array_equal(clip.frames, slow.frames)
    assert decode_indices(read_all_frames(path).frames) == list(range(90))


def test_variable_frame_rate(tmp_path):
    """Frame k shown at irregular times: target i gets the first frame at/after i - 0.5."""
    times_ms = [0, 40, 80, 200, 240, 280, 300, 500, 540, 580, 620, 900, 940]
    path = tmp_path / "vfr.mkv"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=25, options={"g": "4"})
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        stream.codec_context.time_base = Fraction(1, 1000)
        for k, t in enumerate(times_ms):
            frame = av.VideoFrame.from_ndarray(index_frame(k), format="rgb24")
            frame.pts, frame.time_base = t, Fraction(1, 1000)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    every = read_all_frames(path)
    assert decode_indices(every.frames) == list(range(len(times_ms)))
    assert np.allclose(every.timestamps, np.array(times_ms) / 1000)
    # grid index = floor(t * 25 + 0.5)
    assert every.indices.tolist() == [(t * 25 + 500) // 1000 for t in times_ms]
    for seek in (True, False):
        clip = read_clip(path, 6, seek=seek)
        got = decode_indices(clip.frames)
        for target, k in zip(sample_indices(probe(path).num_frames, 6), got, strict=True):
            shown = next(j for j, t in enumerate(times_ms) if 2 * t * 25 >= (2 * target - 1) * 1000)
            assert k == shown
    assert np.array_equal(read_clip(path, 6).frames, read_clip(path, 6, seek=False).frames)


def test_one_encoder_thread_gives_the_same_bytes_under_load(tmp_path):
    """x264's output depends on thread scheduling; with threads=1 it must not."""
    import threading

    from actionbias.fileio import file_sha256

    rng = np.random.default_rng(3)
    frames = np.cumsum(rng.integers(0, 40, (16, 112, 112, 3)), axis=0).astype(np.uint8)
    stop = threading.Event()

    def load() -> None:  # keeps a core busy with another encode meanwhile
        while not stop.is_set():
            write_video(tmp_path / "load.mp4", frames, fps=8)

    other = threading.Thread(target=load)
    other.start()
    try:
        digests = set()
        for i in range(6):
            path = write_video(tmp_path / f"{i}.mp4", frames, fps=8, crf=18, deterministic=True)
            digests.add(file_sha256(path))
    finally:
        stop.set()
        other.join()
    assert len(digests) == 1


def test_bad_thread_count_is_refused(tmp_path):
    with pytest.raises(ValueError, match="threads"):
        write_video(tmp_path / "x.mp4", np.zeros((2, 16, 16, 3), np.uint8), threads=0)


def test_encoder_frames_have_no_uninitialised_bytes():
    """Chroma rows are padded (56 px in a 64-byte line); the padding must be set, not stale."""
    import av

    from actionbias.video.encode import yuv420_frame

    rng = np.random.default_rng(0)
    for _ in range(20):  # leave garbage in freed frame buffers for the allocator to reuse
        stale = av.VideoFrame(112, 112, "yuv420p")
        for plane in stale.planes:
            np.frombuffer(plane, np.uint8)[:] = rng.integers(1, 255, plane.buffer_size)
        del stale
    rgb = rng.integers(0, 256, (112, 112, 3)).astype(np.uint8)
    frame = yuv420_frame(rgb)
    for plane in frame.planes:
        rows = np.frombuffer(plane, np.uint8).reshape(plane.height, plane.line_size)
        assert (rows[:, plane.width :] == 0).all()
    back = frame.to_ndarray(format="rgb24")
    flat = np.full((112, 112, 3), (250, 200, 10), np.uint8)
    assert np.abs(yuv420_frame(flat).to_ndarray(format="rgb24").astype(int) - flat).max() <= 3
    assert back.shape == rgb.shape
