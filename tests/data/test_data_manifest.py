from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from actionbias.data import (
    Manifest,
    VideoRecord,
    detect_format,
    kinetics400_classes,
    load_manifest,
    mimetics_classes,
)
from actionbias.errors import BadInputError


def rec(
    i: str, label: str | None, split: str | None = None, path: str = "/nope", **extras
) -> VideoRecord:
    classes = ["jump", "run", "wave"]
    return VideoRecord(
        i, path, label, None if label is None else classes.index(label), split=split, extras=extras
    )


@pytest.fixture
def manifest() -> Manifest:
    return Manifest(
        [
            rec("a", "jump", "train"),
            rec("b", "wave", "val"),
            rec("c", "jump", "train"),
            rec("d", None, "test"),
        ],
        ["jump", "run", "wave"],
        name="toy",
        source="toy.csv",
    )


def test_container_protocol(manifest):
    assert len(manifest) == 4
    assert [r.id for r in manifest] == ["a", "b", "c", "d"]
    assert manifest[1].id == "b" and manifest[-1].id == "d"
    assert manifest["c"] is manifest.records[2]
    with pytest.raises(KeyError):
        manifest["zzz"]
    part = manifest[1:3]
    assert isinstance(part, Manifest) and [r.id for r in part] == ["b", "c"]
    assert part.classes == manifest.classes and part.name == "toy"


def test_splits_counts_and_class_index(manifest):
    assert manifest.splits() == ["train", "val", "test"]
    assert [r.id for r in manifest.by_split("train")] == ["a", "c"]
    assert len(manifest.by_split("nope")) == 0
    assert manifest.label_counts() == {"jump": 2, "wave": 1}
    assert manifest.class_index("Wave") == 2
    with pytest.raises(BadInputError, match=r"toy\.csv: unknown class 'swim'"):
        manifest.class_index("swim")
    assert [r.id for r in manifest.filter(lambda r: r.label == "jump")] == ["a", "c"]


def test_duplicate_ids_rejected():
    with pytest.raises(BadInputError, match="duplicate record id 'a'"):
        Manifest([rec("a", "jump"), rec("a", "run")], ["jump", "run", "wave"])


def test_with_classes_remaps_and_drops(manifest):
    remapped = manifest.with_classes(["wave", "jump"])
    assert [(r.id, r.label_id) for r in remapped] == [("a", 1), ("b", 0), ("c", 1), ("d", None)]
    assert manifest[0].label_id == 0  # original untouched
    narrowed = manifest.with_classes(["wave"])
    assert [r.id for r in narrowed] == ["b", "d"]
    with pytest.raises(BadInputError, match="unknown class 'jump'"):
        manifest.with_classes(["wave"], drop_unknown=False)


def test_missing_media_checks_path_and_media_extras(tmp_path):
    video = tmp_path / "v.mp4"
    video.write_bytes(b"x")
    empty_dir = tmp_path / "empty"
    empty_dir.mkdir()
    frames = tmp_path / "frames"
    frames.mkdir()
    (frames / "000001.jpg").write_bytes(b"x")
    manifest = Manifest(
        [
            rec("ok", "jump", path=str(video), seg_dir=str(frames), note="not a path"),
            rec("gone", "jump", path=str(tmp_path / "gone.mp4")),
            rec("empty-dir", "jump", path=str(empty_dir)),
            rec("bad-seg", "jump", path=str(frames), seg_dir=str(tmp_path / "no-seg")),
        ],
        ["jump", "run", "wave"],
    )
    assert [r.id for r in manifest.missing_media()] == ["gone", "empty-dir", "bad-seg"]


# ---- load_manifest ---------------------------------------------------------------------


