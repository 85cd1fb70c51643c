"""Temporal action annotations in the ActivityNet / ActionFormer JSON format.

    {"version": ..., "database": {video_id: {"subset": "training"|"validation"|...,
        "duration": seconds, "fps": frames_per_second,
        "annotations": [{"label": name, "segment": [start_s, end_s], "label_id": int}]}}}

ActionFormer's THUMOS14 file adds `fps` and `label_id` (and "segment(frames)");
the original ActivityNet 1.3 file has neither but carries `url`, `resolution`
and a top-level `taxonomy`. Whatever we do not model is kept in `extras` and
written back, so reading and writing a file round-trips its JSON content. Fps
and duration are per video because THUMOS mixes 30 and ~25 fps videos, and
segment seconds only map to feature steps through the video's own fps.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from actionbias.data._io import atomic_write_text, read_text
from actionbias.errors import BadInputError

_VIDEO_KEYS = ("subset", "duration", "fps", "annotations")
_SEGMENT_KEYS = ("label", "segment", "label_id")


@dataclass
class Segment:
    """One annotated action instance: [start, end] seconds and its class."""

    start: float
    end: float
    label: str
    label_id: int | None = None
    extras: dict[str, Any] = field(default_factory=dict)


@dataclass
class VideoAnnotation:
    """One untrimmed video: its subset, length, frame rate and action segments."""

    id: str
    subset: str | None
    duration: float | None
    fps: float | None
    segments: list[Segment] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)


@dataclass
class TemporalAnnotations:
    """All videos of an annotation file, in file order."""

    videos: list[VideoAnnotation]
    version: str | None = None
    extras: dict[str, Any] = field(default_factory=dict)
    source: str = ""
    # the whole file's label map, kept by `by_subset`: label ids index every class of the
    # file, so a subset (which may lack some classes) must not renumber them
    file_label_map: dict[str, int] | None = field(default=None, compare=False, repr=False)

    def __len__(self) -> int:
        return len(self.videos)

    def __iter__(self) -> Iterator[VideoAnnotation]:
        return iter(self.videos)

    def __getitem__(self, key: int | str) -> VideoAnnotation:
        if isinstance(key, str):
            for video in self.videos:
                if video.id == key:
                    return video
            raise KeyError(key)
        return self.videos[key]

    def by_subset(self, subset: str | Sequence[str]) -> TemporalAnnotations:
        """Videos of one subset or several (case-insensitive, as ActionFormer does)."""
        wanted = {subset.casefold()} if isinstance(subset, str) else {s.casefold() for s in subset}
        videos = [v for v in self.videos if v.subset is not None and v.subset.casefold() in wanted]
        return TemporalAnnotations(
            videos, self.version, dict(self.extras), self.source, self.label_map()
        )

    def label_map(self) -> dict[str, int]:
        """Label -> label_id over every class of the file (a subset keeps the file's map).

        Uses the file's ids when every segment has one, else numbers the sorted
        label names from 0."""
        if self.file_label_map is not None:
            return dict(self.file_label_map)
        segments = [s for v in self.videos for s in v.segments]
        if segments and all(s.label_id is not None for s in segments):
            mapping = {s.label: int(s.label_id) for s in segments}  # type: ignore[arg-type]
            return dict(sorted(mapping.items(), key=lambda kv: (kv[1], kv[0])))
        return {name: i for i, name in enumerate(sorted({s.label for s in segments}))}

    def classes(self) -> list[str]:
        """Class names in label_id order (see `label_map`)."""
        return list(self.label_map())

    def num_classes(self) -> int:
        """Size of a classifier over `label_map`'s ids: largest id + 1 (ids may have gaps)."""
        return max(self.label_map().values(), default=-1) + 1


def _number(
    value: Any, what: str, source: Path, where: str, allow_none: bool = True
) -> float | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise BadInputError(
            f"{what} must be a finite number, got {value!r}", source=source, where=where
        )
    return float(value)


def read_activitynet_json(
    path: str | Path, subset: str | Sequence[str] | None = None
) -> TemporalAnnotations:
    """Read an ActivityNet/ActionFormer annotation JSON (optionally one subset).

    Malformed entries -- a segment whose end precedes its start, a non-numeric
    duration, a label given two different label_ids -- raise BadInputError naming
    the file and the JSON location ("database.<video>.annotations[3]").
    """
    path = Path(path)
    try:
        data = json.loads(read_text(path))
    except json.JSONDecodeError as err:
        raise BadInputError(
            f"invalid JSON: {err.msg}", source=path, where=f"line {err.lineno}"
        ) from err
    if not isinstance(data, dict) or not isinstance(data.get("database"), dict):
        raise BadInputError(
            "expected an object with a 'database' object", source=path, where="field database"
        )
    label_ids: dict[str, tuple[int, str]] = {}
    videos = []
    for video_id, entry in data["database"].items():
        where = f"database.{video_id}"
        if not isinstance(entry, dict):
            raise BadInputError("video entry must be an object", source=path, where=where)
        subset_name = entry.get("subset")
        if subset_name is not None and not isinstance(subset_name, str):
            raise BadInputError("subset must be a string", source=path, where=f"{where}.subset")
        duration = _number(entry.get("duration"), "duration", path, f"{where}.duration")
        fps = _number(entry.get("fps"), "fps", path, f"{where}.fps")
        if (duration is not None and duration < 0) or (fps is not None and fps <= 0):
            raise BadInputError("duration must be >= 0 and fps > 0", source=path, where=where)
        annotations = entry.get("annotations", [])
        if not isinstance(annotations, list):
            raise BadInputError(
                "annotations must be a list", source=path, where=f"{where}.annotations"
            )
        segments = [
            _segment(a, path, f"{where}.annotations[{i}]", label_ids)
            for i, a in enumerate(annotations)
        ]
        videos.append(
            VideoAnnotation(
                id=str(video_id),
                subset=subset_name,
                duration=duration,
                fps=fps,
                segments=segments,
                extras={k: v for k, v in entry.items() if k not in _VIDEO_KEYS},
            )
        )
    version = data.get("version")
    ann = TemporalAnnotations(
        videos=videos,
        version=None if version is None else str(version),
        extras={k: v for k, v in data.items() if k not in ("version", "database")},
        source=str(path),
    )
    return ann.by_subset(subset) if subset is not None else ann


def _segment(raw: Any, source: Path, where: str, label_ids: dict[str, tuple[int, str]]) -> Segment:
    if not isinstance(raw, dict):
        raise BadInputError("annotation must be an object", source=source, where=where)
    label = raw.get("label")
    if not isinstance(label, str) or not label:
        raise BadInputError("missing or empty 'label'", source=source, where=where)
    bounds = raw.get("segment")
    if not isinstance(bounds, (list, tuple)) or len(bounds) != 2:
        raise BadInputError("'segment' must be [start, end] in seconds", source=source, where=where)
    start = _number(bounds[0], "segment start", source, where, allow_none=False)
    end = _number(bounds[1], "segment end", source, where, allow_none=False)
    assert start is not None and end is not None
    if end < start or start < 0:
        raise BadInputError(
            f"segment [{start}, {end}] is invalid (need 0 <= start <= end)",
            source=source,
            where=where,
        )
    label_id = raw.get("label_id")
    if label_id is not None:
        if isinstance(label_id, bool) or not isinstance(label_id, int) or label_id < 0:
            raise BadInputError(
                f"label_id must be an integer >= 0, got {label_id!r}", source=source, where=where
            )
        first = label_ids.setdefault(label, (label_id, where))
        if first[0] != label_id:
            raise BadInputError(
                f"label {label!r} has label_id {label_id} here but {first[0]} at {first[1]}",
                source=source,
                where=where,
            )
    return Segment(
        start=start,
        end=end,
        label=label,
        label_id=label_id,
        extras={k: v for k, v in raw.items() if k not in _SEGMENT_KEYS},
    )


def activitynet_dict(ann: TemporalAnnotations) -> dict[str, Any]:
    """The JSON object `write_activitynet_json` writes."""
    database: dict[str, Any] = {}
    for video in ann.videos:
        entry: dict[str, Any] = {}
        if video.subset is not None:
            entry["subset"] = video.subset
        if video.duration is not None:
            entry["duration"] = video.duration
        if video.fps is not None:
            entry["fps"] = video.fps
        entry.update(video.extras)
        annotations = []
        for seg in video.segments:
            item: dict[str, Any] = {"label": seg.label, "segment": [seg.start, seg.end]}
            if seg.label_id is not None:
                item["label_id"] = seg.label_id
            item.update(seg.extras)
            annotations.append(item)
        entry["annotations"] = annotations
        database[video.id] = entry
    out: dict[str, Any] = {}
    if ann.version is not None:
        out["version"] = ann.version
    out.update(ann.extras)
    out["database"] = database
    return out


def write_activitynet_json(ann: TemporalAnnotations, path: str | Path) -> None:
    """Write annotations as ActivityNet/ActionFormer JSON (atomically)."""
    atomic_write_text(path, json.dumps(activitynet_dict(ann), indent=1) + "\n")
