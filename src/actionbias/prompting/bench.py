"""One way to score prompts: the swap videos, their seeded split and one run folder.

Prompt tuning (`actionbias.prompting.loop`) and prompt evaluation
(`actionbias.prompting.evaluation`) score prompts on the same seeded tuning /
held-out split with the same MCQ questions, with answers cached under
``out/prompts/<key>/<part>``, so that a prompt scored by either is comparable with
every other and a rerun only asks what is new. `prompt_bench` prepares that
folder once; `PromptBench.score` scores one prompt on one part of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from actionbias.audit.mcq_prompt import MCQPrompt
from actionbias.audit.runner import load_audit_data, write_questions
from actionbias.data import Manifest
from actionbias.errors import BadInputError
from actionbias.prompting.objective import Objective
from actionbias.prompting.scorer import PromptScore, evaluate_prompt
from actionbias.prompting.splits import HELDOUT, TUNE, PromptSplit, load_or_make_split, subset

SPLIT = "split.json"
QUESTIONS = "questions.jsonl"
PROMPTS = "prompts"


def swap_manifest(
    data: str | Path | Manifest,
    swap_split: str,
    data_format: str,
    root: str | Path | None,
    classes: str | Path | None,
    limit: int | None,
) -> Manifest:
    """The swap videos of ``data`` (records with a background label), the first ``limit``."""
    is_synthact = not isinstance(data, Manifest) and (Path(data) / "synthact.json").is_file()
    audit_data = load_audit_data(
        data, [swap_split] if is_synthact else None, data_format, root, classes
    )
    for _name, manifest in audit_data.groups:
        if any(r.extras.get("background_label") for r in manifest.records):
            records = [r for r in manifest.records if r.extras.get("background_label")]
            if limit is not None:
                records = records[:limit]
            return Manifest(records, list(manifest.classes), manifest.name, manifest.source)
    raise BadInputError(
        "no swap videos (records with a background label) in the data: prompt tuning scores "
        "SHAcc and SBErr on an Action-Swap set (SynthAct's swap split, HAT, swap_pairs.csv)",
        source=str(data) if not isinstance(data, Manifest) else None,
        where="--data",
    )


@dataclass(frozen=True)
class PromptBench:
    """Everything that scores a prompt but the prompt: model, questions, parts, settings."""

    answerer: Any
    out: Path
    split: PromptSplit
    questions: Path
    parts: dict[str, Manifest]
    objective: Objective
    audit: dict[str, Any]
    """`evaluate_prompt`'s keywords, the same for every prompt: frames, batch_size, seed,
    n_boot, progress."""

    def score(self, prompt: MCQPrompt, key: str, part: str) -> PromptScore:
        """``prompt``'s score on ``part`` (`TUNE` or `HELDOUT`), cached under ``key``."""
        return evaluate_prompt(
            self.answerer,
            prompt,
            self.parts[part],
            self.questions,
            self.out / PROMPTS / key / part,
            self.objective,
            name=key,
            **self.audit,
        )


def prompt_bench(
    answerer: Any,
    swap: Manifest,
    out: Path,
    objective: Objective,
    *,
    tune_fraction: float,
    seed: int,
    frames: int,
    batch_size: int,
    n_boot: int,
    progress: bool,
) -> PromptBench:
    """Write (or reuse) ``out``'s MCQ questions and tuning / held-out split of ``swap``."""
    questions = write_questions(swap, out / QUESTIONS, seed=seed, group="swap")
    split = load_or_make_split(out / SPLIT, swap, tune_fraction, seed)
    parts = {TUNE: subset(swap, split.tune), HELDOUT: subset(swap, split.heldout)}
    audit = dict(frames=frames, batch_size=batch_size, seed=seed, n_boot=n_boot, progress=progress)
    return PromptBench(answerer, out, split, questions, parts, objective, audit)
