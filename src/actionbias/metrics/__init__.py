"""Pure metric functions: no I/O beyond question files, no model code.

Imports nothing from the rest of actionbias except `errors`, so audits,
training and reports can all share it.
"""

from actionbias.metrics.classification import (
    ClassAccuracy,
    average_precision,
    class_accuracy,
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
    Clusters,
    Estimate,
    PairedComparison,
    Resampling,
    bootstrap_mean,
    bootstrap_statistic,
    mcnemar_clustered,
    mcnemar_exact,
    paired_comparison,
    resampling,
)
from actionbias.metrics.swap import (
    GroupRow,
    SwapScores,
    extreme_classes,
    swap_breakdown,
    swap_outcomes,
    swap_scores,
)
from actionbias.metrics.tal import (
    DetectionEvaluation,
    evaluate_detection,
    interpolated_average_precision,
    parse_tiou_thresholds,
    segment_tiou,
)

__all__ = [
    "ClassAccuracy",
    "Clusters",
    "DetectionEvaluation",
    "Estimate",
    "GroupRow",
    "MCQuestion",
    "PairedComparison",
    "Resampling",
    "SwapScores",
    "answer_by_scores",
    "average_precision",
    "bootstrap_mean",
    "bootstrap_statistic",
    "class_accuracy",
    "evaluate_detection",
    "extreme_classes",
    "interpolated_average_precision",
    "load_questions",
    "make_questions",
    "mcnemar_clustered",
    "mcnemar_exact",
    "mean_average_precision",
    "paired_comparison",
    "parse_tiou_thresholds",
    "resampling",
    "save_questions",
    "segment_tiou",
    "swap_breakdown",
    "swap_outcomes",
    "swap_scores",
    "top1_correct",
    "topk_correct",
]
