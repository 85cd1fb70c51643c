"""The paper's automated prompt tuning: one long conversation with the optimiser LLM.

Appendix A.5 of the seed paper (after Gavrikov et al., "Can we talk models into
seeing the world differently?"): the optimiser (GPT-4.1 in the paper) is asked
once to act as a prompt engineer; it answers ``PROMPT: ...``; the prompt is
scored and the SHAcc / SBErr are reported back *in the same conversation*;
it refines from that feedback, and so on for every step. Unlike the OPRO mode
(`actionbias.prompting.optimizer.Optimizer`, which sends a fresh meta-prompt
with the best ``top_k`` scored instructions each step), the optimiser here
keeps the whole dialogue: its own earlier replies, every score, and the
corrections of unusable replies.

The dialogue is rebuilt from the tuning history at every step (the replies are
stored verbatim in each step's ``attempts``), so a resumed run sends exactly
the same requests as the run that was killed and gets its answers from the
LLM cache without new paid calls. Replies are data, never code: they go
through the same `parse_proposal` as in the OPRO mode.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from actionbias.prompting.objective import Objective
from actionbias.prompting.optimizer import (
    CORRECTION,
    OptimizerBase,
    StepInputs,
    Tried,
    Turn,
)

MODE = "conversation"

OPENING = """\
You are a prompt engineer. Help me design the ideal instruction for a video-language model \
that watches a short video and answers a multiple-choice question about the action the \
person performs. In these videos the person has been pasted onto the scene of a different \
action, so the background is misleading. The instruction should make the model decide from \
the person (their body, posture and motion) and not from the background: MAXIMIZE \
human-action accuracy (SHAcc: how often the model picks the person's action) and MINIMIZE \
background error (SBErr: how often it picks the action the background scene belongs to). \
I rank instructions by the score {objective} (higher is better).

The instruction is followed by the lettered answer options and "{answer_instruction}"

{starting_points}

We will work in rounds: you propose one instruction, I test it on the videos and tell you \
its SHAcc and SBErr, and you use that feedback to propose a better one. Keep each \
instruction short: one to three sentences ending with a question. Reply with "PROMPT:" \
followed by the instruction, on one line, and write nothing else."""

FEEDBACK = """\
Your instruction scored SHAcc {shacc:.2f}% and SBErr {sberr:.2f}%: score {value:.2f} \
(the best so far is {best:.2f}). Use this feedback to propose a better instruction, \
different from all the instructions so far. Reply with "PROMPT:" followed by the \
instruction, on one line."""


def _scores(t: Tried) -> str:
    return (
        f"SHAcc: {100 * t.shacc:.2f}%, SBErr: {100 * t.sberr:.2f}%, score: {100 * t.objective:.2f}"
    )


def opening_message(seeds: Sequence[Tried], objective: Objective, answer_instruction: str) -> str:
    """The first user message: the task, and the hand-written prompts' scores if any."""
    if seeds:
        blocks = [f"Instruction: {t.instruction}\n{_scores(t)}" for t in seeds]
        points = "Instructions tested so far, for reference:\n\n" + "\n\n".join(blocks)
    else:
        points = "No instruction has been tested yet."
    return OPENING.format(
        objective=objective.describe(),
        answer_instruction=answer_instruction,
        starting_points=points,
    )


def dialogue(
    seeds: Sequence[Tried],
    turns: Sequence[Turn],
    objective: Objective,
    answer_instruction: str = "",
) -> list[dict[str, Any]]:
    """The conversation up to (not including) the next optimiser reply.

    Each earlier step contributes its replies in order: an unusable one is
    followed by the correction it got, the accepted one by its feedback (the
    tuning split's SHAcc / SBErr, and the best score so far).
    """
    messages: list[dict[str, Any]] = [
        {"role": "user", "content": opening_message(seeds, objective, answer_instruction)}
    ]
    best = max((t.objective for t in seeds), default=float("-inf"))
    for turn in turns:
        for attempt in turn.attempts:
            messages.append({"role": "assistant", "content": str(attempt.get("reply") or "")})
            error = attempt.get("error")
            if error:
                messages.append({"role": "user", "content": CORRECTION.format(reason=error)})
                continue
            if turn.score is None:  # an accepted reply must come with its score
                raise ValueError(f"step {turn.step}: accepted reply without a score")
            best = max(best, turn.score.objective)
            feedback = FEEDBACK.format(
                shacc=100 * turn.score.shacc,
                sberr=100 * turn.score.sberr,
                value=100 * turn.score.objective,
                best=100 * best,
            )
            messages.append({"role": "user", "content": feedback})
    return messages


class ConversationOptimizer(OptimizerBase):
    """Asks the optimiser LLM for the next instruction within one running conversation.

    Same contract as `Optimizer.propose` (a `Proposal`; `LLMError` propagates as
    an outage to resume from); ``seeds`` and ``turns`` carry the conversation so
    far. ``top_k`` is not used: the optimiser sees everything it was told.
    """

    mode = MODE
    # Kept verbatim: the next steps replay the dialogue from these replies.
    reply_chars = None

    def messages(self, step: StepInputs) -> list[dict[str, Any]]:
        """The whole dialogue so far (``top_k`` is not used)."""
        return dialogue(step.seeds, step.turns, step.objective, self.answer_instruction)
