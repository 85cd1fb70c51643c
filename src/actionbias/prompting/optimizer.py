"""The optimiser LLM in OPRO mode: a meta-prompt per step, and reading proposals back.

(The paper's own procedure, one running conversation, is
`actionbias.prompting.conversation.ConversationOptimizer`; both share
`parse_proposal`, `Proposal` and the correction of unusable replies.)

Following the paper (appendix A.5, after Gavrikov et al. and Yang et al.'s
OPRO), the optimiser sees the instructions tried so far with their tuning-split
SHAcc and SBErr, sorted ascending by the objective so the best come last
(nearest the request, where LLMs weigh context most), keeps only the best
``top_k``, and is asked for one instruction different from and better than all
of them, replied on a line starting with ``PROMPT:``.

The reply is data, never code: `parse_proposal` takes the text after
``PROMPT:``, collapses it to one line (so it cannot forge answer options in
the MCQ it is pasted into), strips quotes and markdown, and rejects empty,
over-long or already-tried instructions. A rejected reply is answered with a
correction in the same conversation (so even a deterministic model at
temperature 0 can do better the second time); after ``attempts`` rejections
the step is skipped and logged.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from actionbias.llm import ChatClient, LLMError
from actionbias.llm.sampling import Sampled
from actionbias.prompting.objective import Objective

log = logging.getLogger(__name__)

MAX_INSTRUCTION_CHARS = 500

META_PROMPT = """\
Your task is to help me design an ideal instruction for a video-language model that watches \
a short video and answers a multiple-choice question about the action the person performs. \
The instruction should make the model decide from the person (their body, posture and \
motion) and not from the background: MAXIMIZE human-action accuracy (SHAcc: how often the \
model picks the person's action) and MINIMIZE background error (SBErr: how often it picks \
the action the background scene belongs to). In these videos the person has been pasted \
onto the scene of a different action, so the background is misleading.

The instruction is followed by the lettered answer options and "{answer_instruction}"

Below are instructions I tried, with their SHAcc and SBErr. They are arranged in ascending \
order of the score {objective} (higher is better), so the best ones come last.

{history}

Write a new instruction that is different from all the instructions above and has a higher \
score than all of them. Keep it short: one to three sentences ending with a question. \
Start your reply with "PROMPT:" followed by the instruction, on one line, and write nothing \
else."""

CORRECTION = (
    "Your reply could not be used: {reason}. Reply with exactly one line that starts with "
    '"PROMPT:" followed by a new instruction that is different from all the instructions above.'
)


class ProposalError(ValueError):
    """A reply that does not contain a usable new instruction (the reason is the message)."""


@dataclass(frozen=True)
class Tried:
    """One instruction with its tuning-split scores, as the optimiser sees it."""

    instruction: str
    shacc: float
    sberr: float
    objective: float


@dataclass(frozen=True)
class Turn:
    """One earlier optimisation step, as a conversation replays it.

    ``attempts`` are the optimiser's replies with the error each was rejected
    for (None for the accepted one); ``score`` is the accepted instruction's
    tuning score, None when the step was skipped.
    """

    step: int
    attempts: tuple[dict[str, Any], ...]
    score: Tried | None = None


@dataclass
class Proposal:
    """The outcome of one optimisation step: an instruction, or None when skipped."""

    instruction: str | None
    attempts: list[dict[str, Any]] = field(default_factory=list)


def normalise(instruction: str) -> str:
    """Comparison key of an instruction: case, spacing and final punctuation ignored."""
    return " ".join(re.sub(r"[^\w\s']", " ", instruction.casefold()).split())


def format_history(tried: Sequence[Tried], objective: Objective, top_k: int) -> str:
    """The best ``top_k`` instructions, ascending by the objective (ties: older first)."""
    ranked = sorted(enumerate(tried), key=lambda it: (it[1].objective, -it[0]))
    kept = [t for _, t in ranked[-top_k:]] if top_k > 0 else []
    blocks = []
    for t in kept:
        blocks.append(
            f"Instruction: {t.instruction}\n"
            f"SHAcc: {100 * t.shacc:.2f}%, SBErr: {100 * t.sberr:.2f}%, "
            f"score: {100 * t.objective:.2f}"
        )
    return "\n\n".join(blocks)


def meta_prompt(
    tried: Sequence[Tried], objective: Objective, top_k: int, answer_instruction: str
) -> str:
    """The optimiser's request for one step."""
    return META_PROMPT.format(
        answer_instruction=answer_instruction,
        objective=objective.describe(),
        history=format_history(tried, objective, top_k) or "(none yet)",
    )


_PROMPT_MARK = re.compile(r"(?i)(?:^|\n)[ \t>*#_`\-]*prompt[ \t]*[*_`]*[ \t]*:[ \t]*")
_WRAPPERS = "\"'`*_ \u201c\u201d\u2018\u2019"


def parse_proposal(text: str | None, tried: Sequence[str] = ()) -> str:
    """The new instruction in an optimiser reply; `ProposalError` when there is none.

    Takes the text after the last line-initial ``PROMPT:`` up to the next blank
    line; several marked prompts in one reply use the last (models that think
    aloud write drafts first).
    """
    if text is None or not text.strip():
        raise ProposalError("the reply is empty")
    marks = list(_PROMPT_MARK.finditer(text))
    if not marks:
        raise ProposalError('the reply has no line starting with "PROMPT:"')
    body = text[marks[-1].end() :]
    body = re.split(r"\n\s*\n", body, maxsplit=1)[0]
    instruction = " ".join(body.split()).strip(_WRAPPERS)
    instruction = " ".join(instruction.split())
    if not instruction:
        raise ProposalError('nothing follows "PROMPT:"')
    if len(instruction) > MAX_INSTRUCTION_CHARS:
        raise ProposalError(
            f"the instruction has {len(instruction)} characters (at most {MAX_INSTRUCTION_CHARS})"
        )
    if not re.search(r"\w", instruction):
        raise ProposalError("the instruction has no words")
    key = normalise(instruction)
    if any(normalise(old) == key for old in tried):
        raise ProposalError("the instruction was already tried")
    return instruction


@dataclass(frozen=True)
class StepInputs:
    """What an optimiser may be shown at one step; each mode uses its part of it."""

    tried: Sequence[Tried]
    """Every scored instruction so far (seeds first)."""
    objective: Objective
    top_k: int
    seeds: Sequence[Tried]
    """The hand-written prompts' scores the search starts from."""
    turns: Sequence[Turn]
    """The earlier steps' replies and scores (the conversation so far)."""


class OptimizerBase(Sampled):
    """What both optimiser modes hold: the client, sampling settings and retry count."""

    mode = ""
    #: Characters of each reply kept in a proposal's record (None: all of it).
    reply_chars: int | None = 2000

    def __init__(
        self,
        client: ChatClient,
        *,
        temperature: float = 1.0,
        max_tokens: int | None = 300,
        attempts: int = 3,
        answer_instruction: str = "",
    ) -> None:
        super().__init__(client, temperature=temperature, max_tokens=max_tokens, attempts=attempts)
        self.answer_instruction = answer_instruction

    def _ask(self, messages: list[dict[str, Any]], tried: Sequence[Tried], step: int) -> Proposal:
        """Ask until a reply parses as a new instruction, at most ``attempts`` times.

        An unusable reply and its correction join the conversation, so the next
        reply sees why; every reply is kept in the proposal's ``attempts`` (cut to
        ``reply_chars`` where set), which is what a resumed run replays from.
        """
        old = [t.instruction for t in tried]
        proposal = Proposal(None)
        for attempt in range(self.attempts):
            result = self.sample(messages, step)
            reply = result.text or ""
            kept = reply if self.reply_chars is None else reply[: self.reply_chars]
            try:
                instruction = parse_proposal(reply, old)
            except ProposalError as exc:
                proposal.attempts.append({"reply": kept, "error": str(exc)})
                log.warning(
                    "step %d: optimiser reply %d/%d unusable (%s)",
                    step,
                    attempt + 1,
                    self.attempts,
                    exc,
                )
                messages = [
                    *messages,
                    {"role": "assistant", "content": reply},
                    {"role": "user", "content": CORRECTION.format(reason=str(exc))},
                ]
                continue
            proposal.attempts.append({"reply": kept, "error": None})
            proposal.instruction = instruction
            return proposal
        log.warning("step %d: no usable proposal after %d replies; skipped", step, self.attempts)
        return proposal

    def propose(
        self,
        tried: Sequence[Tried],
        objective: Objective,
        top_k: int,
        step: int,
        *,
        seeds: Sequence[Tried] = (),
        turns: Sequence[Turn] = (),
    ) -> Proposal:
        """One step: a valid new instruction, or None after ``attempts`` unusable replies.

        `LLMError` (the endpoint failing after the client's retries) propagates:
        that is an outage to resume from, not a bad proposal to skip. What the
        optimiser is sent is the mode's `messages`.
        """
        inputs = StepInputs(tried, objective, top_k, seeds, turns)
        return self._ask(self.messages(inputs), tried, step)

    def messages(self, step: StepInputs) -> list[dict[str, Any]]:
        """The request of one step, before any correction (each mode says its own)."""
        raise NotImplementedError(f"{type(self).__name__} sends no request")

    @property
    def spec(self) -> dict[str, Any]:
        """What identifies the optimiser in a run's config (not the URL: servers move)."""
        return {
            "mode": self.mode,
            "model": self.client.model,
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "attempts": self.attempts,
        }


class Optimizer(OptimizerBase):
    """Asks an optimiser LLM for the next instruction.

    ``temperature`` 1.0 follows OPRO (diverse proposals). Each step sends its
    number as the sampling ``seed`` and cache sample index, so a step whose
    history equals the previous one's (after a skipped step) still gets a fresh
    sample, while a resumed run gets the very same proposal for the same step
    from the disk cache without a new paid call.
    """

    mode = "opro"

    def messages(self, step: StepInputs) -> list[dict[str, Any]]:
        """A fresh request from the best ``top_k`` scored instructions (``seeds`` and
        ``turns``, the conversation so far, are not used)."""
        request = meta_prompt(step.tried, step.objective, step.top_k, self.answer_instruction)
        return [{"role": "user", "content": request}]


__all__ = [
    "CORRECTION",
    "META_PROMPT",
    "LLMError",
    "Optimizer",
    "Proposal",
    "ProposalError",
    "StepInputs",
    "Tried",
    "Turn",
    "format_history",
    "meta_prompt",
    "normalise",
    "parse_proposal",
]
