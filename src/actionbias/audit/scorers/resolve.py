"""`resolve_scorer`: a model spec -> the scorer or answerer that audits it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from actionbias.audit.mcq_prompt import MCQPrompt
from actionbias.audit.scorers.classifier import ClassifierScorer
from actionbias.audit.scorers.endpoint import EndpointVLMAnswerer
from actionbias.audit.scorers.hf import HFVideoScorer
from actionbias.audit.scorers.local_vlm import LocalVLMAnswerer
from actionbias.audit.scorers.spec import DEFAULT_BASE_URL, MODEL_TYPES, parse_model_string
from actionbias.audit.scorers.zeroshot import XCLIPScorer, ZeroShotScorer
from actionbias.errors import BadInputError


def resolve_scorer(
    spec: dict[str, Any] | str,
    class_names: Sequence[str],
    frames: int = 8,
    device: str | None = None,
    prompt: MCQPrompt | None = None,
    num_workers: int | None = None,
) -> Any:
    """Build the scorer/answerer a model spec names (``class_names``: the data's classes)."""
    if isinstance(spec, str):
        spec = parse_model_string(spec)
    kind = spec.get("type")
    if kind == "classifier":
        checkpoint = spec.get("checkpoint") or spec.get("id")
        if not checkpoint:
            raise BadInputError("a classifier spec needs 'checkpoint'", where="model")
        overrides = spec.get("overrides")
        return ClassifierScorer.from_checkpoint(
            checkpoint, device=device, overrides=overrides, num_workers=num_workers
        )
    if kind == "hf":
        return HFVideoScorer.from_pretrained(str(spec["id"]), device=device)
    if kind == "xclip":
        return XCLIPScorer.from_pretrained(
            str(spec["id"]), class_names, device=device, prompts=str(spec.get("prompts", "label"))
        )
    if kind in ("clip", "siglip"):
        return ZeroShotScorer.from_pretrained(
            kind,
            str(spec["id"]),
            class_names,
            pooling=str(spec.get("pooling", "center")),
            device=device,
            templates=spec.get("templates"),
            prompts=str(spec.get("prompts", "label")),
        )
    if kind == "vlm-local":
        return LocalVLMAnswerer.from_pretrained(
            str(spec["id"]),
            frames=frames,
            device=device,
            prompt=prompt,
            mode=str(spec.get("mode", "logprobs")),
        )
    if kind == "vlm-endpoint":
        client_options = {
            k: spec[k] for k in ("concurrency", "timeout", "max_retries", "cache_dir") if k in spec
        }
        options = {k: spec[k] for k in ("max_side", "max_tokens", "top_logprobs") if k in spec}
        if "logprobs" in spec:
            options["logprobs"] = bool(spec["logprobs"])
        return EndpointVLMAnswerer.from_spec(
            str(spec.get("base_url") or DEFAULT_BASE_URL),
            str(spec.get("model") or spec.get("id")),
            api_key_env=str(spec.get("api_key_env", "OPENAI_API_KEY")),
            prompt=prompt,
            client_options=client_options,
            **options,
        )
    raise BadInputError(
        f"unknown model type {kind!r}; choose from {', '.join(MODEL_TYPES)}", where="model.type"
    )
