"""A local InternVL3 chat model (transformers' native InternVL) for video MCQ audits.

The model is transformers' own ``InternVLForConditionalGeneration`` (ids like
``OpenGVLab/InternVL3-1B-hf``). A clip is shown the way InternVL's authors feed
video: one 448x448 tile per frame (no dynamic high-resolution tiling) and a user
message that starts with ``Frame1: <image>\\nFrame2: <image>\\n...`` followed by
the question. Each ``<image>`` becomes ``<img>`` + ``image_seq_length`` context
tokens + ``</img>``.

Why not ``InternVLProcessor``: in transformers 5 its constructor insists on a
video processor, and the InternVL video processor (like every transformers video
processor) needs torchvision, which does not import beside the CPU torch wheel
this project pins. The processor's own video expansion
(``replace_video_token``) produces exactly the token layout above, so this module
does the same steps itself from the processor's parts (tokenizer with the chat
template, GotOcr2 image processor with ``crop_to_patches=False``) and works with
or without torchvision. ``InternVLChat.from_processor`` accepts a native
processor where one can be built.

Two ways to answer a multiple-choice question:

* ``generate``: greedy decoding, the decoded reply text;
* ``option_logprobs``: one forward pass; the log-softmax of the next-token
  logits after the assistant prefix, read at each option letter. Tokenisers may
  hold a letter both bare ("A") and with a leading space (" A"); every variant
  that is a single token counts and the best one is kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from actionbias.errors import BadInputError
from actionbias.models.zeroshot import resolve_dtype, validate_clip


def sample_frame_indices(total: int, num_frames: int) -> list[int]:
    """Indices of ``num_frames`` frames at the centres of equal segments of ``total``.

    InternVL's video recipe samples segment centres; a clip that already has at
    most ``num_frames`` frames is used whole.
    """
    if total <= num_frames:
        return list(range(total))
    return [int((i + 0.5) * total / num_frames) for i in range(num_frames)]


def frames_prefix(num_frames: int, image_token: str) -> str:
    """``Frame1: <image>\\nFrame2: <image>\\n...``: InternVL's multi-frame message prefix."""
    return "".join(f"Frame{i + 1}: {image_token}\n" for i in range(num_frames))


