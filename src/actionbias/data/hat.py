"""The HAT layout (Chung, Wu & Russakovsky, "Enabling Detailed Action Recognition
Evaluation Through Video Dataset Augmentation", NeurIPS 2022 D&B).

What we checked in the HAT repository (princetonvisualai/HAT):

* `ori/<class>/<clip>/000001.jpg ...` -- the original frames (1-based, six digits;
  the demo list `kinetics400_val_list_rawframes.txt` keys clips as
  "<class>/<clip>" with the class folder spelled with spaces, e.g.
  "bending back/05mZDSLkGQI_000007_000017").
* `seg/<class>/<clip>/000001.png ...` -- a per-frame person MASK, not segmented
  RGB: SeMask-FAPN's ADE20K "person" probability scaled to a 0-255 grayscale PNG
  (`generate.py` saves `sem_seg[12] * 255`); the Action-Swap loader thresholds it
  at > 128.
* `inp/<class>/<clip>/000001.jpg ...` -- the background-only video: the person
  removed and inpainted (E2FGVI), same frame numbering.

"Human-only" and "Action-Swap" videos are not stored; they are composed on the
fly from ori + seg (+ another clip's inp + seg), which is what `seg_dir` and
`inp_dir` in each record's extras are for.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from actionbias.data.class_names import ClassLookup, kinetics400_classes, resolve_classes
from actionbias.data.media import CLIP_NAME, VIDEO_EXTENSIONS, count_frames, report_missing
from actionbias.data.records import Manifest, VideoRecord, media_is_missing
from actionbias.errors import BadInputError

HAT_FOLDERS = ("ori", "seg", "inp")


def read_hat(
    root: str | Path,
    classes: Sequence[str] | str | Path | None = None,
    strict: bool = False,
) -> Manifest:
    """One record per clip of `root/ori/<class>/<clip>` (a frame folder or a video file).

    Record ids are "<class folder>/<clip>" as spelled on disk -- the key HAT's
    rawframe lists and Action-Swap pickles use. `extras` holds `seg_dir` and
    `inp_dir` (the matching mask and inpainted-background folders),
    `num_frames` (images in the ori folder) and, for Kinetics-named clips,
    `youtube_id`/`time_start`/`time_end`. Class folders may use spaces or
    underscores. Clips lacking frames, masks or inpainted frames are reported
    (raised with `strict=True`).
    """
    root = Path(os.path.abspath(root))
    ori = root / "ori"
    if not ori.is_dir():
        raise BadInputError(
            "no ori/ folder: expected the HAT layout ori/, seg/, inp/ "
            "with <class>/<clip>/ frame folders",
            source=root,
        )
    class_list = resolve_classes(classes, near=root / "classes.txt", default=kinetics400_classes())
    assert class_list is not None
    lookup = ClassLookup(class_list)
    records: list[VideoRecord] = []
    missing: list[tuple[str, str]] = []
    for class_entry in sorted(os.scandir(ori), key=lambda e: e.name):
        if not class_entry.is_dir() or class_entry.name.startswith("."):
            continue
        folder = class_entry.name
        label_id = lookup.index(folder, source=ori, where=f"folder {folder!r}")
        for clip_entry in sorted(os.scandir(class_entry.path), key=lambda e: e.name):
            clip, ext = os.path.splitext(clip_entry.name)
            if clip_entry.name.startswith("."):
                continue
            if clip_entry.is_dir():
                clip = clip_entry.name
            elif ext.lower() not in VIDEO_EXTENSIONS:
                continue
            key = f"{folder}/{clip}"
            extras: dict[str, object] = {
                "seg_dir": str(root / "seg" / folder / clip),
                "inp_dir": str(root / "inp" / folder / clip),
            }
            if clip_entry.is_dir():
                extras["num_frames"] = count_frames(clip_entry.path)
            match = CLIP_NAME.match(clip)
            if match:
                extras["youtube_id"] = match["ytid"]
                extras["time_start"] = int(match["start"])
                extras["time_end"] = int(match["end"])
            record = VideoRecord(
                id=key,
                path=clip_entry.path,
                label=lookup.classes[label_id],
                label_id=label_id,
                extras=extras,
            )
            for path in (record.path, extras["seg_dir"], extras["inp_dir"]):
                if media_is_missing(str(path)):
                    missing.append((f"clip {key!r}", str(path)))
                    break
            records.append(record)
    if not records:
        raise BadInputError("no clips under ori/<class>/", source=root)
    report_missing(missing, len(records), root, strict)
    return Manifest(records=records, classes=class_list, name="hat", source=str(root))


def hat_frame_path(folder: str | Path, index: int, ext: str = ".jpg") -> Path:
    """Path of 1-based frame `index` in a HAT folder (`000001.jpg`; masks use `.png`)."""
    return Path(folder) / f"{index:06d}{ext}"


def locate_clip(hat_root: str | Path, sub: str, clip: str) -> str:
    """Folder of `clip` ("class/clip" or bare "clip") under `hat_root/sub`.

    A bare clip name is searched for in every class folder; the first match in
    sorted order is returned, else the path it would have without a class folder.
    """
    base = Path(hat_root) / sub
    if "/" in clip:
        return str(base / clip)
    if base.is_dir():
        for class_entry in sorted(os.scandir(base), key=lambda e: e.name):
            candidate = Path(class_entry.path) / clip
            if class_entry.is_dir() and candidate.exists():
                return str(candidate)
    return str(base / clip)
