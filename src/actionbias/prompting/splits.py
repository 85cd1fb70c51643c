"""The tuning / held-out split of the swap set (25 % / 75 % in the paper).

Prompt tuning picks instructions by their score on the tuning videos, so the
only honest figure for the chosen prompt is on videos the search never saw:
the held-out part. The split is drawn once from a seed, stratified by the
human label (every action is in both parts when it has enough videos), and
stored in the tuning directory; a resumed or extended run reads it back rather
than drawing again, so no video ever moves between the parts mid-search.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from actionbias.data import Manifest
from actionbias.errors import BadInputError
from actionbias.fileio import atomic_write_text

TUNE = "tune"
HELDOUT = "heldout"
SPLIT_NAMES = (TUNE, HELDOUT)


@dataclass(frozen=True)
class PromptSplit:
    """Video ids of the tuning and held-out parts (both in the swap set's order)."""

    tune: tuple[str, ...]
    heldout: tuple[str, ...]
    fraction: float
    seed: int

    def ids(self, part: str) -> tuple[str, ...]:
        if part == TUNE:
            return self.tune
        if part == HELDOUT:
            return self.heldout
        raise ValueError(f"unknown split part {part!r}; choose from {', '.join(SPLIT_NAMES)}")

    def to_json(self) -> dict:
        return {
            "fraction": self.fraction,
            "seed": self.seed,
            "tune": list(self.tune),
            "heldout": list(self.heldout),
        }


def make_split(
    ids: Sequence[str], labels: Sequence[object], fraction: float = 0.25, seed: int = 0
) -> PromptSplit:
    """Seeded, label-stratified split: about ``fraction`` of the ids go to tuning.

    Videos are shuffled, grouped by label, and every ``1/fraction``-th one in
    that order goes to tuning (systematic sampling), so each label contributes
    its share and the total is ``round(fraction * n)`` give or take one.
    """
    if not 0.0 < fraction < 1.0:
        raise BadInputError(f"must be between 0 and 1, got {fraction}", where="--tune-fraction")
    if len(ids) != len(labels):
        raise ValueError(f"{len(ids)} ids for {len(labels)} labels")
    if len(set(ids)) != len(ids):
        raise ValueError("video ids must be unique")
    if len(ids) < 2:
        raise BadInputError(
            f"the swap set has {len(ids)} video(s); a tuning/held-out split needs at least 2",
            where="--data",
        )
    order = list(range(len(ids)))
    random.Random(f"prompt-split:{seed}").shuffle(order)
    order.sort(key=lambda i: str(labels[i]))  # stable: shuffled within each label
    chosen = {order[k] for k in range(len(order)) if int((k + 1) * fraction) > int(k * fraction)}
    if not chosen:
        chosen = {order[0]}
    if len(chosen) == len(ids):
        chosen.discard(order[-1])
    tune = tuple(ids[i] for i in range(len(ids)) if i in chosen)
    heldout = tuple(ids[i] for i in range(len(ids)) if i not in chosen)
    return PromptSplit(tune, heldout, float(fraction), int(seed))


def load_or_make_split(
    path: str | Path, manifest: Manifest, fraction: float = 0.25, seed: int = 0
) -> PromptSplit:
    """The split stored at ``path``, or a new one drawn from ``manifest`` and stored there.

    A stored split made with another fraction or seed, or naming videos the
    swap set no longer has, is refused: the search it belongs to would no
    longer be comparable, and so is one that lacks videos the swap set has.
    """
    path = Path(path)
    ids = [r.id for r in manifest.records]
    if path.is_file():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            stored = PromptSplit(
                tuple(str(x) for x in data["tune"]),
                tuple(str(x) for x in data["heldout"]),
                float(data["fraction"]),
                int(data["seed"]),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise BadInputError(f"unreadable split file ({exc})", source=path) from None
        if stored.fraction != float(fraction) or stored.seed != int(seed):
            raise BadInputError(
                f"stored split was drawn with fraction {stored.fraction} and seed {stored.seed}, "
                f"not {fraction} and {seed}; use another output folder",
                source=path,
            )
        known = set(ids)
        stored_ids = (*stored.tune, *stored.heldout)
        missing = [i for i in stored_ids if i not in known]
        if missing:
            raise BadInputError(
                f"stored split names video {missing[0]!r}, which the swap set does not have",
                source=path,
            )
        new = [i for i in ids if i not in set(stored_ids)]
        if new:
            raise BadInputError(
                f"the swap set has {len(new)} video(s) the stored split lacks (first {new[0]!r}); "
                "use another output folder",
                source=path,
            )
        return stored
    split = make_split(ids, [r.label for r in manifest.records], fraction, seed)
    atomic_write_text(path, json.dumps(split.to_json(), indent=1) + "\n")
    return split


def subset(manifest: Manifest, ids: Sequence[str]) -> Manifest:
    """The records of ``manifest`` with these ids, in the manifest's order."""
    wanted = set(ids)
    records = [r for r in manifest.records if r.id in wanted]
    return Manifest(records, list(manifest.classes), name=manifest.name, source=manifest.source)
