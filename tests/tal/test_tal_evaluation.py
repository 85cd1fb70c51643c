"""Reading results files: the column-wise fast path agrees with the item-by-item reader, and
malformed items are named exactly."""

from __future__ import annotations

import json

import numpy as np
import pytest

from actionbias.errors import BadInputError
from actionbias.tal.evaluation import _read_columns, _read_items, read_predictions_json


def _write(tmp_path, results, name="pred.json"):
    path = tmp_path / name
    path.write_text(json.dumps({"results": results}))
    return path


def test_fast_path_equals_item_reader(tmp_path) -> None:
    rng = np.random.default_rng(0)
    results = {}
    for v in range(7):
        items = []
        for _ in range(int(rng.integers(0, 9))):
            s = float(rng.uniform(0, 50))
            items.append(
                {
                    "label": int(rng.integers(3)) if v % 2 else f"c{int(rng.integers(3))}",
                    "score": float(rng.random()) if rng.random() < 0.8 else 1,
                    "segment": [s, s + int(rng.integers(0, 5))],
                }
            )
        results[f"video_{v}"] = items if v != 3 else []
    names = {0: "c0", 1: "c1", 2: "c2"}
    # both label kinds in one file are the item reader's job; the fast path says no
    assert _read_columns(json.loads(json.dumps(results)), names) is None
    for v in results:
        for item in results[v]:
            if isinstance(item["label"], int):
                item["label"] = names[item["label"]]
    data = json.loads(_write(tmp_path, results).read_text())["results"]
    fast = _read_columns(data, names)
    assert fast is not None
    slow = _read_items(data, names, tmp_path / "pred.json")
    assert fast[0] == slow[0] and fast[2] == slow[2]
    np.testing.assert_array_equal(fast[1], slow[1])
    np.testing.assert_array_equal(fast[3], slow[3])
    assert len(fast[0]) == sum(len(x) for x in results.values())
    ids = {v: [dict(i, label=int(i["label"][1])) for i in items] for v, items in results.items()}
    got = read_predictions_json(_write(tmp_path, ids, "ids.json"), names)
    assert got[2] == slow[2]


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ({"label": "x", "score": True, "segment": [0, 1]}, r"\[1\]: score must be a finite"),
        ({"label": "x", "score": 0.5, "segment": [0, 1, 2]}, r"\[1\]: 'segment' must be"),
        ({"label": "x", "score": 0.5, "segment": [2, 1]}, r"\[1\]: segment \[2\.0, 1\.0\] ends"),
        ({"label": "x", "score": 0.5, "segment": [0, 10**400]}, r"\[1\]: segment bound must"),
        ({"label": "x", "score": float("nan"), "segment": [0, 1]}, r"\[1\]: score must be"),
        ({"label": "", "score": 0.5, "segment": [0, 1]}, r"\[1\]: missing 'label'"),
        ({"label_id": 9, "score": 0.5, "segment": [0, 1]}, r"\[1\]: label id 9 is not in"),
        ("x", r"\[1\]: prediction must be an object"),
    ],
    ids=["bool-score", "3-bounds", "reversed", "huge-int", "nan", "empty-label", "id", "str"],
)
def test_bad_items_are_named(tmp_path, item, message) -> None:
    good = {"label": "x", "score": 0.9, "segment": [0.0, 1.0]}
    path = _write(tmp_path, {"v": [good, item]})
    with pytest.raises(BadInputError, match=r"pred\.json:results\.v" + message):
        read_predictions_json(path, {0: "x"})


def test_label_ids_through_the_ground_truths_names(tmp_path) -> None:
    path = _write(tmp_path, {"v": [{"label_id": 0, "score": 0.5, "segment": [0, 1]}]})
    assert read_predictions_json(path, {0: "x"})[2] == ["x"]
    (tmp_path / "broken.json").write_text('{"results": {')
    with pytest.raises(BadInputError, match=r"broken\.json:line 1: invalid JSON"):
        read_predictions_json(tmp_path / "broken.json")
