"""The shared argument types: what they accept, and the message a bad value gets."""

from __future__ import annotations

import argparse

import pytest

from actionbias.argtypes import (
    fraction,
    key_values,
    non_negative_int,
    open_fraction,
    positive_int,
    seed_list,
    shard,
    truth,
)
from actionbias.errors import BadInputError


def test_counts_and_fractions_accept():
    assert positive_int("3") == 3 and non_negative_int("0") == 0
    assert fraction("0") == 0.0 and fraction("1") == 1.0 and fraction("0.25") == 0.25
    assert open_fraction("0.25") == 0.25


@pytest.mark.parametrize(
    ("parse", "bad", "message"),
    [
        (positive_int, "0", "must be >= 1"),
        (non_negative_int, "-1", "must be >= 0"),
        (positive_int, "x", "not an integer"),
        (fraction, "1.5", r"must be in \[0, 1\], got 1.5"),
        (fraction, "x", "not a number: 'x'"),
        (open_fraction, "1", "must be between 0 and 1, got 1.0"),
        (open_fraction, "0", "must be between 0 and 1"),
    ],
)
def test_counts_and_fractions_reject(parse, bad, message):
    with pytest.raises(argparse.ArgumentTypeError, match=message):
        parse(bad)


def test_shard():
    assert shard("0/1") == (0, 1) and shard("3/4") == (3, 4) and shard(" 1 / 2 ") == (1, 2)
    for bad in ("4/4", "1", "a/b", "-1/4", "0/0", ""):
        with pytest.raises(argparse.ArgumentTypeError, match="K/N"):
            shard(bad)


def test_seed_list():
    assert seed_list("0,1,2") == [0, 1, 2] and seed_list("5") == [5]
    for bad in ("0,0", "a", "-1", ""):
        with pytest.raises(argparse.ArgumentTypeError):
            seed_list(bad)


def test_key_values_json_or_text():
    pairs = ["a=1", "b=true", "c=text", " d =[1, 2]", "e=", "a=2"]
    assert key_values(pairs, "--set") == {"a": 2, "b": True, "c": "text", "d": [1, 2], "e": ""}
    assert key_values(["a= 1 ", "b=x"], "--set", parse_json=False) == {"a": "1", "b": "x"}
    assert key_values(None, "--set") == {}
    for bad in ("novalue", "=1"):
        with pytest.raises(BadInputError, match="expected KEY=VALUE") as err:
            key_values([bad], "--option")
        assert "--option" in str(err.value)


def test_the_types_as_argparse_sees_them(capsys):
    parser = argparse.ArgumentParser(prog="x")
    parser.add_argument("--shard", type=shard, default="0/1")
    parser.add_argument("--seeds", type=seed_list, default=[0])
    assert parser.parse_args([]).shard == (0, 1)
    assert parser.parse_args(["--shard", "2/3", "--seeds", "1,2"]).seeds == [1, 2]
    with pytest.raises(SystemExit) as exc:
        parser.parse_args(["--shard", "3/3"])
    assert exc.value.code == 2 and "argument --shard" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("value", "want"),
    [(True, True), (False, False), ("Yes", True), (" on ", True), ("1", True), (1, True),
     ("false", False), ("OFF", False), (0, False), ("maybe", None), ("", None), (2, None)],
)  # fmt: skip
def test_truth_reads_bools_and_their_spellings(value: object, want: bool | None) -> None:
    assert truth(value) is want
