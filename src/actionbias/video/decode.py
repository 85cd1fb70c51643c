"""Reading frames out of video files with PyAV, seeking instead of decoding everything.

Frame numbering. A video is seen as frames on the grid of its average frame rate: a
frame whose presentation time is ``t`` seconds after the first frame sits at grid
position ``g = t * fps`` and has index ``floor(g + 0.5)``. For constant-frame-rate video
this is simply the frame's ordinal. Target index ``i`` is served by the first frame
(in presentation order) with ``g >= i - 0.5``; with variable frame rate that is the
frame shown around time ``i / fps``, and two targets may share one frame.

Seeking (`VideoFile.read_indices` with ``seek=True``). Targets are visited in
increasing order. Before each one we look up, in the demuxer's index, the last
keyframe at or before the target; only if that keyframe lies beyond what the decoder
has already been fed do we seek to it (a seek flushes the decoder, so seeking to a
keyframe we are already past would redo work). Otherwise we decode forward. While
decoding towards a target, packets that are wholly before it are sent with
``skip_frame=NONREF``: frames no other frame references (most B-frames of an x264
stream) are then not decoded at all, and as they can never be a target nor a
reference, the output is bit-identical to decoding everything. After a seek the first
frame out must lie before the target; if the demuxer landed after it (some demuxers
seek by decode timestamp) we back off and, at worst, restart from the first frame, so
correctness never depends on the demuxer's seek precision.

End of stream. A target past the last decodable frame gets the last frame when the
shortfall is within `eof_tolerance` frames (frame counts estimated from duration are
often off by one or two). A larger shortfall means the file is truncated or lies about
its length, and raises `VideoReadError`, so a clip never silently repeats the last
frame of a half-downloaded file.
"""

from __future__ import annotations

import bisect
import math
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from av.video.reformatter import VideoReformatter

from actionbias.errors import VideoReadError
from actionbias.video.clip import RawFrame
from actionbias.video.transforms import rotate

# Exceptions PyAV raises for broken media; converted to VideoReadError at this module's
# boundary. ValueError is included because av.error.InvalidDataError derives from it and
# PyAV raises bare ValueError for a few malformed streams; nothing in the guarded blocks
# raises ValueError for a bad argument.
_AV_ERRORS: tuple[type[BaseException], ...] = (
    av.error.FFmpegError,
    OSError,
    ValueError,
    RuntimeError,
    EOFError,
)

# Decoder threading. Frame threads ("AUTO") keep several frames in flight: good for
# throughput when every frame is wanted and cores are free, but a seek throws that work
# away and each target waits for the pipeline to refill. Measured on the 2-vCPU dev VM
# (10 s 604x340 x264 clip): 8 uniform frames by seeking 118 ms with no threads vs
# 150 ms with "AUTO"; all 300 frames sequentially 252 ms with "SLICE" vs 294 ms with
# "AUTO". Random access therefore uses slice threads only (free parallelism for
# streams that have slices; DataLoader workers already use one core each). Sequential
# decoding switches to "AUTO" only with at least 4 cores -- the usual FFmpeg
# frame-threading gain there was not measurable on this machine.
RANDOM_ACCESS_THREADS = "SLICE"
SEQUENTIAL_THREADS = "AUTO" if (os.cpu_count() or 1) >= 4 else "SLICE"

# Give up on a file after this many packets failed to decode.
MAX_DECODE_ERRORS = 32

# Without a keyframe index, seek only when the target is this many seconds ahead of the
# decoder (or further than the longest keyframe interval seen so far).
_BLIND_SEEK_SECONDS = 2.0


def describe_error(exc: BaseException) -> str:
    """One-line text of a PyAV/OS exception without FFmpeg's errno noise."""
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return " ".join(str(text).split())


def grid_index(g: float) -> int:
    """Index of the frame at grid position `g`: the last target ``i`` with ``g >= i - 0.5``."""
    return math.floor(g + 0.5)


@contextmanager
def media_errors(path: str | Path, what: str) -> Iterator[None]:
    """Turn any decoder failure inside the block into `VideoReadError(path, ...)`."""
    try:
        yield
    except _AV_ERRORS as exc:
        raise VideoReadError(path, f"{what}: {describe_error(exc)}") from exc


