"""Writing clips: H.264 MP4 through PyAV, and numbered frame folders through OpenCV.

Both writers are atomic (write to a temporary name, then rename) so that an
interrupted SynthAct render or export never leaves a half-written video that a later
run would take for a finished one.

Odd sizes: H.264 in yuv420p stores chroma at half resolution and libx264 rejects odd
widths/heights. By default `write_video` pads the frames to even size by repeating the
last column/row (so the decoded video is one pixel wider/taller than the input and the
original content sits at the top-left); ``pad_to_even=False`` raises instead.
"""

from __future__ import annotations

import itertools
import os
import platform
from collections.abc import Iterable, Iterator, Mapping
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from actionbias.fileio import atomic_path, make_staging_dir
from actionbias.video.frame_folder import IMAGE_EXTENSIONS, numbered_images

_CONTAINER_FORMATS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska"}


def _frames_iter(frames: np.ndarray | Iterable[np.ndarray]) -> Iterator[np.ndarray]:
    if isinstance(frames, np.ndarray):
        if frames.ndim != 4:
            raise ValueError(f"frames array must be T x H x W x 3, got shape {frames.shape}")
        return iter(frames)
    return iter(frames)


def _check_frame(frame: np.ndarray, i: int, shape: tuple[int, ...] | None) -> np.ndarray:
    frame = np.asarray(frame)
    if frame.dtype != np.uint8:
        raise ValueError(f"frame {i}: expected uint8 pixels, got {frame.dtype}")
    if frame.ndim != 3 or frame.shape[2] != 3:
        raise ValueError(f"frame {i}: expected H x W x 3 RGB, got shape {frame.shape}")
    if shape is not None and frame.shape != shape:
        raise ValueError(f"frame {i}: shape {frame.shape} differs from frame 0 {shape}")
    return frame


def _pad_even(frame: np.ndarray) -> np.ndarray:
    h, w = frame.shape[:2]
    if h % 2 == 0 and w % 2 == 0:
        return frame
    return cv2.copyMakeBorder(frame, 0, h % 2, 0, w % 2, cv2.BORDER_REPLICATE)


#: libx264's instruction sets for byte-reproducible output on x86-64. With its AVX2
#: code paths, the same frames and settings on one thread still gave 2-3 different
#: bitstreams over 4 runs of one SynthAct generation (input YUV checked identical:
#: the vector code reads bytes it never wrote); restricted to SSE4.2 and below,
#: 5 of 5 runs were identical, at 0.05 s instead of 0.03 s a clip (no asm at all:
#: 0.21 s). Every x86-64 CPU of the last 15 years has these sets.
DETERMINISTIC_X264_CPU = "MMX2,SSE,SSE2,SSE2Fast,SSSE3,SSE4.1,SSE4.2"


