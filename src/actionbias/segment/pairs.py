"""Which human clip goes onto which background: pair sampling, pair files, coverage filter.

Sampling modes (one pair per human clip, seeded, output in the input order):

* ``random`` — the background comes from another class. For each human class the
  background classes are dealt round-robin from a seeded permutation of the other
  classes, and within a background class its clips are dealt round-robin from a
  seeded permutation, so every (human class, background class) count differs by at
  most one per human class and every background clip is reused as evenly as the
  counts allow. Mirrors HAT's "rand" swaps, restricted to a different class so that
  SHAcc and SBErr are well defined.
* ``same-class`` — the background is another clip of the same class (HAT's "same"):
  a seeded cyclic shift inside each class, so every clip is used exactly once as a
  background and never on itself. Classes with a single clip cannot be paired and
  are skipped (logged).

Pair files written by HAT (``actionswap_*.pickle``) or as our swap CSV are read with
`load_swap_pairs`, which dispatches to ``actionbias.data``.

Coverage filter: HAT kept swaps whose human covers 5 % to 50 % of the frame ("to
assure that the Action Swap videos have enough information for both background and
foreground"); `filter_by_coverage` applies it to the human clip's coverage
(`actionbias.segment.masks.human_coverage`: per-frame human fraction by the > 128
rule, averaged over frames — HAT does not publish the exact filtering code).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

from actionbias.errors import BadInputError

log = logging.getLogger(__name__)

PairMode = Literal["random", "same-class"]
PAIR_MODES: tuple[str, ...] = ("random", "same-class")
HAT_COVERAGE_RANGE: tuple[float, float] = (0.05, 0.50)


def _swap_pair_type() -> Any:
    from actionbias.data.swaps import SwapPair

    return SwapPair


def _label(record: Any) -> str:
    label = getattr(record, "label", None)
    if not label:
        raise BadInputError(
            "record has no label; swap pairs need class labels",
            source=getattr(record, "path", None),
            where=f"record {getattr(record, 'id', '?')!r}",
        )
    return str(label)


def sample_swap_pairs(
    records: Sequence[Any],
    mode: PairMode = "random",
    seed: int = 0,
) -> list[Any]:
    """One `SwapPair` per human record (``.id``, ``.label``, ``.path``), seeded.

    ``extras`` of each pair holds ``human_path`` and ``background_path`` (the records'
    paths) so that a swap run can find the media without the manifest.
    """
    if mode not in PAIR_MODES:
        raise ValueError(f"pair mode must be one of {PAIR_MODES}, got {mode!r}")
    swap_pair = _swap_pair_type()
    by_class: dict[str, list[int]] = {}
    for position, record in enumerate(records):
        by_class.setdefault(_label(record), []).append(position)
    classes = sorted(by_class)
    rng = np.random.default_rng(seed)
    chosen: dict[int, int] = {}  # human position -> background position

    if mode == "same-class":
        for label in classes:
            members = by_class[label]
            if len(members) < 2:
                log.warning("class %r has one clip: no same-class background, skipped", label)
                continue
            order = [members[i] for i in rng.permutation(len(members))]
            for i, human in enumerate(order):
                chosen[human] = order[(i + 1) % len(order)]
    else:
        if len(classes) < 2:
            raise BadInputError("random swaps need clips of at least two classes")
        # One seeded deck of clips per background class, shared by all human classes.
        decks = {c: [by_class[c][i] for i in rng.permutation(len(by_class[c]))] for c in classes}
        dealt = dict.fromkeys(classes, 0)
        for label in classes:
            others = [c for c in classes if c != label]
            others = [others[i] for i in rng.permutation(len(others))]
            humans = [by_class[label][i] for i in rng.permutation(len(by_class[label]))]
            for k, human in enumerate(humans):
                bg_class = others[k % len(others)]
                deck = decks[bg_class]
                chosen[human] = deck[dealt[bg_class] % len(deck)]
                dealt[bg_class] += 1

    pairs = []
    for human in sorted(chosen):
        a, b = records[human], records[chosen[human]]
        pairs.append(
            swap_pair(
                human_clip=str(a.id),
                human_label=_label(a),
                background_clip=str(b.id),
                background_label=_label(b),
                extras={"human_path": str(a.path), "background_path": str(b.path)},
            )
        )
    return pairs


def load_swap_pairs(
    path: str | Path,
    classes: Sequence[str] | str | Path | None = None,
    hat_root: str | Path | None = None,
) -> list[Any]:
    """Read a HAT pair pickle (``.pickle``/``.pkl``) or a swap-pair CSV."""
    from actionbias.data.swaps import read_hat_pairs, read_swap_csv

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".pickle", ".pkl"):
        return read_hat_pairs(path, hat_root=hat_root, classes=classes)
    if suffix == ".csv":
        return read_swap_csv(path, classes=classes)
    raise BadInputError("swap pairs must be a HAT .pickle or a .csv file", source=path)


def filter_by_coverage(
    pairs: Sequence[Any],
    coverage: Mapping[str, float] | Callable[[Any], float],
    low: float = HAT_COVERAGE_RANGE[0],
    high: float = HAT_COVERAGE_RANGE[1],
) -> tuple[list[Any], list[Any]]:
    """Split pairs into (kept, dropped) by the human clip's coverage in [low, high].

    ``coverage`` maps a pair's ``human_clip`` to its coverage, or is a callable taking
    the pair. A kept pair gets ``extras["coverage"]``.
    """
    if not 0.0 <= low <= high <= 1.0:
        raise ValueError(f"coverage range must satisfy 0 <= low <= high <= 1, got {low}, {high}")
    kept, dropped = [], []
    for pair in pairs:
        if callable(coverage):
            value = float(coverage(pair))
        else:
            if pair.human_clip not in coverage:
                raise KeyError(f"no coverage known for human clip {pair.human_clip!r}")
            value = float(coverage[pair.human_clip])
        if low <= value <= high:
            pair.extras["coverage"] = round(value, 6)
            kept.append(pair)
        else:
            dropped.append(pair)
    return kept, dropped
