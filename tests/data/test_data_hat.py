from __future__ import annotations

import logging
import os
import pickle
from pathlib import Path

import numpy as np
import pytest
from data_testkit import write

from actionbias.data import (
    SwapPair,
    hat_frame_path,
    kinetics400_classes,
    read_hat,
    read_hat_pairs,
    read_swap_csv,
    write_hat_pairs,
    write_swap_csv,
)
from actionbias.errors import BadInputError

ARCHERY = "archery/01xStFVYC7U_000011_000021"
BENDING = "bending back/05mZDSLkGQI_000007_000017"


def make_clip(root: Path, key: str, n: int, parts=("ori", "seg", "inp")) -> None:
    for part in parts:
        folder = root / part / key
        folder.mkdir(parents=True, exist_ok=True)
        ext = ".png" if part == "seg" else ".jpg"
        for i in range(1, n + 1):
            hat_frame_path(folder, i, ext).write_bytes(b"img")


@pytest.fixture
def hat_root(tmp_path) -> Path:
    root = tmp_path / "kinetics400"
    make_clip(root, ARCHERY, 4)
    make_clip(root, BENDING, 3)
    return root


def test_read_hat_builds_ori_records_with_seg_and_inp(hat_root):
    manifest = read_hat(hat_root, strict=True)
    assert [r.id for r in manifest] == [ARCHERY, BENDING]
    first = manifest[ARCHERY]
    assert first.path == str(hat_root / "ori" / ARCHERY)
    assert (first.label, first.label_id) == ("archery", 5)
    assert first.extras == {
        "seg_dir": str(hat_root / "seg" / ARCHERY),
        "inp_dir": str(hat_root / "inp" / ARCHERY),
        "num_frames": 4,
        "youtube_id": "01xStFVYC7U",
        "time_start": 11,
        "time_end": 21,
    }
    assert manifest[BENDING].label_id == 20
    assert manifest.missing_media() == []
    assert sorted(os.listdir(first.extras["seg_dir"]))[0] == "000001.png"


def test_read_hat_underscored_class_folders_and_png_frames(tmp_path):
    root = tmp_path / "hat"
    make_clip(root, "bending_back/clip1", 2)
    for jpg in (root / "ori" / "bending_back" / "clip1").iterdir():
        jpg.rename(jpg.with_suffix(".png"))
    manifest = read_hat(root)
    assert manifest[0].id == "bending_back/clip1"
    assert manifest[0].label == "bending back"
    assert manifest[0].extras["num_frames"] == 2
    assert "youtube_id" not in manifest[0].extras


def test_read_hat_reports_missing_masks(hat_root, caplog):
    for png in (hat_root / "seg" / BENDING).iterdir():
        png.unlink()
    with caplog.at_level(logging.WARNING):
        manifest = read_hat(hat_root)
    assert [r.id for r in manifest.missing_media()] == [BENDING]
    assert "1 of 2 records have no media" in caplog.text
    with pytest.raises(BadInputError, match=f"clip '{BENDING}': media not found"):
        read_hat(hat_root, strict=True)


def test_read_hat_errors(tmp_path, hat_root):
    with pytest.raises(BadInputError, match="no ori/ folder"):
        read_hat(tmp_path)
    make_clip(hat_root, "flying carpet/x", 1)
    with pytest.raises(BadInputError, match=r"ori:folder 'flying carpet': unknown class"):
        read_hat(hat_root)


def hat_pickle(path: Path, mapping, protocol: int = pickle.DEFAULT_PROTOCOL) -> Path:
    path.write_bytes(pickle.dumps(mapping, protocol=protocol))
    return path


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
def test_read_hat_pairs(tmp_path, hat_root, protocol):
    path = hat_pickle(
        tmp_path / "actionswap_rand_1.pickle",
        {ARCHERY: [BENDING, 3, 20], BENDING: [ARCHERY, np.int64(4), np.int64(5)]},
        protocol,
    )
    pairs = read_hat_pairs(path)
    assert [
        (p.human_clip, p.human_label, p.background_clip, p.background_label) for p in pairs
    ] == [
        (ARCHERY, "archery", BENDING, "bending back"),
        (BENDING, "bending back", ARCHERY, "archery"),
    ]
    assert pairs[1].extras == {
        "background_frames": 4,
        "human_label_id": 20,
        "background_label_id": 5,
    }
    assert type(pairs[1].extras["background_frames"]) is int
    with_dirs = read_hat_pairs(path, hat_root=hat_root)
    assert with_dirs[0].extras["human_dir"] == str(hat_root / "ori" / ARCHERY)
    assert with_dirs[0].extras["human_seg_dir"] == str(hat_root / "seg" / ARCHERY)
    assert with_dirs[0].extras["background_dir"] == str(hat_root / "inp" / BENDING)
    assert with_dirs[0].extras["background_seg_dir"] == str(hat_root / "seg" / BENDING)


def test_hat_pairs_round_trip(tmp_path):
    mapping = {ARCHERY: [BENDING, 300, 20], BENDING: [ARCHERY, 150, 5]}
    src = hat_pickle(tmp_path / "a.pickle", mapping)
    pairs = read_hat_pairs(src)
    out = tmp_path / "b.pickle"
    write_hat_pairs(pairs, out, kinetics400_classes())
    with out.open("rb") as handle:
        assert pickle.load(handle) == mapping
    assert read_hat_pairs(out) == pairs


