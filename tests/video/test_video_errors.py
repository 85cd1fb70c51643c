"""Every kind of broken media ends as VideoReadError(path, reason), never a raw av/cv2 error."""

from __future__ import annotations

import av
import numpy as np
import pytest
from video_testkit import decode_indices, index_frame

from actionbias.errors import BadInputError, VideoReadError
from actionbias.video import (
    iter_frames,
    probe,
    read_all_frames,
    read_clip,
    write_frame_folder,
    write_video,
)


def assert_read_error(path, match: str, reader=read_clip) -> VideoReadError:
    with pytest.raises(VideoReadError, match=match) as info:
        reader(path)
    err = info.value
    assert err.path == str(path)
    assert "\n" not in str(err) and str(path) in str(err)
    assert isinstance(err, BadInputError)
    return err


@pytest.mark.parametrize("reader", [read_clip, probe, read_all_frames])
def test_missing_path(tmp_path, reader):
    assert_read_error(tmp_path / "nope.mp4", "file not found", reader)
    assert_read_error(tmp_path / "nope.jpg", "file not found", reader)


@pytest.mark.parametrize("name", ["empty.mp4", "empty.jpg"])
def test_zero_byte_file(tmp_path, name):
    (tmp_path / name).write_bytes(b"")
    assert_read_error(tmp_path / name, "empty file")


def test_text_file_named_mp4(tmp_path):
    path = tmp_path / "notes.mp4"
    path.write_text("this is not a video\n" * 50)
    assert_read_error(path, "not a readable video")
    assert_read_error(path, "not a readable video", probe)


def test_garbage_image(tmp_path):
    path = tmp_path / "broken.jpg"
    path.write_bytes(b"\xff\xd8\xff" + bytes(range(256)) * 4)
    assert_read_error(path, "cannot decode image")


def test_video_with_zero_frames(tmp_path):
    path = tmp_path / "zero.avi"  # AVI keeps a video stream with no frames in it
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        container.start_encoding()
    assert_read_error(path, "zero frames|no decodable frames")
    assert_read_error(path, "zero frames|no decodable frames", probe)


def test_mp4_without_video_stream(tmp_path):
    path = tmp_path / "nostream.mp4"  # an MP4 muxed with no frames has no track at all
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        container.start_encoding()
    assert_read_error(path, "no video stream")


def test_audio_only_file(tmp_path):
    path = tmp_path / "tone.mkv"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("pcm_s16le", rate=8000)
        samples = (np.sin(np.arange(8000) / 5) * 1000).astype(np.int16)[None]
        frame = av.AudioFrame.from_ndarray(samples, format="s16", layout="mono")
        frame.sample_rate = 8000
        container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    assert_read_error(path, "no video stream")


def test_empty_frame_folder(tmp_path):
    (tmp_path / "frames").mkdir()
    (tmp_path / "frames" / "readme.txt").write_text("no images here")
    assert_read_error(tmp_path / "frames", "no numbered image files")
    assert_read_error(tmp_path / "frames", "no numbered image files", probe)


def test_corrupt_image_inside_a_frame_folder(tmp_path):
    folder = write_frame_folder(tmp_path / "f", [index_frame(i) for i in range(4)])
    (folder / "000003.jpg").write_bytes(b"garbage")
    err = assert_read_error(folder, "000003.jpg", read_all_frames)
    assert err.path == str(folder)


def test_window_past_the_end(index_video):
    path = index_video(num=25, fps=25)
    with pytest.raises(VideoReadError, match="outside the source"):
        read_clip(path, 4, start=5.0)
    with pytest.raises(VideoReadError, match="outside the source"):
        read_all_frames(path, start=1.0)


def test_bad_arguments_are_value_errors_before_any_io(tmp_path):
    missing = tmp_path / "missing.mp4"
    with pytest.raises(ValueError, match="sampling"):
        read_clip(missing, 4, "nearest")
    with pytest.raises(ValueError, match="short_side or size"):
        read_clip(missing, 4, short_side=10, size=10)
    with pytest.raises(ValueError, match="end"):
        read_all_frames(missing, 2.0, 1.0)
    with pytest.raises(ValueError, match="start"):
        read_clip(missing, start=-1.0)


@pytest.fixture
def faststart_cut(tmp_path):
    """A 100-frame MP4 (index in front) cut at 70% of its bytes: ~55 frames survive."""
    path = write_video(tmp_path / "full.mp4", [index_frame(i) for i in range(100)], gop=10)
    data = path.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: int(len(data) * 0.7)])
    return cut


def test_truncated_file_still_serves_frames_that_exist(faststart_cut):
    clip = read_clip(faststart_cut, 4, end=1.0)  # frames 0..29 at 30 fps: all present
    assert decode_indices(clip.frames) == clip.indices.tolist() == [3, 11, 18, 26]
    slow = read_clip(faststart_cut, 4, end=1.0, seek=False)
    assert np.array_equal(clip.frames, slow.frames)


@pytest.mark.parametrize("seek", [True, False])
def test_truncated_file_fails_for_frames_that_are_gone(faststart_cut, seek):
    with pytest.raises(VideoReadError, match="truncated"):
        read_clip(faststart_cut, 8, seek=seek)


def test_truncated_file_fails_for_read_all(faststart_cut):
    with pytest.raises(VideoReadError, match="truncated"):
        read_all_frames(faststart_cut)
    with pytest.raises(VideoReadError, match="truncated"):
        list(iter_frames(faststart_cut))


def test_truncated_file_without_index(tmp_path):
    """Index written last (no faststart): cutting the file loses it, nothing is readable."""
    path = write_video(tmp_path / "v.mp4", [index_frame(i) for i in range(50)], faststart=False)
    data = path.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])
    assert_read_error(cut, "not a readable video")


def test_corrupted_bytes_in_the_middle_do_not_crash(tmp_path):
    path = write_video(tmp_path / "v.mp4", [index_frame(i) for i in range(60)], gop=10)
    data = bytearray(path.read_bytes())
    rng = np.random.default_rng(0)
    start = len(data) // 2
    data[start : start + 400] = rng.integers(0, 256, 400, dtype=np.uint8).tobytes()
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(bytes(data))
    # Either frames (FFmpeg conceals damage) or a VideoReadError; nothing else.
    try:
        clip = read_clip(bad, 8)
    except VideoReadError:
        return
    assert clip.frames.shape == (8, 48, 64, 3)
