"""The task description c of Algorithm 1 and the prompt text of the paper's Listing 2.

The LLM policy sees one text per iteration: fixed instruction blocks, the
target classes as a JSON list and the history of (object set, overall accuracy,
class-wise accuracy). The blocks are the paper's Listing 2 word for word (only
the PDF's line wrapping undone), because the prompt is part of the method being
reproduced: a paraphrase would be a different policy. Where another detector is
used its name replaces "Grounded SAM2", since the prompt tells the LLM what the
detector can recognise.

Two additions, both outside the paper's blocks and both switchable: a
"## Notes" section (the set-size limit C_max, which Algorithm 1 enforces by
truncation, and free-form notes) and the way failed trials appear in the
history (the paper has none).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from actionbias.errors import BadInputError

if TYPE_CHECKING:
    from actionbias.a2o.policy_base import Trial

PAPER_DETECTOR = "Grounded SAM2"

# Listing 2, fixed part. "{detector}" marks each place the paper names Grounded SAM2.
INSTRUCTIONS = """\
You are an adaptive reasoning agent collaborating on the framework. Using the class label set \
and the iteration history, propose improved prompts to enhance classification performance.
Your primary goal is to analyze the iteration history to identify weaknesses and propose \
optimized prompt sets that directly improve overall and class-wise classification accuracy. \
Focus on data-driven adjustments that lead to measurable accuracy gains.
In each new round, adjust gradually with a few edits, avoiding large jumps to prevent training \
complexity.

## Output Format Instructions
CRITICAL: Output prompts as a plain text list, one per line, following these rules STRICTLY:
- Each line = one single, atomic visual concept (short noun/noun phrase)
- NO headers, titles, numbering, or explanations
- Do not include any other text before or after the list

Note: open-vocabulary object detector uses {detector}. Keep prompts simple and atomic (single \
concept; avoid commas, slashes, logic words, or compound phrases), as complex prompts are not \
reliably recognized.

## Instructions
* Diagnose likely causes of low accuracy (e.g., missing contextual cues, insufficient \
body-part/object coverage, ambiguous wording).
* Design prompts that better capture discriminative evidence for underperforming classes while \
keeping the vocabulary concise and generalizable.
* Prefer compact, single-concept phrases suitable for open-vocabulary object detector \
({detector}-friendly).
* Prompt Count Policy (soft guidance): expand cautiously and incrementally; prefer swapping out \
weak cues over adding many new ones at once.

## Framework
We propose an agent that turns commonsense into adaptive feature redesign for action \
recognition. For each action, a language model proposes a set of evidence-bearing entities \
(objects, targets, body parts). These cues are localized in video via a text-conditioned \
open-vocabulary object detector ({detector}), yielding spatio-temporal regions that guide \
representation. The agent then rewires the extractor on the fly via region-conditioned \
routing/adapters to emphasize actor-object interactions and suppress background bias. Learning \
proceeds in a closed loop: class-level rewards from recognition performance and attribution \
consistency drive in-context reinforcement learning over the textual cues, implemented as \
iterative prompt edits without updating the language model's weights, followed by renewed \
localization and feature updates. Thus, prompts, detections, and features co-evolve as a single \
trainable pipeline."""

NO_HISTORY = "(none yet: this is the first iteration)"


@dataclass
class TaskDescription:
    """c in Algorithm 1: what the policy is told about the task (constant over iterations).

    `notes` are extra lines for the "## Notes" section (e.g. what the videos
    show); `mention_limit` adds the line that states C_max there. Both are our
    additions to Listing 2; with `notes=()` and `mention_limit=False` the
    prompt is the paper's exactly.
    """

    dataset: str
    classes: list[str]
    detector: str = PAPER_DETECTOR
    max_objects: int = 15
    notes: list[str] = field(default_factory=list)
    mention_limit: bool = True

    def __post_init__(self) -> None:
        self.classes = [str(c) for c in self.classes]
        self.notes = [str(n) for n in self.notes]
        if not str(self.dataset).strip():
            raise BadInputError("the dataset needs a name", where="task.dataset")
        if not self.classes:
            raise BadInputError("the task needs at least one class", where="task.classes")
        if not str(self.detector).strip():
            raise BadInputError("the detector needs a name", where="task.detector")
        if int(self.max_objects) < 1:
            raise BadInputError(f"must be >= 1, got {self.max_objects}", where="task.max_objects")
        self.max_objects = int(self.max_objects)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TaskDescription:
        known = {"dataset", "classes", "detector", "max_objects", "notes", "mention_limit"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise BadInputError(f"unknown task field {unknown[0]!r}", where=f"field {unknown[0]}")
        return cls(**dict(data))


def instructions(detector: str = PAPER_DETECTOR) -> str:
    """The fixed blocks of Listing 2 with `detector` named where the paper says Grounded SAM2."""
    return INSTRUCTIONS.format(detector=detector)


def _percent(value: float, decimals: int) -> str:
    return f"{100.0 * float(value):.{decimals}f}%"


def format_trial(number: int, trial: Trial, classes: Sequence[str] = ()) -> str:
    """One "### Iteration k" block of Listing 2.

    Class-wise lines follow `classes` (the target set's order) and then any
    other class the trial reports. A failed trial shows its reason instead of
    accuracies, so the policy learns that the set could not be evaluated.
    """
    lines = [
        f"### Iteration {number}",
        f"Prompts: {json.dumps(list(trial.objects), ensure_ascii=False)}",
        "",
    ]
    if not trial.ok:
        lines.append(f"Result: failed ({trial.error or 'no reason given'})")
        return "\n".join(lines)
    lines += [f"Overall Accuracy: {_percent(trial.accuracy, 3)}", "", "Class-wise Accuracy:"]
    order = [c for c in classes if c in trial.classwise]
    order += [c for c in trial.classwise if c not in set(order)]
    for name in order:
        value = trial.classwise[name]
        shown = "n/a" if value is None or not math.isfinite(value) else _percent(value, 2)
        lines.append(f"{name}: {shown}")
    return "\n".join(lines)


def format_history(history: Sequence[Trial], classes: Sequence[str] = ()) -> str:
    """The "## Iteration History" body: blocks numbered 1.. in the order the policy sees them."""
    if not history:
        return NO_HISTORY
    return "\n\n".join(format_trial(k, t, classes) for k, t in enumerate(history, start=1))


def describe(task: TaskDescription, history: Sequence[Trial] = ()) -> str:
    """The whole prompt of one iteration: Listing 2 with this task and history."""
    parts = [
        instructions(task.detector),
        "## Classification Target Set\n" + json.dumps(list(task.classes), ensure_ascii=False),
    ]
    notes = []
    if task.mention_limit:
        notes.append(
            f"At most {task.max_objects} prompts are used; lines after the "
            f"{task.max_objects}th are dropped."
        )
    notes += task.notes
    if notes:
        parts.append("## Notes\n" + "\n".join(notes))
    parts.append("## Iteration History\n" + format_history(history, task.classes))
    return "\n\n".join(parts) + "\n"


__all__ = [
    "INSTRUCTIONS",
    "PAPER_DETECTOR",
    "TaskDescription",
    "describe",
    "format_history",
    "format_trial",
    "instructions",
]