def test_write_hat_pairs_counts_background_frames(tmp_path, hat_root):
    pair = SwapPair(ARCHERY, "archery", BENDING, "bending back")
    out = tmp_path / "p.pickle"
    with pytest.raises(BadInputError, match="unknown background frame count"):
        write_hat_pairs([pair], out)
    write_hat_pairs([pair], out, hat_root=hat_root)
    with out.open("rb") as handle:
        assert pickle.load(handle) == {ARCHERY: [BENDING, 3, 20]}


def test_bare_clip_names_resolve_through_hat_root(tmp_path, hat_root):
    path = hat_pickle(
        tmp_path / "p.pickle", {"01xStFVYC7U_000011_000021": ["05mZDSLkGQI_000007_000017", 3, 20]}
    )
    with pytest.raises(BadInputError, match="key has no class folder"):
        read_hat_pairs(path)
    (pair,) = read_hat_pairs(path, hat_root=hat_root)
    assert (pair.human_label, pair.background_label) == ("archery", "bending back")
    assert pair.extras["background_dir"] == str(hat_root / "inp" / BENDING)


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        (
            {ARCHERY: [BENDING, 3, 5]},
            r"in class folder 'bending back' but its index 5 is 'archery'",
        ),
        ({ARCHERY: [BENDING, 3]}, r"value must be \[background_clip, frame_count, class_index\]"),
        ({ARCHERY: [BENDING, "x", 20]}, "must be integers"),
        ({ARCHERY: [BENDING, 3, 400]}, "index 400 out of range"),
        ({"flying carpet/x": [BENDING, 3, 20]}, "unknown class 'flying carpet'"),
        ([1, 2], "expected a dict"),
    ],
)
def test_hat_pair_errors_name_the_key(tmp_path, mapping, message):
    path = hat_pickle(tmp_path / "bad.pickle", mapping)
    with pytest.raises(BadInputError, match=message) as info:
        read_hat_pairs(path)
    assert str(path) in str(info.value)


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def test_pair_pickles_cannot_run_code(tmp_path):
    path = hat_pickle(tmp_path / "evil.pickle", {ARCHERY: [_Evil(), 3, 20]})
    with pytest.raises(BadInputError, match="refusing to load"):
        read_hat_pairs(path)
    garbage = tmp_path / "garbage.pickle"
    garbage.write_bytes(b"not a pickle")
    with pytest.raises(BadInputError, match="not a readable pair pickle"):
        read_hat_pairs(garbage)


SWAP_CSV = (
    "human_clip,human_label,background_clip,background_label,has_person,source\n"
    "a/1,archery,b/2,bowling,1,hat\n"
    "c/3,playing guitar,d/4,skiing (not slalom or crosscountry),,places365\n"
    "e/5,drinking,f/6,writing,0,hat\n"
)


def test_swap_csv_round_trip(tmp_path):
    src = write(tmp_path / "swaps.csv", SWAP_CSV)
    pairs = read_swap_csv(src)
    assert [p.has_person for p in pairs] == [True, None, False]
    assert pairs[1].background_label == "skiing (not slalom or crosscountry)"
    assert pairs[0].extras == {"source": "hat"}
    out = tmp_path / "out.csv"
    write_swap_csv(pairs, out)
    assert out.read_text() == SWAP_CSV
    assert read_swap_csv(out) == pairs


def test_swap_csv_without_has_person_and_label_checking(tmp_path):
    src = write(
        tmp_path / "s.csv",
        "human_clip,human_label,background_clip,background_label\nx,air_drumming,y,Zumba\n",
    )
    (pair,) = read_swap_csv(src)
    assert (pair.human_label, pair.background_label, pair.has_person) == (
        "air_drumming",
        "Zumba",
        None,
    )
    (pair,) = read_swap_csv(src, classes=kinetics400_classes())
    assert (pair.human_label, pair.background_label) == ("air drumming", "zumba")
    out = tmp_path / "o.csv"
    write_swap_csv([pair], out)
    assert (
        out.read_text().splitlines()[0] == "human_clip,human_label,background_clip,background_label"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "human_clip,human_label,background_clip\nx,a,y\n",
            r"s\.csv:line 1: missing column 'background_label'",
        ),
        (
            "human_clip,human_label,background_clip,background_label,has_person\nx,archery,y,bowling,maybe\n",
            r"s\.csv:line 2: has_person 'maybe' is not a yes/no value",
        ),
        (
            "human_clip,human_label,background_clip,background_label\nx,archery,,bowling\n",
            r"s\.csv:line 2: empty background_clip",
        ),
    ],
)
def test_swap_csv_errors(tmp_path, text, message):
    src = write(tmp_path / "s.csv", text)
    with pytest.raises(BadInputError, match=message):
        read_swap_csv(src)


def test_swap_csv_unknown_class_with_class_list(tmp_path):
    src = write(
        tmp_path / "s.csv",
        "human_clip,human_label,background_clip,background_label\nx,archery,y,flying\n",
    )
    with pytest.raises(BadInputError, match=r"s\.csv:line 2: unknown class 'flying'"):
        read_swap_csv(src, classes=kinetics400_classes())
