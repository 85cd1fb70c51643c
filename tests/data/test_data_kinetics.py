from __future__ import annotations

import logging
from pathlib import Path

import pytest

from actionbias.data import (
    kinetics400_classes,
    kinetics_clip_name,
    mimetics_classes,
    read_kinetics_csv,
    read_mimetics_csv,
    write_kinetics_csv,
)
from actionbias.errors import BadInputError

CSV = """label,youtube_id,time_start,time_end,split,is_cc
abseiling,-3B32lodo2M,59,69,train,0
air drumming,--nQbRBEz2s,104,114,train,0
passing American football (in game),0Cj9fMUEEKg,4,14,val,1
"""


def touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x00fake")
    return path


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_clip_name():
    assert kinetics_clip_name("abc", 1, 11) == "abc_000001_000011"
    assert kinetics_clip_name("abc", 1.0, 11.0) == "abc_000001_000011"
    with pytest.raises(ValueError):
        kinetics_clip_name("abc", 1.5, 11)


@pytest.mark.parametrize(
    "folder",
    [
        lambda label, split: label,  # official downloader: spaces
        lambda label, split: label.replace(" ", "_"),  # MMAction2 rename_classnames.sh
        lambda label, split: f"{split}/{label}",  # split folder above class folders
        lambda label, split: f"{split}/{label.replace(' ', '_')}",
        lambda label, split: split,  # flat CVDF layout split/{clip}.mp4
        lambda label, split: "",  # flat, root = split folder
    ],
    ids=["spaces", "underscores", "split-spaces", "split-underscores", "flat-split", "flat"],
)
def test_reader_finds_clips_in_any_layout(tmp_path, folder):
    csv_path = write(tmp_path / "k400.csv", CSV)
    root = tmp_path / "videos"
    expected = {}
    for line in CSV.splitlines()[1:]:
        label, ytid, start, end, split, _ = line.rsplit(",", 5)
        clip = kinetics_clip_name(ytid, int(start), int(end))
        expected[clip] = touch(root / folder(label, split) / f"{clip}.mp4")
    manifest = read_kinetics_csv(csv_path, video_root=root, strict=True)
    assert [r.id for r in manifest] == list(expected)
    assert {r.id: Path(r.path) for r in manifest} == expected
    assert manifest.missing_media() == []


def test_record_fields(tmp_path):
    csv_path = write(tmp_path / "k400.csv", CSV)
    clip = touch(tmp_path / "abseiling" / "-3B32lodo2M_000059_000069.mp4")
    manifest = read_kinetics_csv(csv_path)  # video root defaults to the CSV's folder
    first = manifest[0]
    assert first.id == "-3B32lodo2M_000059_000069"
    assert first.path == str(clip)
    assert (first.label, first.label_id, first.split) == ("abseiling", 0, "train")
    # Downloaded clips are already trimmed: no read window, times kept in extras.
    assert first.start is None and first.end is None
    assert first.extras == {
        "youtube_id": "-3B32lodo2M",
        "time_start": 59,
        "time_end": 69,
        "is_cc": 0,
    }
    assert manifest[2].label == "passing American football (in game)"
    assert manifest[2].label_id == 208
    assert manifest.classes == kinetics400_classes()
    assert manifest.name == "k400" and manifest.source == str(csv_path)
    assert manifest.by_split("val").records == [manifest[2]]


def test_underscored_labels_get_canonical_spelling(tmp_path):
    csv_path = write(
        tmp_path / "a.csv",
        "label,youtube_id,time_start,time_end,split\n"
        "passing_American_football_(in_game),x,1,11,val\n"
        '"skiing (not slalom or crosscountry)",y,2,12,val\n',
    )
    manifest = read_kinetics_csv(csv_path)
    assert [r.label for r in manifest] == [
        "passing American football (in game)",
        "skiing (not slalom or crosscountry)",
    ]


def test_missing_media_is_reported_not_fatal(tmp_path, caplog):
    csv_path = write(tmp_path / "k400.csv", CSV)
    touch(tmp_path / "abseiling" / "-3B32lodo2M_000059_000069.mp4")
    with caplog.at_level(logging.WARNING):
        manifest = read_kinetics_csv(csv_path)
    assert len(manifest) == 3
    assert [r.id for r in manifest.missing_media()] == [
        "--nQbRBEz2s_000104_000114",
        "0Cj9fMUEEKg_000004_000014",
    ]
    assert "2 of 3 records have no media" in caplog.text
    assert "line 3" in caplog.text
    # The expected path follows the layout the found clips use.
    assert manifest[1].path == str(tmp_path / "air drumming" / "--nQbRBEz2s_000104_000114.mp4")


def test_missing_media_strict(tmp_path):
    csv_path = write(tmp_path / "k400.csv", CSV)
    touch(tmp_path / "abseiling" / "-3B32lodo2M_000059_000069.mp4")
    with pytest.raises(BadInputError, match=r"k400\.csv:line 3: media not found") as info:
        read_kinetics_csv(csv_path, strict=True)
    assert info.value.where == "line 3"


