"""What every A2O policy shares: the trial record, the policy protocol, asking an LLM.

`Trial` is one iteration of Algorithm 1 (a_t, r_t and what audits it), `Policy`
the protocol `run_icrl` drives, `ProposedSet` a proposal (a ``list[str]`` with a
note). `ask_concepts` sends a prompt and re-asks with the rejection reasons until
a reply parses; `LLMPolicyBase` holds the settings and the spec of the LLM-backed
policies (`actionbias.a2o.policies.StaticPromptPolicy` and `PromptPoolPolicy`,
`actionbias.a2o.llm_policy.LLMPolicy`).

Failure kinds are kept apart on purpose: `PolicyError` means the policy could
not produce a usable set this iteration (the loop records a failed trial and
goes on), `PolicyUnavailable` means the service behind it is down (the loop
stops and a rerun resumes at that iteration, since an outage says nothing
about the object set).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from actionbias.a2o.concepts import (
    DEFAULT_MAX_WORDS,
    ConceptParseError,
    describe_rejections,
    parse_concepts,
)
from actionbias.a2o.task import TaskDescription
from actionbias.errors import ActionBiasError, BadInputError
from actionbias.llm import ChatClient, LLMError
from actionbias.llm.sampling import Sampled

log = logging.getLogger(__name__)

OK = "ok"
FAILED = "failed"
RUN = "run"
INJECTED = "injected"

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


def ask_concepts(
    sampled: Sampled,
    prompt: str,
    *,
    max_objects: int,
    iteration: int,
    max_words: int = DEFAULT_MAX_WORDS,
    parse=None,
    run_seed: int = 0,
) -> tuple[Any, list[dict[str, Any]]]:
    """Ask ``sampled``'s model, parse, and re-ask with the rejection reasons (up to its
    `attempts` replies, at its temperature and reply length).

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
    attempts = sampled.attempts
    for attempt in range(1, attempts + 1):
        try:
            result = sampled.sample(messages, sample)
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


class LLMPolicyBase(Sampled):
    """Shared settings of the LLM-backed policies: the client and how it is sampled.

    Subclasses take their own options and pass the sampling ones (`temperature`,
    `max_tokens`, `attempts`, `max_words`) on as keywords, so the defaults live here.
    """

    kind = "llm"

    def __init__(
        self,
        client: ChatClient,
        *,
        temperature: float = 1.0,
        max_tokens: int | None = 512,
        attempts: int = 3,
        max_words: int = DEFAULT_MAX_WORDS,
    ):
        super().__init__(client, temperature=temperature, max_tokens=max_tokens, attempts=attempts)
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

    def _ask_concepts(
        self,
        prompt: str,
        max_objects: int,
        iteration: int,
        parse: Callable[[str], Any] | None = None,
    ) -> tuple[Any, list[dict[str, Any]]]:
        """`ask_concepts` with this policy's client, sampling settings and run seed."""
        return ask_concepts(
            self,
            prompt,
            max_objects=max_objects,
            iteration=iteration,
            max_words=self.max_words,
            parse=parse,
            run_seed=self.seed,
        )

    def _ask(self, prompt: str, task: TaskDescription, iteration: int) -> ProposedSet:
        start = time.monotonic()
        concepts, records = self._ask_concepts(prompt, task.max_objects, iteration)
        note = f"{self.name} ({self.client.model}): reply {len(records)}/{self.attempts} used"  # type: ignore[attr-defined]
        details = {"replies": records, "policy_seconds": time.monotonic() - start}
        return ProposedSet(concepts.concepts, note, details)


__all__ = [
    "FAILED",
    "INJECTED",
    "OK",
    "RUN",
    "LLMPolicyBase",
    "Policy",
    "PolicyError",
    "PolicyUnavailable",
    "ProposedSet",
    "Trial",
    "ask_concepts",
    "normalise_objects",
]
