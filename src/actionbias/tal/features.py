"""Feature datasets for temporal action localisation (ActionFormer's THUMOS14 layout).

One ``<video_id>.npy`` per video holding a (T, C) array, one row per sliding
window of `num_frames` frames taken every `feat_stride` frames, plus an
ActivityNet/ActionFormer JSON with per-video fps. Feature i describes the window
starting at frame ``i * feat_stride``, so its *centre* is at frame
``i * feat_stride + num_frames / 2``: converting seconds to grid units must
subtract that half window, otherwise every segment is off by 8 frames for I3D
features (the "window-centre offset").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor
from torch.nn import functional as F
from torch.utils.data import Dataset

from actionbias.data.activitynet import TemporalAnnotations, VideoAnnotation
from actionbias.errors import BadInputError


@dataclass(frozen=True)
class FeatureGrid:
    """How feature steps map to time: stride and window in frames, frames per second."""

    feat_stride: float
    num_frames: float
    fps: float

    def __post_init__(self) -> None:
        if self.feat_stride <= 0 or self.num_frames < 0 or self.fps <= 0:
            raise ValueError(f"invalid feature grid {self}")

    @property
    def offset(self) -> float:
        """Grid position (in steps) of time 0 relative to feature 0's centre."""
        return 0.5 * self.num_frames / self.feat_stride

    def to_grid(self, seconds: np.ndarray | Tensor) -> np.ndarray | Tensor:
        """Seconds -> fractional feature index (feature i's centre is index i)."""
        return seconds * self.fps / self.feat_stride - self.offset

    def to_seconds(self, steps: np.ndarray | Tensor) -> np.ndarray | Tensor:
        """Fractional feature index -> seconds (inverse of `to_grid`)."""
        return (steps + self.offset) * self.feat_stride / self.fps


def load_feature_file(path: str | Path) -> np.ndarray:
    """A (T, C) float32 feature array; anything else is a `BadInputError` naming the file."""
    path = Path(path)
    if not path.is_file():
        raise BadInputError("feature file not found", source=path)
    try:
        arr = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as err:
        raise BadInputError(f"not a readable .npy array: {err}", source=path) from err
    if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise BadInputError(
            f"expected a non-empty (T, C) array, got shape {arr.shape}", source=path
        )
    if not np.issubdtype(arr.dtype, np.number) or not np.all(np.isfinite(arr)):
        raise BadInputError("features must be finite numbers", source=path)
    return arr.astype(np.float32, copy=False)


def truncate_window(
    length: int,
    segments: np.ndarray,
    max_len: int,
    rng: np.random.Generator,
    keep_ratio: float = 0.5,
    max_tries: int = 200,
) -> tuple[int, np.ndarray]:
    """A random crop start for a sequence longer than `max_len` and the kept segments' indices.

    Training sees fixed-size windows of long videos; a crop is accepted when it
    keeps at least `keep_ratio` of some action (else the sample would teach only
    background). Segments kept are those covered by >= keep_ratio.
    """
    if length <= max_len:
        return 0, np.arange(len(segments))
    start = 0
    kept = np.zeros(0, dtype=np.int64)
    for _ in range(max_tries):
        start = int(rng.integers(0, length - max_len + 1))
        if len(segments) == 0:
            return start, kept
        lo = np.maximum(segments[:, 0], start)
        hi = np.minimum(segments[:, 1], start + max_len)
        inter = np.clip(hi - lo, 0, None)
        size = np.clip(segments[:, 1] - segments[:, 0], 1e-6, None)
        kept = np.flatnonzero(inter / size >= keep_ratio)
        if kept.size:
            break
    return start, kept


def resize_features(feats: Tensor, length: int) -> Tensor:
    """(C, T) -> (C, length) by linear interpolation (ActivityNet-style fixed length)."""
    return F.interpolate(feats[None], size=length, mode="linear", align_corners=False)[0]


@dataclass
class TALSample:
    """One video ready for the detector: features (C, T), segments in grid units."""

    video_id: str
    feats: Tensor
    segments: Tensor  # (N, 2) float, feature-grid units
    labels: Tensor  # (N,) long
    grid: FeatureGrid
    duration: float | None
    start_step: int = 0  # crop start (grid units) for truncated training samples


