"""A video-LLM audit through a real HTTP endpoint: the fake OpenAI server on 127.0.0.1.

The "model" behind the server looks at the frames it is sent (base64 JPEGs) and
picks the option whose home-scene colour is nearest the frame border: a
scene-only VLM, so the swap split must show SBErr well above SHAcc. Replies
alternate between a bare letter with log-probabilities and a sentence, and 30 %
of requests fail (429, 500, 503, timeouts, garbage, empty choices, drops).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from actionbias.audit.runner import run_audit
from actionbias.audit.scorers import EndpointVLMAnswerer
from actionbias.llm import ChatClient, decode_data_url
from actionbias.llm.testing import (
    FAST_CLIENT,
    FakeOpenAIServer,
    last_user_text,
    letter_reply,
    request_images,
)
from actionbias.synth import read_synthact
from actionbias.video import read_clip

SPEC = {"type": "vlm-endpoint", "id": "fake-model", "model": "fake-model"}
NO_KEY = "ACTIONBIAS_TEST_NO_KEY"


def _border(frames: np.ndarray, width: int = 4) -> np.ndarray:
    parts = [frames[:, :width], frames[:, -width:], frames[:, :, :width], frames[:, :, -width:]]
    return np.concatenate([p.reshape(-1, 3) for p in parts]).mean(axis=0)


class SceneVLM:
    """The server-side model: options from the prompt, the answer from the scene colour."""

    def __init__(self, root: Path) -> None:
        manifests = read_synthact(root)
        colours: dict[str, list[np.ndarray]] = {}
        for split in ("train", "val"):
            for record in manifests[split]:
                clip = read_clip(record.path, num_frames=4).frames
                colours.setdefault(record.label, []).append(_border(clip))
        self.prototypes = {name: np.mean(c, axis=0) for name, c in colours.items()}

    def __call__(self, request: dict) -> str | dict:
        frames = np.stack([decode_data_url(url) for url in request_images(request)])
        lines = last_user_text(request).splitlines()
        options = [(line[0], line[3:]) for line in lines[1:] if line[1:3] == ". "]
        border = _border(frames)
        letter, name = min(options, key=lambda o: np.linalg.norm(border - self.prototypes[o[1]]))
        digest = hashlib.sha256(lines[1].encode()).digest()[0]
        if digest % 2:
            return f"The answer is {letter}) {name}."
        other = next(o for o, _ in options if o != letter)
        return letter_reply(letter, other, -0.05, -3.2)


def _client(server: FakeOpenAIServer, **options) -> ChatClient:
    settings = {
        **FAST_CLIENT,
        "sleep": lambda seconds: None,
        "api_key_env": NO_KEY,
        **options,
    }
    return ChatClient(server.url, "fake-model", **settings)


def _rows(run: Path) -> list[dict]:
    return [json.loads(x) for x in (run / "predictions.jsonl").read_text().splitlines()]


def test_endpoint_audit_survives_faults_and_retries_errors_on_rerun(synthact, tmp_path):
    vlm = SceneVLM(synthact)
    run = tmp_path / "run"
    options = {"protocol": "mcq", "frames": 2, "limit": 4, "batch_size": 4, "progress": False}
    with FakeOpenAIServer(vlm, fault_rate=0.3, seed=1, slow_seconds=0.5) as server:
        # 1) no retries at all: a third of the calls fail and are counted, not fatal
        fragile = EndpointVLMAnswerer(_client(server, max_retries=0), spec=dict(SPEC))
        first = run_audit(fragile, synthact, run, **options)
        assert first["videos"] == 12 and first["errors"] > 0
        assert first["no_answer"] == first["errors"] and first["complete"] is False
        errors = [r for r in _rows(run) if r["answer_source"] == "error"]
        assert len(errors) == first["errors"]
        assert all(r["prediction"] == "" and r["reply"] for r in errors)
        assert all(NO_KEY not in r["reply"] for r in errors)
        assert server.fault_counts() and sum(server.fault_counts().values()) >= first["errors"]
        # 2) a rerun with retries asks again for the failed ones only
        before = len(server.chat_requests())
        answered = {r["id"] for r in _rows(run) if r["answer_source"] != "error"}
        sturdy = EndpointVLMAnswerer(_client(server), spec=dict(SPEC))
        second = run_audit(sturdy, synthact, run, **options)
        new_requests = server.chat_requests()[before:]
        assert second["errors"] == 0 and second["videos"] == 12 and second["complete"]
        assert sum(1 for r in new_requests if r.fault is None) == first["errors"]
        prompts = {r.text for r in new_requests}
        assert len(prompts) == first["errors"]  # no answered question was asked again
        rows = _rows(run)
        assert len(rows) == 12 and len({r["id"] for r in rows}) == 12
        assert answered <= {r["id"] for r in rows}
        assert second["answer_sources"]["logprobs"] > 0 and second["answer_sources"]["text"] > 0
        request = next(r for r in new_requests if r.fault is None).body
        assert request["logprobs"] is True and request["top_logprobs"] == 5
        assert len(request_images(request)) == 2
        assert last_user_text(request).startswith("What is the action being performed?\nA. ")
    # a scene-only VLM is fooled by the swap backgrounds
    swap = second["summary"]["groups"]["swap"]["swap"]
    assert swap["sberr"]["value"] >= 0.75 and swap["sberr"]["value"] > swap["shacc"]["value"]


def test_endpoint_from_a_model_string(synthact, tmp_path):
    vlm = SceneVLM(synthact)
    with FakeOpenAIServer(vlm, logprobs="refuse") as server:
        model = f"openai:fake-model@{server.url}?key_env={NO_KEY}&max_side=32"
        metrics = run_audit(
            model, synthact, tmp_path / "run", "mcq", frames=3, limit=2, progress=False
        )
        config = json.loads((tmp_path / "run" / "config.json").read_text())
        assert config["model"]["type"] == "vlm-endpoint" and config["model"]["max_side"] == 32
        assert config["model"]["base_url"] == server.url
        assert config["model"]["api_key_env"] == NO_KEY
        # the server refuses logprobs: the client asks again without, answers come from text
        assert metrics["videos"] == 6 and metrics["errors"] == 0
        assert metrics["answer_sources"] == {"text": 6}
        sent = [r for r in server.chat_requests() if r.body and not r.body.get("logprobs")]
        assert sent and all(len(r.images) == 3 for r in sent)
        image = decode_data_url(sent[0].images[0])
        assert max(image.shape[:2]) <= 32
