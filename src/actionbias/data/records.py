"""The one record type every dataset format is read into, and the manifest holding them.

A record is deliberately flat: the video/frame-folder path the decoder opens, the
label in the class list's spelling and its index, an optional time window, and a
free `extras` dict for what a format carries beyond that (YouTube id, HAT seg/inp
folders, the background class of a swap clip). Workflows downstream (audits,
training) only depend on these fields, so any dataset they meet looks the same.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, overload

from actionbias.data.class_names import ClassLookup
from actionbias.errors import BadInputError

log = logging.getLogger(__name__)

#: Suffixes of `extras` keys that name media paths; `Manifest.missing_media` checks them too.
MEDIA_EXTRA_SUFFIXES = ("_dir", "_path")


@dataclass
class VideoRecord:
    """One clip: where its pixels are and what it is labelled.

    `path` is absolute as returned by the readers (a video file, a frame folder
    or an image). `start`/`end` (seconds) ask the decoder for a window of an
    untrimmed file; they stay None for clips that are already trimmed, such as
    downloaded Kinetics clips, whose annotation times live in `extras`
    ("time_start"/"time_end") instead.
    """

    id: str
    path: str
    label: str | None
    label_id: int | None
    start: float | None = None
    end: float | None = None
    split: str | None = None
    extras: dict[str, Any] = field(default_factory=dict)


def media_is_missing(path: str) -> bool:
    """True when `path` is absent, a zero-byte file, or an empty folder."""
    try:
        stat = os.stat(path)
    except OSError:
        return True
    if os.path.isdir(path):
        with os.scandir(path) as entries:
            return next(entries, None) is None
    return stat.st_size == 0


@dataclass
class Manifest:
    """An ordered list of records plus the class list their `label_id`s index.

    `name` says what it is ("kinetics400-val"), `source` where it was read from;
    both are informational. Ids must be unique: they key per-sample results in
    resumable runs.
    """

    records: list[VideoRecord]
    classes: list[str]
    name: str = ""
    source: str = ""
    _lookup: ClassLookup | None = field(default=None, init=False, repr=False, compare=False)
    _by_id: dict[str, int] | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.records = list(self.records)
        self.classes = list(self.classes)
        seen: set[str] = set()
        for record in self.records:
            if record.id in seen:
                raise BadInputError(
                    f"duplicate record id {record.id!r}", source=self.source or None
                )
            seen.add(record.id)

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self) -> Iterator[VideoRecord]:
        return iter(self.records)

    @overload
    def __getitem__(self, key: int) -> VideoRecord: ...
    @overload
    def __getitem__(self, key: str) -> VideoRecord: ...
    @overload
    def __getitem__(self, key: slice) -> Manifest: ...

    def __getitem__(self, key: int | str | slice) -> VideoRecord | Manifest:
        """Record by position or by id; a slice gives a sub-manifest."""
        if isinstance(key, slice):
            return self._derive(self.records[key])
        if isinstance(key, str):
            if self._by_id is None or len(self._by_id) != len(self.records):
                self._by_id = {r.id: i for i, r in enumerate(self.records)}
            index = self._by_id.get(key)
            if index is None or self.records[index].id != key:
                raise KeyError(key)
            return self.records[index]
        return self.records[key]

    def _derive(self, records: Sequence[VideoRecord], **changes: Any) -> Manifest:
        fields = {"classes": self.classes, "name": self.name, "source": self.source}
        fields.update(changes)
        return Manifest(records=list(records), **fields)

    def by_split(self, split: str) -> Manifest:
        """The records of one split ("train", "val", "test", ...), same class list."""
        return self._derive([r for r in self.records if r.split == split])

    def splits(self) -> list[str]:
        """Split names present, in first-seen order."""
        return list(dict.fromkeys(r.split for r in self.records if r.split is not None))

    def filter(self, keep: Callable[[VideoRecord], bool]) -> Manifest:
        return self._derive([r for r in self.records if keep(r)])

    def class_index(self, name: str) -> int:
        """Index of a class name (any spelling `normalize_class_name` accepts)."""
        if self._lookup is None or self._lookup.classes != self.classes:
            self._lookup = ClassLookup(self.classes)
        return self._lookup.index(name, source=self.source or None)

    def label_counts(self) -> dict[str, int]:
        """Clips per label, in class-list order (labels with no clip omitted)."""
        counts = Counter(r.label for r in self.records if r.label is not None)
        return {name: counts[name] for name in self.classes if counts[name]}

    def aligned_to(self, classes: Sequence[str], name: str) -> Manifest:
        """The clips indexed into a model's class list, warning about the ones it cannot name.

        Evaluating a model on data with extra classes is legitimate (Kinetics-400
        clips for a Kinetics-50 model), but the dropped count must be visible.
        """
        if self.classes == list(classes):
            return self
        mapped = self.with_classes(classes)
        if len(mapped) < len(self):
            log.warning(
                "%s: %d of %d videos have labels outside the model's classes; left out",
                name,
                len(self) - len(mapped),
                len(self),
            )
        return mapped

    def with_classes(self, classes: Sequence[str], drop_unknown: bool = True) -> Manifest:
        """The same clips indexed into another class list (e.g. K400 -> Kinetics-50).

        Records whose label is not in `classes` are dropped (or, with
        `drop_unknown=False`, raise BadInputError); unlabelled records are kept.
        """
        lookup = ClassLookup(classes)
        out: list[VideoRecord] = []
        for record in self.records:
            if record.label is None:
                out.append(dataclasses.replace(record, label_id=None))
                continue
            index = lookup.find(record.label)
            if index is None:
                if drop_unknown:
                    continue
                lookup.index(record.label, source=self.source or None, where=f"record {record.id}")
            out.append(
                dataclasses.replace(
                    record, label=lookup.classes[index], label_id=index, extras=dict(record.extras)
                )
            )
        return self._derive(out, classes=list(classes))

    def missing_media(self) -> list[VideoRecord]:
        """Records whose media is absent, a zero-byte file or an empty folder.

        Besides `path`, string `extras` whose key ends in "_dir" or "_path" (HAT's
        `seg_dir`/`inp_dir`, for instance) are checked as well.
        """
        missing = []
        for record in self.records:
            paths = [record.path]
            paths += [
                value
                for key, value in record.extras.items()
                if isinstance(value, str) and key.endswith(MEDIA_EXTRA_SUFFIXES)
            ]
            if any(media_is_missing(p) for p in paths):
                missing.append(record)
        return missing
