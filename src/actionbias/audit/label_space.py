"""The class list a model without classes of its own is audited in (``--label-space``).

CLIP/SigLIP/X-CLIP score, and video LLMs' MCQ distractors come from, a label
space rather than a model's own classes. The paper scores Kinetics subsets
(HAT, Mimetics, Kinetics-50) against all 400 Kinetics labels, so a harder
question than "which of the subset's classes"; ``auto`` follows it whenever
every dataset class is a Kinetics-400 class.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from actionbias.errors import BadInputError

LABEL_SPACES = ("auto", "kinetics400", "dataset")


@dataclass(frozen=True)
class LabelSpace:
    """The class list a zero-shot model or video LLM is audited in, and why."""

    name: str  # "kinetics400" | "dataset"
    classes: list[str]
    reason: str

    def describe(self) -> dict[str, Any]:
        """What the run config records."""
        return {"name": self.name, "classes": len(self.classes), "reason": self.reason}


def choose_label_space(choice: str | None, data_classes: Sequence[str]) -> LabelSpace:
    """Resolve ``--label-space`` (``auto`` when None) against the data's classes."""
    from actionbias.data.class_names import kinetics400_classes, kinetics400_lookup

    choice = choice or "auto"
    if choice not in LABEL_SPACES:
        raise BadInputError(
            f"label space must be one of {', '.join(LABEL_SPACES)}, got {choice!r}",
            where="--label-space",
        )
    if choice == "dataset":
        return LabelSpace("dataset", list(data_classes), "--label-space dataset")
    lookup = kinetics400_lookup()
    outside = [name for name in data_classes if lookup.find(name) is None]
    if choice == "kinetics400":
        if outside:
            raise BadInputError(
                f"{len(outside)} of the data's {len(data_classes)} classes are not "
                f"Kinetics-400 classes (e.g. {outside[0]!r})",
                where="--label-space kinetics400",
            )
        return LabelSpace("kinetics400", kinetics400_classes(), "--label-space kinetics400")
    if data_classes and not outside:
        return LabelSpace(
            "kinetics400",
            kinetics400_classes(),
            f"auto: all {len(data_classes)} dataset classes are Kinetics-400 classes",
        )
    example = f" (e.g. {outside[0]!r})" if outside else ""
    return LabelSpace(
        "dataset",
        list(data_classes),
        f"auto: {len(outside)} dataset classes are not Kinetics-400 classes{example}",
    )
