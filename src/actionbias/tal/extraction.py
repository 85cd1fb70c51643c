"""The ``tal features`` workflow: a folder of videos -> per-video feature files for training.

``extract_features(videos, out, model=...)`` picks the extractor the model string
names -- a registered recogniser's penultimate layer, or ``hf:ID_OR_FOLDER`` for a
transformers video encoder sized by its own configs -- runs it over sliding windows
of every video (`actionbias.tal.extract.extract_directory`: resumable, a broken video
is reported, not fatal) and writes ``features.json`` describing the features; with
`annotations`, a copy of that file gets each video's probed fps and duration.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from actionbias.errors import BadInputError

VIDEO_SUFFIXES = {".mp4", ".avi", ".mkv", ".webm", ".mov", ".m4v"}


def video_list(src: str | Path) -> list[Path]:
    """The video files of a folder (sorted), or the one file given."""
    src = Path(src)
    if src.is_dir():
        videos = sorted(p for p in src.iterdir() if p.suffix.lower() in VIDEO_SUFFIXES)
    elif src.is_file():
        videos = [src]
    else:
        raise BadInputError("no such file or directory", source=src)
    if not videos:
        raise BadInputError("no video files found", source=src)
    return videos


def _registered_extractor(
    model: str,
    num_classes: int,
    checkpoint: str | None,
    options: Mapping[str, Any],
    clip_frames: int | None,
    size: int | None,
) -> tuple[Any, dict[str, Any]]:
    """(extractor, ExtractConfig options) of a registered recogniser's penultimate layer."""
    from actionbias.models.registry import build_model, model_entry
    from actionbias.tal.extract import PenultimateFeatures

    recogniser = build_model(model, num_classes, pretrained=checkpoint, **options)
    key = model_entry(model).required_inputs[0]
    if key != "video":
        raise BadInputError(f"model {model!r} needs {key!r} input; pick a video model")
    side = size or 112
    clip = {"clip_frames": clip_frames or 8, "size": (side, side)}
    return PenultimateFeatures(recogniser), clip


def _hf_extractor(
    model: str, clip_frames: int | None, size: int | None
) -> tuple[Any, dict[str, Any]]:
    """(extractor, ExtractConfig options) of a Hugging Face video encoder, sized by its configs."""
    from actionbias.tal.hf_extract import load_hf_video_model

    extractor, spec = load_hf_video_model(model)
    frames = spec.clip_frames or clip_frames or 16
    if spec.clip_frames and clip_frames and clip_frames != spec.clip_frames:
        raise BadInputError(
            f"the model takes {spec.clip_frames}-frame clips, not {clip_frames}",
            where="--clip-frames",
        )
    shape = (size, size) if size else (spec.size or (224, 224))
    clip = {"clip_frames": frames, "size": shape, "mean": spec.mean, "std": spec.std}
    return extractor, clip


def extract_features(
    videos: str | Path,
    out: str | Path,
    *,
    model: str = "slow_small",
    num_classes: int = 400,
    checkpoint: str | None = None,
    options: Mapping[str, Any] | None = None,
    window: int = 16,
    stride: int = 4,
    clip_frames: int | None = None,
    size: int | None = None,
    batch_size: int = 8,
    device: str = "cpu",
    annotations: str | Path | None = None,
    overwrite: bool = False,
) -> dict[str, Any]:
    """Features of every video of `videos` (a file or folder) into `out`; returns what
    ``features.json`` holds (model, feature size, stride, window, clip shape, and per
    video its fps, duration and feature count, or the error that skipped it).

    `checkpoint` and `options` (model options) apply to registered models only.
    `clip_frames` and `size` default to 8 and 112 for them and to the model's own for
    ``hf:`` encoders (a clash with the model's frame count is bad input).
    """
    from actionbias.fileio import atomic_write_text
    from actionbias.tal.extract import ExtractConfig, extract_directory
    from actionbias.tal.hf_extract import is_hf_model

    files = video_list(videos)
    if is_hf_model(model):
        if checkpoint or options:
            raise BadInputError(
                "--checkpoint/--option apply to registered models, not hf:", where="--model"
            )
        extractor, clip = _hf_extractor(model, clip_frames, size)
    else:
        extractor, clip = _registered_extractor(
            model, num_classes, checkpoint, options or {}, clip_frames, size
        )
    cfg = ExtractConfig(window=window, stride=stride, batch_size=batch_size, device=device, **clip)
    extractor = extractor.to(device)
    meta = extract_directory(extractor, files, out, cfg, "video", overwrite=overwrite)
    info = {
        "model": model,
        "feature_dim": extractor.dim,
        "feat_stride": stride,
        "num_frames": window,
        "clip_frames": cfg.clip_frames,
        "size": list(cfg.size),
        "mean": list(cfg.mean),
        "std": list(cfg.std),
        "videos": meta,
    }
    atomic_write_text(Path(out) / "features.json", json.dumps(info, indent=2) + "\n")
    if annotations:
        _annotate(annotations, meta, Path(out) / "annotations.json")
    return info


def _annotate(source: str | Path, meta: Mapping[str, Any], target: Path) -> None:
    """Copy an annotation file, filling in each video's probed fps (and missing duration)."""
    from actionbias.data.activitynet import read_activitynet_json, write_activitynet_json

    ann = read_activitynet_json(source)
    for video in ann:
        entry = meta.get(video.id, {})
        if "fps" in entry:
            video.fps = entry["fps"]
            video.duration = video.duration or entry["duration"]
    write_activitynet_json(ann, target)
