"""Prompt tuning for video LLMs (the paper's Sec. 4.2): manual prompts and an LLM optimiser.

`run_prompt_tuning` scores the paper's four hand-crafted prompts and then lets
an optimiser LLM propose new instructions, each scored by the video LLM on a
seeded 25 % tuning part of the swap set and reported on the other 75 %: either
in one running conversation that hears every score back
(`ConversationOptimizer`, the paper's appendix A.5) or with an OPRO-style
meta-prompt per step (`Optimizer`). `write_prompt_report` draws the Figure 1c
analogue.
"""

from __future__ import annotations

from actionbias.prompting.conversation import ConversationOptimizer
from actionbias.prompting.loop import (
    DEFAULT_ITERATIONS,
    PromptRecord,
    TuningResult,
    load_tuning,
    run_prompt_tuning,
)
from actionbias.prompting.objective import DEFAULT_OBJECTIVE, Objective
from actionbias.prompting.optimizer import (
    META_PROMPT,
    Optimizer,
    Proposal,
    ProposalError,
    Tried,
    Turn,
    meta_prompt,
    parse_proposal,
)
from actionbias.prompting.scorer import (
    PromptScore,
    ScoringError,
    build_answerer,
    evaluate_prompt,
    instruction_prompt,
    with_prompt,
)
from actionbias.prompting.splits import PromptSplit, load_or_make_split, make_split

__all__ = [
    "DEFAULT_ITERATIONS",
    "DEFAULT_OBJECTIVE",
    "META_PROMPT",
    "ConversationOptimizer",
    "Objective",
    "Optimizer",
    "PromptRecord",
    "PromptScore",
    "PromptSplit",
    "Proposal",
    "ProposalError",
    "ScoringError",
    "Tried",
    "TuningResult",
    "Turn",
    "build_answerer",
    "evaluate_prompt",
    "instruction_prompt",
    "load_or_make_split",
    "load_tuning",
    "make_split",
    "meta_prompt",
    "parse_proposal",
    "run_prompt_tuning",
    "with_prompt",
]
