"""Pure metric functions: no I/O beyond question files, no model code.

Imports nothing from the rest of actionbias except `errors`, so audits,
training and reports can all share it.
"""

from actionbias.metrics.classification import (
    average_precision,
    mean_average_precision,
    top1_correct,
    topk_correct,
)
from actionbias.metrics.mcq import (
    MCQuestion,
    answer_by_scores,
    load_questions,
    make_questions,
    save_questions,
)
from actionbias.metrics.stats import (
    Estimate,
    PairedComparison,
    bootstrap_mean,
    bootstrap_statistic,
    mcnemar_exact,
    paired_comparison,
)
from actionbias.metrics.swap import (
    GroupRow,
    SwapScores,
    extreme_classes,
    swap_breakdown,
    swap_outcomes,
    swap_scores,
)

__all__ = [
    "Estimate",
    "GroupRow",
    "MCQuestion",
    "PairedComparison",
    "SwapScores",
    "answer_by_scores",
    "average_precision",
    "bootstrap_mean",
    "bootstrap_statistic",
    "extreme_classes",
    "load_questions",
    "make_questions",
    "mcnemar_exact",
    "mean_average_precision",
    "paired_comparison",
    "save_questions",
    "swap_breakdown",
    "swap_outcomes",
    "swap_scores",
    "top1_correct",
    "topk_correct",
]
