"""Prediction files (CSV / JSONL): reading, writing and one-line errors on bad rows."""

from __future__ import annotations

import pytest

from actionbias.cli import main
from actionbias.data.predictions import NO_ANSWER, read_predictions, write_predictions
from actionbias.errors import BadInputError


def _write_csv(path, rows, header="id,label,prediction,background_label,dataset"):
    path.write_text(header + "\n" + "\n".join(rows) + "\n")
    return path


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (["a,run,walk,,test"], "line 2"),  # unknown class with explicit list
        (["a,run,run,,test", "a,run,run,,test"], "duplicate id"),
        (["a,,run,,test"], "empty label"),
    ],
)
def test_bad_rows_name_file_and_line(tmp_path, rows, message):
    path = _write_csv(tmp_path / "bad.csv", rows)
    with pytest.raises(BadInputError, match=message) as exc:
        read_predictions(path, classes=["run", "jump"])
    assert "bad.csv" in str(exc.value)


def test_missing_column_and_index_labels_without_classes(tmp_path):
    path = _write_csv(tmp_path / "p.csv", ["a,1"], header="id,label")
    with pytest.raises(BadInputError, match="prediction"):
        read_predictions(path)
    path = _write_csv(tmp_path / "q.csv", ["a,1,0,,test"])
    with pytest.raises(BadInputError, match="--classes"):
        read_predictions(path)
    table = read_predictions(path, classes=["x", "y"])
    assert table.labels.tolist() == [1] and table.predictions.tolist() == [0]


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("id,label,prediction\nv0,run,run\nv1,run\n", 3, "2 fields where the header"),
        ("id,label,prediction\nv0,run,run\n\nv1,run,run,jump\n", 4, "4 fields where the header"),
        ("id,label,prediction\nv0\n", 2, "1 field where the header"),
    ],
)
def test_csv_row_with_missing_or_extra_fields_is_bad_input(tmp_path, capsys, text, line, message):
    path = tmp_path / "preds.csv"
    path.write_text(text)
    with pytest.raises(BadInputError, match=message) as exc:
        read_predictions(path)
    assert f"preds.csv:line {line}:" in str(exc.value)
    assert main(["metrics", "--predictions", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:line {line}:" in err and message in err


def test_jsonl_row_without_a_prediction_is_bad_input(tmp_path, capsys):
    path = tmp_path / "preds.jsonl"
    path.write_text(
        '{"id": "v0", "label": "run", "prediction": "run"}\n{"id": "v1", "label": "run"}\n'
    )
    with pytest.raises(BadInputError, match=r"missing field.*prediction") as exc:
        read_predictions(path)
    assert "preds.jsonl:line 2:" in str(exc.value)
    assert main(["metrics", "--predictions", str(path)]) == 2
    assert f"{path}:line 2:" in capsys.readouterr().err


def test_an_empty_prediction_is_still_an_explicit_no_answer(tmp_path):
    csv_path = tmp_path / "p.csv"
    csv_path.write_text("id,label,prediction\nv0,run,run\nv1,run,\nv2,jump,-1\n")
    jsonl_path = tmp_path / "p.jsonl"
    jsonl_path.write_text(
        '{"id": "v0", "label": "run", "prediction": "run"}\n'
        '{"id": "v1", "label": "run", "prediction": null}\n'
        '{"id": "v2", "label": "jump", "prediction": ""}\n'
    )
    for path in (csv_path, jsonl_path):
        table = read_predictions(path, classes=["jump", "run"])
        assert table.predictions.tolist() == [1, NO_ANSWER, NO_ANSWER]


SWAP_HEADER = "id,label,prediction,background_label,dataset,human_clip,background_clip,has_person"


def test_bad_has_person_value_names_the_line(tmp_path):
    path = _write_csv(tmp_path / "p.csv", ["v0,run,run,jump,swap,h0,b0,maybe"], SWAP_HEADER)
    with pytest.raises(BadInputError, match="has_person 'maybe'") as exc:
        read_predictions(path)
    assert "p.csv:line 2 field has_person" in str(exc.value)


def test_jsonl_round_trip_keeps_every_column(tmp_path):
    path = _write_csv(
        tmp_path / "p.csv",
        ["v0,run,jump,jump,swap,h0,b0,1", "v1,jump,,,test,,,", "v2,run,run,jump,swap,h0,b1,0"],
        header=SWAP_HEADER,
    )
    table = read_predictions(path)
    out = tmp_path / "p.jsonl"
    write_predictions(table, out)
    again = read_predictions(out, table.classes)
    assert again.ids == table.ids and again.datasets == table.datasets
    assert again.predictions.tolist() == table.predictions.tolist() == [0, NO_ANSWER, 1]
    assert again.backgrounds.tolist() == table.backgrounds.tolist() == [0, -1, 0]
    assert again.human_clips == table.human_clips == ["h0", "", "h0"]
    assert again.background_clips == ["b0", "", "b1"]
    assert again.has_person.tolist() == table.has_person.tolist() == [1, -1, 0]
    assert table.without_person().tolist() == [False, False, True]
