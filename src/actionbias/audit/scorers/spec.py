"""``--model`` strings -> model spec dicts (`parse_model_string`).

The spec dict is what a run's config.json records as its model and what
`resolve_scorer` builds a scorer from; parsing it needs no model library, so the
command line checks a model string before anything heavy loads.

Model strings::

    runs/slow/checkpoints/best.ckpt          a checkpoint of `actionbias train` (any existing file)
    clip:openai/clip-vit-base-patch32        CLIP zero-shot (Hugging Face id or local folder)
    siglip:google/siglip2-base-patch16-224   SigLIP / SigLIP2 zero-shot
    hf:MCG-NJU/videomae-base-finetuned-kinetics   a Hugging Face video classifier (or folder)
    xclip:microsoft/xclip-base-patch32       X-CLIP zero-shot over the label space
    internvl:OpenGVLab/InternVL3-8B          a local InternVL3 chat model
    openai:gpt-4o-mini                        an OpenAI-compatible endpoint (api.openai.com)
    openai:MODEL@http://localhost:8000/v1     the same at another base URL (vLLM, Ollama...)

Options follow a ``?``: ``clip:ID?pooling=mean``, ``internvl:ID?mode=text``,
``openai:MODEL@URL?key_env=MY_KEY&logprobs=false&max_side=512``.

CLIP/SigLIP prompts (``?prompts=``): ``label`` (default, the paper's: the raw
class label is the text, e.g. "playing guitar"), ``authors`` (the model
authors' templates: CLIP's 28 Kinetics-700 templates, ensembled; SigLIP's
"This is a photo of {}.") or one template with ``{}`` (URL-encode spaces as
``%20`` or quote the argument).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from actionbias.argtypes import truth
from actionbias.errors import BadInputError

DEFAULT_BASE_URL = "https://api.openai.com/v1"
MODEL_TYPES = (
    "classifier",
    "hf",
    "callable",
    "clip",
    "siglip",
    "xclip",
    "vlm-local",
    "vlm-endpoint",
)
PROMPT_MODES = ("label", "authors")
"""``label``: the raw class label as the text (the paper); ``authors``: the model's templates."""


def _options(text: str) -> tuple[str, dict[str, str]]:
    if "?" not in text:
        return text, {}
    head, _, query = text.partition("?")
    return head, dict(parse_qsl(query, keep_blank_values=True))


def _flag(value: str, name: str) -> bool:
    flag = truth(value)
    if flag is None:
        raise BadInputError(f"option {name} must be true or false, got {value!r}", where="--model")
    return flag


def parse_model_string(text: str) -> dict[str, Any]:
    """A ``--model`` string -> a model spec dict (see the module docstring for the syntax)."""
    text = text.strip()
    if not text:
        raise BadInputError("empty model", where="--model")
    if ":" in text.split("/")[0] and not Path(text).exists():
        kind, _, rest = text.partition(":")
        kind = kind.casefold()
        rest, options = _options(rest)
        if not rest:
            raise BadInputError(f"model {text!r} names no id after {kind}:", where="--model")
        if kind in ("clip", "siglip", "siglip2"):
            pooling = options.pop("pooling", "center")
            if pooling not in ("center", "mean"):
                raise BadInputError(
                    f"pooling must be center or mean, got {pooling!r}", where="--model"
                )
            prompts = options.pop("prompts", "label")
            if prompts not in PROMPT_MODES and prompts.count("{}") != 1:
                raise BadInputError(
                    f"prompts must be label, authors or a template with one {{}}, got {prompts!r}",
                    where="--model",
                )
            spec: dict[str, Any] = {
                "type": "siglip" if kind.startswith("siglip") else "clip",
                "id": rest,
                "pooling": pooling,
                "prompts": prompts,
            }
        elif kind == "hf":
            spec = {"type": "hf", "id": rest}
        elif kind == "xclip":
            prompts = options.pop("prompts", "label")
            if prompts != "label" and prompts.count("{}") != 1:
                raise BadInputError(
                    f"X-CLIP prompts must be label or a template with one {{}}, got {prompts!r}",
                    where="--model",
                )
            spec = {"type": "xclip", "id": rest, "prompts": prompts}
        elif kind == "internvl":
            mode = options.pop("mode", "logprobs")
            if mode not in ("logprobs", "text"):
                raise BadInputError(f"mode must be logprobs or text, got {mode!r}", "--model")
            spec = {"type": "vlm-local", "id": rest, "mode": mode}
        elif kind == "openai":
            model, _, base_url = rest.partition("@")
            if not model:
                raise BadInputError(f"model {text!r} names no model before @", where="--model")
            spec = {
                "type": "vlm-endpoint",
                "id": model,
                "model": model,
                "base_url": base_url or DEFAULT_BASE_URL,
                "api_key_env": options.pop("key_env", "OPENAI_API_KEY"),
            }
            if "logprobs" in options:
                spec["logprobs"] = _flag(options.pop("logprobs"), "logprobs")
            for key in ("max_side", "max_tokens", "top_logprobs", "concurrency", "timeout"):
                if key in options:
                    try:
                        spec[key] = int(options.pop(key))
                    except ValueError:
                        raise BadInputError(f"option {key} must be an integer", "--model") from None
        else:
            raise BadInputError(
                f"unknown model kind {kind!r} in {text!r}: give a checkpoint path or "
                "hf:ID, clip:ID, siglip:ID, xclip:ID, internvl:ID, openai:MODEL[@BASE_URL]",
                where="--model",
            )
        if options:
            raise BadInputError(
                f"unknown option(s) {', '.join(sorted(options))} for {kind}:", where="--model"
            )
        return spec
    path = Path(text)
    if path.is_file():
        return {"type": "classifier", "checkpoint": str(path)}
    raise BadInputError(
        "model is neither an existing checkpoint file nor hf:ID, clip:ID, siglip:ID, "
        "xclip:ID, internvl:ID, openai:MODEL[@BASE_URL]",
        source=text,
        where="--model",
    )
