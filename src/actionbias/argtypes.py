"""Argument types shared by every sub-command's parser.

One definition so that `--batch-size 0`, `--seed x` or `--shard 4/4` is refused
with the same message whichever command reads it. `key_values` is the one
reading of repeated ``KEY=VALUE`` flags (``--set``, ``--option``,
``--backend-opt``): it runs in the handler rather than as an argparse type
because the commands report a bad pair as bad input naming the flag.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable
from typing import Any

from actionbias.errors import BadInputError


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None


def truth(value: object) -> bool | None:
    """A bool from a bool or true/false, yes/no, on/off, 1/0 text; None when it is none of these.

    Callers raise their own bad-input error, which names the option or field.
    """
    if isinstance(value, bool):
        return value
    text = str(value).strip().casefold()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    return None


def positive_int(text: str) -> int:
    """An integer >= 1 (counts, sizes, resamples)."""
    value = _integer(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def non_negative_int(text: str) -> int:
    """An integer >= 0 (seeds, offsets)."""
    value = _integer(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def fraction(text: str) -> float:
    """A number in [0, 1] (shares, correlations, coverage bounds)."""
    value = _number(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be in [0, 1], got {value}")
    return value


def open_fraction(text: str) -> float:
    """A number strictly between 0 and 1: a split share that must leave both parts non-empty."""
    value = _number(text)
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {value}")
    return value


def shard(text: str) -> tuple[int, int]:
    """``K/N`` -> (K, N): shard K (0-based) of N, so N processes can split one job."""
    index, sep, total = text.partition("/")
    try:
        k, n = int(index), int(total)
    except ValueError:
        k = n = -1
    if not sep or not 0 <= k < n:
        raise argparse.ArgumentTypeError(f"expected K/N with 0 <= K < N (e.g. 0/4), got {text!r}")
    return k, n


def seed_list(text: str) -> list[int]:
    """``0,1,2`` -> [0, 1, 2]: distinct seeds >= 0, one run each."""
    try:
        seeds = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers, got {text!r}"
        ) from None
    if not seeds or any(s < 0 for s in seeds) or len(set(seeds)) != len(seeds):
        raise argparse.ArgumentTypeError(f"expected distinct seeds >= 0, got {text!r}")
    return seeds


def key_values(
    pairs: Iterable[str] | None, where: str, *, parse_json: bool = True
) -> dict[str, Any]:
    """Repeated ``KEY=VALUE`` flags as a dict (a later key wins).

    With `parse_json`, a value that is JSON (numbers, booleans, lists) is read as
    such and anything else stays text; without it every value is text, for
    callers that coerce values themselves. A pair without ``=`` or with an empty
    key is bad input naming the flag `where`.
    """
    out: dict[str, Any] = {}
    for pair in pairs or ():
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise BadInputError(f"expected KEY=VALUE, got {pair!r}", where=where)
        if not parse_json:
            out[key] = value.strip()
            continue
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out
