"""Frame folders (HAT / MMAction2 "rawframes") and still images as frame sources.

A frame folder holds one image per frame, numbered: ``000001.jpg`` (HAT, our writer)
or ``img_00001.jpg`` (MMAction2's default), jpg or png. Files are ordered by their
number, not by name, and frame index ``k`` is the k-th file in that order (0-based),
whatever the first number is (``000001.jpg`` is index 0). Timestamps are ``k / fps``
with `fps` supplied by the caller (30 by default), since a folder of images carries no
timing. A still image is a one-frame source; sampling repeats it.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator, Sequence
from pathlib import Path

import cv2
import numpy as np

from actionbias.errors import VideoReadError
from actionbias.video.clip import RawFrame

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp")

_NUMBERED = re.compile(r"^(?P<prefix>.*?)(?P<number>\d+)(?P<ext>\.[A-Za-z]+)$")

# When a folder mixes several numbered series (MMAction2 keeps optical flow as
# x_00001.jpg / y_00001.jpg next to img_00001.jpg), these prefixes are the RGB frames.
_RGB_PREFIXES = ("", "img_", "image_", "frame_", "img", "frame")


def read_image(path: Path, owner: Path | None = None) -> np.ndarray:
    """Decode one image file to RGB uint8 (H x W x 3); failures name the file."""
    data = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if data is None:
        if owner is not None:
            raise VideoReadError(owner, f"cannot decode frame image {path.name}")
        raise VideoReadError(path, "cannot decode image")
    return cv2.cvtColor(data, cv2.COLOR_BGR2RGB)


def numbered_images(directory: Path) -> dict[tuple[str, str], list[tuple[int, Path]]]:
    """Numbered image files of a folder grouped by (prefix, extension)."""
    series: dict[tuple[str, str], list[tuple[int, Path]]] = defaultdict(list)
    try:
        entries = list(directory.iterdir())
    except OSError as exc:
        raise VideoReadError(directory, f"cannot list frame folder: {exc.strerror}") from exc
    for entry in entries:
        match = _NUMBERED.match(entry.name)
        if not match or match["ext"].lower() not in IMAGE_EXTENSIONS or not entry.is_file():
            continue
        series[(match["prefix"], match["ext"].lower())].append((int(match["number"]), entry))
    return series


def list_frame_files(directory: Path) -> list[Path]:
    """The frame images of a folder in frame order; raises if there are none."""
    series = numbered_images(directory)
    if not series:
        raise VideoReadError(directory, "frame folder has no numbered image files")
    if len(series) == 1:
        (chosen,) = series.values()
    else:
        rgb = [key for key in series if key[0] in _RGB_PREFIXES]
        if len(rgb) != 1:
            names = ", ".join(sorted(f"{p}<n>{e}" for p, e in series))
            raise VideoReadError(directory, f"frame folder mixes several numbered series ({names})")
        chosen = series[rgb[0]]
    chosen.sort(key=lambda item: item[0])
    return [path for _, path in chosen]


class FrameFolder:
    """A folder of numbered frame images read like a video at `fps` frames per second."""

    kind = "frames"

    def __init__(self, path: Path, fps: float = 30.0):
        if fps <= 0:
            raise ValueError(f"fps must be positive, got {fps}")
        self.path = path
        self.fps = float(fps)
        self.files = list_frame_files(path)
        self.num_frames = len(self.files)
        self.duration = self.num_frames / self.fps
        self._shape: tuple[int, ...] | None = None

    def _frame(self, index: int) -> RawFrame:
        rgb = read_image(self.files[index], owner=self.path)
        if self._shape is None:
            self._shape = rgb.shape
        elif rgb.shape != self._shape:
            raise VideoReadError(
                self.path,
                f"frame {self.files[index].name} is {rgb.shape[1]}x{rgb.shape[0]} but earlier "
                f"frames are {self._shape[1]}x{self._shape[0]}",
            )
        return RawFrame(index=index, time=index / self.fps, rgb=rgb)

    def first_frame(self) -> RawFrame:
        return self._frame(0)

    def read_indices(self, wanted: Sequence[int]) -> list[RawFrame]:
        cache: dict[int, RawFrame] = {}
        out = []
        for i in wanted:
            i = int(i)
            if not 0 <= i < self.num_frames:
                raise ValueError(f"frame index {i} outside 0..{self.num_frames - 1}")
            if i not in cache:
                cache[i] = self._frame(i)
            out.append(cache[i])
        return out

    def iter_range(self, first: int, stop: int, to_end: bool = False) -> Iterator[RawFrame]:
        for i in range(max(0, first), self.num_frames if to_end else min(stop, self.num_frames)):
            yield self._frame(i)


class StillImage:
    """One image as a one-frame source (shown at time 0)."""

    kind = "image"
    num_frames = 1

    def __init__(self, path: Path, fps: float = 30.0):
        if fps <= 0:
            raise ValueError(f"fps must be positive, got {fps}")
        self.path = path
        self.fps = float(fps)
        self.duration = 1.0 / self.fps
        self._rgb: np.ndarray | None = None

    def first_frame(self) -> RawFrame:
        if self._rgb is None:
            self._rgb = read_image(self.path)
        return RawFrame(index=0, time=0.0, rgb=self._rgb)

    def read_indices(self, wanted: Sequence[int]) -> list[RawFrame]:
        if any(int(i) != 0 for i in wanted):
            raise ValueError("a still image only has frame 0")
        frame = self.first_frame()
        return [frame for _ in wanted]

    def iter_range(self, first: int, stop: int, to_end: bool = False) -> Iterator[RawFrame]:
        if first <= 0 and (to_end or stop > 0):
            yield self.first_frame()
