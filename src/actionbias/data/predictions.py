"""Per-video prediction files: the interchange format between models and metrics.

A data format like the others in this package (the audit writes and reads it,
`actionbias.audit.predictions` re-exports it for older imports).

Any model, ours or a user's, can be audited by writing one row per video:

    id, label, prediction[, background_label][, dataset][, scores]
        [, human_clip][, background_clip][, has_person]

as CSV or JSON Lines. `label` is the target (the human's class on swap data),
`background_label` marks a swap video, `dataset` groups rows (e.g. test, swap,
mimetic) and `scores` (JSONL list, or CSV space-separated floats in class
order) enables top-5 and mAP. `human_clip` / `background_clip` name the
source clips of a swap video: where they repeat, intervals and paired tests
resample the clips, not the videos (`actionbias.metrics.stats`). `has_person`
(1/0, true/false, yes/no; empty = unknown) marks swap videos whose human was
not segmented: they are reported apart, as HAT does. Labels may be class
names or indices; an empty or "-1" prediction (JSON: also null) means the
model gave no usable answer (a video LLM's unparseable reply) and counts as
wrong, never as a guess. A CSV row with fewer or more fields than the header,
or a JSONL row without one of id, label, prediction, is bad input naming
``file:line`` (a truncated file must not lower accuracy silently).
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from actionbias.errors import BadInputError
from actionbias.fileio import read_jsonl_whole

NO_ANSWER = -1
REQUIRED_FIELDS = ("id", "label", "prediction")
SOURCE_FIELDS = ("human_clip", "background_clip")


@dataclass
class PredictionTable:
    """Rows of one prediction file, labels resolved to indices of `classes`."""

    ids: list[str]
    labels: np.ndarray  # int64 target class per video
    predictions: np.ndarray  # int64, NO_ANSWER where the model gave none
    backgrounds: np.ndarray  # int64, -1 where the video is not a swap
    datasets: list[str]
    classes: list[str]
    scores: np.ndarray | None = None  # float (N, C) when every row has scores
    source: str = ""
    extras: dict[str, object] = field(default_factory=dict)
    human_clips: list[str] | None = None  # source clip ids ("" = unknown), when given
    background_clips: list[str] | None = None
    has_person: np.ndarray | None = None  # int8: 1 yes, 0 no (set apart), -1 unknown

    def __len__(self) -> int:
        return len(self.ids)

    def subset(self, mask: np.ndarray) -> PredictionTable:
        idx = np.flatnonzero(mask)

        def pick(values: list[str] | None) -> list[str] | None:
            return None if values is None else [values[i] for i in idx]

        return PredictionTable(
            ids=[self.ids[i] for i in idx],
            labels=self.labels[idx],
            predictions=self.predictions[idx],
            backgrounds=self.backgrounds[idx],
            datasets=[self.datasets[i] for i in idx],
            classes=self.classes,
            scores=None if self.scores is None else self.scores[idx],
            source=self.source,
            human_clips=pick(self.human_clips),
            background_clips=pick(self.background_clips),
            has_person=None if self.has_person is None else self.has_person[idx],
        )

    def clusters(self) -> dict[str, list[str]]:
        """The source-clip ids given for these rows (for `actionbias.metrics.resampling`)."""
        out = {}
        if self.human_clips is not None:
            out["human_clip"] = self.human_clips
        if self.background_clips is not None:
            out["background_clip"] = self.background_clips
        return out

    def without_person(self) -> np.ndarray:
        """Boolean mask of swap videos marked as having no segmented person."""
        if self.has_person is None:
            return np.zeros(len(self), dtype=bool)
        return (self.has_person == 0) & (self.backgrounds >= 0)


def _rows(path: Path) -> list[tuple[int, dict[str, object]]]:
    if not path.is_file():
        raise BadInputError("predictions file not found", path)
    text_rows: list[tuple[int, dict[str, object]]] = []
    if path.suffix.lower() in (".jsonl", ".json", ".ndjson"):
        for lineno, row in read_jsonl_whole(path):
            absent = [key for key in REQUIRED_FIELDS if key not in row]
            if absent:
                # A row cut short must not pass as "no answer" (an empty or null
                # prediction is the explicit way to say that).
                raise BadInputError(
                    f"missing field(s) {', '.join(absent)} (every row needs "
                    f"{', '.join(REQUIRED_FIELDS)}; an empty prediction means no answer)",
                    path,
                    f"line {lineno}",
                )
            text_rows.append((lineno, row))
        return text_rows
    with path.open(newline="") as fh:
        reader = csv.DictReader(fh)
        header = list(reader.fieldnames or [])
        for required in REQUIRED_FIELDS:
            if required not in header:
                raise BadInputError(f"missing column {required!r}", path, "line 1")
        for row in reader:
            lineno = reader.line_num  # the record's last line (blank lines are skipped)
            extra = row.pop(None, None)  # type: ignore[call-overload]
            cells = len(header) - sum(value is None for value in row.values())
            if extra is not None or cells != len(header):
                cells += len(extra or ())
                raise BadInputError(
                    f"{cells} field{'s' if cells != 1 else ''} where the header "
                    f"({','.join(header)}) has {len(header)}",
                    path,
                    f"line {lineno}",
                )
            text_rows.append((lineno, dict(row)))
    return text_rows


def _resolve(value: object, lookup: dict[str, int], n: int, path: Path, where: str) -> int:
    """A class name or index -> index; raises on unknown names and out-of-range indices."""
    if isinstance(value, bool):
        raise BadInputError(f"not a class: {value!r}", path, where)
    if isinstance(value, int):
        index = value
    else:
        text = str(value).strip()
        if text in lookup:
            return lookup[text]
        try:
            index = int(text)
        except ValueError:
            raise BadInputError(f"unknown class {text!r}", path, where) from None
    if not 0 <= index < n:
        raise BadInputError(f"class index {index} outside 0..{n - 1}", path, where)
    return index


def read_predictions(path: str | Path, classes: list[str] | None = None) -> PredictionTable:
    """Read a CSV/JSONL prediction file.

    Without `classes`, labels must be names and the class list is every name
    seen in label, background_label and prediction columns, sorted (so an
    index-only file needs `classes`).
    """
    path = Path(path)
    rows = _rows(path)
    if not rows:
        raise BadInputError("no prediction rows", path)
    if classes is None:
        names: set[str] = set()
        for lineno, row in rows:
            for key in ("label", "background_label", "prediction"):
                value = row.get(key)
                if value is None or str(value).strip() in ("", str(NO_ANSWER)):
                    continue
                if isinstance(value, int) or str(value).strip().lstrip("-").isdigit():
                    raise BadInputError(
                        f"{key} is an index but no class list was given (pass --classes)",
                        path,
                        f"line {lineno}",
                    )
                names.add(str(value).strip())
        classes = sorted(names)
    lookup = {name: i for i, name in enumerate(classes)}
    n = len(classes)
    ids, labels, preds, bgs, datasets, score_rows = [], [], [], [], [], []
    sources: dict[str, list[str]] = {key: [] for key in SOURCE_FIELDS}
    persons: list[int] = []
    seen: dict[str, int] = {}
    for lineno, row in rows:
        where = f"line {lineno}"
        vid = str(row.get("id", "")).strip()
        if not vid:
            raise BadInputError("empty id", path, where)
        if vid in seen:
            raise BadInputError(f"duplicate id {vid!r} (first on line {seen[vid]})", path, where)
        seen[vid] = lineno
        if row.get("label") in (None, ""):
            raise BadInputError("empty label", path, where)
        labels.append(_resolve(row["label"], lookup, n, path, where + " field label"))
        raw_pred = row.get("prediction")
        if raw_pred is None or str(raw_pred).strip() in ("", str(NO_ANSWER)):
            preds.append(NO_ANSWER)
        else:
            preds.append(_resolve(raw_pred, lookup, n, path, where + " field prediction"))
        raw_bg = row.get("background_label")
        if raw_bg is None or str(raw_bg).strip() == "":
            bgs.append(-1)
        else:
            bgs.append(_resolve(raw_bg, lookup, n, path, where + " field background_label"))
        datasets.append(str(row.get("dataset") or "all"))
        ids.append(vid)
        score_rows.append(_scores(row.get("scores"), n, path, where))
        for key in SOURCE_FIELDS:
            value = row.get(key)
            sources[key].append("" if value is None else str(value).strip())
        persons.append(_has_person(row.get("has_person"), path, where))
    have_scores = [s is not None for s in score_rows]
    if any(have_scores) and not all(have_scores):
        first = have_scores.index(False)
        raise BadInputError("scores given for some rows but not all", path, f"row {first + 1}")
    scores = np.stack(score_rows) if all(have_scores) else None
    return PredictionTable(
        ids=ids,
        labels=np.asarray(labels, dtype=np.int64),
        predictions=np.asarray(preds, dtype=np.int64),
        backgrounds=np.asarray(bgs, dtype=np.int64),
        datasets=datasets,
        classes=list(classes),
        scores=scores,
        source=str(path),
        human_clips=sources["human_clip"] if any(sources["human_clip"]) else None,
        background_clips=sources["background_clip"] if any(sources["background_clip"]) else None,
        has_person=np.asarray(persons, dtype=np.int8) if any(p >= 0 for p in persons) else None,
    )


_YES = frozenset({"1", "true", "yes", "y", "t"})
_NO = frozenset({"0", "false", "no", "n", "f"})


def has_person_flag(value: object) -> bool | None:
    """True / False / None (unknown) from a bool, 1/0, true/false, yes/no or empty cell.

    Raises ValueError on anything else.
    """
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    text = str(value).strip().casefold()
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise ValueError(f"has_person {value!r} is not a yes/no value (1/0, true/false, yes/no)")


def _has_person(value: object, path: Path, where: str) -> int:
    try:
        flag = has_person_flag(value)
    except ValueError as err:
        raise BadInputError(str(err), path, where + " field has_person") from None
    return -1 if flag is None else int(flag)


def _scores(value: object, n: int, path: Path, where: str) -> np.ndarray | None:
    if value is None or value == "":
        return None
    try:
        if isinstance(value, list):
            arr = np.asarray(value, dtype=np.float64)
        else:
            arr = np.asarray(str(value).split(), dtype=np.float64)
    except ValueError:
        raise BadInputError("scores must be numbers", path, where + " field scores") from None
    if arr.shape != (n,):
        raise BadInputError(f"{arr.size} scores for {n} classes", path, where + " field scores")
    return arr


def write_predictions(table: PredictionTable, path: str | Path) -> None:
    """JSONL with class names (readable, and robust to class-list reordering)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as fh:
        for i, vid in enumerate(table.ids):
            row: dict[str, object] = {
                "id": vid,
                "dataset": table.datasets[i],
                "label": table.classes[table.labels[i]],
                "prediction": (
                    "" if table.predictions[i] == NO_ANSWER else table.classes[table.predictions[i]]
                ),
            }
            if table.backgrounds[i] >= 0:
                row["background_label"] = table.classes[table.backgrounds[i]]
            if table.scores is not None:
                row["scores"] = [float(x) for x in table.scores[i]]
            for key, values in table.clusters().items():
                if values[i]:
                    row[key] = values[i]
            if table.has_person is not None and table.has_person[i] >= 0:
                row["has_person"] = bool(table.has_person[i])
            fh.write(json.dumps(row) + "\n")
