"""The audit run directory: the one results store every producer writes and the report reads.

Layout (see the module functions for the exact rules)::

    RUN/
      config.json                    resolved config (written once, atomically)
      questions.jsonl                MCQ protocol: the stored questions
      predictions.jsonl              one JSON object per video, appended per batch
      predictions.shard-K-of-N.jsonl the same, per shard of a multi-process run
      skipped.jsonl                  {"id", "path", "reason"} per broken video
      skipped.shard-K-of-N.jsonl     the same, per shard
      metrics.json / metrics.csv     written by `RunDir.finalize`

Why append-only JSON Lines with an fsync per batch: an audit over 20k videos or
a paid endpoint must survive a kill at any moment without losing more than the
batch in flight, and a rerun must neither recompute nor duplicate a prediction.
A kill can leave at most a truncated last line, which readers drop and the next
writer cuts off before appending. Errors of a remote model (rows with
``answer_source == "error"``) are redone on the next run, and the retry's row
wins over the error row when rows are merged.

Shards: several processes (GPUs, SLURM array tasks, torchrun ranks) can work on
one run directory at once, each appending only to its own shard files, so no
two processes ever write the same file. `finalize` merges every prediction file
into ``predictions.jsonl`` (under a file lock) and computes the metrics; running
the audit once more without a shard after all shards are done does exactly that.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import re
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from actionbias import __version__
from actionbias.audit.summary import summarize
from actionbias.data.predictions import NO_ANSWER, PredictionTable, read_predictions
from actionbias.errors import BadInputError
from actionbias.fileio import (
    append_jsonl,
    atomic_write_json,
    atomic_write_text,
    jsonl_text,
    read_jsonl,
)
from actionbias.runstate import describe_differences, differences

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: shards must not finalize at once
    fcntl = None  # type: ignore[assignment]

CONFIG = "config.json"
PREDICTIONS = "predictions.jsonl"
SKIPPED = "skipped.jsonl"
QUESTIONS = "questions.jsonl"
METRICS_JSON = "metrics.json"
METRICS_CSV = "metrics.csv"
LOCK = ".finalize.lock"

VOLATILE_KEYS = frozenset({"created", "actionbias_version"})
"""Config keys that may differ between a run and its resumption (not part of its identity)."""

ERROR_SOURCE = "error"
"""``answer_source`` of a row whose model call failed (redone by the next run)."""

CSV_FIELDS = ("group", "metric", "value", "low", "high", "n")

_SHARD_RE = re.compile(r"^(predictions|skipped)\.shard-(\d+)-of-(\d+)\.jsonl$")


def shard_suffix(shard: tuple[int, int] | None) -> str:
    """``""`` for an unsharded run, ``".shard-K-of-N"`` for shard K (0-based) of N."""
    if shard is None:
        return ""
    index, total = shard
    if not (isinstance(index, int) and isinstance(total, int)) or not 0 <= index < total:
        raise BadInputError(
            f"shard must be K/N with 0 <= K < N, got {index}/{total}", where="shard"
        )
    return f".shard-{index}-of-{total}" if total > 1 else ""


def _canonical(value: Any) -> Any:
    """JSON round trip: tuples become lists, Paths must already be strings."""
    return json.loads(json.dumps(value, sort_keys=True, default=str))


def config_differences(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """Dotted names of the keys where two run configs differ (volatile keys ignored)."""
    return differences(old, new, VOLATILE_KEYS)


def _is_error(row: Mapping[str, Any]) -> bool:
    return row.get("answer_source") == ERROR_SOURCE


def merge_rows(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per id, in first-seen order; a real answer beats an error row, else later wins."""
    merged: dict[str, dict[str, Any]] = {}
    for row in rows:
        vid = str(row.get("id", ""))
        old = merged.get(vid)
        if old is None or not (_is_error(row) and not _is_error(old)):
            merged[vid] = row
    return list(merged.values())


