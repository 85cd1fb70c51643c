"""The forms of data an audit reads (`load_audit_data`)."""

from __future__ import annotations

import pytest

from actionbias.audit.audit_data import load_audit_data
from actionbias.data import Manifest
from actionbias.errors import BadInputError
from actionbias.synth import read_synthact


def test_load_audit_data_forms(synthact, tmp_path):
    data = load_audit_data(synthact, ["swap"])
    assert [g for g, _ in data.groups] == ["swap"] and len(data.classes) == 6
    csv_data = load_audit_data(synthact / "annotations" / "mimetic.csv", root=synthact / "videos")
    assert [g for g, _ in csv_data.groups] == ["mimetic"]
    assert csv_data.groups[0][1].missing_media() == []
    plain = load_audit_data(synthact / "annotations" / "test.csv", root=synthact / "videos")
    assert [g for g, _ in plain.groups] == ["test"]
    with pytest.raises(BadInputError, match="no split 'nope'"):
        load_audit_data(synthact, ["nope"])
    with pytest.raises(BadInputError, match="not found"):
        load_audit_data(tmp_path / "missing")


def test_load_audit_data_from_named_manifests(synthact):
    """A mapping of groups is taken as given (e.g. a held-out half of the swap split)."""
    splits = read_synthact(synthact)
    half = Manifest(splits["swap"].records[::2], splits["swap"].classes, name="swap")
    data = load_audit_data({"test": splits["test"], "swap": half})
    assert [g for g, _ in data.groups] == ["test", "swap"]
    assert len(data.groups[1][1]) == len(half) and data.info["records"]["swap"] == len(half)
    other = Manifest(splits["test"].records, list(reversed(splits["test"].classes)))
    with pytest.raises(BadInputError, match="another class list"):
        load_audit_data({"test": splits["test"], "odd": other})
