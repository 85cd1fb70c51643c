"""One reading API over video files, frame folders and still images.

The path decides the reader: a directory is a frame folder, a file with an image
extension is a still image, anything else goes to PyAV. Every reader yields frames in
display orientation (rotation metadata applied), then the same `Geometry` is applied:
rotation -> resize (`short_side` or `size`) -> crop. Every failure to read the media
is a `VideoReadError(path, reason)`; bad arguments (unknown sampling mode, a crop that
does not fit) are `ValueError`s, raised before any file is opened where possible.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple, Protocol

import numpy as np

from actionbias.errors import VideoReadError
from actionbias.video import decode
from actionbias.video.clip import Clip, RawFrame, VideoInfo
from actionbias.video.frame_folder import IMAGE_EXTENSIONS, FrameFolder, StillImage
from actionbias.video.sampling import (
    check_sampling,
    check_window,
    sample_indices,
    window_to_range,
)
from actionbias.video.transforms import CropArg, Geometry, SizeArg

DEFAULT_FOLDER_FPS = 30.0


class Frame(NamedTuple):
    """One frame from `iter_frames`: source index, presentation time (s), RGB pixels."""

    index: int
    time: float
    rgb: np.ndarray


class _Source(Protocol):
    """What the three readers (VideoFile, FrameFolder, StillImage) have in common."""

    kind: str
    num_frames: int
    fps: float
    duration: float

    def first_frame(self) -> RawFrame: ...

    def iter_range(self, first: int, stop: int, to_end: bool = False) -> Iterator[RawFrame]: ...


def media_kind(path: str | Path) -> str:
    """Which reader a path needs: "frames" (a directory), "image" or "video"."""
    path = Path(path)
    if path.is_dir():
        return "frames"
    if not path.exists():
        raise VideoReadError(path, "file not found")
    if path.suffix.lower() in IMAGE_EXTENSIONS:
        return "image"
    return "video"


@contextmanager
def _open_source(path: Path, folder_fps: float, threads: str | None = None) -> Iterator[_Source]:
    kind = media_kind(path)
    if kind == "frames":
        yield FrameFolder(path, folder_fps)
        return
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise VideoReadError(path, f"cannot stat file: {exc.strerror}") from exc
    if size == 0:
        raise VideoReadError(path, "empty file (0 bytes)")
    if kind == "image":
        yield StillImage(path, folder_fps)
        return
    with decode.open_video(path, threads or decode.SEQUENTIAL_THREADS) as video:
        yield video


def probe(path: str | Path, folder_fps: float = DEFAULT_FOLDER_FPS) -> VideoInfo:
    """Frame count, rate, duration, display size and rotation of any supported source.

    Decodes the first frame, which both proves the source is readable and gives the
    display rotation (it is stored per frame in recent FFmpeg).
    """
    path = Path(path)
    with _open_source(path, folder_fps) as src:
        first = src.first_frame()
        height, width = first.rgb.shape[:2]
        return VideoInfo(
            path=str(path),
            num_frames=int(src.num_frames),
            fps=float(src.fps),
            duration=float(src.duration),
            width=int(width),
            height=int(height),
            rotation=int(first.rotation),
            kind=src.kind,
        )


def read_clip(
    path: str | Path,
    num_frames: int = 8,
    sampling: str = "uniform",
    stride: int = 1,
    start: float | None = None,
    end: float | None = None,
    short_side: int | None = None,
    size: SizeArg | None = None,
    crop: CropArg | None = None,
    seed: int | None = None,
    *,
    seek: bool = True,
    folder_fps: float = DEFAULT_FOLDER_FPS,
) -> Clip:
    """Read `num_frames` frames sampled from `[start, end)` seconds of a source.

    See `actionbias.video.sampling` for the sampling modes and `Geometry` for
    `short_side`/`size`/`crop`. `indices`/`timestamps` of the result refer to the whole
    source. ``seek=False`` decodes a video from its first frame instead of seeking
    (same frames, slower; kept as the reference path). `folder_fps` is the frame rate
    assumed for frame folders and images, which carry none.
    """
    path = Path(path)
    geometry = Geometry.from_args(short_side, size, crop)
    check_sampling(num_frames, sampling, stride)
    check_window(start, end)
    with _open_source(path, folder_fps, decode.RANDOM_ACCESS_THREADS) as src:
        first, stop = _window(src, path, start, end)
        wanted = first + sample_indices(stop - first, num_frames, sampling, stride, seed)
        if src.kind == "video":
            raws = src.read_indices(wanted, seek=seek)
        else:
            raws = src.read_indices(wanted)
        fps = float(src.fps)
    return _to_clip(raws, geometry, path, fps)


def read_frame_folder(directory: str | Path, num_frames: int = 8, **options) -> Clip:
    """`read_clip` that insists on a frame folder (a clear error for anything else)."""
    if media_kind(directory) != "frames":
        raise VideoReadError(directory, "not a frame folder (expected a directory of images)")
    return read_clip(directory, num_frames, **options)


def read_all_frames(
    path: str | Path,
    start: float | None = None,
    end: float | None = None,
    short_side: int | None = None,
    size: SizeArg | None = None,
    crop: CropArg | None = None,
    *,
    folder_fps: float = DEFAULT_FOLDER_FPS,
) -> Clip:
    """Every frame of `[start, end)` seconds (e.g. for per-frame segmentation).

    Holds the whole window in memory; use `iter_frames` for long videos.
    """
    path = Path(path)
    geometry = Geometry.from_args(short_side, size, crop)
    check_window(start, end)
    raws = []
    with _open_source(path, folder_fps) as src:
        first, stop = _window(src, path, start, end)
        raws.extend(src.iter_range(first, stop, to_end=end is None))
        fps = float(src.fps)
    return _to_clip(raws, geometry, path, fps)


def iter_frames(
    path: str | Path,
    start: float | None = None,
    end: float | None = None,
    short_side: int | None = None,
    size: SizeArg | None = None,
    crop: CropArg | None = None,
    *,
    folder_fps: float = DEFAULT_FOLDER_FPS,
) -> Iterator[Frame]:
    """Stream the frames of `[start, end)` seconds one by one, transformed.

    Arguments are checked now; the file is opened on the first `next()` and closed
    when the iterator is exhausted or discarded.
    """
    geometry = Geometry.from_args(short_side, size, crop)
    check_window(start, end)
    return _iter_frames(Path(path), start, end, geometry, folder_fps)


def _iter_frames(
    path: Path, start: float | None, end: float | None, geometry: Geometry, folder_fps: float
) -> Iterator[Frame]:
    with _open_source(path, folder_fps) as src:
        first, stop = _window(src, path, start, end)
        for raw in src.iter_range(first, stop, to_end=end is None):
            yield Frame(raw.index, raw.time, geometry.apply(raw.rgb))


def _window(src: _Source, path: Path, start: float | None, end: float | None) -> tuple[int, int]:
    first, stop = window_to_range(src.num_frames, src.fps, start, end)
    if stop <= first:
        raise VideoReadError(
            path,
            f"time window [{start}, {end}) s lies outside the source "
            f"({src.num_frames} frames, {src.duration:.3f} s)",
        )
    return first, stop


def _to_clip(raws: list[RawFrame], geometry: Geometry, path: Path, fps: float) -> Clip:
    """Transform each distinct frame once and stack (repeats share one transform)."""
    done: dict[int, np.ndarray] = {}
    frames = []
    for raw in raws:
        key = id(raw.rgb)
        if key not in done:
            done[key] = geometry.apply(raw.rgb)
        frames.append(done[key])
    shapes = {f.shape for f in frames}
    if len(shapes) > 1:
        raise VideoReadError(
            path,
            f"frame size changes within the source ({sorted(shapes)}); pass size= to resize",
        )
    return Clip(
        frames=np.stack(frames),
        timestamps=np.array([r.time for r in raws], dtype=np.float64),
        indices=np.array([r.index for r in raws], dtype=np.int64),
        fps=fps,
        source=str(path),
    )
