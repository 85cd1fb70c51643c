"""The videos an audit reads: named groups of records in one class list.

`load_audit_data` accepts every form the command line and the Python API hand
over: a SynthAct folder (splits test, swap, mimetic by default, each its own
group), any manifest `load_manifest` reads (Kinetics/Mimetics CSV, PySlowFast or
MMAction2 list, HAT root), the ``swap_pairs.csv`` that ``actionbias swap``
writes beside its videos, a `Manifest`, or a mapping of named manifests.
`collect_items` then flattens the groups into the `AuditItem` list the rest of
the audit works on, labels (and swap backgrounds) in the model's class list.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from actionbias.data import ClassLookup, Manifest, VideoRecord, load_manifest
from actionbias.data.predictions import has_person_flag
from actionbias.errors import BadInputError

log = logging.getLogger(__name__)

SYNTHACT_SPLITS = ("test", "swap", "mimetic")


@dataclass
class AuditData:
    """The groups of videos to audit and the class list their labels index."""

    groups: list[tuple[str, Manifest]]
    classes: list[str]
    info: dict[str, Any]


def _is_swap_csv(path: Path) -> bool:
    if path.suffix.lower() != ".csv" or not path.is_file():
        return False
    with path.open(encoding="utf-8", errors="replace") as fh:
        header = fh.readline()
    return "human_clip" in [cell.strip() for cell in header.split(",")]


def _swap_manifest(path: Path, classes: str | Path | None) -> Manifest:
    """Records of the swap videos a ``swap_pairs.csv`` (with its ``video`` column) lists."""
    from actionbias.data import read_swap_csv
    from actionbias.data.class_names import resolve_classes

    pairs = read_swap_csv(path, classes)
    class_list = resolve_classes(classes, near=path)
    if class_list is None:
        names = {p.human_label for p in pairs} | {p.background_label for p in pairs}
        class_list = sorted(names)
    lookup = ClassLookup(class_list)
    records = []
    for number, pair in enumerate(pairs, start=2):
        video = pair.extras.get("video")
        if not video:
            raise BadInputError(
                "swap CSV lists pairs but no rendered video (no 'video' column); "
                "compose the videos with `actionbias swap` and audit its swap_pairs.csv",
                source=path,
                where=f"line {number}",
            )
        media = (path.parent / video).resolve()
        label_id = lookup.index(pair.human_label, source=path, where=f"line {number}")
        records.append(
            VideoRecord(
                id=Path(video).stem,
                path=str(media),
                label=class_list[label_id],
                label_id=label_id,
                extras={
                    "background_label": pair.background_label,
                    "human_clip": pair.human_clip,
                    "background_clip": pair.background_clip,
                    "has_person": pair.has_person,
                },
            )
        )
    return Manifest(records, class_list, name="swap", source=str(path))


def _default_group(manifest: Manifest) -> str:
    if any(r.extras.get("background_label") for r in manifest.records):
        return "swap"
    if "mimetic" in (manifest.name or "").casefold():
        return "mimetic"
    return "test"


def load_audit_data(
    data: str | Path | Manifest | Mapping[str, Manifest],
    splits: Sequence[str] | None = None,
    format: str = "auto",
    root: str | Path | None = None,
    classes: str | Path | None = None,
    group: str | None = None,
) -> AuditData:
    """Resolve ``data`` into named groups (see the module docstring).

    A mapping ``{group: Manifest}`` is used as it is (e.g. a held-out half of a
    split that the caller carved out); all groups must share one class list.
    """
    if isinstance(data, Mapping):
        return _named_groups(data)
    if isinstance(data, Manifest):
        name = group or _default_group(data)
        info = {"path": data.source or data.name, "splits": [name]}
        return AuditData([(name, data)], list(data.classes), info)
    path = Path(data)
    if not path.exists():
        raise BadInputError("data not found", source=path, where="--data")
    info: dict[str, Any] = {"path": str(path.resolve())}
    if format != "auto":
        info["format"] = format
    if path.is_dir() and (path / "synthact.json").is_file():
        return _synthact_groups(path, splits, info)
    if _is_swap_csv(path):
        manifest = _swap_manifest(path, classes)
        name = group or "swap"
        info["splits"] = [name]
        return AuditData([(name, manifest)], list(manifest.classes), info)
    return _manifest_groups(path, splits, format, root, classes, group, info)


def _named_groups(data: Mapping[str, Manifest]) -> AuditData:
    groups = [(str(name), manifest) for name, manifest in data.items()]
    if not groups:
        raise BadInputError("no data groups given", where="data")
    classes = list(groups[0][1].classes)
    for name, manifest in groups[1:]:
        if list(manifest.classes) != classes:
            raise BadInputError(
                f"group {name!r} has another class list than {groups[0][0]!r}", where="data"
            )
    sources = sorted({str(m.source or m.name) for _, m in groups})
    info = {"path": "; ".join(sources), "splits": [n for n, _ in groups]}
    info["records"] = {n: len(m) for n, m in groups}
    return AuditData(groups, classes, info)


def _synthact_groups(path: Path, splits: Sequence[str] | None, info: dict[str, Any]) -> AuditData:
    from actionbias.synth import read_synthact

    manifests = read_synthact(path, strict=False)
    names = list(splits or SYNTHACT_SPLITS)
    unknown = [n for n in names if n not in manifests]
    if unknown:
        raise BadInputError(
            f"no split {unknown[0]!r} (has {', '.join(manifests)})", source=path, where="splits"
        )
    groups = [(n, manifests[n]) for n in names]
    info["splits"] = names
    return AuditData(groups, list(manifests[names[0]].classes), info)


def _manifest_groups(
    path: Path,
    splits: Sequence[str] | None,
    format: str,
    root: str | Path | None,
    classes: str | Path | None,
    group: str | None,
    info: dict[str, Any],
) -> AuditData:
    """A manifest file: one group, or one per selected split of its records."""
    # Every reader takes classes=None, and load_manifest drops a None root.
    manifest = load_manifest(path, format=format, root=root, classes=classes)
    if splits:
        present = manifest.splits()
        if not present:
            raise BadInputError(
                "records carry no split, so --splits cannot select any", source=path, where="splits"
            )
        missing = [s for s in splits if s not in present]
        if missing:
            raise BadInputError(
                f"no split {missing[0]!r} (has {', '.join(present)})", source=path, where="splits"
            )
        groups = [(s, manifest.by_split(s)) for s in splits]
    else:
        groups = [(group or _default_group(manifest), manifest)]
    info["splits"] = [name for name, _ in groups]
    return AuditData(groups, list(manifest.classes), info)


@dataclass
class AuditItem:
    """One video to audit: its group, its record and its swap background (a class index)."""

    group: str
    record: VideoRecord
    background: int | None


def collect_items(audit_data: AuditData, classes: list[str]) -> list[AuditItem]:
    """Every video of every group, labels (and swap backgrounds) in ``classes``."""
    lookup = ClassLookup(classes)
    items: list[AuditItem] = []
    seen: set[str] = set()
    for group_name, manifest in audit_data.groups:
        manifest = manifest.aligned_to(classes, group_name)
        for record in manifest.records:
            where = f"record {record.id}"
            if record.label_id is None:
                raise BadInputError("video has no label", manifest.source or None, where)
            if record.id in seen:
                raise BadInputError(
                    "video id appears in two groups; ids key the results",
                    manifest.source or None,
                    where,
                )
            seen.add(record.id)
            try:
                has_person_flag(record.extras.get("has_person"))
            except ValueError as err:
                raise BadInputError(str(err), manifest.source or None, where) from None
            bg_name = record.extras.get("background_label")
            background = lookup.find(str(bg_name)) if bg_name else None
            if bg_name and background is None:
                log.warning(
                    "%s: background %r is not a model class; not a swap row", record.id, bg_name
                )
            items.append(AuditItem(group_name, record, background))
    return items
