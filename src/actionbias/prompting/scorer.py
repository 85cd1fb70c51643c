"""Score one instruction: the video LLM answers the swap-set MCQ with it, through the audit.

Every evaluation is an ordinary audit run directory (`actionbias.audit.run_audit`
with the MCQ protocol), one per (prompt, split part), answering the questions
drawn once for the whole swap set. That buys the audit's guarantees for free:
answers are appended per batch and a killed evaluation resumes where it
stopped, failed calls are redone on the next run, unusable replies count as no
answer (wrong for SHAcc, neither human nor scene for SBErr), broken videos are
skipped and counted; and each evaluation can be opened by `actionbias report`.

The model is built once; `with_prompt` gives a view of it that asks with
another instruction (same HTTP client and cache, or same loaded weights).
"""

from __future__ import annotations

import copy
import hashlib
import logging
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from actionbias.audit.mcq_prompt import ANSWER_INSTRUCTION, MCQPrompt
from actionbias.audit.runner import run_audit
from actionbias.audit.scorers import (
    DEFAULT_BASE_URL,
    EndpointVLMAnswerer,
    LocalVLMAnswerer,
    parse_model_string,
)
from actionbias.data import Manifest
from actionbias.errors import BadInputError
from actionbias.prompting.objective import Objective

log = logging.getLogger(__name__)

MAX_ERROR_ROUNDS = 3
"""How often an evaluation is rerun while calls still fail after the client's retries."""


class ScoringError(RuntimeError):
    """Some answers are still missing because model calls kept failing (rerun to resume)."""


@dataclass(frozen=True)
class PromptScore:
    """SHAcc / SBErr of one prompt on one split part, with bootstrap intervals."""

    shacc: float
    sberr: float
    objective: float
    n: int
    no_answer: int
    skipped: int
    shacc_ci: tuple[float | None, float | None] = (None, None)
    sberr_ci: tuple[float | None, float | None] = (None, None)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["shacc_ci"] = list(self.shacc_ci)
        data["sberr_ci"] = list(self.sberr_ci)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PromptScore:
        return cls(
            shacc=float(data["shacc"]),
            sberr=float(data["sberr"]),
            objective=float(data["objective"]),
            n=int(data["n"]),
            no_answer=int(data["no_answer"]),
            skipped=int(data.get("skipped", 0)),
            shacc_ci=tuple(data.get("shacc_ci") or (None, None)),  # type: ignore[arg-type]
            sberr_ci=tuple(data.get("sberr_ci") or (None, None)),  # type: ignore[arg-type]
        )


def instruction_prompt(instruction: str) -> MCQPrompt:
    """The MCQ prompt an automated instruction stands for: it replaces the question.

    Options and the reply instruction stay as in the manual prompts, so only
    the instruction differs between the points of the figure.
    """
    return MCQPrompt(question=instruction, choice_prefix="", instruction=ANSWER_INSTRUCTION)


def prompt_key(prompt: MCQPrompt, label: str = "") -> str:
    """A stable folder name for a prompt: a readable slug and a hash of its full text."""
    digest = hashlib.sha256(repr(sorted(prompt.to_dict().items())).encode()).hexdigest()[:12]
    slug = re.sub(r"[^a-z0-9]+", "-", label.casefold()).strip("-")[:32]
    return f"{slug}-{digest}" if slug else digest


def with_prompt(answerer: Any, prompt: MCQPrompt) -> Any:
    """The same model asking with ``prompt``: shares the HTTP client or the loaded weights.

    A shallow copy with another ``prompt`` (and the prompt in its ``spec``) is all a
    view needs: the answerers build their requests from ``prompt`` at each call, and
    every other setting (client, reply length, mode, name) stays the model's own.
    """
    if not (callable(getattr(answerer, "answer", None)) and hasattr(answerer, "prompt")):
        raise TypeError(
            f"{type(answerer).__name__} cannot take another prompt: prompt tuning needs a "
            "video LLM answerer with a `prompt` attribute (EndpointVLMAnswerer, "
            "LocalVLMAnswerer)"
        )
    view = copy.copy(answerer)
    view.prompt = prompt
    if isinstance(getattr(answerer, "spec", None), dict):
        view.spec = {**answerer.spec, "prompt": prompt.to_dict()}
    return view


