"""Sliding-window features from videos with any registered recogniser (`tal features`).

Each window of `window` frames starting every `stride` frames is sampled to the
model's clip length, and the input of the model's final classification layer
(the pooled penultimate features) is kept -- the same recipe as the I3D
THUMOS14 features (16-frame windows every 4 frames). Output: one (T, C)
`.npy` per video plus an ActionFormer-style JSON (fps, duration, and the
`feat_stride`/`num_frames` to convert seconds), so the result is read by
`TALFeatureDataset` exactly like downloaded features.
Frames are streamed, so memory does not grow with video length.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from actionbias.errors import BadInputError, VideoReadError
from actionbias.fileio import atomic_open
from actionbias.video import iter_frames, probe

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExtractConfig:
    window: int = 16
    stride: int = 4
    clip_frames: int = 8
    size: tuple[int, int] = (112, 112)
    mean: tuple[float, float, float] = (0.45, 0.45, 0.45)
    std: tuple[float, float, float] = (0.225, 0.225, 0.225)
    batch_size: int = 8
    device: str = "cpu"

    def __post_init__(self) -> None:
        if self.window < 1 or self.stride < 1 or self.clip_frames < 1 or self.batch_size < 1:
            raise BadInputError(
                "window, stride, clip frames and batch size must be >= 1", where="feature options"
            )


class PenultimateFeatures(nn.Module):
    """Wraps a classifier; returns the input of its last `nn.Linear` (pooled features).

    A forward pre-hook works for every registered model without knowing its
    layout; the logits computed alongside are discarded.
    """

    def __init__(self, model: nn.Module):
        super().__init__()
        linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
        if not linears:
            raise BadInputError(f"{type(model).__name__} has no linear classification layer")
        self.model = model
        self._captured: Tensor | None = None
        linears[-1].register_forward_pre_hook(self._capture)
        self.dim = linears[-1].in_features

    def _capture(self, _module: nn.Module, args: tuple[Tensor, ...]) -> None:
        self._captured = args[0]

    def forward(self, batch: dict[str, Tensor]) -> Tensor:
        self._captured = None
        self.model(batch)
        if self._captured is None:
            raise RuntimeError("the classification layer was not reached")
        return self._captured.flatten(1)


def window_starts(num_frames: int, window: int, stride: int) -> list[int]:
    """Start frames of the windows (a video shorter than a window still gets one)."""
    if num_frames <= window:
        return [0]
    return list(range(0, num_frames - window + 1, stride))


def _windows(path: Path, cfg: ExtractConfig) -> Iterator[np.ndarray]:
    """(clip_frames, H, W, 3) uint8 windows in order, streamed."""
    pick = np.linspace(0, cfg.window - 1, cfg.clip_frames).round().astype(int)
    buf: deque[np.ndarray] = deque(maxlen=cfg.window)
    count = 0
    for frame in iter_frames(path, size=cfg.size):
        buf.append(frame.rgb)
        count += 1
        start = count - cfg.window
        if start >= 0 and start % cfg.stride == 0:
            yield np.stack([buf[i] for i in pick])
    if 0 < count < cfg.window:  # short video: repeat the last frame to fill one window
        frames = list(buf) + [buf[-1]] * (cfg.window - count)
        yield np.stack([frames[i] for i in pick])


def _to_batch(clips: list[np.ndarray], cfg: ExtractConfig, key: str) -> dict[str, Tensor]:
    x = torch.from_numpy(np.stack(clips)).float().div_(255.0)  # B T H W 3
    mean = torch.tensor(cfg.mean).view(1, 1, 1, 1, 3)
    std = torch.tensor(cfg.std).view(1, 1, 1, 1, 3)
    x = ((x - mean) / std).permute(0, 4, 1, 2, 3).contiguous()  # B 3 T H W
    return {key: x.to(cfg.device)}


@torch.no_grad()
def extract_video(
    extractor: nn.Module, path: str | Path, cfg: ExtractConfig, input_key: str = "video"
) -> np.ndarray:
    """(T, C) float32 features of one video.

    `extractor` maps {input_key: (B, 3, T, H, W)} to (B, C): `PenultimateFeatures`
    or `actionbias.tal.hf_extract.HFVideoFeatures`.
    """
    extractor.eval()
    feats: list[np.ndarray] = []
    pending: list[np.ndarray] = []
    for clip in _windows(Path(path), cfg):
        pending.append(clip)
        if len(pending) == cfg.batch_size:
            feats.append(extractor(_to_batch(pending, cfg, input_key)).float().cpu().numpy())
            pending = []
    if pending:
        feats.append(extractor(_to_batch(pending, cfg, input_key)).float().cpu().numpy())
    if not feats:
        raise VideoReadError(path, "no frames decoded")
    return np.concatenate(feats).astype(np.float32)


def extract_directory(
    extractor: nn.Module,
    videos: Sequence[Path],
    out_dir: str | Path,
    cfg: ExtractConfig,
    input_key: str = "video",
    overwrite: bool = False,
) -> dict[str, dict]:
    """Features for each video into `out_dir/<stem>.npy`; returns per-video metadata.

    Resumable: an existing `.npy` is kept unless `overwrite`. A broken video is
    logged and reported under "error" instead of stopping the run.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    meta: dict[str, dict] = {}
    for path in videos:
        vid = Path(path).stem
        target = out / f"{vid}.npy"
        try:
            info = probe(path)
            entry = {"fps": float(info.fps), "duration": float(info.duration)}
            if target.exists() and not overwrite:
                entry["num_features"] = int(np.load(target, mmap_mode="r").shape[0])
            else:
                arr = extract_video(extractor, path, cfg, input_key)
                with atomic_open(target) as handle:
                    np.save(handle, arr)
                entry["num_features"] = int(arr.shape[0])
        except VideoReadError as err:
            log.warning("skipping %s: %s", path, err)
            entry = {"error": str(err)}
        meta[vid] = entry
    return meta
