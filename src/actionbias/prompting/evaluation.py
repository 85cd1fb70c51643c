"""Score given prompts without an optimiser: the ``actionbias prompt-eval`` workflow.

``evaluate_prompts(answerer, prompts, data, out)`` answers the swap videos with each
prompt on the same seeded tuning / held-out split and the same MCQ questions that
`actionbias.prompting.loop.run_prompt_tuning` uses, so the paper's manual prompts (or
its 20 published automated ones) can be compared with a tuning run of another model.
Answers are cached per prompt under ``out/prompts/<key>/<part>``: a rerun only adds
what is new.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from actionbias.audit.mcq_prompt import MCQPrompt
from actionbias.data import Manifest
from actionbias.fileio import atomic_write_text
from actionbias.prompting.bench import prompt_bench, swap_manifest
from actionbias.prompting.objective import Objective
from actionbias.prompting.scorer import prompt_key

RESULT = "prompt_eval.json"


def evaluate_prompts(
    answerer: Any,
    prompts: Sequence[tuple[str, MCQPrompt]],
    data: str | Path | Manifest,
    out_dir: str | Path,
    *,
    objective: str | Objective = "shacc - sberr",
    tune_fraction: float = 0.25,
    seed: int = 0,
    frames: int = 8,
    batch_size: int = 8,
    n_boot: int = 1000,
    limit: int | None = None,
    swap_split: str = "swap",
    data_format: str = "auto",
    root: str | Path | None = None,
    classes: str | Path | None = None,
    on_prompt: Callable[[dict[str, Any], MCQPrompt], None] | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """Score each ``(label, prompt)`` on the tuning and the held-out part of the swap set.

    Returns (and writes to ``out_dir/prompt_eval.json``) the objective and one row per
    prompt: its label, the prompt, its cache key and the scores of both parts.
    `on_prompt` sees each finished row with its prompt.
    """
    goal = Objective.parse(objective) if isinstance(objective, str) else objective
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    swap = swap_manifest(data, swap_split, data_format, root, classes, limit)
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
    rows = []
    for label, prompt in prompts:
        key = prompt_key(prompt, label)
        row: dict[str, Any] = {"label": label, "prompt": prompt.to_dict(), "key": key}
        for part in bench.parts:
            row[part] = bench.score(prompt, key, part).to_json()
        rows.append(row)
        if on_prompt is not None:
            on_prompt(row, prompt)
    result = {"objective": goal.describe(), "prompts": rows}
    atomic_write_text(out / RESULT, json.dumps(result, indent=1) + "\n")
    return result