def test_zero_byte_clip_counts_as_missing(tmp_path):
    csv_path = write(tmp_path / "k400.csv", CSV)
    (tmp_path / "abseiling").mkdir()
    (tmp_path / "abseiling" / "-3B32lodo2M_000059_000069.mp4").write_bytes(b"")
    manifest = read_kinetics_csv(csv_path)
    assert manifest[0] in manifest.missing_media()


def test_untrimmed_video_fallback_sets_window(tmp_path):
    csv_path = write(tmp_path / "k.csv", "label,youtube_id,time_start,time_end,split\n")
    csv_path.write_text(csv_path.read_text() + "archery,abcdefghijk,30,40,val\n")
    full = touch(tmp_path / "raw" / "abcdefghijk.mp4")
    manifest = read_kinetics_csv(csv_path, video_root=tmp_path / "raw", strict=True)
    record = manifest[0]
    assert record.path == str(full)
    assert (record.start, record.end) == (30.0, 40.0)
    assert record.id == "abcdefghijk_000030_000040"
    # Written back with a path column, it reads back identically.
    out = tmp_path / "out.csv"
    write_kinetics_csv(manifest, out)
    assert out.read_text().splitlines()[1].endswith(",raw/abcdefghijk.mp4")
    assert read_kinetics_csv(out, strict=True).records == manifest.records
    write_kinetics_csv(manifest, out, video_root=tmp_path / "raw")
    assert out.read_text().splitlines()[1].endswith(",abcdefghijk.mp4")
    again = read_kinetics_csv(out, video_root=tmp_path / "raw", strict=True)
    assert again.records == manifest.records


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "label,youtube_id,time_start,time_end,split\n"
            "abseiling,a,1,11,train\nflying carpet,b,1,11,train\n",
            r"k\.csv:line 3: unknown class 'flying carpet'",
        ),
        (
            "label,youtube_id,time_end,split\nabseiling,a,11,train\n",
            r"k\.csv:line 1: missing column 'time_start'",
        ),
        (
            "label,youtube_id,time_start,time_end,split\n\nabseiling,a,one,11,train\n",
            r"k\.csv:line 3: time_start 'one' is not a number",
        ),
        (
            "label,youtube_id,time_start,time_end,split\nabseiling,a,1.5,11,train\n",
            r"k\.csv:line 2: time_start '1.5' is not a whole number",
        ),
        (
            "label,youtube_id,time_start,time_end,split\nabseiling,a,12,11,train\n",
            r"k\.csv:line 2: time window 12\.\.11 is invalid",
        ),
        (
            "label,youtube_id,time_start,time_end,split\nabseiling,a,1,11\n",
            r"k\.csv:line 2: expected 5 fields",
        ),
        (
            "label,youtube_id,time_start,time_end,split\n,a,1,11,train\n",
            r"k\.csv:line 2: empty label",
        ),
        ("", r"k\.csv: empty CSV file"),
        (
            "label,youtube_id,time_start,time_end\nabseiling,a,1,11\narchery,a,1,11\n",
            r"k\.csv:line 3: clip a_000001_000011 is labelled 'abseiling' on line 2",
        ),
    ],
    ids=[
        "unknown-class",
        "missing-column",
        "bad-number",
        "fractional",
        "bad-window",
        "field-count",
        "empty-label",
        "empty-file",
        "conflicting-duplicate",
    ],
)
def test_bad_input_names_file_and_line(tmp_path, text, message):
    csv_path = write(tmp_path / "k.csv", text)
    with pytest.raises(BadInputError, match=message):
        read_kinetics_csv(csv_path)


def test_exact_duplicate_row_is_skipped(tmp_path, caplog):
    csv_path = write(
        tmp_path / "k.csv",
        "label,youtube_id,time_start,time_end\nabseiling,a,1,11\nabseiling,a,1,11\n",
    )
    with caplog.at_level(logging.WARNING):
        manifest = read_kinetics_csv(csv_path)
    assert len(manifest) == 1
    assert "duplicate of line 2" in caplog.text


def test_unlabelled_test_csv(tmp_path):
    csv_path = write(tmp_path / "test.csv", "youtube_id,time_start,time_end,split\nabc,0,10,test\n")
    with pytest.raises(BadInputError, match="missing column 'label'"):
        read_kinetics_csv(csv_path)
    manifest = read_kinetics_csv(csv_path, require_label=False)
    assert manifest[0].label is None and manifest[0].label_id is None
    out = tmp_path / "out.csv"
    write_kinetics_csv(manifest, out)
    assert read_kinetics_csv(out, require_label=False).records == manifest.records


def test_split_argument_filters_or_assigns(tmp_path):
    csv_path = write(tmp_path / "k400.csv", CSV)
    assert [r.split for r in read_kinetics_csv(csv_path, split="val")] == ["val"]
    no_split = write(tmp_path / "n.csv", "label,youtube_id,time_start,time_end\nabseiling,a,1,11\n")
    assert read_kinetics_csv(no_split, split="train")[0].split == "train"


