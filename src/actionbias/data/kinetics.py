"""Kinetics-400 and Mimetics annotation CSVs.

Both use the official Kinetics header `label,youtube_id,time_start,time_end,split[,is_cc]`
(checked against the Mimetics v1.0 release, whose rows all have split "test"
and is_cc 0); the K400 test CSV has no `label` column. A downloaded clip is
named `{youtube_id}_{time_start:06d}_{time_end:06d}.mp4` and is already trimmed
to the annotated window, so its record keeps `start`/`end` None and carries the
annotation times in `extras`. When only the full YouTube video
`{youtube_id}.mp4` is on disk, the record points at it and sets `start`/`end`
so the decoder reads the annotated window.

Columns beyond the standard ones (for example `background_label`,
`human_clip` of our synthetic benchmark's swap split) are kept as strings in
`extras` and written back by `write_kinetics_csv`. An optional `path` column
(relative to the video root) overrides the clip search.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

from actionbias.data._io import (
    atomic_write_text,
    csv_text,
    iter_csv,
    parse_int,
    relative_or_absolute,
    resolve,
)
from actionbias.data.class_names import (
    ClassLookup,
    kinetics400_classes,
    mimetics_classes,
    resolve_classes,
)
from actionbias.data.media import CLIP_NAME, MediaIndex, report_missing
from actionbias.data.records import Manifest, VideoRecord
from actionbias.errors import BadInputError

log = logging.getLogger(__name__)

KINETICS_COLUMNS = ("label", "youtube_id", "time_start", "time_end", "split")
#: Extras the reader fills from standard columns; the writer turns them back into those columns.
_STANDARD_EXTRAS = ("youtube_id", "time_start", "time_end", "is_cc")
_NOT_EXTRAS = {"label", "split", "path", *_STANDARD_EXTRAS}


def kinetics_clip_name(youtube_id: str, start: float, end: float) -> str:
    """`{youtube_id}_{start:06d}_{end:06d}`, the name of a downloaded Kinetics clip."""
    for value in (start, end):
        if float(value) != int(value):
            raise ValueError(f"Kinetics clip times must be whole seconds, got {value!r}")
    return f"{youtube_id}_{int(start):06d}_{int(end):06d}"


def read_kinetics_csv(
    csv_path: str | Path,
    video_root: str | Path | None = None,
    classes: Sequence[str] | str | Path | None = None,
    split: str | None = None,
    strict: bool = False,
    *,
    require_label: bool = True,
    name: str | None = None,
) -> Manifest:
    """Read a Kinetics-style annotation CSV into a manifest.

    Args:
        csv_path: the CSV (`label,youtube_id,time_start,time_end[,split][,is_cc]...`).
        video_root: folder holding the clips, in any of the layouts `MediaIndex`
            knows (class folders with spaces or underscores, optionally under a
            split folder, or flat). Default: the CSV's folder.
        classes: class list (names or a class-list file). Default: `classes.txt`
            beside the CSV if present, else the Kinetics-400 list.
        split: keep only rows of this split; when the CSV has no `split` column
            every record gets this split instead.
        strict: raise BadInputError on the first clip with no media instead of
            logging a summary warning.
        require_label: set False for unlabelled files such as the K400 test CSV.
        name: manifest name (default: the CSV's stem).

    Unknown class names, malformed times and rows with the wrong number of fields
    raise BadInputError naming the file and line.
    """
    csv_path = Path(csv_path)
    class_list = resolve_classes(classes, near=csv_path, default=kinetics400_classes())
    assert class_list is not None
    lookup = ClassLookup(class_list)
    root = Path(video_root) if video_root is not None else csv_path.parent
    required = ["youtube_id", "time_start", "time_end"] + (["label"] if require_label else [])
    header, rows = iter_csv(csv_path, required)
    index = MediaIndex(root) if "path" not in header else None

    records: list[VideoRecord] = []
    seen: dict[str, tuple[int, str | None]] = {}
    missing: list[tuple[str, str]] = []
    for line, row in rows:
        where = f"line {line}"
        row_split = row.get("split") or None
        if split is not None:
            if "split" in header and row_split != split:
                continue
            row_split = split
        record, found = _record_from_row(
            row, header, lookup, root, index, csv_path, where, require_label
        )
        record.split = row_split
        if record.id in seen:
            first_line, first_label = seen[record.id]
            if first_label != record.label:
                raise BadInputError(
                    f"clip {record.id} is labelled {first_label!r} on line {first_line} "
                    f"and {record.label!r} here",
                    source=csv_path,
                    where=where,
                )
            log.warning("%s:%s: duplicate of line %d, skipped", csv_path, where, first_line)
            continue
        seen[record.id] = (line, record.label)
        if not found:
            missing.append((where, record.path))
        records.append(record)

    report_missing(missing, len(records), csv_path, strict)
    return Manifest(
        records=records,
        classes=class_list,
        name=name if name is not None else csv_path.stem,
        source=str(csv_path),
    )


def _record_from_row(
    row: dict[str, str],
    header: list[str],
    lookup: ClassLookup,
    root: Path,
    index: MediaIndex | None,
    csv_path: Path,
    where: str,
    require_label: bool,
) -> tuple[VideoRecord, bool]:
    """The record of one CSV row, and whether its media was found."""
    youtube_id = row["youtube_id"]
    if not youtube_id:
        raise BadInputError("empty youtube_id", source=csv_path, where=where)
    start = parse_int(row["time_start"], "time_start", csv_path, where)
    end = parse_int(row["time_end"], "time_end", csv_path, where)
    if end < start or start < 0:
        raise BadInputError(
            f"time window {start}..{end} is invalid (need 0 <= time_start <= time_end)",
            source=csv_path,
            where=where,
        )
    label: str | None = None
    label_id: int | None = None
    raw_label = row.get("label", "")
    if raw_label:
        label_id = lookup.index(raw_label, source=csv_path, where=where)
        label = lookup.classes[label_id]
    elif require_label:
        raise BadInputError("empty label", source=csv_path, where=where)

    clip = kinetics_clip_name(youtube_id, start, end)
    extras: dict[str, object] = {"youtube_id": youtube_id, "time_start": start, "time_end": end}
    if "is_cc" in header:
        extras["is_cc"] = parse_int(row["is_cc"], "is_cc", csv_path, where)
    for column in header:
        if column not in _NOT_EXTRAS:
            extras[column] = row[column]

    window: tuple[float | None, float | None] = (None, None)
    exists = True
    if index is None:  # explicit path column
        path = resolve(root, row["path"]) if row["path"] else ""
        if not path:
            raise BadInputError("empty path", source=csv_path, where=where)
        if Path(path).stem == youtube_id and youtube_id != clip:
            window = (float(start), float(end))
        exists = os.path.exists(path)
    else:
        found = index.find(clip, label, row.get("split") or None)
        if found is None:
            found = index.find(youtube_id, label)
            if found is not None:
                window = (float(start), float(end))
        if found is None:
            found = index.expected_path(clip, label)
            exists = False
        path = found
    record = VideoRecord(
        id=clip,
        path=path,
        label=label,
        label_id=label_id,
        start=window[0],
        end=window[1],
        extras=extras,
    )
    return record, exists


def _standard_fields(record: VideoRecord) -> tuple[str, int, int]:
    """youtube_id, time_start, time_end of a record, from extras or its id."""
    extras = record.extras
    if all(key in extras for key in ("youtube_id", "time_start", "time_end")):
        return str(extras["youtube_id"]), int(extras["time_start"]), int(extras["time_end"])
    match = CLIP_NAME.match(record.id)
    if match:
        return match["ytid"], int(match["start"]), int(match["end"])
    raise BadInputError(
        f"record {record.id!r} has no youtube_id/time_start/time_end "
        "(neither in extras nor as a '<ytid>_<start:06d>_<end:06d>' id)"
    )


def write_kinetics_csv(
    manifest: Manifest,
    csv_path: str | Path,
    with_paths: bool | None = None,
    video_root: str | Path | None = None,
) -> None:
    """Write a manifest as a Kinetics-style CSV that `read_kinetics_csv` reads back.

    Columns: label, youtube_id, time_start, time_end, split, then is_cc and any
    other extras key that every record has (in the first record's order).
    `with_paths` adds a `path` column, relative to `video_root` (default: the
    CSV's folder, matching the reader's default) when the media lies under it;
    by default the column is added only when some record's file is not named
    after its clip, i.e. when the clip search would not find it again.
    """
    csv_path = Path(csv_path)
    base = Path(video_root) if video_root is not None else csv_path.parent
    records = manifest.records
    common = _common_extras(records)
    extra_columns = [k for k in common if k not in _NOT_EXTRAS]
    header = list(KINETICS_COLUMNS)
    if "is_cc" in common:
        header.append("is_cc")
    header += extra_columns
    if with_paths is None:
        with_paths = any(os.path.splitext(os.path.basename(r.path))[0] != r.id for r in records)
    if with_paths:
        header.append("path")
    rows = []
    for record in records:
        youtube_id, start, end = _standard_fields(record)
        row: list[object] = [record.label or "", youtube_id, start, end, record.split or ""]
        if "is_cc" in common:
            row.append(record.extras["is_cc"])
        row += [record.extras[k] for k in extra_columns]
        if with_paths:
            row.append(relative_or_absolute(record.path, base))
        rows.append(row)
    atomic_write_text(csv_path, csv_text(header, rows))


def _common_extras(records: Sequence[VideoRecord]) -> list[str]:
    """Extras keys every record has, in the first record's order."""
    if not records:
        return []
    shared = set(records[0].extras)
    for record in records:
        shared &= record.extras.keys()
    return [k for k in records[0].extras if k in shared and not k.startswith("_")]


def read_mimetics_csv(
    csv_path: str | Path,
    video_root: str | Path | None = None,
    strict: bool = False,
    classes: Sequence[str] | str | Path | None = None,
) -> Manifest:
    """Read the Mimetics CSV (`mimetics_v1.0.csv`, Kinetics format, split "test").

    Labels index the 50 Mimetics classes by default; pass
    `classes=kinetics400_classes()` to score a Kinetics-400 classifier, whose
    outputs index all 400 classes.
    """
    class_list = resolve_classes(classes, near=csv_path, default=mimetics_classes())
    return read_kinetics_csv(
        csv_path, video_root=video_root, classes=class_list, strict=strict, name="mimetics"
    )
