"""What each prediction row carries: swap sources and the person flag."""

from __future__ import annotations

import dataclasses

import pytest
from audit_testkit import prediction_rows, scene_cheat

from actionbias.audit.runner import run_audit
from actionbias.data import Manifest
from actionbias.errors import BadInputError
from actionbias.synth import read_synthact


def test_swap_rows_carry_their_sources_and_person_flag(synthact, tmp_path):
    swap = read_synthact(synthact)["swap"]
    records = [
        dataclasses.replace(r, extras={**r.extras, "has_person": "0" if i < 2 else "1"})
        for i, r in enumerate(swap.records)
    ]
    manifest = Manifest(records, swap.classes, name="swap", source=swap.source)
    metrics = run_audit(scene_cheat(synthact), manifest, tmp_path / "run", progress=False)
    rows = {row["id"]: row for row in prediction_rows(tmp_path / "run")}
    for i, record in enumerate(records):
        row = rows[record.id]
        assert row["human_clip"] == record.extras["human_clip"]
        assert row["background_clip"] == record.extras["background_clip"]
        assert row["has_person"] is (i >= 2)
    group = metrics["summary"]["groups"]["swap"]
    assert group["n"] == len(records) - 2 and group["no_person"]["n"] == 2
    kept = records[2:]
    repeats = [
        key
        for key in ("human_clip", "background_clip")
        if len({r.extras[key] for r in kept}) < len(kept)
    ]
    assert group["resampling"]["unit"] == (" x ".join(repeats) or "video")
    assert group["swap"]["sberr"]["unit"] == group["resampling"]["unit"]
    bad = [dataclasses.replace(records[0], extras={**records[0].extras, "has_person": "?"})]
    with pytest.raises(BadInputError, match="has_person"):
        run_audit(
            scene_cheat(synthact),
            Manifest(bad, swap.classes, name="swap"),
            tmp_path / "bad",
            progress=False,
        )
