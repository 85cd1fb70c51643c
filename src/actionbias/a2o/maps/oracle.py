"""`synth-oracle`: likelihood maps from SynthAct's exact named masks, with imitated detector error.

A perfect detector separates what the A2O pipeline does from what detection errors
do; the error knobs then put the errors back under control:

* `miss_rate`: probability that a detection is missing in a frame (empty map), drawn
  independently per (video, query, frame) from a generator seeded by SHA-256 of the
  video id, the normalised query and `seed` -- the same maps in every process and run;
* `jitter`: each frame's map is shifted by a random whole-pixel offset in
  [-jitter, jitter]^2 (pixels of the frames given), what a box that wobbles looks like;
* `blur`: Gaussian sigma in pixels for soft edges (a detector's score is not a step);
* `score`: the value of a hit (a detector's confidence), 1.0 by default.

The draws are made for every frame of the mask file and then indexed, so a frame
gets the same miss/shift whichever subset of frames is asked for. Masks are stored per
video frame (SynthAct mask T == video frames); `indices` (source frame numbers of the
frames given) pick the mask frames, defaulting to 0..T-1.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from actionbias.a2o.maps.backend import LazyModelBackend, stable_seed
from actionbias.a2o.maps.vocabulary import DEFAULT_THRESHOLD, RegionVocabulary, normalize_query
from actionbias.errors import BadInputError
from actionbias.synth.files import load_masks


class OracleMapBackend(LazyModelBackend):
    name = "synth-oracle"
    #: What made the maps, as the LLM policy's prompt names it.
    label = "SynthAct oracle masks"

    def __init__(
        self,
        miss_rate: float = 0.0,
        jitter: int = 0,
        score: float = 1.0,
        blur: float = 0.0,
        seed: int = 0,
        threshold: float = DEFAULT_THRESHOLD,
        mask_key: str = "mask_path",
        input_size: int | None = None,
    ) -> None:
        if not 0.0 <= float(miss_rate) <= 1.0:
            raise BadInputError(f"miss_rate must be in [0, 1], got {miss_rate}", where="miss_rate")
        if int(jitter) < 0:
            raise BadInputError(f"jitter must be >= 0 pixels, got {jitter}", where="jitter")
        if not 0.0 < float(score) <= 1.0:
            raise BadInputError(f"score must be in (0, 1], got {score}", where="score")
        if float(blur) < 0:
            raise BadInputError(f"blur must be >= 0 pixels, got {blur}", where="blur")
        self.miss_rate = float(miss_rate)
        self.jitter = int(jitter)
        self.score = float(score)
        self.blur = float(blur)
        self.seed = int(seed)
        self.mask_key = str(mask_key)
        self.input_size = None if input_size is None else int(input_size)
        self.vocabulary = RegionVocabulary(threshold=threshold)

    def cache_key(self) -> dict:
        return {
            "miss_rate": self.miss_rate,
            "jitter": self.jitter,
            "score": self.score,
            "blur": self.blur,
            "seed": self.seed,
            "vocabulary": self.vocabulary.options(),
        }

    def _mask_file(self, record: Any) -> Path:
        value = (getattr(record, "extras", None) or {}).get(self.mask_key)
        if not value:
            raise BadInputError(
                f"record {getattr(record, 'id', '?')} has no extras[{self.mask_key!r}] "
                "(the synth-oracle backend needs SynthAct's mask file)",
                source=getattr(record, "path", None),
            )
        return Path(str(value))

    def _maps(
        self, record: Any, frames: np.ndarray, queries: list[str], indices: Sequence[int] | None
    ) -> np.ndarray:
        num, height, width = frames.shape[:3]
        path = self._mask_file(record)
        masks = load_masks(path)
        if not masks:
            raise BadInputError("mask archive holds no masks", source=path)
        total = next(iter(masks.values())).shape[0]
        idx = np.arange(num) if indices is None else np.asarray(indices, dtype=np.int64)
        if len(idx) != num:
            raise ValueError(f"{len(idx)} indices for {num} frames")
        if idx.size and (idx.min() < 0 or idx.max() >= total):
            raise BadInputError(
                f"frame index {int(idx.max())} outside the {total} mask frames "
                "(masks are stored per video frame)",
                source=path,
            )
        out = np.zeros((len(queries), num, height, width), dtype=np.float32)
        for q, query in enumerate(queries):
            match = self.vocabulary.match(query, masks)
            if not match.regions:
                continue
            union = np.zeros((num, *masks[match.regions[0]].shape[1:]), dtype=bool)
            for region in match.regions:
                union |= masks[region][idx]
            out[q] = self._degrade(union, record, query, idx, total, (height, width))
        return out

    def _degrade(
        self,
        union: np.ndarray,
        record: Any,
        query: str,
        idx: np.ndarray,
        total: int,
        size: tuple[int, int],
    ) -> np.ndarray:
        """Resize to the frames, blur, shift, drop and scale, with per-video-frame draws."""
        height, width = size
        rng = np.random.default_rng(
            stable_seed(
                "synth-oracle", self.seed, getattr(record, "id", ""), normalize_query(query)
            )
        )
        missed = rng.random(total) < self.miss_rate
        shifts = rng.integers(-self.jitter, self.jitter + 1, size=(total, 2))
        maps = np.empty((len(idx), height, width), dtype=np.float32)
        shrink = height * width < union.shape[1] * union.shape[2]
        interp = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
        for t, frame_index in enumerate(idx):
            m = union[t].astype(np.float32)
            if m.shape != (height, width):
                m = cv2.resize(m, (width, height), interpolation=interp)
            if self.blur > 0:
                m = cv2.GaussianBlur(m, (0, 0), sigmaX=self.blur, borderType=cv2.BORDER_CONSTANT)
            if self.jitter:
                m = shift(m, int(shifts[frame_index, 0]), int(shifts[frame_index, 1]))
            if missed[frame_index]:
                m[:] = 0.0
            maps[t] = m
        return np.clip(maps * self.score, 0.0, 1.0)


def shift(image: np.ndarray, dx: int, dy: int) -> np.ndarray:
    """Translate by (dx, dy) pixels, filling with zeros (no wrap-around)."""
    out = np.zeros_like(image)
    h, w = image.shape[:2]
    if abs(dx) >= w or abs(dy) >= h:
        return out
    ys, yd = (slice(0, h - dy), slice(dy, h)) if dy >= 0 else (slice(-dy, h), slice(0, h + dy))
    xs, xd = (slice(0, w - dx), slice(dx, w)) if dx >= 0 else (slice(-dx, w), slice(0, w + dx))
    out[yd, xd] = image[ys, xs]
    return out
