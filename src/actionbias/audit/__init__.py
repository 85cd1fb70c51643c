"""Audits: turn (model, dataset, protocol) into per-video predictions and figures.

* `predictions` / `summary`: the "bring your own predictions" path (any model's
  per-video CSV/JSONL summarised with every figure of the paper and its interval).
* `rundir`: the audit run directory every producer writes and the report reads
  (config, predictions appended per batch, skips, metrics; resumable, shardable).
* `scorers`: classifiers, CLIP/SigLIP/X-CLIP, Hugging Face classifiers, local
  and remote video LLMs behind two interfaces (`ClipScorer`, `MCQAnswerer`), one
  module per kind, and the ``--model`` string parser; `mcq_prompt`: the paper's
  prompt and the answer parser.
* `runner.run_audit` / `sweep.run_sweep`: the audit and sweep workflows
  (``actionbias audit | sweep | evaluate | metrics``, see `commands`). The audit's
  steps each have a module: `settings` (its options), `audit_data` (the videos),
  `label_space`, `questions` (MCQ), `loop` (prediction batches), `decoding`
  (the decode pool) and `rows` (what predictions.jsonl holds per video).

The workflow names are imported on first use, so that ``import actionbias.audit``
(which training imports for the prediction format) stays light.
"""

from __future__ import annotations

from actionbias.audit.rundir import RunDir, read_config, read_run
from actionbias.audit.summary import compare, summarize
from actionbias.data.predictions import (
    NO_ANSWER,
    PredictionTable,
    read_predictions,
    write_predictions,
)
from actionbias.lazy import lazy_exports

_LAZY = {
    "run_audit": "actionbias.audit.runner",
    "run_audit_with": "actionbias.audit.runner",
    "AuditSettings": "actionbias.audit.settings",
    "load_audit_data": "actionbias.audit.audit_data",
    "write_questions": "actionbias.audit.questions",
    "run_sweep": "actionbias.audit.sweep",
    "CallableScorer": "actionbias.audit.scorers",
    "ClassifierScorer": "actionbias.audit.scorers",
    "ClipScorer": "actionbias.audit.scorers",
    "EndpointVLMAnswerer": "actionbias.audit.scorers",
    "LocalVLMAnswerer": "actionbias.audit.scorers",
    "MCQAnswerer": "actionbias.audit.scorers",
    "MCQReply": "actionbias.audit.scorers",
    "ZeroShotScorer": "actionbias.audit.scorers",
    "parse_model_string": "actionbias.audit.scorers",
    "resolve_scorer": "actionbias.audit.scorers",
    "MCQPrompt": "actionbias.audit.mcq_prompt",
    "parse_answer": "actionbias.audit.mcq_prompt",
}


__getattr__ = lazy_exports(globals(), _LAZY)


# The names imported above, then the lazy ones (each written once, in its table).
__all__ = [
    "NO_ANSWER",
    "PredictionTable",
    "RunDir",
    "compare",
    "read_config",
    "read_predictions",
    "read_run",
    "summarize",
    "write_predictions",
    *_LAZY,
]
