"""Broken media in long runs: skip the clip, log it, count it -- never crash, never drop silently.

A Kinetics download always has some clips that are truncated, zero bytes or
gone. An audit over 20k clips must neither die on clip 13,000 nor quietly score
fewer clips than it claims, so every skip goes through a `SkipLog`, whose count
and items end up in the run's results and report.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from actionbias.data._io import atomic_write_text, read_text
from actionbias.data.records import VideoRecord
from actionbias.errors import BadInputError, VideoReadError

if TYPE_CHECKING:
    from actionbias.video import Clip

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SkippedItem:
    id: str
    path: str
    reason: str


class SkipLog:
    """Items skipped because their media is broken, each logged once at WARNING.

    Adding the same record id again (a rerun of a resumed job) does not count
    it twice.
    """

    def __init__(self) -> None:
        self._items: dict[str, SkippedItem] = {}

    def add(self, record: VideoRecord, reason: str) -> None:
        if record.id in self._items:
            return
        self._items[record.id] = SkippedItem(record.id, record.path, reason)
        log.warning("skipping %s (%s): %s", record.path, record.id, reason)

    @property
    def count(self) -> int:
        return len(self._items)

    @property
    def items(self) -> list[SkippedItem]:
        return list(self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, record_id: object) -> bool:
        return record_id in self._items

    def reasons(self) -> dict[str, int]:
        """Skip count per reason, most frequent first (for the report)."""
        return dict(Counter(item.reason for item in self._items.values()).most_common())

    def to_dict(self) -> dict[str, Any]:
        return {"count": self.count, "items": [asdict(item) for item in self._items.values()]}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1)

    def save(self, path: str | Path) -> None:
        """Write `to_json()` atomically (a run directory's skipped.json)."""
        atomic_write_text(path, self.to_json() + "\n")

    @classmethod
    def load(cls, path: str | Path) -> SkipLog:
        """Read a file written by `save`, e.g. to resume a run with its skips."""
        try:
            data = json.loads(read_text(path))
            items = [
                SkippedItem(str(i["id"]), str(i["path"]), str(i["reason"])) for i in data["items"]
            ]
        except (json.JSONDecodeError, KeyError, TypeError) as err:
            raise BadInputError(f"not a skip log: {err}", source=path) from err
        skip_log = cls()
        skip_log._items = {item.id: item for item in items}
        return skip_log


def iter_clips(
    manifest: Iterable[VideoRecord], skip_log: SkipLog, **read_clip_kwargs: Any
) -> Iterator[tuple[VideoRecord, Clip]]:
    """Decode every record with `actionbias.video.read_clip`, skipping broken media.

    A record's `start`/`end` become the read window unless the caller passes
    `start`/`end` explicitly. A `VideoReadError` is logged at WARNING (path and
    reason), counted in `skip_log`, and the loop moves on; any other exception
    is a bug and propagates.
    """
    from actionbias.video import read_clip

    for record in manifest:
        kwargs = dict(read_clip_kwargs)
        if record.start is not None:
            kwargs.setdefault("start", record.start)
        if record.end is not None:
            kwargs.setdefault("end", record.end)
        try:
            clip = read_clip(record.path, **kwargs)
        except VideoReadError as err:
            skip_log.add(record, err.reason)
            continue
        yield record, clip
