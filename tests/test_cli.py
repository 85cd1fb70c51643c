"""The command line: help everywhere, exit codes, one-line errors."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from actionbias.cli import TABLES, build_parser, command_tables, main
from actionbias.commandline import Command, assemble


def _subcommand_paths(parser) -> list[list[str]]:
    """Every sub-command path, found by walking argparse's sub-parser tree."""
    paths: list[list[str]] = []

    def walk(p, prefix: list[str]) -> None:
        for action in p._actions:
            choices = getattr(action, "choices", None)
            if isinstance(choices, dict):
                for name, child in choices.items():
                    paths.append([*prefix, name])
                    walk(child, [*prefix, name])

    walk(parser, [])
    return paths


def test_every_subcommand_has_help(capsys):
    paths = _subcommand_paths(build_parser())
    assert ["synth"] in paths and ["probe"] in paths and ["data", "check"] in paths
    assert ["synth", "card"] in paths and ["tal", "eval"] in paths and ["a2o", "run"] in paths
    for path in paths:
        with pytest.raises(SystemExit) as exc:
            main([*path, "--help"])
        assert exc.value.code == 0, path
        out = capsys.readouterr().out
        assert "usage: actionbias " + " ".join(path) in out


def test_console_script_runs_as_module():
    result = subprocess.run(
        [sys.executable, "-m", "actionbias", "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0
    assert result.stdout.startswith("actionbias ")


def test_argument_error_exits_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["synth", "--out", "x", "--correlation", "1.5"])
    assert exc.value.code == 2
    assert "must be in [0, 1]" in capsys.readouterr().err


def test_broken_video_is_bad_input_with_one_line(tmp_path: Path, capsys):
    bogus = tmp_path / "not_a_video.mp4"
    bogus.write_text("hello, I am text")
    code = main(["probe", str(bogus)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and str(bogus) in err


def test_missing_file_is_bad_input(tmp_path: Path, capsys):
    code = main(["probe", str(tmp_path / "missing.mp4")])
    assert code == 2
    assert "missing.mp4" in capsys.readouterr().err


def test_malformed_manifest_names_file_and_line(tmp_path: Path, capsys):
    csv = tmp_path / "train.csv"
    csv.write_text(
        "label,youtube_id,time_start,time_end,split\n"
        "abseiling,abc,0,10,train\n"
        "abseiling,def,notanumber,10,train\n"
    )
    code = main(["data", "check", str(csv), "--format", "kinetics"])
    err = capsys.readouterr().err
    assert code == 2
    assert "train.csv" in err and "3" in err and err.count("\n") == 1


def test_data_check_strict_missing_media(tmp_path: Path, capsys):
    csv = tmp_path / "val.csv"
    csv.write_text("label,youtube_id,time_start,time_end,split\nabseiling,abc,0,10,val\n")
    assert main(["data", "check", str(csv), "--format", "kinetics", "--root", str(tmp_path)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["records"] == 1 and report["missing_media"] == 1
    code = main(
        ["data", "check", str(csv), "--format", "kinetics", "--root", str(tmp_path), "--strict"]
    )
    assert code == 2
    assert "missing" in capsys.readouterr().err


def test_synth_tiny_then_check_and_probe(tmp_path: Path, capsys):
    out = tmp_path / "sa"
    assert main(["synth", "--out", str(out), "--preset", "tiny", "--no-progress"]) == 0
    capsys.readouterr()
    csv = out / "annotations" / "test.csv"
    assert main(["data", "check", str(csv), "--root", str(out / "videos" / "test")]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["records"] > 0 and report["missing_media"] == 0
    video = next((out / "videos" / "test").rglob("*.mp4"))
    assert main(["probe", str(video)]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["num_frames"] > 0 and info["kind"] == "video"


def _last_json(text: str) -> dict:
    """The JSON object a command printed last (Lightning may print lines before it)."""
    start = text.rindex("\n{\n") + 1 if "\n{\n" in text else 0
    return json.JSONDecoder().raw_decode(text[start:])[0]


def test_train_resume_and_evaluate_commands(tmp_path: Path, capsys):
    data = tmp_path / "sa"
    assert main(["synth", "--out", str(data), "--preset", "tiny", "--no-progress"]) == 0
    capsys.readouterr()
    run = tmp_path / "run"
    args = ["train", "--model", "slow_tiny", "--data", str(data), "--out", str(run)]
    assert main([*args, "--epochs", "1", "--set", "trainer.progress=false"]) == 0
    first = _last_json(capsys.readouterr().out)
    assert first["epochs"] == 1 and first["resumed_from"] is None
    assert main([*args, "--epochs", "2", "--set", "trainer.progress=false"]) == 0
    second = _last_json(capsys.readouterr().out)
    assert second["epochs"] == 2 and second["resumed_from"].endswith("last.ckpt")
    preds = tmp_path / "preds.jsonl"
    code = main(
        [
            "evaluate",
            second["best_checkpoint"],
            "--data",
            str(data),
            "--splits",
            "test,swap",
            "--out",
            str(preds),
            "--bootstrap",
            "50",
        ]
    )
    assert code == 0
    summary = _last_json(capsys.readouterr().out)
    assert set(summary["groups"]) == {"test", "swap"}
    assert "sberr" in summary["groups"]["swap"]["swap"]
    assert preds.is_file()


def test_the_index_names_what_each_table_holds():
    """`cli.TABLES` says which top-level commands each table adds rows to; a run builds
    only those tables, so the index must match the tables exactly."""
    everything = []
    for module, names in TABLES.items():
        table = importlib.import_module(module).COMMANDS
        assert all(isinstance(row, Command) for row in table), module
        assert {row.parent or row.name for row in table} == set(names), module
        everything += [row.name for row in table if row.parent is None]
    assert len(everything) == len(set(everything)), "a command is in two tables"
    assert len(command_tables()) == len(TABLES)


def test_a_run_builds_only_the_tables_of_its_command():
    def top_level(parser) -> set[str]:
        sub = next(a for a in parser._actions if isinstance(getattr(a, "choices", None), dict))
        return set(sub.choices)

    assert top_level(build_parser("probe")) == {"probe"}
    assert top_level(build_parser("inpaint")) == {"segment", "inpaint", "swap"}
    assert top_level(build_parser("synth")) == {"synth", "report"}  # synth card is report's
    assert top_level(build_parser("nosuchcommand")) == top_level(build_parser())


def test_assemble_moves_a_row_under_its_parent():
    def run(args) -> int:
        return 0

    card = Command("card", handler=run, help="the card", parent="synth")
    rows = assemble([(Command("synth", handler=run, help="generate"),), (card,)])
    assert [r.name for r in rows] == ["synth"]
    assert [c.name for c in rows[0].subcommands] == ["card"] and rows[0].subcommands[
        0
    ].parent is None
    assert assemble([(card,)]) == []  # its parent's table was not built: nothing to add it to


def test_a_command_says_what_it_does_in_its_handler_docstring():
    def run(args) -> int:
        """one line for the listing,
        wrapped in the source

        The rest heads the command's own --help."""
        return 0

    def bare(args) -> int:
        return 0

    assert Command("x", handler=run).texts() == (
        "one line for the listing, wrapped in the source",
        "The rest heads the command's own --help.",
    )
    assert Command("x", handler=run, help="given").texts() == ("given", None)
    with pytest.raises(TypeError, match="'x' has neither help nor a handler docstring"):
        Command("x", handler=bare).texts()


def _rows(table):
    for row in table:
        yield row
        yield from _rows(row.subcommands)


def test_every_forwarded_flag_is_a_flag_of_its_command():
    """`flags(args, "x")` reads ``args.x``: a name no parser defines would fail only
    when that command runs, so every name is checked against its command's parser
    (in the handler and the module's helpers it calls)."""
    import argparse
    import ast
    import inspect

    checked = 0
    for module in TABLES:
        loaded = importlib.import_module(module)
        tree = ast.parse(inspect.getsource(loaded))
        functions = {f.name: f for f in ast.walk(tree) if isinstance(f, ast.FunctionDef)}
        for row in _rows(loaded.COMMANDS):
            if row.handler is None:
                continue
            parser = argparse.ArgumentParser()
            row.add_arguments(parser)
            dests = {action.dest for action in parser._actions}
            todo, seen = [row.handler.__name__], set()
            while todo:
                name = todo.pop()
                if name in seen or name not in functions:
                    continue
                seen.add(name)
                for call in ast.walk(functions[name]):
                    if not isinstance(call, ast.Call) or not isinstance(call.func, ast.Name):
                        continue
                    if call.func.id == "flags":
                        for arg in call.args[1:]:
                            assert arg.value in dests, (module, row.name, arg.value)
                            checked += 1
                    todo.append(call.func.id)
    assert checked > 50
