"""Temporal smoothing of per-frame person masks.

Image segmenters run frame by frame, so their masks flicker: a limb drops out for one
frame, a patch of background lights up for one frame. In an Action-Swap video that
flicker becomes background pixels of the human clip blinking on the new scene, which
is exactly the kind of cue a biased model could latch on to. Two filters are offered:

* ``median`` (default, window 3): per-pixel median over a centred window. A single
  dropped or spurious frame is removed exactly and a moving edge is not blurred,
  because the output is always one of the observed values. Edges of the clip
  replicate the first/last frame (scipy's ``mode="nearest"``).
* ``ema``: exponential moving average ``s_t = a*m_t + (1-a)*s_{t-1}``. Causal EMA lags
  behind motion (a trail behind a moving arm); with ``bidirectional=True`` the causal
  pass is followed by a backward pass over its output (forward-backward filtering,
  like ``scipy.signal.filtfilt``), which cancels the lag at the cost of a softer edge.

Smoothing only makes sense across consecutive frames: given the source ``indices`` of
the frames, the filters run separately on each run of consecutive indices, so a
sparsely sampled clip is never blended across gaps.
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np

from actionbias.segment.masks import as_unit_masks

SmoothingMethod = Literal["none", "median", "ema"]
SMOOTHING_METHODS: tuple[str, ...] = ("none", "median", "ema")


def _consecutive_runs(num_frames: int, indices: np.ndarray | None) -> list[slice]:
    if indices is None or num_frames <= 1:
        return [slice(0, num_frames)]
    indices = np.asarray(indices, dtype=np.int64)
    if indices.shape != (num_frames,):
        raise ValueError(f"indices has shape {indices.shape}, expected ({num_frames},)")
    breaks = np.flatnonzero(np.diff(indices) != 1) + 1
    bounds = [0, *breaks.tolist(), num_frames]
    return [slice(a, b) for a, b in itertools.pairwise(bounds)]


def _median3(masks: np.ndarray) -> np.ndarray:
    """Window-3 median as max(min(a, b), min(max(a, b), c)): ~10x faster than a sort."""
    num = masks.shape[0]
    out = np.empty_like(masks)
    low = np.empty_like(masks[0])
    high = np.empty_like(masks[0])
    for t in range(num):
        a, b, c = masks[max(t - 1, 0)], masks[t], masks[min(t + 1, num - 1)]
        np.minimum(a, b, out=low)
        np.maximum(a, b, out=high)
        np.minimum(high, c, out=high)
        np.maximum(low, high, out=out[t])
    return out


def _median(masks: np.ndarray, window: int) -> np.ndarray:
    if window == 3:
        return _median3(masks)
    half = window // 2
    num = masks.shape[0]
    out = np.empty_like(masks)
    for t in range(num):
        # Edge replication: indices outside the clip read the nearest end frame.
        idx = np.clip(np.arange(t - half, t + half + 1), 0, num - 1)
        stack = masks[idx]
        out[t] = np.partition(stack, half, axis=0)[half]
    return out


def _ema(masks: np.ndarray, alpha: float, bidirectional: bool) -> np.ndarray:
    a = np.float32(alpha)
    b = np.float32(1.0 - alpha)
    out = np.empty_like(masks)
    out[0] = masks[0]
    for t in range(1, masks.shape[0]):
        out[t] = a * masks[t] + b * out[t - 1]
    if bidirectional:
        for t in range(masks.shape[0] - 2, -1, -1):
            out[t] = a * out[t] + b * out[t + 1]
    return out


def smooth_masks(
    masks: np.ndarray,
    method: SmoothingMethod = "median",
    window: int = 3,
    alpha: float = 0.5,
    bidirectional: bool = True,
    indices: np.ndarray | None = None,
) -> np.ndarray:
    """Smooth unit masks over time; returns float32 ``T x H x W`` in [0, 1].

    ``window`` (odd, >= 1) is used by ``median``; ``alpha`` in (0, 1] (weight of the
    current frame) and ``bidirectional`` by ``ema``. ``indices`` are the frames'
    positions in the source video; filtering restarts at every gap.
    """
    if method not in SMOOTHING_METHODS:
        raise ValueError(f"unknown smoothing method {method!r}; choose from {SMOOTHING_METHODS}")
    if window < 1 or window % 2 == 0:
        raise ValueError(f"median window must be odd and >= 1, got {window}")
    if not 0.0 < alpha <= 1.0:
        raise ValueError(f"ema alpha must be in (0, 1], got {alpha}")
    unit = as_unit_masks(masks)
    if method == "none" or unit.shape[0] <= 1:
        return unit.copy()
    out = np.empty_like(unit)
    for run in _consecutive_runs(unit.shape[0], indices):
        part = unit[run]
        if part.shape[0] <= 1 or (method == "median" and window == 1):
            out[run] = part
        elif method == "median":
            out[run] = _median(part, window)
        else:
            out[run] = _ema(part, alpha, bidirectional)
    return out


@dataclass(frozen=True)
class TemporalSmoothing:
    """A configured smoothing filter; `options()` feeds the mask cache key."""

    method: SmoothingMethod = "median"
    window: int = 3
    alpha: float = 0.5
    bidirectional: bool = True

    def __post_init__(self) -> None:
        # Validate eagerly so a bad CLI option fails before any video is decoded.
        smooth_masks(np.zeros((1, 1, 1), np.float32), self.method, self.window, self.alpha)

    def __call__(self, masks: np.ndarray, indices: np.ndarray | None = None) -> np.ndarray:
        return smooth_masks(
            masks, self.method, self.window, self.alpha, self.bidirectional, indices=indices
        )

    def options(self) -> dict[str, Any]:
        """The parameters that change the output (irrelevant ones are dropped)."""
        opts = asdict(self)
        if self.method != "median":
            opts.pop("window")
        if self.method != "ema":
            opts.pop("alpha")
            opts.pop("bidirectional")
        return opts
