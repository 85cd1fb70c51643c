"""Policies pi(a | s, c) of Algorithm 1: the baselines.

A policy turns the task description and the history of trials into the next
object set. The paper's ablations (Sec. 4.5.1) are all policies over the same
loop, so they differ only in what they propose:

- `FixedPolicy`: one hand-made set every iteration (the plain recogniser with
  no objects, Listing 1's "before" set, PC3D++'s pose body parts);
- `StaticPromptPolicy`: the LLM sees the task description only, no history;
  T independent samples;
- `PromptPoolPolicy`: the LLM enumerates relevant objects once, then proposes
  T combinations of them at once; iteration t takes combination t;
- `actionbias.a2o.llm_policy.LLMPolicy`: the method (history in context);
- `actionbias.a2o.search_policy.SearchPolicy`: offline search, not an LLM;
- OOD-history is not a policy but `run_icrl(..., initial_history=...)`.

A proposal is a `ProposedSet`: a plain ``list[str]`` that also carries a note
for the trial record (which reply, which edit), so a caller that only wants
the objects can treat it as a list.

The trial record, the policy protocol, the failure kinds and the LLM-policy
base class live in `actionbias.a2o.policy_base` (re-exported here).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from actionbias.a2o.concepts import DEFAULT_MAX_WORDS, ConceptParseError, parse_concepts
from actionbias.a2o.policy_base import (
    FAILED,
    INJECTED,
    OK,
    RUN,
    LLMPolicyBase,
    Policy,
    PolicyError,
    PolicyUnavailable,
    ProposedSet,
    Trial,
    ask_concepts,
    normalise_objects,
)
from actionbias.a2o.task import TaskDescription, describe
from actionbias.llm import ChatClient

# Listing 1 (MultiSports), before and after ICRL.
LISTING1_BEFORE = ("person", "ball", "net", "hoop", "goalpost", "arm", "leg", "foot")
LISTING1_AFTER = (
    *LISTING1_BEFORE,
    "torso",
    "forearm",
    "head",
    "floor",
    "court",
    "grass",
    "rim",
)
# PC3D++: likelihood maps from a pose detector only (the body parts the pose backend answers).
PC3D_PLUS_PLUS = ("person", "head", "torso", "arm", "forearm", "hand", "leg", "foot")


class FixedPolicy:
    """The same object set every iteration (plain recogniser, Listing 1, PC3D++)."""

    kind = "fixed"
    uses_history = False

    def __init__(self, objects: Sequence[str], name: str = "fixed"):
        self.objects = normalise_objects(objects)
        self.name = name

    @property
    def spec(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "objects": list(self.objects)}

    def propose(
        self, task: TaskDescription, history: Sequence[Trial], iteration: int
    ) -> ProposedSet:
        return ProposedSet(self.objects, f"fixed set {self.name!r}")


class StaticPromptPolicy(LLMPolicyBase):
    """The LLM without history: the task description only, T independent samples.

    Sampled at `temperature` > 0 with the iteration as seed and cache sample
    index, so the T samples differ and a resumed run replays them from cache.
    """

    name = "static-prompts"
    uses_history = False

    def __init__(self, client: ChatClient, **sampling: Any):
        super().__init__(client, **sampling)
        if self.temperature <= 0:
            raise ValueError("static prompts need temperature > 0 (else every sample is the same)")

    def propose(
        self, task: TaskDescription, history: Sequence[Trial], iteration: int
    ) -> ProposedSet:
        return self._ask(describe(task, ()), task, iteration)


POOL_PROMPT = """\
Dataset: {dataset}
Target actions: {classes}

List the visual concepts an open-vocabulary object detector ({detector}) could localise in \
these videos that help tell the target actions apart: objects, targets, body parts and \
scene elements. Output at most {pool_size} concepts as a plain text list, one per line: \
each line one single, atomic visual concept (short noun/noun phrase), no commas, slashes, \
logic words, numbering, headers or explanations, and no other text."""

COMBINATIONS_PROMPT = """\
Dataset: {dataset}
Target actions: {classes}
Candidate concepts: {pool}

