"""The paper's policy: an LLM that reads Listing 2 with the trial history and proposes a set.

Each iteration sends one user message, `describe(task, history)`, and reads
the reply with `parse_concepts`. An unusable reply (no valid line) is answered
in the same conversation with the rejection reasons, up to `attempts` replies,
so even a deterministic model at temperature 0 gets a chance to fix its
format; after that the iteration is a failed trial. An endpoint that still
fails after the client's own retries raises `PolicyUnavailable`, which stops
the loop without using up the iteration (rerun to resume; replies already
received come from the client's disk cache).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from actionbias.a2o.policy_base import LLMPolicyBase, ProposedSet, Trial
from actionbias.a2o.task import TaskDescription, describe
from actionbias.llm import ChatClient


class LLMPolicy(LLMPolicyBase):
    """pi_phi(a | s_t, c): the LLM agent with the trial history in context.

    `temperature` defaults to 1.0 (the sampling a chat model is tuned for; the
    paper used ChatGPT's default); the iteration number is the sampling seed
    and cache sample index, so a resumed run replays the same replies.
    `show_failed` keeps failed trials in the history the LLM sees.
    """

    name = "llm-icrl"
    uses_history = True

    def __init__(self, client: ChatClient, *, show_failed: bool = True, **sampling: Any):
        super().__init__(client, **sampling)
        self.show_failed = bool(show_failed)

    @property
    def spec(self) -> dict[str, Any]:
        return {**super().spec, "show_failed": self.show_failed}

    def prompt(self, task: TaskDescription, history: Sequence[Trial]) -> str:
        shown = [t for t in history if self.show_failed or t.ok]
        return describe(task, shown)

    def propose(
        self, task: TaskDescription, history: Sequence[Trial], iteration: int
    ) -> ProposedSet:
        return self._ask(self.prompt(task, history), task, iteration)


__all__ = ["LLMPolicy"]
