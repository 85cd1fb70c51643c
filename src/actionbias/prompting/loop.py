"""`run_prompt_tuning`: the automated prompt-tuning loop of the paper's Sec. 4.2.

Layout of a tuning folder::

    OUT/
      history.json        config, manual prompts and every step (rewritten atomically)
      split.json          the tuning / held-out video ids (drawn once, seeded)
      questions.jsonl     the MCQ questions of the whole swap set (drawn once, seeded)
      llm_cache/          the disk cache of both LLM clients (when the caller puts it here)
      prompts/KEY/tune/   one audit run directory per prompt and split part
      prompts/KEY/heldout/

Order of work: the manual prompts (neutral, prefixed, human, background) are
scored on both parts; those whose question is an instruction (all but
"prefixed", which changes the options) seed the optimiser's history. Then each
step asks the optimiser for an instruction, scores it on the tuning part (what
the optimiser sees next) and on the held-out part (what the report shows).
Two optimisers: `ConversationOptimizer` (the paper's: one running dialogue,
each step's score reported back in it) and `Optimizer` (OPRO: a fresh
meta-prompt with the best scored instructions per step); the config's
``optimizer.mode`` says which produced a folder.

Resuming: history.json is written after every prompt and step, so a killed run
continues at the first unfinished step. The step in flight when it died is
redone without new paid calls: its optimiser request is identical (same history,
same sample index) and comes from the LLM cache, and its evaluations resume in
their audit run directories, which keep every answer already received.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from actionbias.audit.mcq_prompt import ANSWER_INSTRUCTION, PROMPT_STYLES, MCQPrompt
from actionbias.audit.scorers import describe
from actionbias.data import Manifest
from actionbias.errors import BadInputError
from actionbias.fileio import atomic_write_text
from actionbias.prompting.bench import SPLIT, prompt_bench, swap_manifest
from actionbias.prompting.conversation import ConversationOptimizer
from actionbias.prompting.objective import DEFAULT_OBJECTIVE, Objective
from actionbias.prompting.optimizer import Optimizer, Tried, Turn
from actionbias.prompting.scorer import (
    PromptScore,
    instruction_prompt,
    prompt_key,
)
from actionbias.prompting.splits import HELDOUT, TUNE, PromptSplit

log = logging.getLogger(__name__)

HISTORY = "history.json"
DEFAULT_ITERATIONS = 20
DEFAULT_SEED_STYLES = ("neutral", "human", "background")
STATE_VERSION = 1


@dataclass
class PromptRecord:
    """One scored prompt: manual (a style) or automated (a step's instruction)."""

    kind: str  # "manual" | "automated"
    label: str
    prompt: MCQPrompt
    key: str
    tune: PromptScore
    heldout: PromptScore
    step: int | None = None
    attempts: list[dict[str, Any]] = field(default_factory=list)

    @property
    def instruction(self) -> str:
        return self.prompt.question

    @property
    def gap(self) -> float:
        """Tuning minus held-out objective: how much the search flattered this prompt."""
        return self.tune.objective - self.heldout.objective

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "label": self.label,
            "step": self.step,
            "status": "ok",
            "prompt": self.prompt.to_dict(),
            "key": self.key,
            "tune": self.tune.to_json(),
            "heldout": self.heldout.to_json(),
            "attempts": self.attempts,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PromptRecord:
        return cls(
            kind=str(data["kind"]),
            label=str(data["label"]),
            prompt=MCQPrompt(**data["prompt"]),
            key=str(data["key"]),
            tune=PromptScore.from_json(data["tune"]),
            heldout=PromptScore.from_json(data["heldout"]),
            step=data.get("step"),
            attempts=list(data.get("attempts") or []),
        )


@dataclass
class TuningResult:
    """Everything a tuning folder holds, as objects (what the report draws)."""

    path: Path
    config: dict[str, Any]
    manual: list[PromptRecord]
    steps: list[dict[str, Any]]  # one per step: a PromptRecord's JSON or a skipped step
    split: PromptSplit | None = None

    @property
    def automated(self) -> list[PromptRecord]:
        return [PromptRecord.from_json(s) for s in self.steps if s.get("status") == "ok"]

    @property
    def skipped_steps(self) -> list[dict[str, Any]]:
        return [s for s in self.steps if s.get("status") == "skipped"]

    def best(self) -> PromptRecord | None:
        """The automated prompt with the best *tuning* objective (chosen without peeking)."""
        auto = self.automated
        if not auto:
            return None
        return max(auto, key=lambda r: (r.tune.objective, -(r.step or 0)))

    def to_json(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "config": self.config,
            "manual": [m.to_json() for m in self.manual],
            "steps": self.steps,
        }


def load_tuning(path: str | Path) -> TuningResult:
    """Read a tuning folder's history.json (for the report or a resume)."""
    path = Path(path)
    file = path / HISTORY if path.is_dir() else path
    folder = file.parent
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
        manual = [PromptRecord.from_json(m) for m in data["manual"]]
        steps = [dict(s) for s in data["steps"]]
        config = dict(data["config"])
    except FileNotFoundError:
        raise BadInputError("no prompt-tuning history here", source=file) from None
    except (ValueError, KeyError, TypeError) as exc:
        raise BadInputError(f"unreadable prompt-tuning history ({exc})", source=file) from None
    split = None
    if (folder / SPLIT).is_file():
        split_data = json.loads((folder / SPLIT).read_text(encoding="utf-8"))
        split = PromptSplit(
            tuple(split_data["tune"]),
            tuple(split_data["heldout"]),
            float(split_data["fraction"]),
            int(split_data["seed"]),
        )
    return TuningResult(folder, config, manual, steps, split)


def _turns(steps: Sequence[dict[str, Any]]) -> list[Turn]:
    """The stored steps as the conversation replays them (replies, errors, tuning scores)."""
    turns = []
    for data in steps:
        score = None
        if data.get("status") == "ok":
            record = PromptRecord.from_json(data)
            score = Tried(
                record.instruction, record.tune.shacc, record.tune.sberr, record.tune.objective
            )
        attempts = tuple(dict(a) for a in data.get("attempts") or ())
        turns.append(Turn(int(data["step"]), attempts, score))
    return turns


def _check_config(old: dict[str, Any], new: dict[str, Any], path: Path) -> None:
    """A resumed run must be the same search; only the number of iterations may grow."""
    ignore = {"iterations"}
    if isinstance(old.get("optimizer"), dict):  # folders from before the modes: OPRO
        old = {**old, "optimizer": {"mode": "opro", **old["optimizer"]}}
    for key in sorted(set(old) | set(new)):
        if key in ignore:
            continue
        if old.get(key) != new.get(key):
            raise BadInputError(
                f"this folder holds a tuning run with another {key} "
                f"({old.get(key)!r}, now {new.get(key)!r}); use another --out",
                source=path,
                where=f"field {key}",
            )


def run_prompt_tuning(
    answerer: Any,
    optimizer: Optimizer | ConversationOptimizer,
    data: str | Path | Manifest,
    out_dir: str | Path,
    *,
    iterations: int = DEFAULT_ITERATIONS,
    top_k: int = 20,
    tune_fraction: float = 0.25,
    seed: int = 0,
    objective: str | Objective = DEFAULT_OBJECTIVE,
    frames: int = 8,
    batch_size: int = 8,
    limit: int | None = None,
    swap_split: str = "swap",
    manual_styles: Sequence[str] = PROMPT_STYLES,
    seed_styles: Sequence[str] = DEFAULT_SEED_STYLES,
    n_boot: int = 1000,
    data_format: str = "auto",
    root: str | Path | None = None,
    classes: str | Path | None = None,
    on_step: Callable[[PromptRecord | dict[str, Any]], None] | None = None,
    progress: bool = False,
) -> TuningResult:
    """Tune the MCQ instruction of ``answerer`` (a video LLM) with ``optimizer``.

    ``answerer``: an `EndpointVLMAnswerer`, `LocalVLMAnswerer` or any answerer
    with a ``prompt`` attribute (`actionbias.prompting.build_answerer` makes
    one from a model string). ``data``: anything the audit reads that holds
    swap videos. ``limit``: only the first N swap videos (a quick look).
    ``iterations``: optimisation steps (proposals), counting skipped ones; a
    rerun with a larger number continues the same search. ``on_step`` is called
    with each scored prompt (or skipped step's dict) as it is stored;
    ``progress`` shows the audit's progress bar for every evaluation.
    """
    if iterations < 0:
        raise BadInputError(f"must be >= 0, got {iterations}", where="--iterations")
    if top_k < 1:
        raise BadInputError(f"must be >= 1, got {top_k}", where="--top-k")
    unknown = [s for s in (*manual_styles, *seed_styles) if s not in PROMPT_STYLES]
    if unknown:
        raise BadInputError(
            f"unknown prompt style {unknown[0]!r}; choose from {', '.join(PROMPT_STYLES)}",
            where="manual_styles",
        )
    if "prefixed" in seed_styles:
        raise BadInputError(
            "'prefixed' changes the options, not the instruction: it cannot seed the optimiser",
            where="seed_styles",
        )
    not_scored = [s for s in seed_styles if s not in manual_styles]
    if not_scored:
        raise BadInputError(
            f"seed style {not_scored[0]!r} is not among the manual prompts scored",
            where="seed_styles",
        )
    goal = objective if isinstance(objective, Objective) else Objective.parse(objective)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    swap = swap_manifest(data, swap_split, data_format, root, classes, limit)

    _, model_spec = describe(answerer)
    model_spec = {k: v for k, v in model_spec.items() if k != "prompt"}
    config = {
        "kind": "prompt-tuning",
        "model": model_spec,
        "optimizer": {**optimizer.spec, "top_k": top_k},
        "objective": goal.describe(),
        "data": swap.source or swap.name,
        "videos": len(swap),
        "limit": limit,
        "tune_fraction": float(tune_fraction),
        "seed": seed,
        "frames": frames,
        "manual_styles": list(manual_styles),
        "seed_styles": list(seed_styles),
        "iterations": iterations,
    }
    history_path = out / HISTORY
    # Check the stored search before anything in the folder is written.
    if history_path.is_file():
        state = load_tuning(out)
        _check_config(state.config, config, history_path)
        state.config = config
    else:
        state = TuningResult(out, config, [], [])
    bench = prompt_bench(
        answerer,
        swap,
        out,
        goal,
        tune_fraction=tune_fraction,
        seed=seed,
        frames=frames,
        batch_size=batch_size,
        n_boot=n_boot,
        progress=progress,
    )
    state.split = bench.split
    score = bench.score

    def save() -> None:
        atomic_write_text(history_path, json.dumps(state.to_json(), indent=1) + "\n")

    save()
    done_manual = {m.label for m in state.manual}
    for style in manual_styles:
        if style in done_manual:
            continue
        prompt = MCQPrompt.from_style(style, ANSWER_INSTRUCTION)
        key = prompt_key(prompt, f"manual-{style}")
        record = PromptRecord(
            "manual", style, prompt, key, score(prompt, key, TUNE), score(prompt, key, HELDOUT)
        )
        state.manual.append(record)
        save()
        log.info(
            "manual %s: tuning SHAcc %.3f SBErr %.3f", style, record.tune.shacc, record.tune.sberr
        )
        if on_step is not None:
            on_step(record)

    by_style = {m.label: m for m in state.manual}
    for step in range(len(state.steps) + 1, iterations + 1):
        tried = [
            Tried(
                by_style[s].instruction,
                by_style[s].tune.shacc,
                by_style[s].tune.sberr,
                by_style[s].tune.objective,
            )
            for s in seed_styles
        ]
        seeds = list(tried)
        tried += [
            Tried(r.instruction, r.tune.shacc, r.tune.sberr, r.tune.objective)
            for r in state.automated
        ]
        proposal = optimizer.propose(
            tried, goal, top_k, step, seeds=seeds, turns=_turns(state.steps)
        )
        if proposal.instruction is None:
            skipped = {"step": step, "status": "skipped", "attempts": proposal.attempts}
            state.steps.append(skipped)
            save()
            if on_step is not None:
                on_step(skipped)
            continue
        prompt = instruction_prompt(proposal.instruction)
        key = prompt_key(prompt, f"step-{step}")
        record = PromptRecord(
            "automated",
            f"step {step}",
            prompt,
            key,
            score(prompt, key, TUNE),
            score(prompt, key, HELDOUT),
            step=step,
            attempts=proposal.attempts,
        )
        state.steps.append(record.to_json())
        save()
        log.info(
            "step %d: %r tuning SHAcc %.3f SBErr %.3f",
            step,
            proposal.instruction,
            record.tune.shacc,
            record.tune.sberr,
        )
        if on_step is not None:
            on_step(record)
    return state
