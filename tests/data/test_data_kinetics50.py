from __future__ import annotations

import random
from collections import Counter

import pytest

from actionbias.data import (
    Manifest,
    VideoRecord,
    build_kinetics50,
    kinetics400_classes,
    mimetics_classes,
)
from actionbias.errors import BadInputError

K400 = kinetics400_classes()


def k400_manifest(split: str, per_class: dict[str, int]) -> Manifest:
    records = []
    for label, n in per_class.items():
        for i in range(n):
            records.append(
                VideoRecord(
                    id=f"{split}{K400.index(label):03d}x{i:04d}_000000_000010",
                    path=f"/data/{split}/{label}/{i}.mp4",
                    label=label,
                    label_id=K400.index(label),
                    split=split,
                )
            )
    return Manifest(records, K400, name=f"k400-{split}", source=f"{split}.csv")


@pytest.fixture(scope="module")
def pools():
    mimetics = mimetics_classes()
    rng = random.Random(7)
    train_counts = {name: rng.randint(20, 60) for name in mimetics}
    train_counts.update({"abseiling": 50, "zumba": 40})  # not Mimetics classes: dropped
    val_counts = {name: rng.randint(3, 8) for name in mimetics}
    val_counts["yoga"] = 5
    return k400_manifest("train", train_counts), k400_manifest("val", val_counts), train_counts


def test_split_sizes_and_stratification(pools):
    train, val, counts = pools
    splits = build_kinetics50(train, val, seed=0)
    assert set(splits) == {"train", "val", "test"}
    mimetics = mimetics_classes()
    per_train = Counter(r.label for r in splits["train"])
    per_val = Counter(r.label for r in splits["val"])
    for name in mimetics:
        n = counts[name]
        assert per_val[name] == round(n * 0.2)
        assert per_train[name] + per_val[name] == n
    assert "abseiling" not in per_train and "zumba" not in per_train
    assert len(splits["test"]) == len(val) - 5  # only "yoga" (5 clips) dropped
    total = len(splits["train"]) + len(splits["val"])
    assert abs(len(splits["val"]) / total - 0.2) < 0.01


def test_relabelled_into_the_50_classes(pools):
    train, val, _ = pools
    splits = build_kinetics50(train, val)
    for split_name, manifest in splits.items():
        assert manifest.classes == mimetics_classes()
        assert manifest.name == f"kinetics50-{split_name}"
        for record in manifest:
            assert record.split == split_name
            assert manifest.classes[record.label_id] == record.label
            assert record.extras["k400_split"] == ("val" if split_name == "test" else "train")
    ids_train = {r.id for r in splits["train"]}
    ids_val = {r.id for r in splits["val"]}
    assert not ids_train & ids_val
    # The inputs are untouched.
    assert train[0].split == "train" and train[0].label_id == K400.index(train[0].label)


def test_deterministic_and_order_independent(pools):
    train, val, _ = pools
    first = build_kinetics50(train, val, seed=3)
    again = build_kinetics50(train, val, seed=3)
    assert [r.id for r in first["val"]] == [r.id for r in again["val"]]
    shuffled = Manifest(random.Random(1).sample(train.records, len(train)), train.classes)
    reordered = build_kinetics50(shuffled, val, seed=3)
    assert {r.id for r in reordered["val"]} == {r.id for r in first["val"]}
    other = build_kinetics50(train, val, seed=4)
    assert {r.id for r in other["val"]} != {r.id for r in first["val"]}


def test_val_fraction(pools):
    train, val, counts = pools
    splits = build_kinetics50(train, val, val_fraction=0.5)
    per_val = Counter(r.label for r in splits["val"])
    assert all(per_val[name] == round(counts[name] * 0.5) for name in mimetics_classes())
    with pytest.raises(BadInputError, match="val_fraction"):
        build_kinetics50(train, val, val_fraction=1.0)


def test_tiny_classes_keep_one_clip_each_side():
    train = k400_manifest("train", {"archery": 2, "bowling": 1})
    val = k400_manifest("val", {"archery": 1})
    splits = build_kinetics50(train, val)
    assert Counter(r.label for r in splits["val"]) == {"archery": 1}
    assert Counter(r.label for r in splits["train"]) == {"archery": 1, "bowling": 1}
