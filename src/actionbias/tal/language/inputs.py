"""What the language model reads for a batch: the prompt and, in training, the L_tg targets.

`fit` (``actionbias.tal.train``) calls ``inputs(batch, train)`` on every
collated batch (`collate_samples`' dict) of a model with a language branch.
The two backends take different inputs:

* `CompactInputs`: the (K, D) matrix of sentence-embedded class descriptions
  (one row per class id) and, in training, the ground truth (segments in
  feature-grid units, labels) that the compact model turns into its structured
  proposal tokens itself;
* `CausalLMInputs`: token ids of T_ins followed by the descriptions (appendix
  B.2) and, in training, the ground-truth proposal sentence of each video
  (``"<class> from <start> to <end>."``, feature steps as frame indices) as
  teacher-forced targets.

Both are plain picklable objects, so the prompt they hold can be stored with a
checkpoint (`state`) and `tal infer` needs neither the text encoder nor the
descriptions again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from actionbias.tal.language.descriptions import instruction_text, proposals_text


class CompactInputs:
    """Inputs of `CompactLanguageModel`: description embeddings (K, D), class-id order."""

    def __init__(self, prompt: Tensor):
        self.prompt = prompt.detach().float().cpu()

    def __call__(self, batch: dict[str, Any], train: bool) -> dict[str, Any]:
        out: dict[str, Any] = {"prompt": self.prompt.to(batch["feats"].device)}
        if train:
            out["targets"] = (batch["segments"], batch["labels"])
        return out

    def with_prompt(self, prompt: Tensor) -> CompactInputs:
        """The same inputs with other descriptions (LAP's mismatched prompt)."""
        return CompactInputs(prompt)

    def state(self) -> dict[str, Any]:
        return {"kind": "compact", "prompt": self.prompt}


class CausalLMInputs:
    """Inputs of `CausalLMLanguageModel`: tokenized instruction + descriptions and targets."""

    def __init__(self, tokenizer: Any, class_names: Sequence[str], descriptions: Sequence[str]):
        from actionbias.tal.language.model import CausalLMLanguageModel

        self.tokenizer = tokenizer
        self.class_names = list(class_names)
        self.descriptions = list(descriptions)
        ids, mask = CausalLMLanguageModel.tokenize(
            tokenizer, [instruction_text(self.class_names, self.descriptions)]
        )
        self.prompt, self.prompt_mask = ids[0], mask[0]

    def __call__(self, batch: dict[str, Any], train: bool) -> dict[str, Any]:
        from actionbias.tal.language.model import CausalLMLanguageModel

        device = batch["feats"].device
        out: dict[str, Any] = {
            "prompt": self.prompt.to(device),
            "prompt_mask": self.prompt_mask.to(device),
        }
        if train:
            sentences = [
                proposals_text(segs.tolist(), labels.tolist(), self.class_names)
                for segs, labels in zip(batch["segments"], batch["labels"], strict=True)
            ]
            ids, mask = CausalLMLanguageModel.tokenize(self.tokenizer, sentences, append_eos=True)
            out["targets"], out["target_mask"] = ids.to(device), mask.to(device)
        return out

    def state(self) -> dict[str, Any]:
        return {"kind": "lm", "class_names": self.class_names, "descriptions": self.descriptions}


def compact_prompt(texts: Sequence[str], encoder_path: str | None = None) -> Tensor:
    """Description embeddings with the offline MiniLM sentence encoder (one row per text)."""
    from actionbias.models.text_encoder import MiniLMEncoder

    encoder = MiniLMEncoder(encoder_path) if encoder_path else MiniLMEncoder()
    with torch.no_grad():
        return encoder.encode(list(texts))
