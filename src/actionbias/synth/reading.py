"""Read a generated SynthAct folder back through the real-format readers.

Going through `read_kinetics_csv` (not a private shortcut) is the point: code
that consumes SynthAct manifests consumes real Kinetics/Mimetics manifests the
same way. The records only gain extras pointing at what real datasets lack:
the exact mask file and the HAT ori/seg/inp folders of each clip.
"""

from __future__ import annotations

import json
from pathlib import Path

from actionbias.data import Manifest, read_kinetics_csv
from actionbias.errors import BadInputError
from actionbias.synth.config import SPLITS, SynthConfig
from actionbias.synth.plan import Plan, make_plan


def read_description(out_dir: str | Path) -> dict:
    """The parsed `synthact.json` of a generated folder."""
    path = Path(out_dir) / "synthact.json"
    if not path.is_file():
        raise BadInputError("no synthact.json: not a (complete) SynthAct folder", source=out_dir)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as err:
        raise BadInputError(f"invalid JSON: {err}", source=path) from err
    if not isinstance(data, dict) or "classes" not in data:
        raise BadInputError("missing 'classes'", source=path, where="field classes")
    return data


def read_synthact(out_dir: str | Path, strict: bool = True) -> dict[str, Manifest]:
    """One manifest per split (train, val, test, swap, mimetic).

    Each record's extras add `mask_path` (the `.npz` of exact masks, the key the
    oracle segmenter looks for), `ori_dir`/`seg_dir`/`inp_dir` (HAT folders) and
    `hat_key` ("<class>/<clip>"). `strict` raises on a clip whose video is
    missing instead of logging it.
    """
    root = Path(out_dir)
    description = read_description(root)
    classes = list(description["classes"])
    manifests: dict[str, Manifest] = {}
    for split in SPLITS:
        csv_path = root / "annotations" / f"{split}.csv"
        manifest = read_kinetics_csv(
            csv_path, video_root=root / "videos", classes=classes, split=split, strict=strict
        )
        for record in manifest.records:
            key = f"{record.label}/{record.id}"
            record.extras["hat_key"] = key
            record.extras["mask_path"] = str(root / "masks" / split / f"{record.id}.npz")
            for kind in ("ori", "seg", "inp"):
                record.extras[f"{kind}_dir"] = str(root / "hat" / kind / key)
        manifest.name = f"synthact-{split}"
        manifests[split] = manifest
    return manifests


def load_plan(out_dir: str | Path) -> Plan:
    """Re-create the plan (every clip's spec) of a generated folder from its description.

    `render_clip(plan.clips[split][i].spec)` then reproduces that clip's frames,
    background-only frames and masks bit-exactly, for splits without HAT folders too.
    """
    description = read_description(out_dir)
    try:
        raw = dict(description["config"])
        for key, value in raw.items():
            if isinstance(value, list):
                raw[key] = tuple(value)
        config = SynthConfig(**raw)
        seed = int(description["seed"])
    except (KeyError, TypeError, ValueError) as err:
        raise BadInputError(
            f"unusable config: {err}", source=Path(out_dir) / "synthact.json"
        ) from err
    return make_plan(config, seed)