def make_all_formats(tmp: Path) -> dict[str, Path]:
    (tmp / "k.csv").write_text("label,youtube_id,time_start,time_end,split\narchery,a,1,11,val\n")
    (tmp / "mimetics_v1.0.csv").write_text(
        "label,youtube_id,time_start,time_end,split,is_cc\narchery,b,1,3,test,0\n"
    )
    (tmp / "videos.txt").write_text("archery/a.mp4 5\n")
    (tmp / "spaces.txt").write_text("bending back/a.mp4 20\n")
    (tmp / "frames.txt").write_text("bending back/x_000001_000011 30 20\n")
    (tmp / "videos.csv").write_text("archery/a.mp4,5\n")
    hat = tmp / "hat"
    (hat / "ori" / "archery" / "c1").mkdir(parents=True)
    (hat / "ori" / "archery" / "c1" / "000001.jpg").write_bytes(b"x")
    return {
        "kinetics": tmp / "k.csv",
        "mimetics": tmp / "mimetics_v1.0.csv",
        "slowfast": tmp / "videos.txt",
        "slowfast-spaces": tmp / "spaces.txt",
        "slowfast-csv": tmp / "videos.csv",
        "rawframes": tmp / "frames.txt",
        "hat": hat,
    }


def test_detect_and_load_every_format(tmp_path):
    paths = make_all_formats(tmp_path)
    for expected, path in paths.items():
        assert detect_format(path) == expected.split("-")[0], expected
    assert load_manifest(paths["kinetics"])[0].label_id == 5
    mimetics = load_manifest(paths["mimetics"])
    assert mimetics.classes == mimetics_classes() and mimetics[0].label_id == 0
    assert load_manifest(paths["slowfast-spaces"])[0].label == "bending back"
    assert load_manifest(paths["rawframes"])[0].extras["total_frames"] == 30
    hat = load_manifest(paths["hat"])
    assert hat[0].id == "archery/c1" and hat.classes == kinetics400_classes()
    # An explicit format and reader options pass through.
    as_k400 = load_manifest(paths["mimetics"], format="kinetics400", video_root=tmp_path)
    assert as_k400[0].label_id == 5


def test_load_manifest_errors(tmp_path):
    (tmp_path / "a.json").write_text("{}")
    with pytest.raises(BadInputError, match="read_activitynet_json"):
        load_manifest(tmp_path / "a.json")
    (tmp_path / "p.pickle").write_bytes(pickle.dumps({}))
    with pytest.raises(BadInputError, match="read_hat_pairs"):
        load_manifest(tmp_path / "p.pickle")
    (tmp_path / "s.csv").write_text("human_clip,human_label,background_clip,background_label\n")
    with pytest.raises(BadInputError, match="read_swap_csv"):
        load_manifest(tmp_path / "s.csv")
    (tmp_path / "empty.txt").write_text("\n\n")
    with pytest.raises(BadInputError, match="empty file"):
        load_manifest(tmp_path / "empty.txt")
    (tmp_path / "plain").mkdir()
    with pytest.raises(BadInputError, match="not a HAT root"):
        load_manifest(tmp_path / "plain")
    with pytest.raises(BadInputError, match="unknown manifest format 'parquet'"):
        load_manifest(tmp_path / "empty.txt", format="parquet")
    with pytest.raises(BadInputError, match="file not found"):
        load_manifest(tmp_path / "absent.txt")


def test_load_manifest_accepts_root_or_video_root(tmp_path):
    paths = make_all_formats(tmp_path)
    media = tmp_path / "media"
    (media / "archery").mkdir(parents=True)
    (media / "archery" / "a_000001_000011.mp4").write_bytes(b"x")
    (media / "archery" / "a.mp4").write_bytes(b"x")
    for key in ("root", "video_root"):
        assert load_manifest(paths["kinetics"], **{key: media}).missing_media() == []
        assert load_manifest(paths["slowfast"], **{key: media}).missing_media() == []
    assert len(load_manifest(paths["hat"], root=paths["hat"])) == 1
    with pytest.raises(BadInputError, match="HAT manifest is read from its root folder"):
        load_manifest(paths["hat"], root=media)
    with pytest.raises(BadInputError, match="disagree"):
        load_manifest(paths["kinetics"], root=media, video_root=tmp_path)
