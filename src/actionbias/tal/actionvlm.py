"""Building, saving and loading any TAL model `tal train` makes: one spec, one file.

A model is an `ActionVLM` (``actionbias.tal.language.aggregation``): the
ActionFormer detector plus an optional language branch, weighted by a named
ablation. The vision-only ActionFormer is the ``vision-only`` ablation without
a language branch. The spec (a JSON-like dict) says how to rebuild it:

    {"detector": {"in_dim": 2304, "num_classes": 20, ...ActionFormer options},
     "language": None
               | {"kind": "compact", "options": {...CompactLanguageModel options}}
               | {"kind": "lm", "name_or_path": "Qwen/Qwen2.5-1.5B", "options": {...LoRA}},
     "ablation": "full" | "fixed-0.4" | "global-lambda" | ...}

`save_tal_model` writes the spec, the weights (for ``lm`` only the trainable
ones: the frozen base model is reloaded from `name_or_path`), the language
inputs (the prompt: description embeddings or texts) and caller extras, so
`load_tal_model` needs nothing else. Files written by the older
`save_detector` load as vision-only models.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import torch
from torch import nn

from actionbias.errors import BadInputError
from actionbias.fileio import atomic_path
from actionbias.tal.language.ablations import ablation_config
from actionbias.tal.language.aggregation import ActionVLM
from actionbias.tal.train import build_detector, detector_options

FORMAT = "actionbias.tal.model/1"
LANGUAGES = ("none", "compact", "lm")


def build_tal_model(spec: dict[str, Any]) -> ActionVLM:
    """The model a spec describes, with fresh weights (the LM's base weights pretrained)."""
    det = dict(spec["detector"])
    detector = build_detector(det.pop("in_dim"), det.pop("num_classes"), **det)
    language = _build_language(spec.get("language"), detector)
    ablation = ablation_config(spec.get("ablation") or "vision-only")
    if language is None and ablation.uses_language:
        raise ValueError(f"ablation {ablation.name!r} needs a language model (--language)")
    if language is not None and not ablation.uses_language:
        raise ValueError("the vision-only ablation takes no language model (--language none)")
    model = ActionVLM(detector, language, ablation)
    model._spec = spec  # type: ignore[attr-defined]
    return model


def _build_language(spec: dict[str, Any] | None, detector: nn.Module) -> nn.Module | None:
    if spec is None:
        return None
    options = dict(spec.get("options", {}))
    in_dim = detector_options(detector)["in_dim"]  # type: ignore[arg-type]
    if spec["kind"] == "compact":
        from actionbias.tal.language.model import CompactLanguageModel

        return CompactLanguageModel(in_dim, detector.num_classes, **options)  # type: ignore[arg-type]
    if spec["kind"] == "lm":
        from actionbias.tal.language.model import CausalLMLanguageModel

        if "config" in spec:  # random weights from a config dict (tests, tiny models)
            from transformers import AutoConfig

            config = AutoConfig.for_model(**spec["config"])
            return CausalLMLanguageModel.from_config(config, in_dim, **options)
        return CausalLMLanguageModel.from_pretrained(spec["name_or_path"], in_dim, **options)
    raise ValueError(f"unknown language kind {spec['kind']!r}; use one of {LANGUAGES}")


def model_spec(
    in_dim: int,
    num_classes: int,
    detector: dict[str, Any],
    *,
    language: str = "none",
    ablation: str | None = None,
    compact: dict[str, Any] | None = None,
    lm: str | None = None,
    lm_options: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A spec from command-line style choices (`language` one of none|compact|lm)."""
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {LANGUAGES}, not {language!r}")
    lang: dict[str, Any] | None = None
    if language == "compact":
        lang = {"kind": "compact", "options": dict(compact or {})}
    elif language == "lm":
        if not lm:
            raise ValueError("--language lm needs --lm (a Hugging Face causal LM id or folder)")
        lang = {"kind": "lm", "name_or_path": lm, "options": dict(lm_options or {})}
    name = ablation or ("vision-only" if language == "none" else "full")
    ablation_config(name)  # validates the name
    return {
        "detector": {"in_dim": int(in_dim), "num_classes": int(num_classes), **detector},
        "language": lang,
        "ablation": name,
    }


def _trainable_state(model: ActionVLM) -> dict[str, torch.Tensor]:
    """The state dict without a pretrained LM's frozen base weights (they reload from disk)."""
    state = model.state_dict()
    spec = getattr(model, "_spec", {})
    lang = spec.get("language") or {}
    if lang.get("kind") != "lm" or "config" in lang:
        return state
    return {k: v for k, v in state.items() if not k.startswith("language.lm.") or "lora_" in k}


def save_tal_model(
    path: str | Path,
    model: ActionVLM,
    *,
    inputs: Any = None,
    extra: dict[str, Any] | None = None,
) -> None:
    """Write the spec, weights, language inputs and `extra` (classes, grid options...)."""
    payload = {
        "format": FORMAT,
        "spec": model._spec,  # type: ignore[attr-defined]
        "state_dict": _trainable_state(model),
        "inputs": inputs.state() if inputs is not None else None,
        "extra": extra or {},
    }
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)


def load_tal_model(path: str | Path) -> tuple[ActionVLM, Any, dict[str, Any]]:
    """(model in eval mode, its language inputs or None, extra) from `save_tal_model`'s file
    (or `save_detector`'s, as a vision-only model)."""
    path = Path(path)
    try:
        payload = torch.load(path, map_location="cpu", weights_only=False)
    except FileNotFoundError:
        raise BadInputError("checkpoint not found", source=path) from None
    except (OSError, RuntimeError, EOFError, ValueError, pickle.UnpicklingError) as err:
        raise BadInputError(f"not a readable checkpoint: {err}", source=path) from err
    if not isinstance(payload, dict):
        raise BadInputError("not a TAL model checkpoint", source=path)
    try:
        if payload.get("format") == FORMAT:
            spec = payload["spec"]
            model = build_tal_model(spec)
            state = payload["state_dict"]
        else:  # save_detector's layout: the vision-only detector (wrapper keys unused)
            spec = {"detector": dict(payload["options"]), "language": None}
            model = build_tal_model(spec)
            state = dict(model.state_dict())
            state.update({f"detector.{k}": v for k, v in payload["state_dict"].items()})
        missing, unexpected = model.load_state_dict(state, strict=False)
        # a pretrained LM's frozen base weights are not stored: they came from disk
        missing = [k for k in missing if not (k.startswith("language.lm.") and "lora_" not in k)]
        if missing or unexpected:
            raise RuntimeError(f"weights do not fit the model: missing {missing[:3]}, "
                               f"unexpected {list(unexpected)[:3]}")  # fmt: skip
    except (KeyError, TypeError, ValueError, RuntimeError) as err:
        raise BadInputError(f"not a TAL model checkpoint: {err}", source=path) from err
    inputs = _inputs_from_state(payload.get("inputs"), spec)
    return model.eval(), inputs, dict(payload.get("extra") or {})


def _inputs_from_state(state: dict[str, Any] | None, spec: dict[str, Any]) -> Any:
    if not state:
        return None
    if state["kind"] == "compact":
        from actionbias.tal.language.inputs import CompactInputs

        return CompactInputs(state["prompt"])
    from transformers import AutoTokenizer

    from actionbias.tal.language.inputs import CausalLMInputs

    lang = spec["language"]
    tokenizer = AutoTokenizer.from_pretrained(lang.get("tokenizer") or lang["name_or_path"])
    return CausalLMInputs(tokenizer, state["class_names"], state["descriptions"])
