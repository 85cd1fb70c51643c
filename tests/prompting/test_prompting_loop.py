"""End to end: the tuning loop against a fault-injecting OpenAI-compatible server on 127.0.0.1.

One server plays both the optimiser (``fake-optimizer``) and the video LLM
(``fake-vlm``, which finds the video from the frames it is sent); a third of
the requests fail (429, 500, 503, replies slower than the timeout, invalid
JSON, empty choices, dropped connections) and the optimiser misbehaves on
chosen steps. Every SHAcc / SBErr is checked against a recount of the fake's
answers; a run killed mid-step is resumed without asking anything twice.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from prompting_fakes import CANDIDATES, FRAMES, FakeOptimizer, World, expected_score

from actionbias.audit.mcq_prompt import HUMAN_QUESTION, NEUTRAL_QUESTION
from actionbias.audit.scorers import EndpointVLMAnswerer
from actionbias.errors import BadInputError
from actionbias.llm import ChatClient, FakeOpenAIServer
from actionbias.prompting import Optimizer, ScoringError, load_tuning, run_prompt_tuning

MAX_RETRIES = 8
TIMEOUT = 0.3  # "slow" replies take SLOW seconds, past the timeout
SLOW = 0.45
NO_KEY = "ACTIONBIAS_TEST_NO_KEY"
SRC = Path(__file__).resolve().parents[2] / "src"


def _client(url: str, model: str, cache: Path) -> ChatClient:
    return ChatClient(
        url,
        model,
        api_key_env=NO_KEY,
        timeout=TIMEOUT,
        max_retries=MAX_RETRIES,
        concurrency=4,
        jitter_seed=0,
        cache_dir=cache,
        sleep=lambda seconds: None,
    )


def _check_scores(result, split) -> None:
    """Every stored figure equals the recount of the fake's answers on that split part."""
    records = [*result.manual, *result.automated]
    assert records
    for record in records:
        for part, ids in (("tune", split.tune), ("heldout", split.heldout)):
            shacc, sberr, none = expected_score(record.instruction, list(ids))
            score = getattr(record, part)
            assert score.n == len(ids)
            assert score.shacc == pytest.approx(shacc), (record.label, part)
            assert score.sberr == pytest.approx(sberr), (record.label, part)
            assert score.no_answer == none
            assert score.objective == pytest.approx(shacc - sberr)


def _tune(answerer, optimizer, synthact, out):
    """The search of the fault test and its rerun: 5 steps on the first 16 swap videos."""
    return run_prompt_tuning(
        answerer, optimizer, synthact, out, iterations=5, limit=16, frames=FRAMES, n_boot=50
    )


def test_loop_survives_faults_and_scores_match_hand_counts(synthact, vlm, tmp_path):
    fake_optimizer = FakeOptimizer(
        empty_first={1}, unformatted_first={2}, always_garbage={3}, repeat_first={4}
    )
    with FakeOpenAIServer(
        World(vlm, fake_optimizer), fault_rate=0.35, seed=3, slow_seconds=SLOW
    ) as server:
        scorer_client = _client(server.url, "fake-vlm", tmp_path / "cache")
        optimizer_client = _client(server.url, "fake-optimizer", tmp_path / "cache")
        answerer = EndpointVLMAnswerer(scorer_client)
        optimizer = Optimizer(optimizer_client, attempts=3)
        result = _tune(answerer, optimizer, synthact, tmp_path / "tune")
        faults = server.fault_counts()
        total_requests = server.count()
        assert not server.handler_errors
    assert sum(faults.values()) > 30 and {"429", "500", "slow", "malformed", "empty"} <= set(faults)

    split = result.split
    assert len(split.tune) == 4 and len(split.heldout) == 12
    assert not set(split.tune) & set(split.heldout)
    assert [m.label for m in result.manual] == ["neutral", "prefixed", "human", "background"]
    _check_scores(result, split)

    steps = result.steps
    assert [s["step"] for s in steps] == [1, 2, 3, 4, 5]
    assert [s["status"] for s in steps] == ["ok", "ok", "skipped", "ok", "ok"]
    # malformed replies were retried within the step and logged
    assert [a["error"] is None for a in steps[0]["attempts"]] == [False, True]
    assert "empty" in steps[0]["attempts"][0]["error"]
    assert "PROMPT:" in steps[1]["attempts"][0]["error"]
    assert len(steps[2]["attempts"]) == 3 and all(a["error"] for a in steps[2]["attempts"])
    assert "already tried" in steps[3]["attempts"][0]["error"]
    # the optimiser walked down its candidate list: each proposal new, none repeated
    instructions = [r.instruction for r in result.automated]
    assert instructions == list(CANDIDATES[:4])
    # the loop found an instruction better than both seeds on the tuning split
    by_label = {m.label: m for m in result.manual}
    assert by_label["neutral"].instruction == NEUTRAL_QUESTION
    assert by_label["human"].instruction == HUMAN_QUESTION
    best = result.best()
    assert best is not None
    assert best.tune.objective > by_label["neutral"].tune.objective
    assert best.tune.objective == max(r.tune.objective for r in result.automated)

    # retries are bounded: every request is a first try or a counted retry, within the cap
    for client in (scorer_client, optimizer_client):
        stats = client.stats
        assert stats.failures == 0
        fetched = stats.calls - stats.cache_hits
        assert stats.requests == fetched + stats.total_retries
        assert stats.requests <= fetched * (1 + MAX_RETRIES)
    assert scorer_client.stats.requests + optimizer_client.stats.requests == total_requests

    # history.json holds the same and loads back
    again = load_tuning(tmp_path / "tune")
    assert again.to_json() == result.to_json()

    # a rerun with the same settings asks nothing: everything is in history.json
    with FakeOpenAIServer(World(vlm, fake_optimizer)) as server:
        answerer = EndpointVLMAnswerer(_client(server.url, "fake-vlm", tmp_path / "cache"))
        optimizer = Optimizer(_client(server.url, "fake-optimizer", tmp_path / "cache"))
        rerun = _tune(answerer, optimizer, synthact, tmp_path / "tune")
        assert server.count() == 0
    assert rerun.to_json()["steps"] == result.to_json()["steps"]


