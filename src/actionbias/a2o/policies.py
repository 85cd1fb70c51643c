"""Policies pi(a | s, c) of Algorithm 1: the trial record, the protocol and the baselines.

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

Failure kinds are kept apart on purpose: `PolicyError` means the policy could
not produce a usable set this iteration (the loop records a failed trial and
goes on), `PolicyUnavailable` means the service behind it is down (the loop
stops and a rerun resumes at that iteration, since an outage says nothing
about the object set).
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from actionbias.a2o.concepts import (
    DEFAULT_MAX_WORDS,
    ConceptParseError,
    describe_rejections,
    parse_concepts,
)
from actionbias.a2o.task import TaskDescription, describe
from actionbias.errors import ActionBiasError, BadInputError
from actionbias.llm import ChatClient, LLMError

log = logging.getLogger(__name__)

OK = "ok"
FAILED = "failed"
RUN = "run"
INJECTED = "injected"

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

CORRECTION = (
    "Your reply could not be used: {reason}\n"
    "Reply again with the list only: one short, atomic visual concept per line, with no "
    "commas, slashes, logic words (and, or, with, ...), numbering, headers or explanations."
)


class PolicyError(ActionBiasError):
    """The policy produced no usable object set this iteration (a failed trial)."""


class PolicyUnavailable(ActionBiasError):
    """The service behind the policy failed after its retries; rerun to resume."""


@dataclass
class Trial:
    """One iteration of Algorithm 1: (a_t, r_t) plus what is needed to use and audit it.

    `accuracy` is the reward r_t in [0, 1] (``-inf`` for a failed trial, so it
    is never the best); `weights` is W_t's path; `seconds` the environment's
    wall time. `status` is "ok" or "failed" (with `error`), `source` "run" for
    this run's own trials or "injected" for another run's history shown to the
    policy (OOD-history), which is never selected as best.
    """

    iteration: int
    objects: list[str]
    accuracy: float
    classwise: dict[str, float]
    weights: str | None
    seconds: float
    policy_note: str = ""
    status: str = OK
    error: str | None = None
    source: str = RUN
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == OK and math.isfinite(self.accuracy)

    @property
    def selectable(self) -> bool:
        """Whether this trial may become a_best (own, evaluated trials only)."""
        return self.ok and self.source == RUN

    def to_json(self) -> dict[str, Any]:
        return {
            "iteration": self.iteration,
            "objects": list(self.objects),
            "accuracy": self.accuracy if math.isfinite(self.accuracy) else None,
            "classwise": dict(self.classwise),
            "weights": self.weights,
            "seconds": self.seconds,
            "policy_note": self.policy_note,
            "status": self.status,
            "error": self.error,
            "source": self.source,
            "extra": self.extra,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Trial:
        accuracy = data.get("accuracy")
        return cls(
            iteration=int(data["iteration"]),
            objects=[str(o) for o in data["objects"]],
            accuracy=float(accuracy) if accuracy is not None else -math.inf,
            classwise={str(k): float(v) for k, v in (data.get("classwise") or {}).items()},
            weights=data.get("weights"),
            seconds=float(data.get("seconds") or 0.0),
            policy_note=str(data.get("policy_note") or ""),
            status=str(data.get("status") or OK),
            error=data.get("error"),
            source=str(data.get("source") or RUN),
            extra=dict(data.get("extra") or {}),
        )


class ProposedSet(list):
    """An object set (a ``list[str]``) with the policy's note and details for the record."""

    def __init__(self, objects: Sequence[str], note: str = "", details: dict | None = None):
        super().__init__(objects)
        self.note = note
        self.details = dict(details or {})


@runtime_checkable
class Policy(Protocol):
    """What `run_icrl` needs from a policy.

    `kind` is "llm", "search" or "fixed"; `uses_history` says whether the
    proposal depends on the trials so far; `spec` identifies the policy in a
    run's config (a resumed run must use the same one).
    """

    name: str
    uses_history: bool
    kind: str

    @property
    def spec(self) -> dict[str, Any]: ...

    def propose(
        self, task: TaskDescription, history: Sequence[Trial], iteration: int
    ) -> list[str]: ...


def normalise_objects(objects: Sequence[str], where: str = "objects") -> list[str]:
    """Lowercase, trimmed, unique (first kept) object names; empty names are bad input."""
    out: list[str] = []
    for i, name in enumerate(objects):
        text = " ".join(str(name).lower().split())
        if not text:
            raise BadInputError(f"object {i} is empty", where=where)
        if text not in out:
            out.append(text)
    return out


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


# ---------------------------------------------------------------------- asking an LLM