Propose {count} different plausible combinations of the candidate concepts to be detected \
by an open-vocabulary object detector ({detector}) for recognising the target actions; each \
combination has at most {max_objects} concepts. Output exactly {count} lines and nothing \
else: each line one JSON list of strings, e.g. ["person", "ball"]."""


def parse_combinations(
    text: str, count: int, max_objects: int, max_words: int = DEFAULT_MAX_WORDS
) -> list[list[str]]:
    """Distinct valid object sets from a reply with one JSON list per line.

    Each list is validated like a reply (`parse_concepts`); invalid lines and
    repeats are skipped. ValueError when fewer than `count` remain.
    """
    combos: list[list[str]] = []
    seen: set[frozenset[str]] = set()
    problems: list[str] = []
    for raw in (text or "").splitlines():
        line = raw.strip().rstrip(",")
        start, end = line.find("["), line.rfind("]")
        if start < 0 or end < start:
            continue
        try:
            items = json.loads(line[start : end + 1])
        except ValueError:
            problems.append(f"{line[:60]!r} is not a JSON list")
            continue
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            problems.append(f"{line[:60]!r} is not a list of strings")
            continue
        try:
            parsed = parse_concepts("\n".join(items), max_objects, max_words=max_words)
        except ConceptParseError as exc:
            problems.append(str(exc))
            continue
        key = frozenset(parsed.concepts)
        if key not in seen:
            seen.add(key)
            combos.append(parsed.concepts)
    if len(combos) < count:
        detail = f"; {problems[0]}" if problems else ""
        raise ValueError(
            f"{len(combos)} distinct valid combinations, {count} needed "
            f"(one JSON list of concepts per line){detail}"
        )
    return combos[:count]


class PromptPoolPolicy(LLMPolicyBase):
    """Non-ICRL breadth: enumerate a pool of concepts, then T combinations of them.

    Two LLM calls in all (seeded 0, so a rerun replays them from the cache);
    iteration t takes combination t. `combinations` must equal the loop's T.
    """

    name = "prompt-pool"
    uses_history = False

    def __init__(
        self,
        client: ChatClient,
        *,
        combinations: int = 5,
        pool_size: int = 40,
        max_tokens: int | None = 1024,
        **sampling: Any,
    ):
        super().__init__(client, max_tokens=max_tokens, **sampling)
        if combinations < 1 or pool_size < 1:
            raise ValueError("combinations and pool_size must be >= 1")
        self.combinations = int(combinations)
        self.pool_size = int(pool_size)
        self.pool: list[str] | None = None
        self.sets: list[list[str]] | None = None
        self._records: list[dict[str, Any]] = []

    @property
    def spec(self) -> dict[str, Any]:
        return {**super().spec, "combinations": self.combinations, "pool_size": self.pool_size}

    def _prepare(self, task: TaskDescription) -> None:
        fields = {
            "dataset": task.dataset,
            "classes": json.dumps(list(task.classes)),
            "detector": task.detector,
        }
        pool, pool_records = self._ask_concepts(
            POOL_PROMPT.format(pool_size=self.pool_size, **fields), self.pool_size, 0
        )
        self.pool = pool.concepts

        def parse(text: str) -> list[list[str]]:
            return parse_combinations(text, self.combinations, task.max_objects, self.max_words)

        prompt = COMBINATIONS_PROMPT.format(
            pool=json.dumps(self.pool),
            count=self.combinations,
            max_objects=task.max_objects,
            **fields,
        )
        self.sets, combo_records = self._ask_concepts(prompt, task.max_objects, 0, parse=parse)
        self._records = [
            *({"call": "pool", **r} for r in pool_records),
            *({"call": "combinations", **r} for r in combo_records),
        ]

    def propose(
        self, task: TaskDescription, history: Sequence[Trial], iteration: int
    ) -> ProposedSet:
        if self.sets is None:
            self._prepare(task)
        assert self.sets is not None and self.pool is not None
        if not 1 <= iteration <= len(self.sets):
            raise PolicyError(
                f"iteration {iteration}: the prompt pool has {len(self.sets)} combinations"
            )
        details: dict[str, Any] = {"pool": list(self.pool)}
        if iteration == 1:
            details["replies"] = self._records
        return ProposedSet(
            self.sets[iteration - 1],
            f"{self.name} ({self.client.model}): combination {iteration}/{len(self.sets)}",
            details,
        )


__all__ = [
    "FAILED",
    "INJECTED",
    "LISTING1_AFTER",
    "LISTING1_BEFORE",
    "OK",
    "PC3D_PLUS_PLUS",
    "RUN",
    "FixedPolicy",
    "LLMPolicyBase",
    "Policy",
    "PolicyError",
    "PolicyUnavailable",
    "PromptPoolPolicy",
    "ProposedSet",
    "StaticPromptPolicy",
    "Trial",
    "ask_concepts",
    "normalise_objects",
    "parse_combinations",
]
