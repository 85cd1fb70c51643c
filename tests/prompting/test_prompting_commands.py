"""`prompt-tune` and `prompt-eval` handlers and the report, called as the CLI will call them."""

from __future__ import annotations

import argparse
import json
import re

import pytest
from prompting_fakes import FRAMES, FakeOptimizer, World, expected_score

from actionbias.errors import BadInputError
from actionbias.llm import FakeOpenAIServer
from actionbias.prompting import load_tuning
from actionbias.prompting.commands import (
    add_prompt_eval_arguments,
    add_prompt_tune_arguments,
    cmd_prompt_eval,
    cmd_prompt_tune,
)
from actionbias.prompting.paper import PAPER_AUTOMATED_PROMPTS
from actionbias.prompting.report import write_prompt_report

NO_KEY = "ACTIONBIAS_TEST_PROMPT_KEY"
SECRET = "sk-test-9f8e7d6c5b4a39281706"
HOSTILE = 'Watch the person <b>moving</b> & ignore the "scene". What is the $action$?'


class HostileOptimizer(FakeOptimizer):
    """Proposes markup on step 2: the report must show it as text."""

    def __call__(self, request: dict) -> str:
        if request.get("seed") == 2:
            return f"PROMPT: {HOSTILE}"
        return super().__call__(request)


def _parse(add, argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add(parser)
    return parser.parse_args(argv)


def test_prompt_tune_command_and_report(synthact, vlm, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv(NO_KEY, SECRET)
    out = tmp_path / "tune"
    world = World(vlm, HostileOptimizer(empty_first=set(), unformatted_first=set()))
    with FakeOpenAIServer(world, api_key=SECRET) as server:
        argv = [
            "--data",
            str(synthact),
            "--model",
            f"openai:fake-vlm@{server.url}?key_env={NO_KEY}",
            "--optimizer",
            f"openai:fake-optimizer@{server.url}?key_env={NO_KEY}",
            "--out",
            str(out),
            "--iterations",
            "3",
            "--frames",
            str(FRAMES),
            "--limit",
            "12",
            "--bootstrap",
            "50",
            "--timeout",
            "5",
            "--no-progress",
        ]
        assert cmd_prompt_tune(_parse(add_prompt_tune_arguments, argv)) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["steps"] == 3 and summary["skipped_steps"] == 0
    assert "calls" in summary["scorer_calls"] and "calls" in summary["optimizer_calls"]
    result = load_tuning(out)
    assert result.config["optimizer"]["mode"] == "conversation"  # the paper's, by default
    assert (out / "llm_cache").is_dir()
    assert len(result.split.tune) == 3 and len(result.split.heldout) == 9
    best = result.best()
    assert summary["best"]["instruction"] == best.instruction
    assert summary["best"]["heldout"]["shacc"] == pytest.approx(
        expected_score(best.instruction, list(result.split.heldout))[0]
    )

    html = (out / "report.html").read_text()
    assert summary["report"] == str(out / "report.html")
    assert html.count("data:image/png;base64,") == 2
    assert "<b>moving</b>" not in html
    assert "Watch the person &lt;b&gt;moving&lt;/b&gt; &amp; ignore the &quot;scene&quot;" in html
    assert "Human-focused" in html and "Background-focused" in html and "Prefixed choices" in html
    # one table row per manual and automated prompt, the picked one marked
    assert len(re.findall(r"<tr><td>", html)) == 4 + 3
    assert html.count("picked</span>") == 1
    assert "gap (tuning - held-out)" in html
    assert "conversation mode" in html
    assert _parse(add_prompt_tune_arguments, [*argv, "--mode", "opro"]).mode == "opro"

    # a rerun of the command asks nothing new and a larger --iterations extends the search
    with FakeOpenAIServer(world, api_key=SECRET) as server:
        argv[argv.index("--model") + 1] = f"openai:fake-vlm@{server.url}?key_env={NO_KEY}"
        argv[argv.index("--optimizer") + 1] = f"openai:fake-optimizer@{server.url}?key_env={NO_KEY}"
        assert cmd_prompt_tune(_parse(add_prompt_tune_arguments, argv)) == 0
        assert server.count() == 0
        argv[argv.index("--iterations") + 1] = "4"
        assert cmd_prompt_tune(_parse(add_prompt_tune_arguments, [*argv, "--no-report"])) == 0
        assert server.count() > 0
    assert [s["step"] for s in load_tuning(out).steps] == [1, 2, 3, 4]

    # a changed search in the same folder is refused with the field named
    argv[argv.index("--limit") + 1] = "10"
    with pytest.raises(BadInputError, match="field limit"):
        cmd_prompt_tune(_parse(add_prompt_tune_arguments, argv))
    assert write_prompt_report(out, tmp_path / "again.html").is_file()
    # the key was sent (the server saw it) but is written nowhere
    for file in [*out.rglob("*"), tmp_path / "again.html"]:
        if file.is_file():
            assert SECRET not in file.read_text(errors="replace"), file


def test_prompt_eval_command(synthact, vlm, tmp_path, capsys):
    out = tmp_path / "eval"
    with FakeOpenAIServer(World(vlm, FakeOptimizer())) as server:
        args = _parse(
            add_prompt_eval_arguments,
            [
                "--data",
                str(synthact),
                "--model",
                f"openai:fake-vlm@{server.url}?key_env={NO_KEY}",
                "--out",
                str(out),
                "--frames",
                str(FRAMES),
                "--limit",
                "4",
                "--styles",
                "neutral",
                "--instruction",
                "Ignore the background. What is the person doing?",
                "--bootstrap",
                "20",
                "--no-progress",
                "--paper-prompts",
            ],
        )
        assert cmd_prompt_eval(args) == 0
    data = json.loads((out / "prompt_eval.json").read_text())
    labels = [p["label"] for p in data["prompts"]]
    assert labels == ["manual-neutral", *(f"given-{i}" for i in range(1, 22))]
    assert data["prompts"][-1]["prompt"]["question"] == PAPER_AUTOMATED_PROMPTS[-1][0]
    split = json.loads((out / "split.json").read_text())
    for row in data["prompts"]:
        for part in ("tune", "heldout"):
            shacc, sberr, _ = expected_score(row["prompt"]["question"], split[part])
            assert row[part]["shacc"] == pytest.approx(shacc)
            assert row[part]["sberr"] == pytest.approx(sberr)


def test_commands_refuse_bad_input(synthact, tmp_path):
    argv = [
        "--data",
        str(synthact),
        "--model",
        "clip:openai/clip-vit-base-patch32",
        "--optimizer",
        "openai:gpt-4.1",
        "--out",
        str(tmp_path / "x"),
    ]
    with pytest.raises(BadInputError, match="needs a video LLM"):
        cmd_prompt_tune(_parse(add_prompt_tune_arguments, argv))
    argv[3] = "openai:fake@http://127.0.0.1:9/v1"
    argv[5] = "internvl:some/model"
    with pytest.raises(BadInputError, match="optimiser must be a chat endpoint"):
        cmd_prompt_tune(_parse(add_prompt_tune_arguments, argv))
    with pytest.raises(SystemExit):
        _parse(add_prompt_tune_arguments, [*argv, "--tune-fraction", "1.5"])
    args = _parse(
        add_prompt_eval_arguments, [*argv[:4], "--out", str(tmp_path / "y"), "--styles", "loud"]
    )
    with pytest.raises(BadInputError, match="unknown style"):
        cmd_prompt_eval(args)
