from __future__ import annotations

import json

import pytest

from actionbias.data import (
    Segment,
    TemporalAnnotations,
    VideoAnnotation,
    read_activitynet_json,
    write_activitynet_json,
)
from actionbias.errors import BadInputError

THUMOS_STYLE = {
    "version": "Thumos14-30fps",
    "database": {
        "video_validation_0000051": {
            "subset": "Validation",
            "duration": 169.86,
            "fps": 30.0,
            "annotations": [
                {
                    "label": "Billiards",
                    "segment": [82.3, 83.1],
                    "segment(frames)": [2469.0, 2494.0],
                    "label_id": 2,
                },
                {"label": "Diving", "segment": [90.0, 95.5], "label_id": 7},
            ],
        },
        "video_test_0000004": {
            "subset": "Test",
            "duration": 33.4,
            "fps": 25.0,
            "annotations": [{"label": "Billiards", "segment": [0.2, 1.1], "label_id": 2}],
        },
    },
}

ANET_STYLE = {
    "taxonomy": [{"nodeName": "Root", "nodeId": 0, "parentId": None}],
    "version": "VERSION 1.3",
    "database": {
        "abc": {
            "subset": "training",
            "duration": 120,
            "resolution": "1280x720",
            "url": "https://www.youtube.com/watch?v=abc",
            "annotations": [{"label": "Long jump", "segment": [3, 12.5]}],
        },
        "xyz": {"subset": "testing", "duration": 60.2, "annotations": []},
    },
}


def write_json(tmp_path, data, name="ann.json"):
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize("data", [THUMOS_STYLE, ANET_STYLE], ids=["actionformer", "activitynet"])
def test_round_trip_keeps_the_json_content(tmp_path, data):
    ann = read_activitynet_json(write_json(tmp_path, data))
    out = tmp_path / "out.json"
    write_activitynet_json(ann, out)
    assert json.loads(out.read_text()) == data
    assert read_activitynet_json(out).videos == ann.videos


def test_fields_fps_and_duration_per_video(tmp_path):
    ann = read_activitynet_json(write_json(tmp_path, THUMOS_STYLE))
    assert len(ann) == 2 and ann.version == "Thumos14-30fps"
    video = ann["video_validation_0000051"]
    assert (video.subset, video.duration, video.fps) == ("Validation", 169.86, 30.0)
    assert ann["video_test_0000004"].fps == 25.0
    assert video.segments[0] == Segment(
        82.3, 83.1, "Billiards", 2, {"segment(frames)": [2469.0, 2494.0]}
    )
    assert ann.label_map() == {"Billiards": 2, "Diving": 7}
    assert ann.classes() == ["Billiards", "Diving"]


def test_subset_filter_is_case_insensitive(tmp_path):
    path = write_json(tmp_path, THUMOS_STYLE)
    assert [v.id for v in read_activitynet_json(path, subset="validation")] == [
        "video_validation_0000051"
    ]
    assert len(read_activitynet_json(path, subset=["validation", "TEST"])) == 2
    anet = read_activitynet_json(write_json(tmp_path, ANET_STYLE, "a.json"))
    assert anet["abc"].fps is None and anet["abc"].extras["resolution"] == "1280x720"
    assert anet.label_map() == {"Long jump": 0}  # no label_id in the file: sorted names
    assert anet.extras["taxonomy"][0]["nodeName"] == "Root"


def test_subset_keeps_the_whole_files_classes(tmp_path):
    """Label ids index every class of the file: a subset lacking a class must not renumber."""
    thumos = write_json(tmp_path, THUMOS_STYLE)
    test = read_activitynet_json(thumos, subset="test")
    assert {s.label for v in test for s in v.segments} == {"Billiards"}
    assert test.label_map() == {"Billiards": 2, "Diving": 7}
    assert test.num_classes() == 8  # ids 0..7: a classifier must accept id 7
    anet = dict(ANET_STYLE, database=dict(ANET_STYLE["database"]))
    anet["database"]["def"] = {
        "subset": "testing",
        "duration": 9.0,
        "annotations": [{"label": "Archery", "segment": [1, 2]}],
    }
    ann = read_activitynet_json(write_json(tmp_path, anet, "a.json"))
    names = {"Archery": 0, "Long jump": 1}  # sorted names of the whole file
    assert ann.label_map() == names
    assert ann.by_subset("training").label_map() == names
    assert read_activitynet_json(tmp_path / "a.json", subset="training").num_classes() == 2


def test_write_built_annotations(tmp_path):
    ann = TemporalAnnotations(
        videos=[VideoAnnotation("v1", "training", 10.0, 30.0, [Segment(1.0, 2.5, "jump", 0)])],
        version="synthact-1",
    )
    out = tmp_path / "sub" / "synth.json"
    write_activitynet_json(ann, out)
    assert json.loads(out.read_text()) == {
        "version": "synthact-1",
        "database": {
            "v1": {
                "subset": "training",
                "duration": 10.0,
                "fps": 30.0,
                "annotations": [{"label": "jump", "segment": [1.0, 2.5], "label_id": 0}],
            }
        },
    }


def broken(path_value):
    data = json.loads(json.dumps(THUMOS_STYLE))
    video = data["database"]["video_test_0000004"]
    key, value = path_value
    if key == "segment":
        video["annotations"][0]["segment"] = value
    elif key == "label_id":
        video["annotations"][0]["label_id"] = value
    else:
        video[key] = value
    return data


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            broken(("segment", [5.0, 1.0])),
            r"database\.video_test_0000004\.annotations\[0\]: segment \[5\.0, 1\.0\]",
        ),
        (broken(("segment", [1.0])), r"annotations\[0\]: 'segment' must be \[start, end\]"),
        (broken(("label_id", 3)), r"label 'Billiards' has label_id 3 here but 2 at"),
        (broken(("label_id", -1)), r"annotations\[0\]: label_id must be an integer >= 0"),
        (
            broken(("duration", "long")),
            r"database\.video_test_0000004\.duration: duration must be a finite",
        ),
        (broken(("fps", 0)), r"duration must be >= 0 and fps > 0"),
        ({"version": "x"}, r"ann\.json:field database"),
    ],
    ids=[
        "reversed",
        "short-segment",
        "label-id-clash",
        "negative-id",
        "bad-duration",
        "zero-fps",
        "no-database",
    ],
)
def test_errors_name_file_and_location(tmp_path, data, message):
    with pytest.raises(BadInputError, match=message):
        read_activitynet_json(write_json(tmp_path, data))


def test_invalid_json(tmp_path):
    path = tmp_path / "ann.json"
    path.write_text('{"database": {\n  "a": }')
    with pytest.raises(BadInputError, match=r"ann\.json:line 2: invalid JSON"):
        read_activitynet_json(path)
