"""Every model behind one of two audit interfaces, one module per kind of model.

* `base`: the interfaces (`ClipScorer`, `MCQAnswerer`, `RecordScorer`), the reply
  type `MCQReply` and `describe` (a scorer's name and spec for config.json).
* `callables`: `CallableScorer`, any Python function ``clips -> scores``.
* `classifier`: `ClassifierScorer`, a checkpoint of `actionbias train`.
* `hf`: `HFVideoScorer`, a Hugging Face video classifier.
* `zeroshot`: `ZeroShotScorer` (CLIP/SigLIP) and `XCLIPScorer`.
* `local_vlm` / `endpoint`: `LocalVLMAnswerer` (InternVL3) and
  `EndpointVLMAnswerer` (any OpenAI-compatible server); `chat_answer` reads their
  replies (letter log-probabilities when available, otherwise the text).
* `spec`: ``--model`` strings -> spec dicts (`parse_model_string`, the syntax);
  `resolve`: spec -> scorer (`resolve_scorer`).

Every name is re-exported here, so ``from actionbias.audit.scorers import X``
does not depend on which module holds X. The model libraries (torch,
transformers) are imported only when a scorer is built.
"""

from __future__ import annotations

from actionbias.audit.scorers.base import (
    ANSWER_SOURCES,
    ClipScorer,
    MCQAnswerer,
    MCQReply,
    RecordScorer,
    SkipCallback,
    default_device,
    describe,
    is_answerer,
    is_scorer,
)
from actionbias.audit.scorers.callables import CallableScorer
from actionbias.audit.scorers.chat_answer import read_chat_answer
from actionbias.audit.scorers.classifier import SMALL_RUN, ClassifierScorer
from actionbias.audit.scorers.endpoint import EndpointVLMAnswerer
from actionbias.audit.scorers.hf import HFVideoScorer
from actionbias.audit.scorers.local_vlm import LocalVLMAnswerer
from actionbias.audit.scorers.resolve import resolve_scorer
from actionbias.audit.scorers.spec import (
    DEFAULT_BASE_URL,
    MODEL_TYPES,
    PROMPT_MODES,
    parse_model_string,
)
from actionbias.audit.scorers.zeroshot import XCLIPScorer, ZeroShotScorer, prompt_templates

__all__ = [
    "ANSWER_SOURCES",
    "DEFAULT_BASE_URL",
    "MODEL_TYPES",
    "PROMPT_MODES",
    "SMALL_RUN",
    "CallableScorer",
    "ClassifierScorer",
    "ClipScorer",
    "EndpointVLMAnswerer",
    "HFVideoScorer",
    "LocalVLMAnswerer",
    "MCQAnswerer",
    "MCQReply",
    "RecordScorer",
    "SkipCallback",
    "XCLIPScorer",
    "ZeroShotScorer",
    "default_device",
    "describe",
    "is_answerer",
    "is_scorer",
    "parse_model_string",
    "prompt_templates",
    "read_chat_answer",
    "resolve_scorer",
]