def rotation_cw(frame: av.VideoFrame, stream_rotate_tag: str | None = None) -> int:
    """Clockwise rotation (0/90/180/270) the display matrix asks for.

    PyAV >= 13 exposes the display matrix as `frame.rotation` (counter-clockwise
    degrees); older versions only have the legacy ``rotate`` stream tag (clockwise).
    """
    ccw = getattr(frame, "rotation", None)
    if ccw is not None:
        degrees = -float(ccw)
    elif stream_rotate_tag:
        try:
            degrees = float(stream_rotate_tag)
        except ValueError:
            return 0
    else:
        return 0
    return (round(degrees / 90) % 4) * 90


class _Decoded:
    """A frame out of the decoder with its grid position; RGB conversion on demand."""

    __slots__ = ("_rgb", "_rotation", "frame", "g", "time")

    def __init__(self, frame: av.VideoFrame, g: float, time: float):
        self.frame = frame
        self.g = g
        self.time = time
        self._rgb: np.ndarray | None = None
        self._rotation = 0

    def raw(self, rotate_tag: str | None, reformatter: VideoReformatter) -> RawFrame:
        if self._rgb is None:
            self._rotation = rotation_cw(self.frame, rotate_tag)
            rgb = reformatter.reformat(self.frame, format="rgb24").to_ndarray()
            self._rgb = rotate(rgb, self._rotation)
            self.frame = None  # release the decoder's buffer
        return RawFrame(
            index=grid_index(self.g), time=self.time, rgb=self._rgb, rotation=self._rotation
        )


