"""LLM policies end to end against a local OpenAI-compatible server playing the agent."""

from __future__ import annotations

import json
import re
from functools import partial
from pathlib import Path

import pytest
from a2o_testkit import ToyEnv

from actionbias.a2o.llm_policy import LLMPolicy
from actionbias.a2o.loop import read_history, run_icrl
from actionbias.a2o.policies import PolicyUnavailable, PromptPoolPolicy, StaticPromptPolicy
from actionbias.a2o.task import TaskDescription
from actionbias.llm import ChatClient, FakeHTTPError, FakeOpenAIServer

USEFUL = {"jump": ["person", "leg", "floor"], "throw": ["person", "arm", "ball"]}
CANDIDATES = ["person", "leg", "arm", "floor", "ball", "head"]
HISTORY_ENTRY = re.compile(r"Prompts: (\[.*\])\n\nOverall Accuracy: ([0-9.]+)%")


toy_env = partial(ToyEnv, USEFUL, seconds=0.1)


def agent_reply(prompt: str) -> str:
    """An 'LLM' that reads Listing 2's history: best set so far plus one new candidate."""
    tried = [(float(acc), json.loads(objs)) for objs, acc in HISTORY_ENTRY.findall(prompt)]
    if not tried:
        return "person"
    best = max(tried, key=lambda t: t[0])[1]
    new = next(c for c in CANDIDATES if c not in best)
    return "\n".join([*best, new])


def first_user_text(request: dict) -> str:
    return request["messages"][0]["content"]


def make_client(server: FakeOpenAIServer, cache: Path, retries: int = 3) -> ChatClient:
    return ChatClient(
        server.url,
        "fake-model",
        api_key_env=None,
        timeout=5,
        max_retries=retries,
        cache_dir=cache,
        sleep=lambda s: None,
    )


@pytest.fixture
def task() -> TaskDescription:
    return TaskDescription("toy", list(USEFUL), detector="OWLv2", max_objects=4)


def test_llm_policy_reads_history_and_improves(tmp_path: Path, task: TaskDescription) -> None:
    with FakeOpenAIServer(lambda r: agent_reply(first_user_text(r))) as server:
        server.inject("500", "429")  # transient faults: the client's retries absorb them
        policy = LLMPolicy(make_client(server, tmp_path / "cache"), temperature=0.7)
        env = toy_env()
        result = run_icrl(policy, env, task, tmp_path / "run", iterations=4)
        requests = [r for r in server.chat_requests() if r.fault is None]
        assert server.fault_counts() == {"500": 1, "429": 1}
    assert env.calls == [
        ["person"],
        ["person", "leg"],
        ["person", "leg", "arm"],
        ["person", "leg", "arm", "floor"],
    ]
    assert result.best.objects == ["person", "leg", "arm", "floor"]
    assert result.best.accuracy == pytest.approx(5 / 6)
    # The prompt of iteration 3 holds iterations 1-2 with their accuracies (Listing 2 format).
    third = requests[2].text
    t1, t2 = result.trials[0], result.trials[1]
    assert f"### Iteration 1\nPrompts: {json.dumps(t1.objects)}" in third
    assert f"Overall Accuracy: {100 * t1.accuracy:.3f}%" in third
    assert f"Overall Accuracy: {100 * t2.accuracy:.3f}%" in third
    assert f"jump: {100 * t2.classwise['jump']:.2f}%" in third
    assert "### Iteration 3" not in third
    assert "(OWLv2-friendly)" in third
    assert [r.body["seed"] for r in requests] == [1, 2, 3, 4]
    assert all(r.body["temperature"] == 0.7 for r in requests)
    assert result.trials[0].extra["policy"]["replies"][0]["reply"] == "person"
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["policy"]["model"] == "fake-model" and config["policy"]["kind"] == "llm"
    assert "127.0.0.1" not in json.dumps(config)