class InternVLChat:
    """Greedy answers and option-letter log-probabilities from an InternVL model.

    Build with ``from_pretrained(id_or_path)``, ``from_processor(model, processor)``
    or directly from a model, a tokenizer that carries the chat template (or an
    explicit ``chat_template``) and the image processor.
    """

    def __init__(
        self,
        model: torch.nn.Module,
        tokenizer: Any,
        image_processor: Any,
        *,
        chat_template: str | None = None,
        num_frames: int = 8,
        image_seq_length: int | None = None,
        system_prompt: str | None = None,
        device: str | torch.device = "cpu",
        dtype: torch.dtype | str | None = None,
        name: str | None = None,
    ):
        if num_frames < 1:
            raise ValueError(f"num_frames must be >= 1, got {num_frames}")
        self.tokenizer = tokenizer
        self.image_processor = image_processor
        self.chat_template = chat_template or getattr(tokenizer, "chat_template", None)
        if not self.chat_template:
            raise ValueError("no chat template: the tokenizer has none and none was given")
        self.num_frames = num_frames
        self.system_prompt = system_prompt
        self.device = torch.device(device)
        self.dtype = resolve_dtype(dtype)
        config = model.config
        self.name = name or str(getattr(config, "_name_or_path", "") or "internvl")
        self.image_seq_length = int(image_seq_length or config.image_seq_length)
        self.image_token = str(tokenizer.context_image_token)
        self.start_image_token = str(tokenizer.start_image_token)
        self.end_image_token = str(tokenizer.end_image_token)
        image_token_id = tokenizer.convert_tokens_to_ids(self.image_token)
        if image_token_id != config.image_token_id:
            raise ValueError(
                f"tokenizer maps {self.image_token!r} to {image_token_id}, "
                f"the model expects image_token_id {config.image_token_id}"
            )
        if self.dtype is not None:
            model = model.to(dtype=self.dtype)
        self.model = model.to(self.device).eval()
        self._reserved = (self.image_token, self.start_image_token, self.end_image_token)

    @classmethod
    def from_pretrained(
        cls,
        id_or_path: str | Path,
        num_frames: int = 8,
        device: str | torch.device = "cpu",
        dtype: torch.dtype | str | None = None,
        *,
        system_prompt: str | None = None,
        **model_kwargs: Any,
    ) -> InternVLChat:
        """Load an InternVL (-hf) checkpoint: model, tokenizer, image processor, chat template.

        ``dtype``: a torch dtype or its name, None (float32) or "auto" (the
        checkpoint's dtype); ``model_kwargs`` go to ``from_pretrained`` (e.g.
        ``attn_implementation``).
        """
        from transformers import (
            AutoConfig,
            AutoImageProcessor,
            AutoTokenizer,
            InternVLForConditionalGeneration,
        )

        source = str(id_or_path)
        try:
            config = AutoConfig.from_pretrained(source)
        except (OSError, ValueError) as err:
            raise BadInputError(f"cannot load a model config: {err}", source=source) from err
        if config.model_type != "internvl":
            raise BadInputError(
                f"model type {config.model_type!r} is not a transformers-native InternVL "
                "(use an '-hf' checkpoint such as OpenGVLab/InternVL3-1B-hf)",
                source=source,
            )
        # "auto" keeps the checkpoint's own dtype (bfloat16 for the released models)
        torch_dtype = None if dtype == "auto" else resolve_dtype(dtype)
        tokenizer = AutoTokenizer.from_pretrained(source)
        image_processor = AutoImageProcessor.from_pretrained(source)
        model = InternVLForConditionalGeneration.from_pretrained(
            source, dtype="auto" if dtype == "auto" else torch_dtype, **model_kwargs
        )
        return cls(
            model,
            tokenizer,
            image_processor,
            chat_template=_load_chat_template(source, tokenizer),
            num_frames=num_frames,
            image_seq_length=_processor_image_seq_length(source),
            system_prompt=system_prompt,
            device=device,
            dtype=torch_dtype,
            name=source,
        )

    @classmethod
    def from_processor(cls, model: torch.nn.Module, processor: Any, **options: Any) -> InternVLChat:
        """Use the parts of a native ``InternVLProcessor`` (where torchvision allows one)."""
        options.setdefault("chat_template", getattr(processor, "chat_template", None))
        options.setdefault("image_seq_length", getattr(processor, "image_seq_length", None))
        return cls(model, processor.tokenizer, processor.image_processor, **options)

    # ----------------------------------------------------------------- inputs
    def prompt_text(self, num_frames: int, prompt: str) -> str:
        """The chat-templated text before image-token expansion (ends with the assistant turn)."""
        for token in self._reserved:
            if token in prompt:
                raise ValueError(f"prompt must not contain the reserved image token {token!r}")
        messages: list[dict[str, Any]] = []
        if self.system_prompt:
            messages.append({"role": "system", "content": self.system_prompt})
        content = frames_prefix(num_frames, self.image_token) + prompt
        messages.append({"role": "user", "content": content})
        return self.tokenizer.apply_chat_template(
            messages,
            chat_template=self.chat_template,
            add_generation_prompt=True,
            tokenize=False,
        )

    def build_inputs(self, frames: np.ndarray, prompt: str) -> dict[str, torch.Tensor]:
        """input_ids, attention_mask and pixel_values for one clip and one question."""
        frames = validate_clip(frames, "frames")
        chosen = frames[sample_frame_indices(frames.shape[0], self.num_frames)]
        text = self.prompt_text(len(chosen), prompt)
        pieces = text.split(self.image_token)
        if len(pieces) - 1 != len(chosen):
            raise ValueError(
                f"chat template produced {len(pieces) - 1} image placeholders "
                f"for {len(chosen)} frames"
            )
        block = (
            self.start_image_token + self.image_token * self.image_seq_length + self.end_image_token
        )
        expanded = block.join(pieces)
        encoded = self.tokenizer(expanded, add_special_tokens=False, return_tensors="pt")
        pixels = self.image_processor(
            images=list(chosen),
            crop_to_patches=False,
            input_data_format="channels_last",
            return_tensors="pt",
        )["pixel_values"]
        if pixels.shape[0] != len(chosen):
            raise ValueError(
                f"image processor made {pixels.shape[0]} tiles for {len(chosen)} frames"
            )
        return {
            "input_ids": encoded["input_ids"].to(self.device),
            "attention_mask": encoded["attention_mask"].to(self.device),
            "pixel_values": pixels.to(self.device, dtype=self.model.dtype),
        }

    # ---------------------------------------------------------------- answers
    @torch.inference_mode()
    def generate(self, frames: np.ndarray, prompt: str, max_new_tokens: int = 16) -> str:
        """Greedy reply text (special tokens removed, surrounding space stripped)."""
        inputs = self.build_inputs(frames, prompt)
        output = self.model.generate(
            **inputs,
            max_new_tokens=max_new_tokens,
            do_sample=False,
            pad_token_id=self._pad_token_id(),
        )
        new_tokens = output[0, inputs["input_ids"].shape[1] :]
        return self.tokenizer.decode(new_tokens, skip_special_tokens=True).strip()

    @torch.inference_mode()
    def next_token_logprobs(self, frames: np.ndarray, prompt: str) -> torch.Tensor:
        """float32 log-softmax over the vocabulary for the first answer token."""
        inputs = self.build_inputs(frames, prompt)
        logits = self.model(**inputs, logits_to_keep=1).logits[0, -1]
        return torch.log_softmax(logits.float(), dim=-1).cpu()

    def option_token_ids(self, option: str) -> list[int]:
        """Single-token ids that spell ``option`` as a first answer token ('A' and ' A')."""
        ids: list[int] = []
        for variant in (option, " " + option):
            encoded = self.tokenizer.encode(variant, add_special_tokens=False)
            if len(encoded) == 1 and encoded[0] not in ids:
                ids.append(int(encoded[0]))
        if not ids:
            raise ValueError(f"option {option!r} is not a single token of this tokenizer")
        return ids

    def option_logprobs(
        self, frames: np.ndarray, prompt: str, options: Sequence[str]
    ) -> dict[str, float]:
        """Log-probability of each option letter as the first answer token (one forward)."""
        if not options:
            raise ValueError("options must not be empty")
        token_ids = {option: self.option_token_ids(option) for option in options}
        logprobs = self.next_token_logprobs(frames, prompt)
        return {option: max(float(logprobs[i]) for i in ids) for option, ids in token_ids.items()}

    def _pad_token_id(self) -> int | None:
        pad = self.tokenizer.pad_token_id
        return int(pad) if pad is not None else self.tokenizer.eos_token_id

    def __repr__(self) -> str:
        return (
            f"InternVLChat(name={self.name!r}, num_frames={self.num_frames}, "
            f"image_seq_length={self.image_seq_length}, device={str(self.device)!r})"
        )


def _load_chat_template(source: str, tokenizer: Any) -> str | None:
    """The checkpoint's chat template: the tokenizer's, else the processor's file."""
    if getattr(tokenizer, "chat_template", None):
        return tokenizer.chat_template
    import json

    from transformers.utils import cached_file

    for filename in ("chat_template.jinja", "chat_template.json"):
        path = cached_file(
            source,
            filename,
            _raise_exceptions_for_missing_entries=False,
            _raise_exceptions_for_connection_errors=False,
        )
        if path is None:
            continue
        text = Path(path).read_text(encoding="utf-8")
        return json.loads(text)["chat_template"] if filename.endswith(".json") else text
    return None


def _processor_image_seq_length(source: str) -> int | None:
    """``image_seq_length`` saved with the processor, when there is one."""
    import json

    from transformers.utils import cached_file

    path = cached_file(
        source,
        "processor_config.json",
        _raise_exceptions_for_missing_entries=False,
        _raise_exceptions_for_connection_errors=False,
    )
    if path is None:
        return None
    value = json.loads(Path(path).read_text(encoding="utf-8")).get("image_seq_length")
    return int(value) if value is not None else None
