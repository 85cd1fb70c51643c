"""Audits: turn (model, dataset, protocol) into per-video predictions and figures.

For now the "bring your own predictions" path: any model's per-video
predictions, read from CSV/JSONL, summarised with every figure of the paper
and its confidence interval.
"""

from actionbias.audit.predictions import (
    NO_ANSWER,
    PredictionTable,
    read_predictions,
    write_predictions,
)
from actionbias.audit.summary import compare, summarize

__all__ = [
    "NO_ANSWER",
    "PredictionTable",
    "compare",
    "read_predictions",
    "summarize",
    "write_predictions",
]
