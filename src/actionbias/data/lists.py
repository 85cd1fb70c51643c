"""Whitespace-separated file lists: PySlowFast `path label` and MMAction2 rawframes
`frame_dir total_frames label` (optionally `frame_dir offset total_frames label`).

Labels are normally integer class indices; a class name is accepted too. Paths
may contain spaces (HAT's own rawframe list has `bending back/<clip> 300 20`),
so lines are split from the right: the label is the last token -- or, for a
name, the longest run of trailing tokens that spells a class -- and the path is
everything before the numeric fields.

Without an explicit class list (argument or `classes.txt` beside the list),
integer labels are read as Kinetics-400 indices when they are all below 400 --
the common case for these formats; any other list needs `classes=`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from actionbias.data._io import atomic_write_text, iter_lines, relative_or_absolute, resolve
from actionbias.data.class_names import (
    ClassLookup,
    kinetics400_classes,
    kinetics400_lookup,
    resolve_classes,
)
from actionbias.data.media import VIDEO_EXTENSIONS, count_frames, report_missing
from actionbias.data.records import Manifest, VideoRecord, media_is_missing
from actionbias.errors import BadInputError


@dataclass
class _Line:
    number: int
    path: str
    numbers: list[int]  # numeric fields between path and label (offset, total_frames)
    label: str | int


def _parse_lines(list_path: Path, n_numbers: int, names: ClassLookup | None) -> list[_Line]:
    """Split every line into path, `n_numbers` integer fields and a label."""
    parsed = []
    for number, line in iter_lines(list_path):
        where = f"line {number}"
        tokens = line.split()
        if len(tokens) == 1 and "," in line:  # "path,label" CSV variant
            tokens = line.rsplit(",", 1)
        if len(tokens) < 2 + n_numbers:
            raise BadInputError(
                f"expected {2 + n_numbers} fields, got {len(tokens)}: {line!r}",
                source=list_path,
                where=where,
            )
        label: str | int
        if _is_int(tokens[-1]):
            label, rest = int(tokens[-1]), tokens[:-1]
        else:
            label, rest = _trailing_class(tokens, n_numbers, names, list_path, where)
        numbers = []
        for token in rest[len(rest) - n_numbers :]:
            if not _is_int(token):
                raise BadInputError(
                    f"expected an integer frame field, got {token!r}", source=list_path, where=where
                )
            numbers.append(int(token))
        path_tokens = rest[: len(rest) - n_numbers]
        if not path_tokens:
            raise BadInputError(f"no path in {line!r}", source=list_path, where=where)
        if n_numbers and path_tokens[-1].isdigit() and len(path_tokens) > 1:
            raise BadInputError(
                "one numeric field too many: an offset list needs with_offset=True "
                "(multi-label lines are not supported)",
                source=list_path,
                where=where,
            )
        parsed.append(_Line(number, " ".join(path_tokens), numbers, label))
    return parsed


def _is_int(token: str) -> bool:
    return token.lstrip("-").isdigit()


def _trailing_class(
    tokens: list[str], n_numbers: int, names: ClassLookup | None, source: Path, where: str
) -> tuple[str, list[str]]:
    names = names or kinetics400_lookup()
    for k in range(len(tokens) - 1 - n_numbers, 0, -1):
        candidate = " ".join(tokens[-k:])
        if names.find(candidate) is not None:
            return candidate, tokens[:-k]
    raise BadInputError(
        f"label {tokens[-1]!r} is neither a class index nor a known class name",
        source=source,
        where=where,
    )


def _default_classes(lines: list[_Line], list_path: Path) -> list[str]:
    """Kinetics-400 when every integer label fits it; otherwise the caller must say."""
    indices = [line.label for line in lines if isinstance(line.label, int)]
    if indices and max(indices) >= 400:
        worst = next(line for line in lines if line.label == max(indices))
        raise BadInputError(
            f"label {worst.label} is >= 400 and no class list was given (pass classes=)",
            source=list_path,
            where=f"line {worst.number}",
        )
    return kinetics400_classes()


def _label(line: _Line, lookup: ClassLookup, source: Path) -> tuple[str, int]:
    where = f"line {line.number}"
    if isinstance(line.label, int):
        if not 0 <= line.label < len(lookup):
            raise BadInputError(
                f"label {line.label} out of range for {len(lookup)} classes",
                source=source,
                where=where,
            )
        return lookup.classes[line.label], line.label
    index = lookup.index(line.label, source=source, where=where)
    return lookup.classes[index], index


def _record_id(resolved: str, root: Path, strip_ext: bool) -> str:
    rel = relative_or_absolute(resolved, root)
    stem, ext = os.path.splitext(rel)
    return stem if strip_ext and ext.lower() in VIDEO_EXTENSIONS else rel


def _manifest(
    list_path: Path,
    lines: list[_Line],
    records: list[VideoRecord],
    missing: list[tuple[str, str]],
    classes: list[str],
    strict: bool,
) -> Manifest:
    report_missing(missing, len(records), list_path, strict)
    ids: dict[str, int] = {}
    for record, line in zip(records, (parsed.number for parsed in lines), strict=True):
        if record.id in ids:
            raise BadInputError(
                f"{record.id!r} is listed twice (first on line {ids[record.id]})",
                source=list_path,
                where=f"line {line}",
            )
        ids[record.id] = line
    return Manifest(records=records, classes=classes, name=list_path.stem, source=str(list_path))


def read_slowfast_list(
    path: str | Path,
    root: str | Path | None = None,
    classes: Sequence[str] | str | Path | None = None,
    strict: bool = False,
) -> Manifest:
    """Read a PySlowFast / MMAction2 video list (`path label` per line).

    Paths are resolved against `root` (default: the list's folder); the record
    id is that relative path without its video extension. Integer labels index
    `classes`; with no class list given (nor a `classes.txt` beside the list)
    they are taken as Kinetics-400 indices when all are below 400.
    """
    return _read_list(path, root, classes, strict, 0, strip_ext=True, extras=lambda _: {})


def write_slowfast_list(
    manifest: Manifest, path: str | Path, root: str | Path | None = None
) -> None:
    """Write `path label_id` lines; paths relative to `root` (default: the list's folder)
    when the media lies under it, else absolute."""
    list_path = Path(path)
    base = Path(root) if root is not None else list_path.parent
    lines = [f"{relative_or_absolute(r.path, base)} {_require_label_id(r)}\n" for r in manifest]
    atomic_write_text(list_path, "".join(lines))


def _require_label_id(record: VideoRecord) -> int:
    if record.label_id is None:
        raise BadInputError(f"record {record.id!r} has no label_id; these lists need one")
    return record.label_id


def read_rawframe_list(
    path: str | Path,
    root: str | Path | None = None,
    classes: Sequence[str] | str | Path | None = None,
    strict: bool = False,
    with_offset: bool = False,
) -> Manifest:
    """Read an MMAction2 rawframe list (`frame_dir total_frames label` per line).

    `root` plays MMAction2's `data_prefix` (default: the list's folder). The
    record id is the frame folder as written (HAT's "class/clip" key), and
    `extras["total_frames"]` (plus `extras["offset"]` with `with_offset`) keep
    the numeric fields. Class lists work as in `read_slowfast_list` (Kinetics-400
    indices by default when all labels are below 400).
    """

    def extras(line: _Line) -> dict[str, object]:
        found: dict[str, object] = {}
        if with_offset:
            found["offset"] = line.numbers[0]
        found["total_frames"] = line.numbers[-1]
        return found

    numbers = 2 if with_offset else 1
    return _read_list(path, root, classes, strict, numbers, strip_ext=False, extras=extras)


def _read_list(
    path: str | Path,
    root: str | Path | None,
    classes: Sequence[str] | str | Path | None,
    strict: bool,
    numbers: int,
    *,
    strip_ext: bool,
    extras: Callable[[_Line], dict[str, object]],
) -> Manifest:
    """A `path [numbers...] label` list: one record per line, ``extras(line)`` its extras.

    Both list formats resolve paths, labels and missing media the same way; they
    differ only in the numeric fields and whether the id keeps the extension.
    """
    list_path = Path(path)
    base = Path(root) if root is not None else list_path.parent
    preset = resolve_classes(classes, near=list_path)
    lines = _parse_lines(list_path, numbers, ClassLookup(preset) if preset else None)
    class_list = preset if preset is not None else _default_classes(lines, list_path)
    lookup = ClassLookup(class_list)
    records, missing = [], []
    for line in lines:
        label, label_id = _label(line, lookup, list_path)
        resolved = resolve(base, line.path)
        if media_is_missing(resolved):
            missing.append((f"line {line.number}", resolved))
        records.append(
            VideoRecord(
                id=_record_id(resolved, base, strip_ext=strip_ext),
                path=resolved,
                label=label,
                label_id=label_id,
                extras=extras(line),
            )
        )
    return _manifest(list_path, lines, records, missing, class_list, strict)


def write_rawframe_list(
    manifest: Manifest, path: str | Path, root: str | Path | None = None
) -> None:
    """Write `frame_dir [offset] total_frames label_id` lines.

    `total_frames` comes from `extras["total_frames"]`, else from counting the
    images in the folder; the offset column is written when every record has
    `extras["offset"]`.
    """
    list_path = Path(path)
    base = Path(root) if root is not None else list_path.parent
    with_offset = len(manifest) > 0 and all("offset" in r.extras for r in manifest)
    lines = []
    for record in manifest:
        total = record.extras.get("total_frames")
        if total is None:
            total = count_frames(record.path)
            if total == 0:
                raise BadInputError(
                    f"record {record.id!r}: no total_frames in extras and no frames on disk",
                    source=record.path,
                )
        fields = [relative_or_absolute(record.path, base)]
        if with_offset:
            fields.append(str(int(record.extras["offset"])))
        fields += [str(int(total)), str(_require_label_id(record))]
        lines.append(" ".join(fields) + "\n")
    atomic_write_text(list_path, "".join(lines))
