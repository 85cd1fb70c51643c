from __future__ import annotations

import pytest

from actionbias import data
from actionbias.errors import BadInputError


def test_kinetics400_list_is_the_official_alphabetical_list():
    names = data.kinetics400_classes()
    assert len(names) == 400
    assert len(set(names)) == 400
    assert names == sorted(names)
    # Indices used by public checkpoints and by HAT's rawframe list / pair pickles.
    assert names[0] == "abseiling"
    assert names[5] == "archery"
    assert names[20] == "bending back"
    assert names[208] == "passing American football (in game)"
    assert names[259] == "punching person (boxing)"
    assert names[308] == "skiing (not slalom or crosscountry)"
    assert names[399] == "zumba"
    assert "massaging person's head" in names
    assert all(name == name.strip() and "  " not in name and "_" not in name for name in names)


def test_mimetics_classes_are_50_kinetics_names():
    names = data.mimetics_classes()
    assert len(names) == 50 == len(set(names))
    assert names == sorted(names)
    k400 = set(data.kinetics400_classes())
    assert all(name in k400 for name in names)
    assert "shooting goal (soccer)" in names
    assert "skiing (not slalom or crosscountry)" in names


def test_class_lists_are_copies():
    data.kinetics400_classes().clear()
    assert len(data.kinetics400_classes()) == 400


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("air_drumming", "air drumming"),
        ("  air   drumming ", "air drumming"),
        ("passing_American_football_(in_game)", "passing American football (in game)"),
        ("passing american football not in game", "passing American football (not in game)"),
        ("massaging_person's_head", "massaging person's head"),
        ("skiing_(not_slalom_or_crosscountry)", "skiing (not slalom or crosscountry)"),
        ("Tai Chi", "tai chi"),
        # Not a Kinetics class: only the spacing is normalised, hyphens are kept.
        ("tie-dye_shirt", "tie-dye shirt"),
    ],
)
def test_normalize_class_name(raw, expected):
    assert data.normalize_class_name(raw) == expected


def test_normalize_class_name_with_own_list():
    own = ["jumping_jacks", "waving"]
    assert data.normalize_class_name("jumping_jacks", own) == "jumping_jacks"
    assert data.normalize_class_name("Waving", own) == "waving"


def test_lookup_drops_ambiguous_lenient_keys():
    lookup = data.ClassLookup(["a (b)", "a b"])
    assert lookup.find("a (b)") == 0
    assert lookup.find("a b") == 1
    assert lookup.find("a_b") == 1  # exact after spacing normalisation
    assert lookup.find("A B") is None  # lenient key is shared, so no guess
    with pytest.raises(BadInputError, match=r"lbl\.txt:line 3: unknown class 'zzz'"):
        lookup.index("zzz", source="lbl.txt", where="line 3")


def test_lookup_rejects_duplicate_names():
    with pytest.raises(BadInputError, match="twice"):
        data.ClassLookup(["a", "b", "a"])


def test_class_list_file_formats(tmp_path):
    plain = tmp_path / "plain.txt"
    data.write_class_list(["abseiling", "air drumming"], plain)
    assert plain.read_text() == "abseiling\nair drumming\n"
    assert data.read_class_list(plain) == ["abseiling", "air drumming"]

    indexed = tmp_path / "indexed.csv"
    indexed.write_text("id,name\n0,abseiling\n1,air drumming\n\n")
    assert data.read_class_list(indexed) == ["abseiling", "air drumming"]

    bad = tmp_path / "bad.txt"
    bad.write_text("0 a\n2 b\n")
    with pytest.raises(BadInputError, match=r"bad\.txt:line 2: class index 2 out of order"):
        data.read_class_list(bad)

    dup = tmp_path / "dup.txt"
    dup.write_text("a\nb\na\n")
    with pytest.raises(BadInputError, match="listed twice"):
        data.read_class_list(dup)
