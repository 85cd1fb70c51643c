"""A fake world for prompt-tuning tests: one OpenAI-compatible handler plays both LLMs.

* ``fake-vlm`` (the scorer) finds the video from the frames it is sent and
  answers the person's action with a probability that grows with the words of
  the instruction that point at the person ("person", "motion", ...); otherwise
  mostly the scene's action, sometimes another option, rarely nothing usable.
  The choice is a pure function of (instruction, video), so tests recount the
  expected SHAcc / SBErr by hand from `FakeVLM.decide`.
* ``fake-optimizer`` proposes the first instruction of `CANDIDATES` that the
  history does not hold yet (later ones name the person more, so the loop has a
  real signal; in a conversation the history is the dialogue), and misbehaves on
  chosen steps (the step is the request's
  ``seed``): an empty reply, a reply without ``PROMPT:``, an already-tried
  instruction, or garbage on every attempt (the step must be skipped).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from actionbias.audit.mcq_prompt import HUMAN_PREFIX
from actionbias.audit.scorers import EndpointVLMAnswerer
from actionbias.llm.testing import last_user_text, letter_reply, request_images
from actionbias.synth import read_synthact
from actionbias.video import read_clip

FRAMES = 2
"""Frames per video in the prompting tests (the fakes hash exactly these)."""

HUMAN_WORDS = ("person", "human", "motion", "movement", "body", "posture")

CANDIDATES = (
    "Ignore the background. What is the person doing?",
    "Focus on the person's movement. What action is the person performing?",
    "Watch the person's body and motion, not the scene. What action is it?",
    "Look only at the human body, its posture and movement. What is the person doing?",
    "Judge from the person's body posture, motion and movement alone. What does the human do?",
    "Only the human matters: their body, posture, motion and movement. What is the person doing?",
    "Track the person: body, posture, motion, movement of the human. Which action is it?",
)


def unit(*parts: object) -> float:
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def p_human(instruction: str) -> float:
    text = instruction.casefold()
    if "just look at the background" in text:
        return 0.05
    hits = sum(1 for w in HUMAN_WORDS if w in text)
    return min(0.9, 0.2 + 0.12 * hits)


def split_prompt(text: str) -> tuple[str, list[tuple[str, str]]]:
    """(instruction, [(letter, option text)]) of a rendered MCQ prompt."""
    lines = text.splitlines()
    options = [
        (ln[0], ln[3:].removeprefix(HUMAN_PREFIX)) for ln in lines if re.match(r"^[A-E]\. ", ln)
    ]
    first = next(i for i, ln in enumerate(lines) if re.match(r"^[A-E]\. ", ln))
    return "\n".join(lines[:first]), options


@dataclass
class FakeVLM:
    """The scorer: video identity from the frames, answer from (instruction, video)."""

    videos: dict[str, tuple[str, str, str]]  # image digest -> (id, human, background)
    answered: dict[tuple[str, str], str] = field(default_factory=dict)

    @classmethod
    def for_synthact(cls, root: Path, frames: int, split: str = "swap") -> FakeVLM:
        view = EndpointVLMAnswerer(client=None)
        videos = {}
        for record in read_synthact(root)[split].records:
            clip = read_clip(record.path, num_frames=frames, sampling="uniform").frames
            message = view._messages(clip, "")
            videos[_digest(request_images({"messages": message}))] = (
                record.id,
                record.label,
                str(record.extras["background_label"]),
            )
        return cls(videos)

    @staticmethod
    def decide(instruction: str, video: str) -> str:
        """'human', 'background', 'other' or 'none' (an unusable reply)."""
        u = unit(instruction, video)
        p = p_human(instruction)
        if u < p:
            return "human"
        if u < p + 0.8 * (1 - p):
            return "background"
        return "none" if u > 0.985 else "other"

    def __call__(self, request: dict) -> str | dict:
        video, human, background = self.videos[_digest(request_images(request))]
        instruction, options = split_prompt(last_user_text(request))
        outcome = self.decide(instruction, video)
        self.answered[(instruction, video)] = outcome
        if outcome == "none":
            return "I cannot tell from these frames."
        names = {name: letter for letter, name in options}
        if outcome == "human":
            letter = names[human]
        elif outcome == "background":
            letter = names[background]
        else:
            letter = next(ltr for ltr, n in options if n not in (human, background))
        if unit("format", instruction, video) < 0.5:
            return f"The answer is ({letter})."
        other = next(ltr for ltr, _ in options if ltr != letter)
        return letter_reply(letter, other, -0.1, -2.5)


def _digest(urls: list[str]) -> str:
    return hashlib.sha256("\n".join(urls).encode()).hexdigest()


@dataclass
class FakeOptimizer:
    """The optimiser: next untried candidate; misbehaves on the steps it is told to."""

    empty_first: set[int] = field(default_factory=lambda: {1})
    unformatted_first: set[int] = field(default_factory=lambda: {2})
    repeat_first: set[int] = field(default_factory=set)
    always_garbage: set[int] = field(default_factory=set)

    def __call__(self, request: dict) -> str:
        step = int(request.get("seed") or 0)
        messages = request["messages"]
        text = messages[0]["content"]
        tried = re.findall(r"^Instruction: (.*)$", text, flags=re.MULTILINE)
        # a conversation (the paper's mode) also holds its earlier accepted proposals
        for reply, answer in zip(messages[1::2], messages[2::2], strict=False):
            if not answer["content"].startswith("Your reply could not be used"):
                tried += re.findall(r"PROMPT: (.*)$", reply["content"], flags=re.MULTILINE)
        # this step's attempt: 1 + the corrections at the end of the dialogue
        attempt = 1
        while len(messages) > 2 * attempt - 1 and messages[-(2 * attempt - 1)][
            "content"
        ].startswith("Your reply could not be used"):
            attempt += 1
        if step in self.always_garbage:
            return "I would rather not."
        if attempt == 1 and step in self.empty_first:
            return ""
        fresh = next((c for c in CANDIDATES if c not in tried), None)
        if fresh is None:
            fresh = f"Describe the person's motion, attempt {step}. What is the action?"
        if attempt == 1 and step in self.unformatted_first:
            return f"Here is a better one: {fresh}"
        if attempt == 1 and step in self.repeat_first and tried:
            return f"PROMPT: {tried[-1]}"
        return f"Thinking about it...\nPROMPT: {fresh}"


class World:
    """One handler for the fake server: routes by model name."""

    def __init__(self, vlm: FakeVLM, optimizer: FakeOptimizer) -> None:
        self.vlm = vlm
        self.optimizer = optimizer

    def __call__(self, request: dict) -> str | dict:
        if request.get("model") == "fake-optimizer":
            return self.optimizer(request)
        return self.vlm(request)


def expected_score(instruction: str, ids: list[str]) -> tuple[float, float, int]:
    """(SHAcc, SBErr, no-answer count) recounted from `FakeVLM.decide`."""
    outcomes = [FakeVLM.decide(instruction, v) for v in ids]
    n = len(outcomes)
    return (
        sum(o == "human" for o in outcomes) / n,
        sum(o == "background" for o in outcomes) / n,
        sum(o == "none" for o in outcomes),
    )


def mean(values: list[float]) -> float:
    return float(np.mean(values)) if values else float("nan")


class FakeLocalChat:
    """Stands in for `InternVLChat` behind `LocalVLMAnswerer`: same decisions as `FakeVLM`."""

    def __init__(self, root: Path, frames: int, split: str = "swap") -> None:
        self.videos: dict[str, tuple[str, str, str]] = {}
        for record in read_synthact(root)[split].records:
            clip = read_clip(record.path, num_frames=frames, sampling="uniform").frames
            self.videos[_clip_digest(clip)] = (
                record.id,
                record.label,
                str(record.extras["background_label"]),
            )
        self.calls = 0

    def _letter(self, frames: np.ndarray, text: str) -> str | None:
        video, human, background = self.videos[_clip_digest(frames)]
        instruction, options = split_prompt(text)
        outcome = FakeVLM.decide(instruction, video)
        names = {name: letter for letter, name in options}
        if outcome == "human":
            return names[human]
        if outcome == "background":
            return names[background]
        if outcome == "other":
            return next(ltr for ltr, n in options if n not in (human, background))
        return None

    def option_logprobs(self, frames: np.ndarray, text: str, letters: list[str]) -> dict:
        self.calls += 1
        letter = self._letter(frames, text)
        if letter is None:
            return {}  # no letter usable: the answerer falls back to generating text
        return {ltr: (-0.1 if ltr == letter else -4.0) for ltr in letters}

    def generate(self, frames: np.ndarray, text: str, max_new_tokens: int = 16) -> str:
        letter = self._letter(frames, text)
        return "I cannot tell." if letter is None else letter


def _clip_digest(frames: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(frames).tobytes()).hexdigest()
