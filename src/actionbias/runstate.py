"""Resumable run folders: the settings guard, the state file and finished stages.

Why runs resume this way: the demos, the ICRL loop and TAL trainings take
minutes to hours on a CPU, and a kill (Ctrl-C, a closed terminal, a pre-empted
job) should cost only the step in flight. So a run folder keeps

- the settings that decide its numbers. A rerun continues only under the same
  settings; otherwise it is refused with the differing keys named (or, where
  the caller offers ``force``, the old results are discarded first), because
  mixing two experiments in one table would give wrong figures with no error;
- a state file, one JSON object replaced atomically, so what is on disk is
  always a complete state from some moment of the run;
- a small JSON record per finished stage, written after the stage's output.
  A stage whose record exists and names the same inputs is skipped; a missing
  or unreadable record means "not done", so the worst a kill can cause is that
  one stage runs again.

A base-layer module (it imports only `errors` and `fileio`), so every package
can keep its runs this way.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from actionbias.errors import BadInputError
from actionbias.fileio import atomic_write_json

# ---------------------------------------------------------------------- settings guard


def _canonical(value: Any) -> Any:
    """JSON round trip: tuples become lists, Paths must already be strings."""
    return json.loads(json.dumps(value, sort_keys=True, default=str))


def _differences(old: Any, new: Any, ignore: frozenset[str], prefix: str = "") -> list[str]:
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[str] = []
        for key in sorted(set(old) | set(new)):
            if not prefix and key in ignore:
                continue
            name = f"{prefix}.{key}" if prefix else str(key)
            if key not in old or key not in new:
                out.append(name)
            else:
                out.extend(_differences(old[key], new[key], ignore, name))
        return out
    return [] if old == new else [prefix or "(config)"]


def differences(
    old: Mapping[str, Any], new: Mapping[str, Any], ignore: Iterable[str] = ()
) -> list[str]:
    """Dotted names of the keys where two JSON-like settings differ.

    Both sides go through a JSON round trip first, so a tuple and the list it
    was saved as compare equal; top-level keys in `ignore` are skipped.
    """
    return _differences(_canonical(dict(old)), _canonical(dict(new)), frozenset(ignore))


def describe_differences(changed: Sequence[str], limit: int | None = None) -> str:
    """``"a, b.c"``, or the first `limit` names and ``"(+N more)"`` for a long list."""
    if limit is None or len(changed) <= limit:
        return ", ".join(changed)
    return ", ".join(changed[:limit]) + f" (+{len(changed) - limit} more)"


def refuse_other_settings(
    changed: Sequence[str],
    *,
    holds: str,
    remedy: str,
    source: str | Path | None = None,
    limit: int | None = None,
) -> None:
    """Raise `BadInputError` when `changed` (from `differences`) is not empty.

    The message reads "<source>: holds <holds> with other settings (differs in
    <keys>); <remedy>", e.g. holds="an ICRL run", remedy="use another directory".
    """
    if changed:
        raise BadInputError(
            f"holds {holds} with other settings (differs in "
            f"{describe_differences(changed, limit)}); {remedy}",
            source=source,
        )


# ---------------------------------------------------------------------- state file


class StateFile:
    """A run's state: one JSON object at `path`, replaced atomically on every write.

    With `format`, the object carries ``"format": format`` and a file without
    it is refused (it belongs to something else). `indent` and `sort_keys` fix
    how the file is written, so a folder written by an older version reads and
    rewrites the same way.
    """

    def __init__(
        self,
        path: str | Path,
        format: str | None = None,
        *,
        indent: int = 2,
        sort_keys: bool = False,
    ) -> None:
        self.path = Path(path)
        self.format = format
        self.indent = indent
        self.sort_keys = sort_keys

    def read(self) -> dict[str, Any] | None:
        """The stored state; None when there is none. Unreadable or foreign: `BadInputError`."""
        try:
            state = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, json.JSONDecodeError, UnicodeDecodeError) as err:
            raise BadInputError(
                f"unreadable run state ({err}); remove it to start over", source=self.path
            ) from None
        if not isinstance(state, dict) or (
            self.format is not None and state.get("format") != self.format
        ):
            kind = "a JSON object" if self.format is None else f"format {self.format!r}"
            raise BadInputError(
                f"not a run state file ({kind} expected); remove it to start over",
                source=self.path,
            )
        return state

    def write(self, state: Mapping[str, Any]) -> None:
        atomic_write_json(
            self.path, dict(state), indent=self.indent, sort_keys=self.sort_keys, default=str
        )


def clear_outputs(folder: str | Path, names: Iterable[str]) -> None:
    """Delete the named files and folders under `folder` (what a run owns there)."""
    folder = Path(folder)
    for name in names:
        target = folder / name
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        else:
            target.unlink(missing_ok=True)


def check_settings(
    state: StateFile,
    settings: Mapping[str, Any],
    *,
    holds: str,
    remedy: str,
    key: str | None = "settings",
    ignore: Iterable[str] = (),
    discard: Callable[[], None] | None = None,
    limit: int | None = None,
    source: str | Path | None = None,
) -> dict[str, Any] | None:
    """The settings guard of a run folder: the stored state to resume from, or None.

    No stored state: None (a new run). The same settings: the stored state (the
    run resumes). Other settings: refused (`refuse_other_settings`, naming the
    differing keys) unless `discard` is given -- a caller's ``force`` -- which is
    then called to delete the old results, and None is returned. `key` is where
    the state keeps its settings (None: the whole object is the settings);
    top-level keys in `ignore` may change between a run and its resumption.
    The new state is the caller's to write.
    """
    previous = state.read()
    if previous is None:
        return None
    stored = previous if key is None else dict(previous.get(key) or {})
    changed = differences(stored, settings, ignore)
    if not changed:
        return previous
    if discard is None:
        refuse_other_settings(  # raises: `changed` is not empty
            changed,
            holds=holds,
            remedy=remedy,
            source=state.path if source is None else source,
            limit=limit,
        )
    else:
        discard()
    return None


# ---------------------------------------------------------------------- stages


def read_record(path: str | Path) -> dict[str, Any] | None:
    """A finished stage's JSON record; None when missing or unreadable (the stage reruns)."""
    try:
        record = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        return None
    return record if isinstance(record, dict) else None


def finished_record(path: str | Path, **expected: Any) -> dict[str, Any] | None:
    """The record at `path` when it holds every `expected` value (JSON-compared), else None.

    The stage ran with the inputs it is asked for again, so its output is reused.
    """
    record = read_record(path)
    if record is None:
        return None
    for name, value in expected.items():
        if name not in record or _canonical(record[name]) != _canonical(value):
            return None
    return record


def write_record(path: str | Path, record: Mapping[str, Any], indent: int = 1) -> None:
    """Mark a stage finished: its record, written atomically after its output."""
    atomic_write_json(path, dict(record), indent=indent)


@contextmanager
def timed(timings: dict[str, float], name: str) -> Iterator[None]:
    """Store the wall-clock seconds of the block under ``timings[name]`` (when it succeeds)."""
    start = time.perf_counter()
    yield
    timings[name] = time.perf_counter() - start


__all__ = [
    "StateFile",
    "check_settings",
    "clear_outputs",
    "describe_differences",
    "differences",
    "finished_record",
    "read_record",
    "refuse_other_settings",
    "timed",
    "write_record",
]
