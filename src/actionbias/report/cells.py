"""How a run's figures look wherever the report shows them: cells, colours, chance.

Every section shows the same figures (in-distribution top-1, SHAcc, SBErr,
Mimetics) with the same titles, tooltips, interval notation and model colours,
so a reader learns the notation once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from actionbias.report import plots
from actionbias.report.aggregate import augment_of, model_key
from actionbias.report.markup import Markup, join, tag
from actionbias.report.numbers import MISSING, ci_text, pct
from actionbias.report.runs import ReportRun

FIGURE_ORDER = ("test", "shacc", "sberr", "other", "mimetic")

METRIC_TITLES = {
    "test": "In-dist. top\u20111",
    "shacc": "SHAcc ↑",
    "sberr": "SBErr ↓",
    "other": "Other",
    "mimetic": "Mimetics ↑",
}
METRIC_TIPS = {
    "test": "top-1 accuracy on the in-distribution test videos (higher is better)",
    "shacc": "swap videos predicted as the human's class (higher is better)",
    "sberr": "swap videos predicted as the background's class (lower is better)",
    "other": "swap videos predicted as neither (includes no-answer)",
    "mimetic": "top-1 accuracy on mimed actions without their scene (higher is better)",
}


def estimate_cell(estimate: dict[str, Any] | None, signed: bool = False) -> Markup:
    value, ci = ci_text(estimate, signed)
    parts: list[object] = [tag("span", value, cls="v")]
    if ci:
        parts.append(tag("span", ci, cls="ci"))
    return join(parts)


def swatch(style: plots.Style) -> Markup:
    """A small coloured box tying a table row to the model's colour in the plots."""
    return tag("span", "", cls="swatch", style=f"background:{style.colour}")


def chance_text(run: ReportRun) -> str:
    chance = run.chance
    if chance is None:
        return MISSING
    if run.protocol == "mcq":
        return f"{pct(chance)} (1 of 5)"
    return f"{pct(chance)} (1/{run.num_classes})"


def common_chance(runs: Sequence[ReportRun]) -> float | None:
    """The chance level when every run shares it (same protocol and class count), else None."""
    values = {run.chance for run in runs}
    return values.pop() if len(values) == 1 else None


CHANCE_LINE = (
    "Chance is 1/N for the all-classes protocol over N classes and 20 % for the "
    "5-choice multiple-choice (MCQ) protocol"
)


class Styles:
    """The report's palette, keyed by model (tags.model, else name), variant by augment."""

    def __init__(self, runs: Sequence[ReportRun]):
        self.palette = plots.Palette()
        for run in runs:
            self.of(run)

    def of(self, run: ReportRun) -> plots.Style:
        return self.palette.style(model_key(run), augment_of(run))


def interval(estimate: dict[str, Any] | None) -> plots.Interval:
    if not estimate or estimate.get("value") is None:
        return plots.Interval(float("nan"))
    return plots.Interval(float(estimate["value"]), estimate.get("low"), estimate.get("high"))
