"""Video input/output for actionbias: decode, sample, encode, frame folders, transforms.

One API over three kinds of source -- video files (PyAV), frame folders
(``000001.jpg`` / ``img_00001.jpg``) and still images -- returning uint8 RGB frames
(T x H x W x 3) with the source frame indices and timestamps they came from.

Order of operations for every reader: decode -> display rotation -> resize
(`short_side` or `size`) -> crop. Broken media of any kind raises
`actionbias.errors.VideoReadError`. This package imports nothing else from
actionbias, so data loaders and worker processes can use it alone.
"""

from __future__ import annotations

from actionbias.video.clip import MEDIA_KINDS, Clip, VideoInfo
from actionbias.video.encode import write_frame_folder, write_video
from actionbias.video.frame_folder import IMAGE_EXTENSIONS, FrameFolder, list_frame_files
from actionbias.video.reader import (
    DEFAULT_FOLDER_FPS,
    Frame,
    iter_frames,
    media_kind,
    probe,
    read_all_frames,
    read_clip,
    read_frame_folder,
)
from actionbias.video.sampling import SAMPLING_MODES, sample_indices, window_to_range
from actionbias.video.transforms import (
    Geometry,
    center_crop,
    crop,
    resize,
    resize_short_side,
    resize_to_cover,
    rotate,
)

__all__ = [
    "DEFAULT_FOLDER_FPS",
    "IMAGE_EXTENSIONS",
    "MEDIA_KINDS",
    "SAMPLING_MODES",
    "Clip",
    "Frame",
    "FrameFolder",
    "Geometry",
    "VideoInfo",
    "center_crop",
    "crop",
    "iter_frames",
    "list_frame_files",
    "media_kind",
    "probe",
    "read_all_frames",
    "read_clip",
    "read_frame_folder",
    "resize",
    "resize_short_side",
    "resize_to_cover",
    "rotate",
    "sample_indices",
    "window_to_range",
    "write_frame_folder",
    "write_video",
]