class TALFeatureDataset(Dataset):
    """Videos of an annotation file with their `.npy` features (THUMOS or resized layout).

    ``resize_length``: resample every video to that many steps (ActivityNet); the
    grid then spans the video's duration evenly. ``max_seq_len`` with
    ``train=True`` crops long videos randomly (keeping >= `keep_ratio` of an action).
    """

    def __init__(
        self,
        annotations: TemporalAnnotations,
        feature_dir: str | Path,
        *,
        label_map: Mapping[str, int] | None = None,
        feat_stride: float = 4,
        num_frames: float = 16,
        default_fps: float | None = None,
        max_seq_len: int | None = None,
        resize_length: int | None = None,
        train: bool = False,
        keep_ratio: float = 0.5,
        seed: int = 0,
        file_prefix: str = "",
        file_ext: str = ".npy",
        require_segments: bool | None = None,
        feature_dim: int | None = None,
    ):
        self.feature_dir = Path(feature_dir)
        if not self.feature_dir.is_dir():
            why = "is not a folder" if self.feature_dir.exists() else "features folder not found"
            raise BadInputError(why, source=self.feature_dir)
        self.source = annotations.source or None
        # channels every feature file must have: given (a trained model's input), else the
        # first file read; a file that differs is named instead of failing inside the model
        self.feature_dim = feature_dim
        self._first_file: Path | None = None
        self.label_map = dict(label_map) if label_map is not None else annotations.label_map()
        self.feat_stride = feat_stride
        self.num_frames = num_frames
        self.default_fps = default_fps
        self.max_seq_len = max_seq_len
        self.resize_length = resize_length
        self.train = train
        self.keep_ratio = keep_ratio
        self.rng = np.random.default_rng(seed)
        self.file_prefix = file_prefix
        self.file_ext = file_ext
        need = train if require_segments is None else require_segments
        # ActionFormer trains only on videos with actions: empty videos carry no positives
        self.videos: list[VideoAnnotation] = [v for v in annotations if v.segments or not need]
        for video in self.videos:
            for i, seg in enumerate(video.segments):
                if seg.label not in self.label_map:
                    raise BadInputError(
                        f"label {seg.label!r} is not a known class",
                        source=annotations.source or None,
                        where=f"database.{video.id}.annotations[{i}]",
                    )

    @property
    def num_classes(self) -> int:
        """Classifier size: the largest label id + 1 (the file's ids, not this subset's)."""
        return max(self.label_map.values(), default=-1) + 1

    @property
    def classes(self) -> list[str]:
        """Class names indexed by label id (an id no class uses is named ``<unused N>``)."""
        names = [f"<unused {i}>" for i in range(self.num_classes)]
        for name, i in self.label_map.items():
            names[i] = name
        return names

    def __len__(self) -> int:
        return len(self.videos)

    def feature_path(self, video_id: str) -> Path:
        return self.feature_dir / f"{self.file_prefix}{video_id}{self.file_ext}"

    def grid_for(self, video: VideoAnnotation, length: int) -> FeatureGrid:
        fps = video.fps if video.fps is not None else self.default_fps
        if self.resize_length is not None:
            if video.duration is None or video.duration <= 0:
                raise BadInputError(
                    "resizing features needs the video duration",
                    source=self.source,
                    where=f"database.{video.id}.duration",
                )
            # fps is irrelevant once the grid spans the duration: use a 1 "frame"/s clock
            step = video.duration / length
            return FeatureGrid(step, step, 1.0)
        if fps is None:
            raise BadInputError(
                "video has no fps and no --default-fps was given",
                source=self.source,
                where=f"database.{video.id}.fps",
            )
        return FeatureGrid(self.feat_stride, self.num_frames, fps)

    def __getitem__(self, index: int) -> TALSample:
        video = self.videos[index]
        path = self.feature_path(video.id)
        array = load_feature_file(path)
        if self.feature_dim is None:
            self.feature_dim, self._first_file = int(array.shape[1]), path
        elif array.shape[1] != self.feature_dim:
            other = f"{self._first_file.name} has" if self._first_file else "the model takes"
            raise BadInputError(
                f"has {array.shape[1]} feature channels per step; {other} {self.feature_dim}",
                source=path,
            )
        feats = torch.from_numpy(array).T.contiguous()
        if self.resize_length is not None:
            feats = resize_features(feats, self.resize_length)
        grid = self.grid_for(video, feats.shape[1])
        seconds = np.array([[s.start, s.end] for s in video.segments], dtype=np.float64)
        segments = np.asarray(grid.to_grid(seconds.reshape(-1, 2)), dtype=np.float64)
        labels = np.array([self.label_map[s.label] for s in video.segments], dtype=np.int64)
        start = 0
        if self.train and self.max_seq_len is not None and feats.shape[1] > self.max_seq_len:
            start, kept = truncate_window(
                feats.shape[1], segments, self.max_seq_len, self.rng, self.keep_ratio
            )
            feats = feats[:, start : start + self.max_seq_len]
            segments = np.clip(segments[kept] - start, 0, self.max_seq_len)
            labels = labels[kept]
        return TALSample(
            video_id=video.id,
            feats=feats,
            segments=torch.as_tensor(segments, dtype=torch.float32).reshape(-1, 2),
            labels=torch.as_tensor(labels, dtype=torch.long),
            grid=grid,
            duration=video.duration,
            start_step=start,
        )


def collate_samples(
    samples: Sequence[TALSample], pad_to: int = 1, max_len: int | None = None
) -> dict[str, object]:
    """Pad to a common length (a multiple of `pad_to`, the detector's largest stride)."""
    longest = max(s.feats.shape[1] for s in samples)
    length = max(longest, max_len or 0)
    length = -(-length // pad_to) * pad_to
    channels = samples[0].feats.shape[0]
    feats = torch.zeros(len(samples), channels, length)
    mask = torch.zeros(len(samples), length, dtype=torch.bool)
    for i, s in enumerate(samples):
        feats[i, :, : s.feats.shape[1]] = s.feats
        mask[i, : s.feats.shape[1]] = True
    return {
        "feats": feats,
        "mask": mask,
        "segments": [s.segments for s in samples],
        "labels": [s.labels for s in samples],
        "samples": list(samples),
    }