def build_answerer(
    model: str | dict[str, Any],
    *,
    cache_dir: str | Path | None = None,
    frames: int = 8,
    device: str | None = None,
    client_options: dict[str, Any] | None = None,
) -> Any:
    """The video LLM that prompt tuning scores with, from a ``--model`` string or spec.

    Endpoints (``openai:MODEL[@URL]``) get a `ChatClient` with the disk cache in
    ``cache_dir``; local models (``internvl:ID``) are loaded once. Anything else
    (a classifier, CLIP) has no prompt to tune and is refused.
    """
    spec = parse_model_string(model) if isinstance(model, str) else dict(model)
    kind = spec.get("type")
    if kind == "vlm-local":
        return LocalVLMAnswerer.from_pretrained(
            str(spec["id"]), frames=frames, device=device, mode=str(spec.get("mode", "logprobs"))
        )
    if kind != "vlm-endpoint":
        raise BadInputError(
            f"prompt tuning needs a video LLM (openai:MODEL[@URL] or internvl:ID), got a {kind}",
            where="--model",
        )
    from actionbias.llm import ChatClient

    options = {k: spec[k] for k in ("concurrency", "timeout", "max_retries") if k in spec}
    options.update(client_options or {})
    client = ChatClient(
        str(spec.get("base_url") or DEFAULT_BASE_URL),
        str(spec.get("model") or spec["id"]),
        api_key_env=str(spec.get("api_key_env", "OPENAI_API_KEY")),
        cache_dir=cache_dir,
        **options,
    )
    answer_options = {k: spec[k] for k in ("max_side", "max_tokens", "top_logprobs") if k in spec}
    if "logprobs" in spec:
        answer_options["logprobs"] = bool(spec["logprobs"])
    # The run's identity is the model, not where it is served or how patiently it is asked:
    # a vLLM server that moves to another port must not invalidate a half-done search.
    transport = ("concurrency", "timeout", "max_retries", "base_url", "api_key_env")
    clean = {k: v for k, v in spec.items() if k not in transport}
    return EndpointVLMAnswerer(client, spec=clean, name=str(spec["id"]), **answer_options)


def _interval(estimate: dict[str, Any]) -> tuple[float | None, float | None]:
    low, high = estimate.get("low"), estimate.get("high")
    return (None if low is None else float(low), None if high is None else float(high))


def score_from_metrics(metrics: dict[str, Any], objective: Objective) -> PromptScore:
    """SHAcc / SBErr of the swap group of an audit's metrics.json."""
    groups = metrics["summary"]["groups"]
    swap = next((g["swap"] for g in groups.values() if "swap" in g), None)
    if swap is None:
        raise BadInputError("the evaluated videos carry no background label: not a swap set")
    shacc = float(swap["shacc"]["value"])
    sberr = float(swap["sberr"]["value"])
    return PromptScore(
        shacc=shacc,
        sberr=sberr,
        objective=objective(shacc, sberr),
        n=int(swap.get("n", metrics["videos"])),
        no_answer=int(metrics.get("no_answer", 0)),
        skipped=int(metrics.get("skipped", 0)),
        shacc_ci=_interval(swap["shacc"]),
        sberr_ci=_interval(swap["sberr"]),
    )


def evaluate_prompt(
    answerer: Any,
    prompt: MCQPrompt,
    videos: Manifest,
    questions: str | Path,
    run_dir: str | Path,
    objective: Objective,
    *,
    frames: int = 8,
    batch_size: int = 8,
    seed: int = 0,
    n_boot: int = 1000,
    name: str | None = None,
    progress: bool = False,
) -> PromptScore:
    """SHAcc / SBErr of ``prompt`` on ``videos`` (an audit run in ``run_dir``).

    Answers already in ``run_dir`` are reused; calls that failed after the
    client's retries are asked again up to `MAX_ERROR_ROUNDS` times, then
    `ScoringError` is raised (the answers so far stay, a rerun continues): a
    score with holes from a flaky endpoint would mislead the optimiser.
    """
    view = with_prompt(answerer, prompt)
    metrics: dict[str, Any] = {}
    for _round in range(MAX_ERROR_ROUNDS):
        metrics = run_audit(
            view,
            videos,
            run_dir,
            protocol="mcq",
            frames=frames,
            batch_size=batch_size,
            seed=seed,
            questions=questions,
            progress=progress,
            n_boot=n_boot,
            name=name,
            group="swap",
        )
        if not metrics.get("errors"):
            return score_from_metrics(metrics, objective)
        log.warning(
            "%s: %d model calls failed after retries; asking again", run_dir, metrics["errors"]
        )
    raise ScoringError(
        f"{run_dir}: {metrics.get('errors')} of {metrics.get('videos')} answers still missing "
        f"after {MAX_ERROR_ROUNDS} rounds of retries; run again to resume"
    )
