"""The one way to build a model: a name, a class count and keyword options.

Configs, the command line and the training loop only ever hold a model *name* plus
a dict of options, so every architecture must be reachable through
`build_model`. Options are checked before the call against the factory's own
keyword parameters plus the fields of the options type it registered for its
``**options`` (`actionbias.models.options`: the backbone options many models
share): a typo in a YAML file becomes a one-line `BadInputError` listing the
options that exist, instead of a TypeError from deep inside a constructor.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, fields, is_dataclass
from pathlib import Path
from typing import Any

from torch import nn

from actionbias.errors import BadInputError

ModelFactory = Callable[..., nn.Module]


@dataclass(frozen=True)
class ModelEntry:
    """A registered factory and what the data pipeline needs to know before building it."""

    name: str
    factory: ModelFactory
    required_inputs: tuple[str, ...]
    summary: str
    options_type: type | None = None
    """Dataclass whose fields the factory takes through ``**options``, if it does."""

    def options(self) -> tuple[str, ...]:
        """Keyword options the factory accepts (besides ``num_classes``): its own first."""
        params = inspect.signature(self.factory).parameters.values()
        own = tuple(
            p.name for p in params if p.name != "num_classes" and p.kind is not p.VAR_KEYWORD
        )
        shared = () if self.options_type is None else fields(self.options_type)
        return own + tuple(f.name for f in shared)


_REGISTRY: dict[str, ModelEntry] = {}


def register_model(
    name: str, *, inputs: tuple[str, ...] = ("video",), options: type | None = None
) -> Callable[[ModelFactory], ModelFactory]:
    """Register ``factory(num_classes, **options) -> nn.Module`` under ``name``.

    ``inputs`` are the batch keys the model reads (see `actionbias.models.base`),
    stored here so a data module can ask `model_entry(name).required_inputs`
    without building a 30 M parameter network first. ``options`` is the dataclass
    (e.g. `BackboneOptions`) whose fields a factory with ``**options`` accepts: the
    registry cannot read those names from the signature, so they are declared here.
    """

    def decorate(factory: ModelFactory) -> ModelFactory:
        if name in _REGISTRY:
            raise ValueError(f"model {name!r} is already registered")
        params = inspect.signature(factory).parameters
        if "num_classes" not in params:
            raise TypeError(f"factory for {name!r} must take a num_classes argument")
        takes_any = any(p.kind is p.VAR_KEYWORD for p in params.values())
        if takes_any != (options is not None):
            raise TypeError(
                f"factory for {name!r}: pass options=<dataclass> exactly when it takes **options"
            )
        if options is not None and not is_dataclass(options):
            raise TypeError(f"options of {name!r} must be a dataclass, got {options!r}")
        doc = inspect.getdoc(factory) or ""
        summary = doc.splitlines()[0] if doc else ""
        _REGISTRY[name] = ModelEntry(name, factory, tuple(inputs), summary, options)
        return factory

    return decorate


def list_models() -> list[str]:
    """Names of every registered model, sorted."""
    return sorted(_REGISTRY)


def model_entry(name: str) -> ModelEntry:
    """The registry entry for ``name``; unknown names raise `BadInputError`."""
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(list_models())
        raise BadInputError(f"unknown model {name!r}; known models: {known}") from None


def build_model(
    name: str,
    num_classes: int,
    *,
    pretrained: str | Path | None = None,
    **options: Any,
) -> nn.Module:
    """Build a registered model; optionally load weights from ``pretrained``.

    ``pretrained`` is a checkpoint file (.pt/.pth/.pyth/.ckpt: our own, PySlowFast's
    or pytorchvideo's, or a PySlowFast Caffe2 .pkl). Matching tensors are loaded, the rest reported
    on ``model.pretrained_report`` (a `LoadReport`); a head of another class count
    keeps its fresh initialisation. A factory with its own ``pretrained`` parameter
    (V-JEPA 2 by Hugging Face id or folder, the A2O wrapper) gets it passed instead.
    """
    entry = model_entry(name)
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise BadInputError(f"num_classes must be a positive integer, got {num_classes!r}")
    accepted = entry.options()
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise BadInputError(
            f"model {name!r} has no option(s) {', '.join(unknown)}; "
            f"accepted: {', '.join(accepted) or 'none'}"
        )
    if "pretrained" in accepted:
        # Models that load their own weights (Hugging Face ids or folders, wrappers that
        # load a backbone before changing it) take ``pretrained`` as a factory option.
        return entry.factory(num_classes=num_classes, pretrained=pretrained, **options)
    model = entry.factory(num_classes=num_classes, **options)
    if pretrained is not None:
        from actionbias.models.checkpoint import load_pretrained

        model.pretrained_report = load_pretrained(model, pretrained)
    return model