class VideoFile:
    """An open video stream: its timing facts and the ways to pull frames out of it."""

    kind = "video"

    def __init__(self, path: Path, thread_type: str = SEQUENTIAL_THREADS):
        self.path = path
        self.thread_type = thread_type
        self.container: av.container.InputContainer | None = None
        # One scaler for every frame: PyAV's to_ndarray(format=...) builds (and threads)
        # a new swscale context per call, ~4x slower at 340p.
        self.reformatter = VideoReformatter()
        self._open()
        try:
            with media_errors(path, "cannot read video header"):
                self._read_header()
        except BaseException:
            self.close()
            raise
        self._keyframes: list[float] = []
        self._keyframes_final = False
        self._margin: float | None = None
        self._fresh = True  # nothing read since open: decoding starts at frame 0 without a seek

    def _read_header(self) -> None:
        stream = self.stream
        path = self.path
        if stream.time_base is None:
            raise VideoReadError(path, "video stream has no time base")
        self.time_base = Fraction(stream.time_base)
        self.start_pts = int(stream.start_time) if stream.start_time is not None else 0
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        declared = int(stream.frames or 0)
        duration: float | None = None
        if stream.duration:
            duration = float(stream.duration * stream.time_base)
        elif self.container.duration:
            duration = self.container.duration / av.time_base
        if rate and rate > 0:
            exact_fps = Fraction(rate)
        elif declared and duration:
            exact_fps = Fraction(declared / duration).limit_denominator(1_000_000)
        else:
            raise VideoReadError(path, "video stream declares no frame rate")
        self.fps = float(exact_fps)
        # Exact ticks -> grid scale: frames exactly half-way between grid slots (VFR)
        # must not flip sides through float rounding.
        self._grid_scale = self.time_base * exact_fps
        if declared > 0:
            self.num_frames = declared
        elif duration:
            self.num_frames = round(duration * self.fps)
        else:
            self.num_frames = self._count_packets()
        if self.num_frames <= 0:
            raise VideoReadError(path, "video has zero frames")
        self.duration = duration if duration else self.num_frames / self.fps
        self._rotate_tag = self.stream.metadata.get("rotate")

    # ----------------------------------------------------------------- container
    def _open(self) -> None:
        if self.container is not None:
            self.container.close()
        try:
            self.container = av.open(str(self.path), metadata_errors="ignore")
        except _AV_ERRORS as exc:
            raise VideoReadError(self.path, f"not a readable video: {describe_error(exc)}") from exc
        with media_errors(self.path, "cannot read video"):
            for stream in self.container.streams.video:
                if stream.disposition & av.stream.Disposition.attached_pic:
                    continue  # cover art, not the video
                stream.thread_type = self.thread_type
                self.stream = stream
                return
        raise VideoReadError(self.path, "no video stream")

    def close(self) -> None:
        if self.container is not None:
            self.container.close()
            self.container = None

    def _count_packets(self) -> int:
        """Frame count for containers that state neither frame count nor duration."""
        with media_errors(self.path, "cannot read video"):
            count = sum(1 for p in self.container.demux(self.stream) if p.size)
        self._open()
        return count

    # -------------------------------------------------------------------- timing
    def grid(self, pts: int) -> float:
        return float((pts - self.start_pts) * self._grid_scale)

    def pts_at(self, g: float) -> int:
        return self.start_pts + math.floor(g / self._grid_scale)

    @property
    def eof_tolerance(self) -> int:
        return max(2, math.ceil(0.02 * self.num_frames))

    def keyframes(self) -> tuple[list[float], bool]:
        """Grid positions of the keyframes in the demuxer's index, and whether to trust it.

        MP4 indexes every sample (by decode time, which precedes presentation by the
        B-frame delay, so these positions are slightly early: harmless for deciding
        whether to seek); such a complete index is trusted even if it lists a single
        keyframe. Matroska fills the index from its cues on the first seek, so a short
        index is re-read until it lists at least two keyframes.
        """
        if not self._keyframes_final:
            entries = self.stream.index_entries
            self._keyframes = sorted(self.grid(e.timestamp) for e in entries if e.is_keyframe)
            complete = len(entries) >= 0.9 * self.num_frames
            self._keyframes_final = complete or len(self._keyframes) >= 2
        return self._keyframes, self._keyframes_final

    def _seek_margin(self) -> float:
        """Frames to seek before a target so that B-frame delay never lands us past it.

        The delay is read off the index (first decode time before the first
        presentation time); two frames are assumed when there is no index yet.
        """
        if self._margin is not None:
            return self._margin
        entries = self.stream.index_entries
        if len(entries) < 2:
            return 3.0
        self._margin = 1.0 + max(2.0, -self.grid(entries[0].timestamp))
        return self._margin

    # ------------------------------------------------------------------ reading
    def first_frame(self) -> RawFrame:
        """The first decodable frame (used by probe to learn the display rotation)."""
        with media_errors(self.path, "cannot decode video"):
            cursor = _Cursor(self, skip_nonref=False)
            cursor.restart(None)
            got = cursor.next()
            if got is None:
                raise VideoReadError(self.path, self._nothing_decoded(cursor))
            return got.raw(self._rotate_tag, self.reformatter)

    def read_indices(
        self, wanted: Sequence[int], seek: bool = True, skip_nonref: bool = True
    ) -> list[RawFrame]:
        """The frame serving each wanted grid index, in the order asked (repeats allowed).

        ``seek=False`` decodes every frame from the start up to the last target (the
        reference path); ``skip_nonref`` only has an effect together with seeking.
        """
        targets = sorted(set(int(i) for i in wanted))
        if not targets:
            return []
        if targets[0] < 0:
            raise ValueError(f"frame indices must be >= 0, got {targets[0]}")
        found: dict[int, RawFrame] = {}
        with media_errors(self.path, "cannot decode video"):
            cursor = _Cursor(self, skip_nonref=seek and skip_nonref)
            cursor.restart(None)
            for pos, target in enumerate(targets):
                hit = self._advance_to(cursor, target - 0.5, seek)
                if hit is None:
                    last = self._last_frame(cursor)
                    for late in targets[pos:]:
                        self._check_shortfall(late, grid_index(last.g), cursor)
                        found[late] = last.raw(self._rotate_tag, self.reformatter)
                    break
                found[target] = hit.raw(self._rotate_tag, self.reformatter)
        return [found[int(i)] for i in wanted]

    def iter_range(self, first: int, stop: int, to_end: bool = False) -> Iterator[RawFrame]:
        """Every frame with index in ``[first, stop)``, in presentation order.

        ``to_end=True`` ignores `stop` and decodes to the end of the stream: the header's
        frame count is an estimate, and "everything after `first`" must not lose a
        last frame that the estimate leaves out.
        """
        with media_errors(self.path, "cannot decode video"):
            cursor = _Cursor(self, skip_nonref=False)
            cursor.restart(None)
            hit = self._advance_to(cursor, first - 0.5, seek=first > 0)
            limit = math.inf if to_end else stop - 0.5
            last_index = None
            while hit is not None and hit.g < limit:
                raw = hit.raw(self._rotate_tag, self.reformatter)
                last_index = raw.index
                yield raw
                hit = cursor.next()
            if last_index is None:
                if cursor.last is None:
                    raise VideoReadError(self.path, self._nothing_decoded(cursor))
                raise VideoReadError(
                    self.path,
                    f"no frame at or after index {first}; the stream ends at frame "
                    f"{grid_index(cursor.last.g)} (header says {self.num_frames} frames)",
                )
            if hit is None:
                self._check_shortfall(min(stop, self.num_frames) - 1, last_index, cursor)

    # -------------------------------------------------------------- internals
    def _advance_to(self, cursor: _Cursor, threshold: float, seek: bool) -> _Decoded | None:
        """First frame with grid position >= threshold, or None at end of stream."""
        cursor.skip_below = threshold
        if cursor.last is not None and cursor.last.g >= threshold:
            return cursor.last  # the frame that served the previous target serves this one too
        if seek and self._should_seek(cursor, threshold):
            first = self._seek_before(cursor, threshold)
            if first is not None and first.g >= threshold:
                return first
        while True:
            got = cursor.next()
            if got is None or got.g >= threshold:
                return got

    def _should_seek(self, cursor: _Cursor, threshold: float) -> bool:
        """Seek only if it skips packets: the keyframe before the target is ahead of us."""
        seek_g = threshold - self._seek_margin()
        keyframes, trusted = self.keyframes()
        if trusted:
            j = bisect.bisect_right(keyframes, seek_g) - 1
            return j >= 0 and keyframes[j] > cursor.fed_g + 1
        if cursor.blind_seek_failed:
            return False
        blind_gap = max(_BLIND_SEEK_SECONDS * self.fps, cursor.longest_gop)
        return seek_g - cursor.fed_g > blind_gap

    def _seek_before(self, cursor: _Cursor, threshold: float) -> _Decoded | None:
        """Seek so that decoding resumes at a keyframe before `threshold`; first frame out."""
        margin = self._seek_margin()
        was_at = cursor.fed_g
        for back in (margin, margin + self.fps, margin + 8 * self.fps):
            seek_g = threshold - back
            if seek_g <= 0:
                break
            cursor.restart(seek_g)
            first = cursor.next()
            if first is not None and first.g < threshold:
                if first.g <= was_at:  # landed behind where we were: seeking does not pay
                    cursor.blind_seek_failed = True
                return first
        cursor.restart(None)
        return cursor.next()

    def _last_frame(self, cursor: _Cursor) -> _Decoded:
        """The true last frame once the stream has ended (tail redone if frames were skipped)."""
        seen = cursor.last
        if seen is None:
            raise VideoReadError(self.path, self._nothing_decoded(cursor))
        if cursor.skipped_since_restart:
            # The real last frame may have been a skipped non-reference frame: decode the
            # tail again with nothing skipped.
            cursor.skip_nonref = False
            tail_from = seen.g - self._seek_margin()
            cursor.restart(tail_from if tail_from > 0 else None)
            while cursor.next() is not None:
                pass
            if cursor.last is None or cursor.last.g < seen.g:
                return seen
        return cursor.last

    def _check_shortfall(self, wanted: int, available: int, cursor: _Cursor) -> None:
        if wanted - available > self.eof_tolerance:
            detail = f"; {cursor.problems()}" if cursor.problems() else ""
            raise VideoReadError(
                self.path,
                f"truncated: frame {wanted} requested but decoding stops at frame {available} "
                f"(header says {self.num_frames} frames){detail}",
            )

    def _nothing_decoded(self, cursor: _Cursor) -> str:
        detail = f" ({cursor.problems()})" if cursor.problems() else ""
        return f"no decodable frames{detail}"


