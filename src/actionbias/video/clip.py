"""The two records the video package hands out: what a source is, and what was read from it.

Kept free of any decoder import so that code which only passes clips around (datasets,
models, reports) can type against them without pulling in PyAV or OpenCV.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MEDIA_KINDS = ("video", "frames", "image")


@dataclass(frozen=True)
class VideoInfo:
    """What `probe` learns about a video file, frame folder or still image.

    `num_frames` is the container's frame count when it declares one (exact for MP4),
    otherwise `duration * fps`; it is exact for frame folders (the number of image
    files) and 1 for an image. `width`/`height` are the display size, i.e. after the
    rotation in `rotation` (degrees clockwise, one of 0/90/180/270) has been applied,
    which is also the orientation every reader returns frames in.
    """

    path: str
    num_frames: int
    fps: float
    duration: float
    width: int
    height: int
    rotation: int
    kind: str


@dataclass
class Clip:
    """Frames read from one source, with where they came from.

    `indices` are 0-based frame numbers in the whole source (not in the requested time
    window), and `timestamps` the presentation times in seconds from the first frame of
    the source, so a clip read from a window can still be related to annotations of the
    untrimmed video. Entries repeat when a short source had to be padded by repetition.
    """

    frames: np.ndarray
    timestamps: np.ndarray
    indices: np.ndarray
    fps: float
    source: str

    def __post_init__(self) -> None:
        n = len(self.frames)
        if len(self.timestamps) != n or len(self.indices) != n:
            raise ValueError(
                f"Clip from {self.source}: {n} frames but {len(self.timestamps)} timestamps "
                f"and {len(self.indices)} indices"
            )

    def __len__(self) -> int:
        return len(self.frames)


@dataclass(frozen=True)
class RawFrame:
    """One frame as a reader produces it: display orientation, before resize/crop.

    Internal currency between the decoders (video file, frame folder, image) and the
    functions that sample, transform and stack; `rotation` is what was applied.
    """

    index: int
    time: float
    rgb: np.ndarray
    rotation: int = 0
