from __future__ import annotations

import logging
from pathlib import Path

import pytest
from data_testkit import write

from actionbias.data import (
    read_rawframe_list,
    read_slowfast_list,
    write_rawframe_list,
    write_slowfast_list,
)
from actionbias.errors import BadInputError


def touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
    return path


def frames(folder: Path, n: int) -> Path:
    for i in range(1, n + 1):
        touch(folder / f"{i:06d}.jpg")
    return folder


def test_slowfast_list_reads_and_round_trips(tmp_path):
    root = tmp_path / "videos"
    touch(root / "archery" / "a_000001_000011.mp4")
    touch(root / "bending back" / "b_000002_000012.mp4")
    lst = write(
        tmp_path / "lists" / "val.txt",
        "archery/a_000001_000011.mp4 5\n\nbending back/b_000002_000012.mp4 20\n",
    )
    manifest = read_slowfast_list(lst, root=root, strict=True)
    assert [r.id for r in manifest] == ["archery/a_000001_000011", "bending back/b_000002_000012"]
    assert [r.label for r in manifest] == ["archery", "bending back"]
    assert [r.label_id for r in manifest] == [5, 20]
    assert manifest[1].path == str(root / "bending back" / "b_000002_000012.mp4")
    assert len(manifest.classes) == 400  # labels < 400 and no class list: Kinetics-400

    out = tmp_path / "out.txt"
    write_slowfast_list(manifest, out, root=root)
    assert out.read_text() == lst.read_text().replace("\n\n", "\n")
    assert read_slowfast_list(out, root=root).records == manifest.records
    # Default root: the list's folder; media outside it is written absolute.
    elsewhere = tmp_path / "lists" / "out.txt"
    write_slowfast_list(manifest, elsewhere)
    assert elsewhere.read_text().splitlines()[0] == f"{root}/archery/a_000001_000011.mp4 5"
    again = read_slowfast_list(elsewhere)
    assert [(r.path, r.label_id) for r in again] == [(r.path, r.label_id) for r in manifest]
    assert again[0].id == f"{root}/archery/a_000001_000011"  # ids are root-relative
    write_slowfast_list(manifest, out)
    assert out.read_text().splitlines()[0] == "videos/archery/a_000001_000011.mp4 5"
    assert [r.path for r in read_slowfast_list(out)] == [r.path for r in manifest]


def test_slowfast_class_name_labels_and_csv_variant(tmp_path):
    lst = write(
        tmp_path / "l.txt", "x.mp4 playing ice hockey\nmy clips/y.mp4 air_drumming\nz.mp4,3\n"
    )
    manifest = read_slowfast_list(lst)
    assert [r.label for r in manifest] == ["playing ice hockey", "air drumming", "applauding"]
    assert manifest[1].id == "my clips/y"


def test_slowfast_custom_classes(tmp_path):
    lst = write(tmp_path / "l.txt", "a.mp4 1\nb.mp4 0\n")
    manifest = read_slowfast_list(lst, classes=["jump", "wave"])
    assert [r.label for r in manifest] == ["wave", "jump"]
    (tmp_path / "classes.txt").write_text("sit\nstand\n")
    assert [r.label for r in read_slowfast_list(lst)] == ["stand", "sit"]


@pytest.mark.parametrize(
    ("text", "kwargs", "message"),
    [
        ("a.mp4 3\nb.mp4 450\n", {}, r"l\.txt:line 2: label 450 is >= 400 and no class list"),
        ("a.mp4 3\nb.mp4 2\n", {"classes": ["x", "y"]}, r"l\.txt:line 1: label 3 out of range"),
        ("a.mp4 3\nb.mp4\n", {}, r"l\.txt:line 2: expected 2 fields"),
        ("a.mp4 flying carpet\n", {}, r"l\.txt:line 1: label 'carpet' is neither"),
        ("a.mp4 1\na.mp4 2\n", {}, r"l\.txt:line 2: 'a' is listed twice \(first on line 1\)"),
    ],
)
def test_slowfast_errors(tmp_path, text, kwargs, message):
    lst = write(tmp_path / "l.txt", text)
    with pytest.raises(BadInputError, match=message):
        read_slowfast_list(lst, **kwargs)


def test_slowfast_missing_media(tmp_path, caplog):
    lst = write(tmp_path / "l.txt", "a.mp4 1\nb.mp4 2\n")
    touch(tmp_path / "a.mp4")
    with caplog.at_level(logging.WARNING):
        manifest = read_slowfast_list(lst)
    assert [r.id for r in manifest.missing_media()] == ["b"]
    assert "1 of 2 records have no media" in caplog.text
    with pytest.raises(BadInputError, match=r"l\.txt:line 2: media not found"):
        read_slowfast_list(lst, strict=True)


HAT_LIST = (
    "archery/01xStFVYC7U_000011_000021 150 5\nbending back/05mZDSLkGQI_000007_000017 300 20\n"
)


def test_rawframe_list_with_spaces_in_paths_round_trips(tmp_path):
    ori = tmp_path / "ori"
    frames(ori / "archery" / "01xStFVYC7U_000011_000021", 3)
    frames(ori / "bending back" / "05mZDSLkGQI_000007_000017", 3)
    lst = write(tmp_path / "kinetics400_val_list_rawframes.txt", HAT_LIST)
    manifest = read_rawframe_list(lst, root=ori, strict=True)
    assert [r.id for r in manifest] == [
        "archery/01xStFVYC7U_000011_000021",
        "bending back/05mZDSLkGQI_000007_000017",
    ]
    assert [r.label for r in manifest] == ["archery", "bending back"]
    assert [r.extras for r in manifest] == [{"total_frames": 150}, {"total_frames": 300}]
    assert manifest[1].path == str(ori / "bending back" / "05mZDSLkGQI_000007_000017")

    out = tmp_path / "out.txt"
    write_rawframe_list(manifest, out, root=ori)
    assert out.read_text() == HAT_LIST
    assert read_rawframe_list(out, root=ori).records == manifest.records


def test_rawframe_writer_counts_frames_when_unknown(tmp_path):
    frames(tmp_path / "clips" / "c1", 7)
    lst = write(tmp_path / "l.txt", "clips/c1 99 2\n")
    manifest = read_rawframe_list(lst)
    del manifest[0].extras["total_frames"]
    write_rawframe_list(manifest, lst)
    assert lst.read_text() == "clips/c1 7 2\n"


def test_rawframe_offset_lists(tmp_path):
    lst = write(tmp_path / "l.txt", "some/dir-1 12 163 3\nsome/dir-2 0 20 4\n")
    with pytest.raises(BadInputError, match=r"l\.txt:line 1: one numeric field too many"):
        read_rawframe_list(lst)
    manifest = read_rawframe_list(lst, with_offset=True)
    assert manifest[0].extras == {"offset": 12, "total_frames": 163}
    out = tmp_path / "out.txt"
    write_rawframe_list(manifest, out)
    assert out.read_text() == lst.read_text()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a/b 10\n", r"line 1: expected 3 fields"),
        ("a/b ten 3\n", r"line 1: expected an integer frame field, got 'ten'"),
        ("a/b 10 3\na/c 10 -1\n", r"line 2: label -1 out of range"),
    ],
)
def test_rawframe_errors(tmp_path, text, message):
    lst = write(tmp_path / "l.txt", text)
    with pytest.raises(BadInputError, match=message):
        read_rawframe_list(lst)


def test_empty_frame_folder_is_missing(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    lst = write(tmp_path / "l.txt", "a/b 10 3\n")
    assert read_rawframe_list(lst).missing_media()[0].id == "a/b"