class _Cursor:
    """Demux + decode state of one pass over a video, across seeks."""

    def __init__(self, video: VideoFile, skip_nonref: bool):
        self.video = video
        self.skip_nonref = skip_nonref
        self.skip_below = -math.inf
        self.fed_g = -1.0  # grid position of the latest packet handed to the decoder
        self.last: _Decoded | None = None
        self.skipped_since_restart = False
        self.longest_gop = 0.0
        self.blind_seek_failed = False
        self.decode_errors = 0
        self.demux_error: str | None = None
        self._last_key_g: float | None = None
        self._skipping = False
        self._frames: Iterator[av.VideoFrame] | None = None

    def restart(self, seek_g: float | None) -> None:
        """Resume decoding at the keyframe before grid position `seek_g` (None: the start)."""
        video = self.video
        if seek_g is None:
            if not video._fresh:
                try:
                    video.container.seek(
                        video.start_pts, stream=video.stream, backward=True, any_frame=False
                    )
                except av.error.FFmpegError:
                    video._open()  # unseekable input: reopening is the way back to frame 0
            self.fed_g = -1.0
        else:
            video.container.seek(
                video.pts_at(seek_g), stream=video.stream, backward=True, any_frame=False
            )
            self.fed_g = seek_g
        video._fresh = False
        self.last = None
        self._last_key_g = None
        self.skipped_since_restart = False
        self._frames = self._decode_all()

    def next(self) -> _Decoded | None:
        """Next frame out of the decoder, or None at the end of the stream."""
        assert self._frames is not None
        frame = next(self._frames, None)
        if frame is None:
            return None
        video = self.video
        if frame.pts is not None:
            g = video.grid(frame.pts)
            time = float((frame.pts - video.start_pts) * video.time_base)
        else:  # no timestamp at all: assume the next slot on the grid
            g = self.last.g + 1 if self.last is not None else 0.0
            time = g / video.fps
        if frame.key_frame:
            if self._last_key_g is not None:
                self.longest_gop = max(self.longest_gop, g - self._last_key_g)
            self._last_key_g = g
        self.last = _Decoded(frame, g, time)
        return self.last

    def problems(self) -> str:
        parts = []
        if self.decode_errors:
            parts.append(f"{self.decode_errors} packets failed to decode")
        if self.demux_error:
            parts.append(f"demuxer stopped: {self.demux_error}")
        return ", ".join(parts)

    def _set_skipping(self, skip: bool) -> None:
        if skip != self._skipping:
            self.video.stream.codec_context.skip_frame = "NONREF" if skip else "DEFAULT"
            self._skipping = skip

    def _decode_all(self) -> Iterator[av.VideoFrame]:
        video = self.video
        stream = video.stream
        demux = video.container.demux(stream)
        while True:
            try:
                packet = next(demux)
            except StopIteration:
                break
            except av.error.FFmpegError as exc:  # e.g. a truncated file ends mid-packet
                self.demux_error = describe_error(exc)
                self._set_skipping(False)
                yield from self._decode_packet(None)
                break
            skip = False
            if packet.pts is not None:
                g = video.grid(packet.pts)
                self.fed_g = max(self.fed_g, g)
                skip = self.skip_nonref and g < self.skip_below
            self._set_skipping(skip)
            self.skipped_since_restart |= skip
            yield from self._decode_packet(packet)
        self._set_skipping(False)

    def _decode_packet(self, packet: av.Packet | None) -> Iterator[av.VideoFrame]:
        try:
            frames = self.video.stream.codec_context.decode(packet)
        except av.error.EOFError:
            return
        except av.error.FFmpegError as exc:
            self.decode_errors += 1
            if self.decode_errors > MAX_DECODE_ERRORS:
                raise VideoReadError(
                    self.video.path, f"too many corrupt packets: {describe_error(exc)}"
                ) from exc
            return
        yield from frames


@contextmanager
def open_video(path: str | Path, thread_type: str = SEQUENTIAL_THREADS) -> Iterator[VideoFile]:
    """Open a video file for reading; every failure is a `VideoReadError`."""
    video = VideoFile(Path(path), thread_type)
    try:
        yield video
    finally:
        video.close()