def test_round_trip_is_exact_with_extra_columns(tmp_path):
    text = (
        "label,youtube_id,time_start,time_end,split,is_cc,background_label,human_clip\n"
        "abseiling,a,1,11,test,0,archery,x/a\n"
        "passing American football (not in game),b,5,15,test,1,punching person (boxing),y/b\n"
        '"a, b",c,0,10,test,0,"with ""quotes""",z/c\n'
    )
    src = write(tmp_path / "swap.csv", text)
    manifest = read_kinetics_csv(src, classes=[*kinetics400_classes(), "a, b"])
    assert manifest[2].extras["background_label"] == 'with "quotes"'
    assert manifest[1].extras["background_label"] == "punching person (boxing)"
    assert manifest[0].extras["human_clip"] == "x/a"
    out = tmp_path / "again" / "swap.csv"
    write_kinetics_csv(manifest, out)
    assert out.read_text() == text
    again = read_kinetics_csv(out, video_root=tmp_path, classes=manifest.classes)
    assert again.records == manifest.records


def test_official_style_csv_round_trips_byte_for_byte(tmp_path):
    src = write(tmp_path / "k400.csv", CSV)
    out = tmp_path / "out.csv"
    write_kinetics_csv(read_kinetics_csv(src), out)
    # The csv module quotes nothing here; labels with spaces/parentheses stay bare.
    assert out.read_text() == CSV


def test_writer_derives_fields_from_record_id(tmp_path):
    manifest = read_kinetics_csv(write(tmp_path / "k.csv", CSV))
    for record in manifest:
        record.extras.clear()
    out = tmp_path / "out.csv"
    write_kinetics_csv(manifest, out)
    lines = out.read_text().splitlines()
    assert lines[0] == "label,youtube_id,time_start,time_end,split"
    assert lines[1] == "abseiling,-3B32lodo2M,59,69,train"


def test_custom_classes_and_sidecar_class_list(tmp_path):
    csv_path = write(
        tmp_path / "synth.csv", "label,youtube_id,time_start,time_end\nwave_hand,s0001,0,4\n"
    )
    with pytest.raises(BadInputError, match="unknown class 'wave_hand'"):
        read_kinetics_csv(csv_path)
    manifest = read_kinetics_csv(csv_path, classes=["jump", "wave_hand"])
    assert (manifest[0].label, manifest[0].label_id) == ("wave_hand", 1)
    write(tmp_path / "classes.txt", "jump\nwave_hand\n")
    assert read_kinetics_csv(csv_path).classes == ["jump", "wave_hand"]


MIMETICS = """label,youtube_id,time_start,time_end,split,is_cc
archery,0zFbEjoGlhc,6,10,test,0
archery,0zFbEjoGlhc,14,24,test,0
punching person (boxing),9qUKSCHQ3z0,57,59,test,0
skiing (not slalom or crosscountry),CGznm4YKiVU,205,206,test,0
"""


def test_mimetics_reader(tmp_path):
    csv_path = write(tmp_path / "mimetics_v1.0.csv", MIMETICS)
    manifest = read_mimetics_csv(csv_path)
    assert manifest.name == "mimetics"
    assert manifest.classes == mimetics_classes()
    assert [r.id for r in manifest][:2] == [
        "0zFbEjoGlhc_000006_000010",
        "0zFbEjoGlhc_000014_000024",
    ]
    assert [r.label_id for r in manifest] == [0, 0, 35, 40]
    assert {r.split for r in manifest} == {"test"}
    k400 = read_mimetics_csv(csv_path, classes=kinetics400_classes())
    assert [r.label_id for r in k400] == [5, 5, 259, 308]
    bad = write(tmp_path / "m2.csv", MIMETICS + "abseiling,zzzzzzzzzzz,1,2,test,0\n")
    with pytest.raises(BadInputError, match=r"m2\.csv:line 6: unknown class 'abseiling'"):
        read_mimetics_csv(bad)


def test_missing_clip_path_follows_the_found_folder_spelling(tmp_path):
    csv_path = write(
        tmp_path / "k.csv",
        "label,youtube_id,time_start,time_end\n"
        "air drumming,a,1,11\nair drumming,b,1,11\nzumba,c,1,11\n",
    )
    touch(tmp_path / "v" / "air_drumming" / "a_000001_000011.mp4")
    manifest = read_kinetics_csv(csv_path, video_root=tmp_path / "v")
    assert manifest[1].path == str(tmp_path / "v" / "air_drumming" / "b_000001_000011.mp4")
    assert manifest[2].path == str(tmp_path / "v" / "zumba" / "c_000001_000011.mp4")


def test_video_root_must_exist(tmp_path):
    csv_path = write(tmp_path / "k400.csv", CSV)
    with pytest.raises(BadInputError, match="video root is not a directory"):
        read_kinetics_csv(csv_path, video_root=tmp_path / "nope")