class RunDir:
    """An audit run directory opened for writing (and resuming).

    ``config`` must hold ``"classes"`` (the class list, whose order the optional
    ``scores`` of each row follow); the keys of the shared contract (kind, name,
    model, protocol, frames, data, seed, questions) are filled by the caller.
    ``created`` and ``actionbias_version`` are added when missing.
    """

    def __init__(self, path: Path, config: dict[str, Any], shard: tuple[int, int] | None = None):
        self.path = path
        self.config = config
        self.shard = shard
        suffix = shard_suffix(shard)
        self.predictions_path = path / f"predictions{suffix}.jsonl"
        self.skipped_path = path / f"skipped{suffix}.jsonl"

    # ------------------------------------------------------------------ opening

    @classmethod
    def open(
        cls,
        path: str | Path,
        config: Mapping[str, Any],
        force: bool = False,
        shard: tuple[int, int] | None = None,
    ) -> RunDir:
        """Create ``path`` or reopen it to resume.

        An existing run with a different config (volatile keys ignored) is
        refused with a `BadInputError` naming the differing keys. With
        ``force`` every result of the existing run (predictions, skips, metrics,
        stored questions) is deleted and the run starts over with ``config``.
        """
        path = Path(path)
        new = _canonical(dict(config))
        if not isinstance(new.get("classes"), list) or not new["classes"]:
            raise ValueError("a run config needs 'classes' (the class list, in score order)")
        new.setdefault("kind", "audit")
        new.setdefault("actionbias_version", __version__)
        new.setdefault("created", datetime.now(timezone.utc).isoformat(timespec="seconds"))
        if path.exists() and not path.is_dir():
            raise BadInputError("run directory is a file", source=path)
        path.mkdir(parents=True, exist_ok=True)
        config_path = path / CONFIG
        if config_path.is_file():
            old = read_config(path)
            diff = config_differences(old, new)
            if diff and not force:
                shown = describe_differences(diff, 8)
                raise BadInputError(
                    f"holds a run with another config (differs in {shown}); "
                    "use another directory or --force to discard it",
                    source=path,
                )
            if force:
                cls._clear(path)
                atomic_write_json(config_path, new, sort_keys=True)
            else:
                new = old  # resume: keep the original creation time and version
        else:
            if force:
                cls._clear(path)
            atomic_write_json(config_path, new, sort_keys=True)
        return cls(path, new, shard)

    @staticmethod
    def _clear(path: Path) -> None:
        names = [PREDICTIONS, SKIPPED, QUESTIONS, METRICS_JSON, METRICS_CSV]
        names += [p.name for p in path.iterdir() if _SHARD_RE.match(p.name)]
        for name in names:
            (path / name).unlink(missing_ok=True)

    # ------------------------------------------------------------------ state

    def prediction_files(self) -> list[Path]:
        return prediction_files(self.path)

    def rows(self) -> list[dict[str, Any]]:
        """Every prediction row of every file, merged (one per id)."""
        return merge_rows(_all_rows(prediction_files(self.path)))

    def skipped_ids(self) -> set[str]:
        return {str(row.get("id")) for _, row in _iter_files(skipped_files(self.path))}

    def done_ids(self, include_skipped: bool = True, retry_errors: bool = True) -> set[str]:
        """Ids with nothing left to do: predicted (and, by default, skipped as broken).

        With ``retry_errors`` (default) ids whose only row is a failed model
        call are *not* done, so a rerun retries them.
        """
        done = {
            str(row["id"])
            for row in self.rows()
            if "id" in row and not (retry_errors and _is_error(row))
        }
        if include_skipped:
            done |= self.skipped_ids()
        return done

    # ------------------------------------------------------------------ writing

    def append(self, rows: list[dict[str, Any]]) -> int:
        """Append prediction rows (the predictions.jsonl format); flushed and fsynced."""
        for row in rows:
            if "id" not in row or "label" not in row or "prediction" not in row:
                raise ValueError(f"a prediction row needs id, label and prediction: {row!r}")
        return append_jsonl(self.predictions_path, rows)

    def skip(self, id: str, path: str, reason: str) -> None:
        """Record a broken/unusable video (counted in the metrics, never retried)."""
        append_jsonl(self.skipped_path, [{"id": id, "path": str(path), "reason": reason}])

    @property
    def questions_path(self) -> Path:
        return self.path / QUESTIONS

    # ------------------------------------------------------------------ results

    def finalize(
        self, n_boot: int = 2000, seed: int = 0, extra: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """Merge every prediction file, compute the figures, write metrics.json/.csv.

        ``extra`` adds keys to metrics.json (the runner records how many videos
        were selected and whether all of them are done). Holds an exclusive lock
        on the run directory so that shards finishing at the same moment
        finalize one after the other (the last one sees all rows).
        """
        with _locked(self.path / LOCK):
            rows = self.rows()
            if not rows:
                skipped = len(self.skipped_ids())
                raise BadInputError(
                    f"no prediction to score ({skipped} videos skipped as unreadable)",
                    source=self.path,
                )
            _write_merged(self.path, rows)
            table = read_predictions(self.path / PREDICTIONS, self.config["classes"])
            metrics = build_metrics(self.config, table, rows, self._skips(), n_boot, seed)
            metrics.update(extra or {})
            atomic_write_text(
                self.path / METRICS_JSON, json.dumps(_json_safe(metrics), indent=2) + "\n"
            )
            atomic_write_text(self.path / METRICS_CSV, metrics_csv(metrics["summary"]))
        return metrics

    def _skips(self) -> dict[str, dict[str, Any]]:
        return {str(row.get("id")): row for _, row in _iter_files(skipped_files(self.path))}


# ---------------------------------------------------------------------- helpers


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    if fcntl is None:
        yield
        return
    with path.open("a") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def prediction_files(path: Path) -> list[Path]:
    """``predictions.jsonl`` first, then the shard files in name order."""
    files = [path / PREDICTIONS] if (path / PREDICTIONS).is_file() else []
    shards = sorted(p for p in path.glob("predictions.shard-*.jsonl") if _SHARD_RE.match(p.name))
    return files + shards


def skipped_files(path: Path) -> list[Path]:
    files = [path / SKIPPED] if (path / SKIPPED).is_file() else []
    return files + sorted(p for p in path.glob("skipped.shard-*.jsonl") if _SHARD_RE.match(p.name))


def _iter_files(files: Iterable[Path]) -> Iterator[tuple[int, dict[str, Any]]]:
    for file in files:
        yield from read_jsonl(file)


def _all_rows(files: Iterable[Path]) -> Iterator[dict[str, Any]]:
    for _, row in _iter_files(files):
        yield row


def _write_merged(path: Path, rows: list[dict[str, Any]]) -> None:
    """Rewrite predictions.jsonl as the merge of all files, only when it differs."""
    target = path / PREDICTIONS
    text = jsonl_text(rows)
    try:
        current = target.read_text(encoding="utf-8")
    except FileNotFoundError:
        current = None
    if current != text:
        atomic_write_text(target, text)
    skips = {}
    for _, row in _iter_files(skipped_files(path)):
        skips.setdefault(str(row.get("id")), row)
    skip_text = jsonl_text(skips.values())
    skip_target = path / SKIPPED
    try:
        current_skips = skip_target.read_text(encoding="utf-8")
    except FileNotFoundError:
        current_skips = None
    if skips and current_skips != skip_text:
        atomic_write_text(skip_target, skip_text)


def _answer_counts(rows: list[dict[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in rows:
        source = row.get("answer_source") or ("scores" if "scores" in row else "prediction")
        counts[str(source)] = counts.get(str(source), 0) + 1
    return dict(sorted(counts.items()))


def build_metrics(
    config: Mapping[str, Any],
    table: PredictionTable,
    rows: list[dict[str, Any]],
    skips: Mapping[str, Mapping[str, Any]],
    n_boot: int = 2000,
    seed: int = 0,
) -> dict[str, Any]:
    """The metrics.json object for a run (see the contract)."""
    predicted = set(table.ids)
    skipped = {k: v for k, v in skips.items() if k not in predicted}
    reasons: dict[str, int] = {}
    for row in skipped.values():
        reason = str(row.get("reason", ""))
        reasons[reason] = reasons.get(reason, 0) + 1
    return {
        "run": dict(config),
        "summary": summarize(table, n_boot=n_boot, seed=seed),
        "videos": len(table),
        "skipped": len(skipped),
        "skipped_reasons": dict(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))),
        "no_answer": int((table.predictions == NO_ANSWER).sum()),
        "errors": sum(1 for row in rows if _is_error(row)),
        "answer_sources": _answer_counts(rows),
    }


def _json_safe(value: Any) -> Any:
    """NaN (empty groups) -> null, so metrics.json is strict JSON."""
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def metrics_csv(summary: Mapping[str, Any]) -> str:
    """Flat ``group,metric,value,low,high,n`` rows from a `summarize` result."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_FIELDS)

    def emit(group: str, metric: str, estimate: Mapping[str, Any]) -> None:
        values = [_json_safe(estimate.get(k)) for k in ("value", "low", "high")]
        writer.writerow(
            [group, metric, *("" if v is None else repr(float(v)) for v in values), estimate["n"]]
        )

    groups = summary.get("groups", {})
    for name in sorted(groups):
        g = groups[name]
        for metric in ("top1", "top5", "mAP"):
            if metric in g:
                emit(name, metric, g[metric])
        if "swap" in g:
            for metric in ("shacc", "sberr", "other"):
                emit(name, metric, g["swap"][metric])
    return buffer.getvalue()


def read_config(path: str | Path) -> dict[str, Any]:
    """The config.json of a run directory."""
    file = Path(path) / CONFIG
    if not file.is_file():
        raise BadInputError("not an audit run directory (no config.json)", source=path)
    try:
        config = json.loads(file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise BadInputError(f"invalid JSON ({err})", source=file) from None
    if not isinstance(config, dict):
        raise BadInputError("config must be a JSON object", source=file)
    return config


def load_table(path: str | Path) -> PredictionTable:
    """The merged predictions of a run (all shard files, truncated tails dropped), read-only."""
    path = Path(path)
    config = read_config(path)
    classes = config.get("classes")
    rows = merge_rows(_all_rows(prediction_files(path)))
    if not rows:
        raise BadInputError("run has no predictions yet", source=path)
    target = path / PREDICTIONS
    try:
        current = target.read_text(encoding="utf-8")
    except FileNotFoundError:
        current = None
    if current == jsonl_text(rows):
        return read_predictions(target, classes)
    with tempfile.TemporaryDirectory(prefix="actionbias-run-") as tmp:
        merged = Path(tmp) / PREDICTIONS
        merged.write_text(jsonl_text(rows), encoding="utf-8")
        table = read_predictions(merged, classes)
    table.source = str(target)
    return table


def read_run(path: str | Path) -> tuple[dict[str, Any], PredictionTable, dict[str, Any] | None]:
    """(config, merged predictions, metrics or None when the run was never finalized)."""
    path = Path(path)
    config = read_config(path)
    table = load_table(path)
    metrics = None
    metrics_file = path / METRICS_JSON
    if metrics_file.is_file():
        try:
            metrics = json.loads(metrics_file.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise BadInputError(f"invalid JSON ({err})", source=metrics_file) from None
    return config, table, metrics