def test_malformed_replies_are_re_asked_then_fail(tmp_path: Path, task: TaskDescription) -> None:
    def handler(request: dict) -> str:
        seed = request["seed"]
        correcting = len(request["messages"]) > 1
        if seed == 2 and not correcting:
            return "Here you go: person, leg"
        if seed == 3:  # never usable: the iteration fails after `attempts` replies
            return "1. person and leg\n2. arm/ball"
        return agent_reply(first_user_text(request))

    with FakeOpenAIServer(handler) as server:
        policy = LLMPolicy(make_client(server, tmp_path / "cache"), attempts=2)
        result = run_icrl(policy, toy_env(), task, tmp_path / "run", iterations=4)
        requests = server.chat_requests()
    seeds = [r.body["seed"] for r in requests]
    assert seeds == [1, 2, 2, 3, 3, 4]
    correction = requests[2].body["messages"]
    assert [m["role"] for m in correction] == ["user", "assistant", "user"]
    assert correction[1]["content"] == "Here you go: person, leg"
    assert "has a comma" in correction[2]["content"]
    status = [t.status for t in result.trials]
    assert status == ["ok", "ok", "failed", "ok"]
    assert "no usable object list after 2 replies" in result.trials[2].error
    assert result.trials[1].objects == ["person", "leg"]
    replies = result.trials[1].extra["policy"]["replies"]
    assert [r["error"] is None for r in replies] == [False, True]
    # The failed iteration is shown to the LLM as such.
    assert "Prompts: []\n\nResult: failed (policy: iteration 3" in requests[-1].text


def test_outage_then_resume_from_cache(tmp_path: Path, task: TaskDescription) -> None:
    state = {"down": False}

    def handler(request: dict) -> str:
        if state["down"]:
            raise FakeHTTPError(503, "overloaded")
        return agent_reply(first_user_text(request))

    with FakeOpenAIServer(handler) as server:
        # A kill during iteration 2's training: its LLM reply is in the cache already.
        with pytest.raises(KeyboardInterrupt):
            run_icrl(LLMPolicy(make_client(server, tmp_path / "cache")), toy_env("02"), task,
                     tmp_path / "run", iterations=3)  # fmt: skip
        assert server.count() == 2
        state["down"] = True
        with pytest.raises(PolicyUnavailable, match="rerun the same command"):
            run_icrl(LLMPolicy(make_client(server, tmp_path / "cache", retries=1)), toy_env(),
                     task, tmp_path / "run", iterations=3)  # fmt: skip
        assert server.count() == 2 + 2  # iteration 2 from the cache; iteration 3: 1 + 1 retry
        assert [t.iteration for t in read_history(tmp_path / "run")] == [1, 2]
        state["down"] = False
        env = toy_env()
        result = run_icrl(LLMPolicy(make_client(server, tmp_path / "cache")), env, task,
                          tmp_path / "run", iterations=3)  # fmt: skip
        assert server.count() == 5
    assert env.calls == [["person", "leg", "arm"]]
    assert [t.iteration for t in result.trials] == [1, 2, 3]


def test_static_prompts_sample_without_history(tmp_path: Path, task: TaskDescription) -> None:
    sets = {1: "person\nleg", 2: "arm\nball", 3: "person\nfloor"}
    with FakeOpenAIServer(lambda r: sets[r["seed"]]) as server:
        policy = StaticPromptPolicy(make_client(server, tmp_path / "cache"))
        env = toy_env()
        result = run_icrl(policy, env, task, tmp_path / "run", iterations=3)
        requests = server.chat_requests()
        with pytest.raises(ValueError, match="temperature"):
            StaticPromptPolicy(make_client(server, tmp_path / "c2"), temperature=0)
    assert env.calls == [["person", "leg"], ["arm", "ball"], ["person", "floor"]]
    assert all("### Iteration" not in r.text for r in requests)
    assert all("(none yet" in r.text for r in requests)
    assert all(r.body["temperature"] > 0 for r in requests)
    assert [r.body["seed"] for r in requests] == [1, 2, 3]
    assert result.best.objects == ["person", "leg"]