def yuv420_frame(rgb: np.ndarray) -> av.VideoFrame:
    """An RGB frame as a yuv420p `VideoFrame` whose every byte is set, padding included.

    FFmpeg allocates plane rows wider than the image (a 56-pixel chroma row gets a
    64-byte line) and leaves the extra bytes uninitialised; x264's SIMD code reads
    them, so letting PyAV convert RGB to YUV gave different bitstreams for the same
    frames in different processes (3 of ~100 clips), even on one encoder thread.
    Here OpenCV converts (BT.601, video range: what swscale does and what decoders
    assume for an untagged stream) and the padding is zeroed.
    """
    h, w = rgb.shape[:2]
    yuv = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2YUV_I420)
    quarter = (h // 2) * (w // 2)
    chroma = yuv[h:].reshape(-1)
    planes = (
        yuv[:h],
        chroma[:quarter].reshape(h // 2, w // 2),
        chroma[quarter:].reshape(h // 2, w // 2),
    )
    frame = av.VideoFrame(w, h, "yuv420p")
    for plane, data in zip(frame.planes, planes, strict=True):
        buffer = np.frombuffer(plane, np.uint8).reshape(plane.height, plane.line_size)
        buffer[:, data.shape[1] :] = 0
        buffer[:, : data.shape[1]] = data
    return frame


def write_video(
    path: str | Path,
    frames: np.ndarray | Iterable[np.ndarray],
    fps: float = 30.0,
    crf: int = 18,
    preset: str = "medium",
    *,
    codec: str = "libx264",
    gop: int | None = None,
    rotation: int = 0,
    pad_to_even: bool = True,
    faststart: bool = True,
    codec_options: Mapping[str, str] | None = None,
    threads: int | None = None,
    deterministic: bool = False,
) -> Path:
    """Encode RGB uint8 frames (T x H x W x 3 array or an iterable of H x W x 3) to a file.

    `crf`/`preset` are libx264's quality/speed knobs (18 is visually lossless);
    `gop` sets the keyframe interval in frames (x264 default: 250). `rotation`
    (clockwise degrees, a multiple of 90) is stored as display-matrix metadata, the way
    phones record portrait video, without touching the pixels. `faststart` puts the
    MP4 index in front, so players and partial downloads can start without the tail.
    `codec_options` go to the encoder as is (e.g. ``{"x264-params": "scenecut=0"}``).
    `threads` fixes the encoder's thread count: x264's output depends on how its
    threads are scheduled (the same frames gave two different files in 20 runs on a
    loaded 2-core machine), so ``threads=1`` is what byte-reproducible output needs;
    None lets the encoder choose (fastest). `deterministic` is what "same input, same
    bytes" needs from libx264: one thread and, on x86-64, its SSE code paths only
    (see `DETERMINISTIC_X264_CPU`).
    The container follows the suffix: .mp4/.m4v, .mov or .mkv.
    """
    path = Path(path)
    fmt = _CONTAINER_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(
            f"{path}: unsupported video suffix {path.suffix!r}; use one of "
            + ", ".join(sorted(_CONTAINER_FORMATS))
        )
    if fps <= 0:
        raise ValueError(f"fps must be positive, got {fps}")
    if rotation % 90:
        raise ValueError(f"rotation must be a multiple of 90 degrees, got {rotation}")
    source = _frames_iter(frames)
    first = next(source, None)
    if first is None:
        raise ValueError(f"{path}: no frames to write")
    first = _check_frame(first, 0, None)
    h, w = first.shape[:2]
    if (h % 2 or w % 2) and not pad_to_even:
        raise ValueError(
            f"{path}: H.264 yuv420p needs even width and height, got {w}x{h} "
            "(pass pad_to_even=True to pad)"
        )
    options = {"movflags": "+faststart"} if faststart and fmt in ("mp4", "mov") else {}
    options_for_codec: dict[str, str] = {}
    if codec in ("libx264", "libx265"):
        options_for_codec = {"crf": str(crf), "preset": preset}
    if gop is not None:
        options_for_codec["g"] = str(int(gop))
    if deterministic:
        threads = 1
        if codec == "libx264" and platform.machine().lower() in ("x86_64", "amd64"):
            options_for_codec["x264-params"] = f"asm={DETERMINISTIC_X264_CPU}"
    if threads is not None:
        if threads < 1:
            raise ValueError(f"threads must be >= 1, got {threads}")
        options_for_codec["threads"] = str(int(threads))
    options_for_codec.update({str(k): str(v) for k, v in (codec_options or {}).items()})
    with (
        atomic_path(path) as tmp,
        av.open(str(tmp), "w", format=fmt, options=options) as container,
    ):
        stream = container.add_stream(
            codec, rate=Fraction(fps).limit_denominator(1001), options=options_for_codec
        )
        stream.width, stream.height = w + w % 2, h + h % 2
        time_base = Fraction(1) / Fraction(fps).limit_denominator(1001)
        stream.pix_fmt = "yuv420p"
        if rotation % 360:
            _set_rotation(stream, rotation)
        for i, frame in enumerate(itertools.chain([first], source)):
            frame = _pad_even(_check_frame(frame, i, first.shape))
            video_frame = yuv420_frame(frame)
            # Explicit timestamps: x264's rate control reads frame times (vfr input),
            # and a frame without them leaves that to whatever the wrapper finds.
            video_frame.pts = i
            video_frame.time_base = time_base
            container.mux(stream.encode(video_frame))
        container.mux(stream.encode(None))
    return path


def _set_rotation(stream: av.video.stream.VideoStream, rotation_cw: int) -> None:
    if hasattr(stream, "set_display_rotation"):
        stream.set_display_rotation(-rotation_cw)  # PyAV takes counter-clockwise degrees
    else:  # PyAV < 18: the legacy tag, honoured by the MP4 muxer
        stream.metadata["rotate"] = str(rotation_cw % 360)


def write_frame_folder(
    directory: str | Path,
    frames: np.ndarray | Iterable[np.ndarray],
    ext: str = "jpg",
    start_index: int = 1,
    quality: int = 95,
    *,
    overwrite: bool = False,
) -> Path:
    """Write frames as ``%06d.<ext>`` images numbered from `start_index` (HAT layout).

    Frames are written to a temporary sibling folder first, which is renamed into place
    (atomic for a new folder). A folder that already holds frame images is refused
    unless ``overwrite=True``: stale frames beyond the new count would otherwise
    silently become part of the clip. With ``overwrite=True`` the old images are
    deleted only after every new frame has been written, and other files are kept.
    """
    directory = Path(directory)
    ext = ext.lower().lstrip(".")
    if f".{ext}" not in IMAGE_EXTENSIONS:
        raise ValueError(f"unsupported frame image type {ext!r}")
    if not 0 <= quality <= 100:
        raise ValueError(f"quality must be in 0..100, got {quality}")
    if start_index < 0:
        raise ValueError(f"start_index must be >= 0, got {start_index}")
    params: list[int] = []
    if ext in ("jpg", "jpeg"):
        params = [cv2.IMWRITE_JPEG_QUALITY, int(quality)]
    elif ext == "webp":
        params = [cv2.IMWRITE_WEBP_QUALITY, int(quality)]

    if directory.exists() and not directory.is_dir():
        raise NotADirectoryError(f"{directory}: exists and is not a directory")
    existing = _existing_frames(directory)
    if existing and not overwrite:
        raise FileExistsError(f"{directory}: already holds {len(existing)} frame images")
    staging = make_staging_dir(directory)
    try:
        shape = None
        count = 0
        for i, frame in enumerate(_frames_iter(frames)):
            frame = _check_frame(frame, i, shape)
            shape = frame.shape
            name = staging / f"{start_index + i:06d}.{ext}"
            if not cv2.imwrite(str(name), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR), params):
                raise OSError(f"{name}: OpenCV could not write the image")
            count += 1
        if count == 0:
            raise ValueError(f"{directory}: no frames to write")
        # Only now, with every new frame on disk, touch the destination.
        if directory.is_dir() and any(directory.iterdir()):
            for old in existing:
                old.unlink()
            for new in sorted(staging.iterdir()):
                os.replace(new, directory / new.name)
        else:
            if directory.is_dir():
                directory.rmdir()
            os.replace(staging, directory)
    finally:
        if staging.exists():
            for leftover in staging.iterdir():
                leftover.unlink()
            staging.rmdir()
    return directory


def _existing_frames(directory: Path) -> list[Path]:
    if not directory.is_dir():
        return []
    return [path for group in numbered_images(directory).values() for _, path in group]