CHILD = """
import sys
sys.path.insert(0, {src!r})
from actionbias.audit.scorers import EndpointVLMAnswerer
from actionbias.llm import ChatClient
from actionbias.prompting import Optimizer, run_prompt_tuning

def client(model):
    return ChatClient({url!r}, model, api_key_env={key!r}, timeout={timeout}, max_retries=8,
                      concurrency=4, jitter_seed=0, cache_dir={cache!r}, sleep=lambda s: None)

run_prompt_tuning(EndpointVLMAnswerer(client("fake-vlm")), Optimizer(client("fake-optimizer")),
                  {data!r}, {out!r}, iterations=4, frames={frames}, limit=12, n_boot=50)
print("finished")
"""


def test_killed_run_resumes_without_repeating_paid_calls(synthact, vlm, tmp_path):
    child: dict[str, subprocess.Popen] = {}
    killed_bodies: list[str] = []
    world = World(vlm, FakeOptimizer(empty_first=set(), unformatted_first=set()))

    def handler(request: dict):
        # the optimiser's first request of step 3: kill the run before it gets an answer
        if request.get("model") == "fake-optimizer" and request.get("seed") == 3 and child:
            process = child.pop("run")
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
            killed_bodies.append(json.dumps(request, sort_keys=True))
        return world(request)

    out, cache = tmp_path / "tune", tmp_path / "cache"
    script = tmp_path / "child.py"
    script.write_text(
        textwrap.dedent(
            CHILD.format(
                src=str(SRC),
                key=NO_KEY,
                cache=str(cache),
                data=str(synthact),
                out=str(out),
                frames=FRAMES,
                timeout=TIMEOUT,
                url="{url}",
            )
        )
    )
    with FakeOpenAIServer(handler, fault_rate=0.3, seed=5, slow_seconds=SLOW) as server:
        script.write_text(script.read_text().replace("{url}", server.url))
        process = subprocess.Popen(
            [sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        child["run"] = process
        stdout, stderr = process.communicate(timeout=120)
        assert process.returncode == -signal.SIGKILL, stderr.decode()[-2000:]
        assert b"finished" not in stdout
        before = server.requests
        partial = load_tuning(out)
        assert [s["step"] for s in partial.steps] == [1, 2]

        # resume in this process: same cache, same folder
        answerer = EndpointVLMAnswerer(_client(server.url, "fake-vlm", cache))
        optimizer_client = _client(server.url, "fake-optimizer", cache)
        result = run_prompt_tuning(
            answerer,
            Optimizer(optimizer_client),
            synthact,
            out,
            iterations=4,
            frames=FRAMES,
            limit=12,
            n_boot=50,
        )
        after = server.requests[len(before) :]

    def answered(requests) -> set[str]:
        return {json.dumps(r.body, sort_keys=True) for r in requests if r.fault is None}

    assert killed_bodies  # the kill happened where intended
    repeated = (answered(before) - set(killed_bodies)) & answered(after)
    assert not repeated, f"{len(repeated)} requests answered before the kill were sent again"
    # the resumed run asked the optimiser only for steps 3 and 4
    seeds = sorted({r.body["seed"] for r in after if r.body.get("model") == "fake-optimizer"})
    assert seeds == [3, 4]
    assert [s["step"] for s in result.steps] == [1, 2, 3, 4]
    assert [r.instruction for r in result.automated] == list(CANDIDATES[:4])
    _check_scores(result, result.split)


def test_calls_failing_after_retries_stop_the_run_and_a_rerun_resumes(synthact, vlm, tmp_path):
    world = World(vlm, FakeOptimizer(empty_first=set(), unformatted_first=set()))
    options = {"iterations": 1, "frames": FRAMES, "limit": 4, "n_boot": 20}
    with FakeOpenAIServer(world, fault_rate=1.0, faults=("500",)) as server:
        client = ChatClient(
            server.url, "fake-vlm", api_key_env=NO_KEY, max_retries=2, sleep=lambda s: None
        )
        optimizer = Optimizer(_client(server.url, "fake-optimizer", tmp_path / "cache"))
        with pytest.raises(ScoringError, match="still missing after 3 rounds"):
            run_prompt_tuning(
                EndpointVLMAnswerer(client), optimizer, synthact, tmp_path / "t", **options
            )
        # one video in the tuning part: 3 rounds of (1 try + 2 retries), then it stops
        assert server.count() == 3 * 3
        assert client.stats.failures == 3
    assert load_tuning(tmp_path / "t").manual == []
    with FakeOpenAIServer(world) as server:
        answerer = EndpointVLMAnswerer(_client(server.url, "fake-vlm", tmp_path / "cache"))
        optimizer = Optimizer(_client(server.url, "fake-optimizer", tmp_path / "cache"))
        result = run_prompt_tuning(answerer, optimizer, synthact, tmp_path / "t", **options)
    assert len(result.manual) == 4 and len(result.automated) == 1
    _check_scores(result, result.split)


def test_conversation_mode_keeps_the_dialogue_and_reports_scores_back(synthact, vlm, tmp_path):
    """The paper's procedure: one dialogue; each step's request replays all earlier turns."""
    from actionbias.prompting import ConversationOptimizer
    from actionbias.prompting.report import write_prompt_report

    fake_optimizer = FakeOptimizer(
        empty_first={1}, unformatted_first={2}, always_garbage={3}, repeat_first={4}
    )
    cache, out = tmp_path / "cache", tmp_path / "tune"
    options = {"iterations": 5, "limit": 16, "frames": FRAMES, "n_boot": 50}
    with FakeOpenAIServer(
        World(vlm, fake_optimizer), fault_rate=0.3, seed=7, slow_seconds=SLOW
    ) as server:

        def tune(optimizer_kind=None):
            answerer = EndpointVLMAnswerer(_client(server.url, "fake-vlm", cache))
            kind = optimizer_kind or ConversationOptimizer
            optimizer = kind(_client(server.url, "fake-optimizer", cache))
            return run_prompt_tuning(answerer, optimizer, synthact, out, **options)

        result = tune()
        asked = [
            r.body
            for r in server.requests
            if r.fault is None and r.body.get("model") == "fake-optimizer"
        ]
        # killed before step 5 was saved: the rerun rebuilds the same dialogue from
        # history.json and takes the optimiser's reply from the cache
        history = out / "history.json"
        data = json.loads(history.read_text())
        data["steps"] = data["steps"][:4]
        history.write_text(json.dumps(data))
        before = server.count()
        again = tune()
        resent = [
            r.body for r in server.requests[before:] if r.body.get("model") == "fake-optimizer"
        ]
        # the mode is part of the search: an OPRO optimiser cannot resume this folder
        with pytest.raises(BadInputError, match="optimizer"):
            tune(Optimizer)
        assert not server.handler_errors
    assert not resent
    assert again.to_json()["steps"] == result.to_json()["steps"]

    assert result.config["optimizer"]["mode"] == "conversation"
    assert [s["status"] for s in result.steps] == ["ok", "ok", "skipped", "ok", "ok"]
    assert [r.instruction for r in result.automated] == list(CANDIDATES[:4])
    _check_scores(result, result.split)
    # the last step's first request is the whole conversation: every earlier reply,
    # verbatim, followed by its correction or by its tuning scores
    messages = next(b for b in asked if b["seed"] == 5)["messages"]
    assert "Instruction: " + NEUTRAL_QUESTION in messages[0]["content"]  # seeds, with scores
    replies = [a for s in result.steps[:4] for a in s["attempts"]]
    assert [m["content"] for m in messages[1::2]] == [a["reply"] for a in replies]
    answers = [m["content"] for m in messages[2::2]]
    assert len(answers) == len(replies)
    accepted = iter(result.automated)
    for reply, answer in zip(replies, answers, strict=True):
        if reply["error"]:
            assert answer.startswith("Your reply could not be used")
            assert reply["error"] in answer
        else:
            record = next(accepted)
            assert f"SHAcc {100 * record.tune.shacc:.2f}%" in answer
            assert f"SBErr {100 * record.tune.sberr:.2f}%" in answer
    # each step's request extends the previous one (one growing dialogue)
    firsts = [next(b for b in asked if b["seed"] == k)["messages"] for k in range(1, 6)]
    for before_step, after_step in itertools.pairwise(firsts):
        assert after_step[: len(before_step)] == before_step
        assert len(after_step) > len(before_step)
    html = write_prompt_report(out).read_text()
    assert "conversation mode" in html