def test_prompt_pool_enumerates_then_combines(tmp_path: Path, task: TaskDescription) -> None:
    def handler(request: dict) -> str:
        text = first_user_text(request)
        if "Candidate concepts" in text:
            return (
                '["person", "leg"]\n["Arm", "ball"]\nnot json\n'
                '["person", "leg"]\n["floor", "and more"]\n["floor"]'
            )
        assert "List the visual concepts" in text
        return "Person\nleg\narm\nball\nfloor\nNote: these are good ones"

    with FakeOpenAIServer(handler) as server:
        policy = PromptPoolPolicy(make_client(server, tmp_path / "cache"), combinations=3)
        env = toy_env()
        result = run_icrl(policy, env, task, tmp_path / "run", iterations=3)
        assert server.count() == 2
        combos_prompt = server.chat_requests()[1].text
    assert 'Candidate concepts: ["person", "leg", "arm", "ball", "floor"]' in combos_prompt
    assert "Propose 3 different plausible combinations" in combos_prompt
    assert env.calls == [["person", "leg"], ["arm", "ball"], ["floor"]]
    assert result.trials[0].extra["policy"]["pool"] == ["person", "leg", "arm", "ball", "floor"]
    assert result.trials[2].policy_note.endswith("combination 3/3")


@pytest.mark.parametrize(
    ("backend", "options", "label"),
    [
        ("owlv2", {}, "OWLv2"),
        ("grounding-dino", {}, "Grounding DINO"),
        ("pose", {}, "MediaPipe Pose"),
        ("synth-oracle", {}, "SynthAct oracle masks"),
    ],
)
def test_prompt_names_the_detector_that_makes_the_maps(
    tmp_path: Path, backend: str, options: dict, label: str
) -> None:
    """The default task names Grounded SAM2; the LLM must read the maps' real detector."""
    from actionbias.a2o.environment import TrainEnvironment
    from actionbias.a2o.maps import MapStore
    from actionbias.data import Manifest, VideoRecord

    store = MapStore(backend, **options)  # builds the backend; no model is loaded
    assert store.detector == label
    records = [VideoRecord(f"v{i}", f"v{i}.mp4", c, i) for i, c in enumerate(USEFUL)]
    env = TrainEnvironment(Manifest(records, list(USEFUL)), Manifest(records, list(USEFUL)), store)
    assert env.detector == label
    env.evaluate = toy_env().evaluate  # type: ignore[method-assign]  # no training here
    default = TaskDescription("toy", list(USEFUL), max_objects=4)  # detector: Grounded SAM2
    assert default.detector == "Grounded SAM2"
    with FakeOpenAIServer(lambda r: agent_reply(first_user_text(r))) as server:
        policy = LLMPolicy(make_client(server, tmp_path / "cache"))
        run_icrl(policy, env, default, tmp_path / "run", iterations=2)
        prompts = [r.text for r in server.chat_requests() if r.fault is None]
    assert len(prompts) == 2
    for prompt in prompts:
        assert "Grounded SAM2" not in prompt
        assert f"open-vocabulary object detector uses {label}." in prompt
        assert f"({label}-friendly)" in prompt
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["task"]["detector"] == label


def test_a_detector_name_chosen_by_the_caller_is_kept(tmp_path: Path) -> None:
    env = toy_env()
    env.detector = "OWLv2"  # type: ignore[attr-defined]
    task = TaskDescription("toy", list(USEFUL), detector="my detector", max_objects=4)
    with FakeOpenAIServer(lambda r: agent_reply(first_user_text(r))) as server:
        run_icrl(LLMPolicy(make_client(server, tmp_path / "c")), env, task, tmp_path / "r", 1)
        (prompt,) = [r.text for r in server.chat_requests() if r.fault is None]
    assert "(my detector-friendly)" in prompt and "OWLv2" not in prompt
