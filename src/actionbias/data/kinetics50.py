"""Kinetics-50: the 50 Mimetics classes of Kinetics-400 with a held-out val split.

Appendix A.1 of "Seeing Beyond the Scene": the K400 training set, filtered to the
50 Mimetics classes, is split 80/20 into train/val; the K400 validation set,
filtered the same way, is the test set (24,668 / 6,167 / 2,485 clips in the
paper). The paper does not say how the 80/20 split was drawn; we stratify per
class (each class keeps ~80/20, so val accuracy is not skewed by class mix) and
seed it, and the draw depends only on the seed and the clip ids -- not on the
order of the input rows -- so every machine gets the same split.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict

import numpy as np

from actionbias.data.class_names import mimetics_classes
from actionbias.data.records import Manifest, VideoRecord
from actionbias.errors import BadInputError


def build_kinetics50(
    k400_train: Manifest,
    k400_val: Manifest,
    seed: int = 0,
    val_fraction: float = 0.2,
) -> dict[str, Manifest]:
    """Split Kinetics-400 into Kinetics-50 {"train", "val", "test"} manifests.

    Labels are re-indexed into the 50 Mimetics classes; each record's `split` is
    set to its Kinetics-50 split and its original K400 split is kept in
    `extras["k400_split"]`. Per class, round(n * val_fraction) clips go to val
    (at least one when the class has two or more clips).
    """
    if not 0.0 < val_fraction < 1.0:
        raise BadInputError(f"val_fraction must be in (0, 1), got {val_fraction}")
    classes = mimetics_classes()
    train_pool = k400_train.with_classes(classes)
    test = k400_val.with_classes(classes)

    by_class: dict[int, list[VideoRecord]] = defaultdict(list)
    for record in train_pool:
        if record.label_id is not None:
            by_class[record.label_id].append(record)

    train: list[VideoRecord] = []
    val: list[VideoRecord] = []
    for label_id in sorted(by_class):
        clips = sorted(by_class[label_id], key=lambda r: r.id)
        n_val = round(len(clips) * val_fraction)
        if len(clips) >= 2:
            n_val = min(max(n_val, 1), len(clips) - 1)
        order = np.random.default_rng([seed, label_id]).permutation(len(clips))
        val_positions = set(order[:n_val].tolist())
        for position, record in enumerate(clips):
            (val if position in val_positions else train).append(record)

    def finish(records: list[VideoRecord], split: str) -> Manifest:
        out = [
            dataclasses.replace(r, split=split, extras={**r.extras, "k400_split": r.split or ""})
            for r in records
        ]
        return Manifest(
            records=out,
            classes=classes,
            name=f"kinetics50-{split}",
            source=k400_val.source if split == "test" else k400_train.source,
        )

    # Keep the input order within each output split (readers' order is file order).
    rank = {r.id: i for i, r in enumerate(train_pool)}
    train.sort(key=lambda r: rank[r.id])
    val.sort(key=lambda r: rank[r.id])
    return {
        "train": finish(train, "train"),
        "val": finish(val, "val"),
        "test": finish([r for r in test if r.label_id is not None], "test"),
    }
