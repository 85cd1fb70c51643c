"""Frame folders (HAT / MMAction2 rawframes) and still images through the same API."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from video_testkit import decode_indices, index_frame

from actionbias.errors import VideoReadError
from actionbias.video import (
    list_frame_files,
    media_kind,
    probe,
    read_all_frames,
    read_clip,
    read_frame_folder,
    write_frame_folder,
)


def write_numbered(directory, names, frames):
    directory.mkdir(parents=True, exist_ok=True)
    for name, frame in zip(names, frames, strict=True):
        cv2.imwrite(str(directory / name), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))


@pytest.mark.parametrize("ext", ["jpg", "png"])
def test_write_then_read_frame_folder(tmp_path, ext):
    frames = np.stack([index_frame(i) for i in range(20)])
    folder = write_frame_folder(tmp_path / "v1", frames, ext=ext)
    names = sorted(p.name for p in folder.iterdir())
    assert names[0] == f"000001.{ext}" and names[-1] == f"000020.{ext}"  # 1-based, %06d
    info = probe(folder)
    assert (info.kind, info.num_frames, info.fps, info.width, info.height) == (
        "frames",
        20,
        30.0,
        64,
        48,
    )
    assert info.duration == pytest.approx(20 / 30)
    clip = read_clip(folder, 4)
    assert clip.indices.tolist() == [2, 7, 12, 17]  # 000003.ext is index 2
    assert decode_indices(clip.frames) == [2, 7, 12, 17]
    assert np.allclose(clip.timestamps, clip.indices / 30)
    if ext == "png":  # lossless
        assert np.array_equal(read_all_frames(folder).frames, frames)


def test_frame_folder_same_sampling_as_the_video(tmp_path, index_video):
    video = index_video(num=40, fps=25)
    folder = write_frame_folder(tmp_path / "f", [index_frame(i) for i in range(40)])
    for kwargs in ({}, {"sampling": "center", "stride": 2}, {"start": 0.5, "end": 1.0}):
        from_video = read_clip(video, 6, **kwargs)
        from_folder = read_clip(folder, 6, folder_fps=25, **kwargs)
        assert from_video.indices.tolist() == from_folder.indices.tolist()
        assert decode_indices(from_folder.frames) == from_folder.indices.tolist()


def test_mmaction_names_sorted_numerically(tmp_path):
    folder = tmp_path / "raw"
    # img_9 before img_10 although "img_10" < "img_9" as text; flow series ignored
    names = [f"img_{k}.jpg" for k in range(1, 13)]
    write_numbered(folder, names, [index_frame(k - 1) for k in range(1, 13)])
    write_numbered(folder, ["x_00001.jpg", "y_00001.jpg"], [index_frame(200)] * 2)
    assert [p.name for p in list_frame_files(folder)][8:10] == ["img_9.jpg", "img_10.jpg"]
    clip = read_all_frames(folder)
    assert decode_indices(clip.frames) == list(range(12))


def test_ambiguous_series_is_an_error(tmp_path):
    folder = tmp_path / "mixed"
    write_numbered(folder, ["a_001.png", "b_001.png"], [index_frame(0)] * 2)
    with pytest.raises(VideoReadError, match="several numbered series"):
        read_clip(folder, 2)


def test_frames_of_different_sizes_are_an_error(tmp_path):
    folder = tmp_path / "sizes"
    write_numbered(folder, ["000001.png", "000002.png"], [index_frame(0), index_frame(1, 32, 32)])
    with pytest.raises(VideoReadError, match=r"000002\.png"):
        read_all_frames(folder)


def test_frame_folder_resize_and_window(tmp_path):
    folder = write_frame_folder(tmp_path / "f", [index_frame(i) for i in range(30)], ext="png")
    clip = read_clip(folder, 3, start=0.5, end=0.8, short_side=24)  # frames 15..23
    assert clip.frames.shape == (3, 24, 32, 3)
    assert clip.indices.tolist() == [16, 19, 22]


def test_single_image_is_a_one_frame_video(tmp_path):
    image = tmp_path / "still.png"
    cv2.imwrite(str(image), cv2.cvtColor(index_frame(77), cv2.COLOR_RGB2BGR))
    assert media_kind(image) == "image"
    info = probe(image)
    assert (info.kind, info.num_frames, info.width, info.height) == ("image", 1, 64, 48)
    clip = read_clip(image, 8, "dense", stride=2, seed=3, size=32, crop="center")
    assert clip.frames.shape == (8, 32, 32, 3)
    assert clip.indices.tolist() == [0] * 8
    assert np.all(clip.timestamps == 0)
    assert decode_indices(read_clip(image, 2).frames) == [77, 77]
    assert len(read_all_frames(image)) == 1


def test_grayscale_and_alpha_images_become_rgb(tmp_path):
    gray = tmp_path / "gray.png"
    cv2.imwrite(str(gray), np.full((10, 12), 99, np.uint8))
    rgba = tmp_path / "rgba.png"
    cv2.imwrite(str(rgba), np.full((10, 12, 4), 50, np.uint8))
    assert read_clip(gray, 1).frames.shape == (1, 10, 12, 3)
    assert read_clip(gray, 1).frames[0, 0, 0].tolist() == [99, 99, 99]
    assert read_clip(rgba, 1).frames.shape == (1, 10, 12, 3)


def test_write_frame_folder_refuses_to_mix_with_old_frames(tmp_path):
    folder = write_frame_folder(tmp_path / "f", [index_frame(i) for i in range(6)])
    with pytest.raises(FileExistsError):
        write_frame_folder(folder, [index_frame(i) for i in range(3)])
    (folder / "notes.txt").write_text("keep me")
    write_frame_folder(folder, [index_frame(i + 50) for i in range(3)], overwrite=True)
    assert sorted(p.name for p in folder.iterdir()) == [
        "000001.jpg",
        "000002.jpg",
        "000003.jpg",
        "notes.txt",
    ]
    assert decode_indices(read_all_frames(folder).frames) == [50, 51, 52]


def test_write_frame_folder_start_index_and_no_leftovers(tmp_path):
    folder = write_frame_folder(tmp_path / "g", [index_frame(0)] * 2, ext=".png", start_index=0)
    assert sorted(p.name for p in folder.iterdir()) == ["000000.png", "000001.png"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g"]  # temp dir renamed away
    with pytest.raises(ValueError, match="no frames"):
        write_frame_folder(tmp_path / "empty", [])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g"]
    with pytest.raises(ValueError, match="unsupported"):
        write_frame_folder(tmp_path / "h", [index_frame(0)], ext="tiff")


def test_read_frame_folder_insists_on_a_directory(tmp_path, index_video):
    with pytest.raises(VideoReadError, match="not a frame folder"):
        read_frame_folder(index_video(num=5))
    folder = write_frame_folder(tmp_path / "f", [index_frame(i) for i in range(5)])
    assert decode_indices(read_frame_folder(folder, 2).frames) == [1, 3]


def test_failed_overwrite_keeps_the_old_frames(tmp_path):
    folder = write_frame_folder(tmp_path / "f", [index_frame(i) for i in range(3)], ext="png")
    bad = [index_frame(9), np.zeros((5, 5, 3), np.float32)]
    with pytest.raises(ValueError, match="uint8"):
        write_frame_folder(folder, bad, ext="png", overwrite=True)
    assert decode_indices(read_all_frames(folder).frames) == [0, 1, 2]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f"]
