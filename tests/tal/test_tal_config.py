"""`tal train` configs: precedence (defaults < file < flags < --set), checks, shipped files."""

from __future__ import annotations

import argparse

import pytest

from actionbias.cli import build_parser
from actionbias.errors import BadInputError
from actionbias.tal.config import resolve, shipped_configs


def _parse(argv: list[str]) -> argparse.Namespace:
    return build_parser("tal").parse_args(
        ["tal", "train", "--gt", "g.json", "--features", "f", "--out", "o", *argv]
    )


def _resolve(argv: list[str]) -> argparse.Namespace:
    args = _parse(argv)
    resolve(args, args.tal_train_actions, args.config, args.sets)
    return args


def test_precedence_defaults_file_flags_set(tmp_path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("epochs: 7\nlr: 3.0e-4\nembed-dim: 64\nlanguage: compact\nema_decay: 0\n")
    args = _resolve(["--config", str(cfg), "--lr", "1e-4", "--set", "embed_dim=32"])
    assert args.epochs == 7  # file over the default (35)
    assert args.lr == 1e-4  # an explicit flag over the file, even when it equals the default
    assert args.embed_dim == 32  # --set over everything
    assert args.language == "compact" and args.ema_decay == 0.0
    assert args.window == 19  # untouched default
    args = _resolve(
        ["--set", "epochs=3", "--set", "language_lr=1e-5", "--set", "ablation=fixed-0.4"]
    )
    assert (args.epochs, args.language_lr, args.ablation) == (3, 1e-5, "fixed-0.4")


@pytest.mark.parametrize(
    ("text", "sets", "message"),
    [
        ("epoch: 3\n", [], r"c\.yaml:epoch: unknown key 'epoch'"),
        ("epochs: three\n", [], r"c\.yaml:epochs: expected int, got 'three'"),
        ("epochs: 2.5\n", [], r"c\.yaml:epochs: expected int"),
        ("epochs: true\n", [], r"c\.yaml:epochs: expected a number"),
        ("language: gpt\n", [], r"c\.yaml:language: must be one of none, compact, lm"),
        ("- epochs\n", [], r"c\.yaml: a config must be a mapping"),
        ("epochs: [1\n", [], r"c\.yaml:line \d+: invalid YAML"),
        ("", ["epochs"], r"--set: expected KEY=VALUE"),
        ("", ["out=elsewhere"], r"--set:out: unknown key"),
        ("", ["lr=fast"], r"--set:lr: expected float"),
    ],
)
def test_bad_config_names_file_and_key(tmp_path, text, sets, message) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(text)
    argv = ["--config", str(cfg)] + [x for s in sets for x in ("--set", s)]
    with pytest.raises(BadInputError, match=message):
        _resolve(argv)


def test_missing_config_names_the_shipped_ones() -> None:
    with pytest.raises(BadInputError, match="thumos14_i3d"):
        _resolve(["--config", "nope.yaml"])


@pytest.mark.parametrize("name", ["thumos14_i3d", "activitynet13_tsp"])
def test_shipped_configs_are_valid_and_hold_the_papers_settings(name) -> None:
    assert name in shipped_configs()
    args = _resolve(["--config", name])
    assert (args.lr, args.language_lr, args.epochs) == (1e-4, 5e-6, 120)  # paper, section 4
    assert (args.loss_tg, args.loss_adv, args.language, args.ablation) == (
        0.1,
        0.1,
        "compact",
        None,  # full with a language model, vision-only with --set language=none
    )
    if name == "thumos14_i3d":
        assert (args.feat_stride, args.num_frames, args.max_seq_len, args.batch_size) == (
            4,
            16,
            2304,
            1,
        )
        assert (args.train_subset, args.val_subset, args.tiou) == (
            "validation",
            "test",
            "0.3:0.7:5",
        )
    else:
        assert (args.resize_length, args.file_prefix, args.batch_size) == (192, "v_", 4)
        assert args.tiou == "0.5:0.95:10"
