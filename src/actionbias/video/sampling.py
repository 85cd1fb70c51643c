"""Which frames of a source (or of a time window in it) a clip is made of.

Pure index arithmetic, shared by every reader so that a video file, its frame folder
and its SynthAct rendering give the same frame numbers for the same request.

Modes (all return `num_frames` sorted indices in ``[0, num_available)``):

* ``uniform`` -- TSN / MMAction2 test-time sampling: split the window into
  `num_frames` equal segments and take the centre frame of each,
  ``floor((2k + 1) * n / (2T))``. Deterministic; `stride` is ignored.
* ``center`` -- `num_frames` frames spaced by `stride`, the block centred in the window
  (offset ``(n - span) // 2`` with ``span = (T - 1) * stride + 1``).
* ``dense`` -- SlowFast-style: the same block at a random offset in
  ``[0, n - span]`` drawn from ``numpy.random.default_rng(seed)``; with ``seed=None``
  it is the centred block, so evaluation stays deterministic.

A window shorter than the request never fails: ``uniform`` repeats frames (segments
narrower than one frame share it) and ``center``/``dense`` clamp indices to the first
and last frame, so the block is padded by repeating the edge frames.
"""

from __future__ import annotations

import math

import numpy as np

SAMPLING_MODES = ("uniform", "center", "dense")

# Tolerance (in frames) when mapping window bounds to frame numbers, so that start=1.0
# at 30 fps includes frame 30 even if 1.0 * 30 comes out as 30.000000001.
_FRAME_EPS = 1e-6


def sample_indices(
    num_available: int,
    num_frames: int,
    sampling: str = "uniform",
    stride: int = 1,
    seed: int | None = None,
) -> np.ndarray:
    """Indices (int64, sorted, possibly repeated) of the frames to read from a window."""
    check_sampling(num_frames, sampling, stride)
    if num_available < 1:
        raise ValueError(f"num_available must be >= 1, got {num_available}")
    if sampling == "uniform":
        k = np.arange(num_frames, dtype=np.int64)
        # Integer form of floor(n * (k + 0.5) / T): no float rounding at segment edges.
        return ((2 * k + 1) * num_available) // (2 * num_frames)
    span = (num_frames - 1) * stride + 1
    if sampling == "dense" and seed is not None:
        rng = np.random.default_rng(seed)
        offset = int(rng.integers(0, max(num_available - span, 0) + 1))
    else:
        offset = (num_available - span) // 2
    idx = offset + np.arange(num_frames, dtype=np.int64) * stride
    return np.clip(idx, 0, num_available - 1)


def check_sampling(num_frames: int, sampling: str, stride: int) -> None:
    """Reject a bad sampling request before any file is opened."""
    if sampling not in SAMPLING_MODES:
        raise ValueError(f"sampling must be one of {', '.join(SAMPLING_MODES)}; got {sampling!r}")
    if int(num_frames) != num_frames or num_frames < 1:
        raise ValueError(f"num_frames must be a positive integer, got {num_frames!r}")
    if int(stride) != stride or stride < 1:
        raise ValueError(f"stride must be a positive integer, got {stride!r}")


def check_window(start: float | None, end: float | None) -> None:
    """Reject a window that is empty or negative whatever the source."""
    if start is not None and start < 0:
        raise ValueError(f"start must be >= 0 seconds, got {start}")
    if end is not None and end <= 0:
        raise ValueError(f"end must be > 0 seconds, got {end}")
    if start is not None and end is not None and end <= start:
        raise ValueError(f"end ({end}) must be after start ({start})")


def window_to_range(
    num_frames: int, fps: float, start: float | None = None, end: float | None = None
) -> tuple[int, int]:
    """Frame range ``[first, stop)`` of the frames shown during ``[start, end)`` seconds.

    Frame ``i`` is shown at ``i / fps`` seconds from the first frame. The range is
    clipped to the source, so it is empty (``first >= stop``) when the window lies past
    the end; the caller decides how to report that because only it knows the path.
    """
    check_window(start, end)
    first = 0 if start is None else max(0, math.ceil(start * fps - _FRAME_EPS))
    stop = num_frames if end is None else min(num_frames, math.ceil(end * fps - _FRAME_EPS))
    return first, stop