def ask_concepts(
    client: ChatClient,
    prompt: str,
    *,
    max_objects: int,
    iteration: int,
    temperature: float,
    max_tokens: int | None,
    attempts: int,
    max_words: int = DEFAULT_MAX_WORDS,
    parse=None,
    run_seed: int = 0,
) -> tuple[Any, list[dict[str, Any]]]:
    """Ask, parse, and re-ask with the rejection reasons (up to `attempts` replies).

    The iteration number is the sampling seed and the cache's sample index: a
    resumed run gets the very same replies from the disk cache for free, and
    two iterations with the same prompt (no history) still get distinct
    samples. `parse(text)` defaults to `parse_concepts`; it raises
    `ConceptParseError` (or `ValueError`) for an unusable reply. Returns the
    parsed value and one record per reply; `PolicyError` after `attempts`
    unusable replies, `PolicyUnavailable` when the endpoint fails. `run_seed`
    separates repeated runs (Table 8): run k samples (and caches) its own replies.
    """
    sample = int(iteration) + 100_003 * int(run_seed)
    if parse is None:

        def parse(text: str) -> Any:
            return parse_concepts(text, max_objects, max_words=max_words)

    messages: list[dict[str, Any]] = [{"role": "user", "content": prompt}]
    records: list[dict[str, Any]] = []
    for attempt in range(1, attempts + 1):
        try:
            result = client.chat(
                messages,
                temperature=temperature,
                max_tokens=max_tokens,
                seed=sample,
                sample_index=sample,
            )
        except LLMError as exc:
            raise PolicyUnavailable(
                f"iteration {iteration}: the LLM endpoint failed after the client's retries "
                f"({exc}); rerun the same command to resume at this iteration"
            ) from None
        reply = result.text or ""
        record: dict[str, Any] = {"reply": reply[:4000], "cached": result.cached}
        try:
            value = parse(reply)
        except (ConceptParseError, ValueError) as exc:
            record["error"] = str(exc)
            records.append(record)
            log.warning(
                "iteration %d: reply %d/%d unusable (%s)", iteration, attempt, attempts, exc
            )
            reasons = str(exc)
            if isinstance(exc, ConceptParseError) and exc.rejected:
                reasons = "\n" + describe_rejections(exc.rejected)
            messages = [
                *messages,
                {"role": "assistant", "content": reply},
                {"role": "user", "content": CORRECTION.format(reason=reasons)},
            ]
            continue
        record["error"] = None
        if hasattr(value, "to_dict"):
            record["parsed"] = value.to_dict()
        records.append(record)
        return value, records
    raise PolicyError(
        f"iteration {iteration}: no usable object list after {attempts} replies "
        f"(last: {records[-1]['error']})"
    )


class _LLMBase:
    """Shared settings of the LLM-backed policies."""

    kind = "llm"

    def __init__(
        self,
        client: ChatClient,
        *,
        temperature: float,
        max_tokens: int | None,
        attempts: int,
        max_words: int,
    ):
        if attempts < 1:
            raise ValueError(f"attempts must be >= 1, got {attempts}")
        self.client = client
        self.temperature = float(temperature)
        self.max_tokens = max_tokens
        self.attempts = int(attempts)
        self.max_words = int(max_words)
        #: Run seed (repeated runs draw different samples); set after construction.
        self.seed = 0

    @property
    def spec(self) -> dict[str, Any]:
        """Identity in a run's config: model and sampling, not the URL (servers move)."""
        return {
            "kind": self.kind,
            "name": self.name,  # type: ignore[attr-defined]
            "model": self.client.model,
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "attempts": self.attempts,
            "max_words": self.max_words,
            "seed": self.seed,
        }

    def _ask(self, prompt: str, task: TaskDescription, iteration: int) -> ProposedSet:
        start = time.monotonic()
        concepts, records = ask_concepts(
            self.client,
            prompt,
            max_objects=task.max_objects,
            iteration=iteration,
            temperature=self.temperature,
            max_tokens=self.max_tokens,
            attempts=self.attempts,
            max_words=self.max_words,
            run_seed=self.seed,
        )
        note = f"{self.name} ({self.client.model}): reply {len(records)}/{self.attempts} used"  # type: ignore[attr-defined]
        details = {"replies": records, "policy_seconds": time.monotonic() - start}
        return ProposedSet(concepts.concepts, note, details)


class StaticPromptPolicy(_LLMBase):
    """The LLM without history: the task description only, T independent samples.

    Sampled at `temperature` > 0 with the iteration as seed and cache sample
    index, so the T samples differ and a resumed run replays them from cache.
    """

    name = "static-prompts"
    uses_history = False

    def __init__(
        self,
        client: ChatClient,
        *,
        temperature: float = 1.0,
        max_tokens: int | None = 512,
        attempts: int = 3,
        max_words: int = DEFAULT_MAX_WORDS,
    ):
        if temperature <= 0:
            raise ValueError("static prompts need temperature > 0 (else every sample is the same)")
        super().__init__(
            client,
            temperature=temperature,
            max_tokens=max_tokens,
            attempts=attempts,
            max_words=max_words,
        )

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


class PromptPoolPolicy(_LLMBase):
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
        temperature: float = 1.0,
        max_tokens: int | None = 1024,
        attempts: int = 3,
        max_words: int = DEFAULT_MAX_WORDS,
    ):
        super().__init__(
            client,
            temperature=temperature,
            max_tokens=max_tokens,
            attempts=attempts,
            max_words=max_words,
        )
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
        pool, pool_records = ask_concepts(
            self.client,
            POOL_PROMPT.format(pool_size=self.pool_size, **fields),
            max_objects=self.pool_size,
            iteration=0,
            temperature=self.temperature,
            max_tokens=self.max_tokens,
            attempts=self.attempts,
            max_words=self.max_words,
            run_seed=self.seed,
        )
        self.pool = pool.concepts

        def parse(text: str) -> list[list[str]]:
            return parse_combinations(text, self.combinations, task.max_objects, self.max_words)

        self.sets, combo_records = ask_concepts(
            self.client,
            COMBINATIONS_PROMPT.format(
                pool=json.dumps(self.pool),
                count=self.combinations,
                max_objects=task.max_objects,
                **fields,
            ),
            max_objects=task.max_objects,
            iteration=0,
            temperature=self.temperature,
            max_tokens=self.max_tokens,
            attempts=self.attempts,
            max_words=self.max_words,
            parse=parse,
            run_seed=self.seed,
        )
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
