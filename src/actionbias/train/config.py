"""The training configuration: typed dataclasses, recipes in YAML, `key=value` overrides.

Why typed and validated at load time: a 300-epoch run that dies after an hour on
``batch_size: "20"`` or a misspelt ``plateau_patiance`` wastes a GPU day. Every
value is checked against its annotation when the config is built, and a mistake is
one line naming the file and the dotted field (``data.batch_size``).

Where values come from, later wins:

1. the dataclass defaults, which ARE the paper's recipe (appendix A.3);
2. a recipe: a bundled name (``paper``, ``synthact``, see `recipe_names`) or a
   YAML file; a YAML file may start from another recipe with ``extends: NAME|PATH``;
3. overrides: ``["optim.lr=0.01", "data.scene_swap=true"]`` (values parsed as
   YAML, so ``true``, ``[1, 2]`` and ``null`` work) or a nested mapping.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Union

import yaml

from actionbias.errors import BadInputError

RECIPES_DIR = Path(__file__).with_name("recipes")

KINETICS_MEAN = (0.45, 0.45, 0.45)
"""PySlowFast's ``DATA.MEAN`` (Kinetics configs), per RGB channel on [0, 1] pixels."""
KINETICS_STD = (0.225, 0.225, 0.225)
"""PySlowFast's ``DATA.STD``."""
HAT_FILL_RGB = (123.0, 116.0, 103.0)
"""Fill colour of HAT's human-only frames (see `actionbias.segment.HAT_MEAN_RGB`)."""

Auto = Literal["auto"]


@dataclass
class DataConfig:
    """What is read, how a clip becomes model inputs, and how batches are formed."""

    train: str | None = None
    """Training manifest: any `load_manifest` file, a HAT root or a SynthAct folder."""
    val: str | None = None
    """Validation manifest (same forms); drives the LR scheduler and best checkpoint."""
    train_split: str | None = None
    """Keep only records of this split; SynthAct folders default to ``train``."""
    val_split: str | None = None
    """Same for validation; SynthAct folders default to ``val``."""
    format: str = "auto"
    root: str | None = None
    """Media root the manifests' relative paths resolve against."""
    classes: str | None = None
    """Class-list file (one name per line) for manifests that need one."""
    num_frames: int = 8
    sampling: Literal["uniform", "center", "dense"] = "uniform"
    stride: int = 1
    short_side: int | None = 256
    """Resize so the short side has this many pixels (None: ``crop_size``)."""
    crop_size: int | None = 224
    """Centre crop (square); None keeps the resized frame."""
    mean: tuple[float, float, float] = KINETICS_MEAN
    std: tuple[float, float, float] = KINETICS_STD
    masks: Literal["auto", "oracle", "hat", "cache", "none"] = "auto"
    """Person masks: SynthAct's exact ones (oracle), HAT ``seg/`` folders, the segment
    cache; ``auto`` takes the first a record offers in that order (cache if configured)."""
    mask_cache: str | None = None
    """Root of an `actionbias.segment.MaskCache`."""
    mask_backend: str = "mediapipe"
    """Backend whose cached masks to use (its options must match the cached run)."""
    mask_backend_options: dict[str, Any] = field(default_factory=dict)
    human_fill: Literal["zero", "mean"] = "zero"
    """Background of human-only clips: black (the paper) or ``human_fill_rgb`` (HAT)."""
    human_fill_rgb: tuple[float, float, float] = HAT_FILL_RGB
    scene_swap: bool = False
    """Double the training set with each clip's person pasted on a random scene."""
    scenes: str = "synthact:home"
    """Scene images: a folder (e.g. Places365), ``synthact:home``, ``synthact:neutral``
    or ``synthact:all`` (SynthAct's painted scenes, rendered at the crop size)."""
    scene_variants: int = 4
    """Renderings (seeds) per SynthAct scene."""
    cache_clips: bool | Auto = "auto"
    """Decode every clip once into memory; ``auto`` when it fits ``cache_limit_mb``."""
    cache_limit_mb: int = 2048
    clip_cache: str | None = None
    """Folder where clips decoded into memory are also stored, so other trainings on
    the same data load them instead of decoding again (a study's many models and
    seeds); only for records whose masks, if needed, are SynthAct mask files.
    `actionbias.train.clip_cache` says when an entry is trusted."""
    batch_size: int = 20
    """Per device (the paper's 20 was on one GPU)."""
    eval_batch_size: int | None = None
    num_workers: int = 4
    worker_start: Literal["forkserver", "spawn", "fork"] = "forkserver"
    """How loader worker processes start. ``fork`` is fastest but unsafe here: once the
    parent process has decoded a video (probe, preloading), forked workers can hang
    when handing tensors back (seen with PyAV 18 + torch 2.13); ``forkserver`` forks
    from a clean helper process instead, for a few seconds of start-up per worker."""


@dataclass
class ModelConfig:
    name: str = "slow_r50"
    backbone: str | None = None
    """Passed to models taking a ``backbone`` option; for the Slow-only models the
    name is the backbone, and a different value here is an error."""
    options: dict[str, Any] = field(default_factory=dict)
    pretrained: str | None = None
    """Initial weights (our checkpoints, PySlowFast ``.pyth``/``.pkl``)."""


@dataclass
class OptimConfig:
    optimizer: Literal["adam", "adamw", "sgd"] = "adam"
    lr: float = 1e-3
    weight_decay: float = 0.0
    momentum: float = 0.9
    """SGD only."""
    scheduler: Literal["plateau", "cosine", "none"] = "plateau"
    plateau_patience: int = 40
    plateau_threshold: float = 1e-2
    plateau_threshold_mode: Literal["rel", "abs"] = "rel"
    plateau_factor: float = 0.1
    label_smoothing: float = 0.0


@dataclass
class TrainerConfig:
    max_epochs: int = 300
    accelerator: str = "auto"
    devices: int | str = "auto"
    num_nodes: int = 1
    strategy: str = "auto"
    """Passed to Lightning (``ddp`` for multi-GPU / multi-node)."""
    precision: str = "auto"
    """``auto``: ``bf16-mixed`` on a CUDA GPU that supports it, else ``32-true``."""
    channels_last: bool | Auto = "auto"
    """``channels_last_3d`` weights and inputs; ``auto``: on CUDA only."""
    benchmark: bool | Auto = "auto"
    """``cudnn.benchmark``; ``auto``: on CUDA unless ``deterministic``."""
    deterministic: bool = False
    monitor: Literal["val/acc", "val/loss"] = "val/acc"
    """Metric that picks the best checkpoint."""
    check_val_every_n_epoch: int = 1
    log_every_n_steps: int = 10
    limit_train_batches: int | float = 1.0
    limit_val_batches: int | float = 1.0
    gradient_clip_val: float | None = None
    accumulate_grad_batches: int = 1
    progress: bool = True


@dataclass
class TrainConfig:
    """A whole run; ``run_dir`` holds checkpoints, logs, history and results."""

    run_dir: str | None = None
    seed: int = 0
    resume: Literal["auto", "always", "never"] = "auto"
    """``auto``: continue from ``run_dir/checkpoints/last.ckpt`` when it exists."""
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    trainer: TrainerConfig = field(default_factory=TrainerConfig)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (tuples as lists): what YAML, JSON and checkpoints store."""
        return _plain(dataclasses.asdict(self))

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False)


# ----------------------------------------------------------------------------- loading


def recipe_names() -> list[str]:
    """Bundled recipes (``recipes/NAME.yaml``)."""
    return sorted(p.stem for p in RECIPES_DIR.glob("*.yaml"))


def load_config(
    recipe: str | Path | None = None,
    overrides: Iterable[str] | Mapping[str, Any] | None = None,
) -> TrainConfig:
    """A validated config: defaults <- ``recipe`` (name or YAML file) <- ``overrides``."""
    raw: dict[str, Any] = {}
    source: str | None = None
    if recipe is not None:
        raw, source = _read_recipe(recipe, seen=())
    config = config_from_dict(raw, source=source)
    if overrides:
        # The recipe alone is valid, so an error from here on is the overrides' fault.
        config = config_from_dict(_merge(raw, parse_overrides(overrides)), source="overrides")
    return config


def config_from_dict(raw: Mapping[str, Any], source: str | None = None) -> TrainConfig:
    """Build and validate a `TrainConfig` from a nested mapping (missing keys: defaults)."""
    if not isinstance(raw, Mapping):
        raise BadInputError("a config must be a mapping of sections", source=source)
    return _build(TrainConfig, raw, "", source)


def parse_overrides(overrides: Iterable[str] | Mapping[str, Any]) -> dict[str, Any]:
    """``["a.b=1", ...]`` or ``{"a.b": 1}`` -> nested ``{"a": {"b": 1}}``."""
    if isinstance(overrides, Mapping):
        items = list(overrides.items())
    else:
        items = []
        for text in overrides:
            key, sep, value = str(text).partition("=")
            if not sep or not key.strip():
                raise BadInputError(f"override {text!r} is not KEY=VALUE", where="overrides")
            try:
                parsed = yaml.safe_load(value) if value.strip() else None
            except yaml.YAMLError:
                parsed = value
            items.append((key.strip(), parsed))
    nested: dict[str, Any] = {}
    for key, value in items:
        parts = str(key).split(".")
        node = nested
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise BadInputError(f"override {key!r} conflicts with another", where="overrides")
            node = child
        node[parts[-1]] = value
    return nested


def _read_recipe(recipe: str | Path, seen: tuple[str, ...]) -> tuple[dict[str, Any], str]:
    path = Path(recipe)
    if not path.suffix and not path.exists():
        path = RECIPES_DIR / f"{recipe}.yaml"
        if not path.is_file():
            raise BadInputError(
                f"unknown recipe {str(recipe)!r}; bundled: {', '.join(recipe_names())} "
                "(or give a YAML file)",
                where="recipe",
            )
    if not path.is_file():
        raise BadInputError("config file not found", source=path)
    key = str(path.resolve())
    if key in seen:
        raise BadInputError("'extends' loops back to this file", source=path, where="field extends")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else None
        problem = getattr(err, "problem", None) or "invalid YAML"
        raise BadInputError(str(problem), source=path, where=where) from None
    except OSError as err:
        raise BadInputError(f"cannot read: {err.strerror}", source=path) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise BadInputError("a config file must hold a mapping of sections", source=path)
    parent = data.pop("extends", None)
    if parent is not None:
        if not isinstance(parent, str):
            raise BadInputError("must name a recipe or a file", source=path, where="field extends")
        parent_path = Path(parent)
        if parent_path.suffix and not parent_path.is_absolute():
            parent = str(path.parent / parent_path)
        base, _ = _read_recipe(parent, (*seen, key))
        data = _merge(base, data)
    # Errors name the file the user gave, whichever layer the bad value came from.
    _check_shape(TrainConfig, data, "", str(path))
    return data, str(path)


def _merge(base: Mapping[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in update.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            if key.endswith("options"):  # free-form option dicts are replaced key by key
                out[key] = {**out[key], **value}
            else:
                out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


# -------------------------------------------------------------------------- validation


def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _check_shape(cls: type, raw: Mapping[str, Any], prefix: str, source: str | None) -> None:
    """Unknown keys fail early, with the closest field names as a hint."""
    hints = _hints(cls)
    for key, value in raw.items():
        name = f"{prefix}{key}"
        if key not in hints:
            known = ", ".join(hints)
            raise BadInputError(
                f"unknown option {name!r}; known here: {known}",
                source=source,
                where=f"field {name}",
            )
        if dataclasses.is_dataclass(hints[key]) and isinstance(value, Mapping):
            _check_shape(hints[key], value, f"{name}.", source)


def _build(cls: type, raw: Mapping[str, Any], prefix: str, source: str | None) -> Any:
    _check_shape(cls, raw, prefix, source)
    hints = _hints(cls)
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        name = f"{prefix}{f.name}"
        hint = hints[f.name]
        if dataclasses.is_dataclass(hint):
            section = raw.get(f.name, {})
            if section is None:
                section = {}
            if not isinstance(section, Mapping):
                raise BadInputError(
                    f"must be a mapping, got {section!r}", source=source, where=f"field {name}"
                )
            values[f.name] = _build(hint, section, f"{name}.", source)
        elif f.name in raw:
            values[f.name] = _coerce(raw[f.name], hint, name, source)
    config = cls(**values)
    _check_values(config, prefix, source)
    return config


def _fail(message: str, name: str, source: str | None) -> BadInputError:
    return BadInputError(message, source=source, where=f"field {name}")


def _describe(hint: Any) -> str:
    origin = typing.get_origin(hint)
    if origin is Literal:
        return " | ".join(repr(a) for a in typing.get_args(hint))
    if origin in (Union, types.UnionType):
        return " or ".join(_describe(a) for a in typing.get_args(hint))
    if hint is type(None):
        return "null"
    if origin is tuple:
        return f"a list of {len(typing.get_args(hint))} numbers"
    if origin is dict:
        return "a mapping"
    return getattr(hint, "__name__", str(hint))


def _coerce(value: Any, hint: Any, name: str, source: str | None) -> Any:
    """``value`` as type ``hint``, or a one-line error. Deliberately strict: YAML gives
    real types, so ``"20"`` for an int is a mistake worth reporting, not converting."""
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType):
        for option in typing.get_args(hint):
            try:
                return _coerce(value, option, name, source)
            except BadInputError:
                continue
        raise _fail(f"expected {_describe(hint)}, got {value!r}", name, source)
    if hint is type(None):
        if value is None:
            return None
        raise _fail(f"expected null, got {value!r}", name, source)
    if origin is Literal:
        if value in typing.get_args(hint) and not isinstance(value, bool):
            return value
        raise _fail(f"expected one of {_describe(hint)}, got {value!r}", name, source)
    if hint is Any:
        return value
    if hint is bool:
        if isinstance(value, bool):
            return value
        raise _fail(f"expected true or false, got {value!r}", name, source)
    if hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise _fail(f"expected an integer, got {value!r}", name, source)
    if hint is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):  # YAML 1.1 reads "1e-3" (no dot) as a string
            try:
                return float(value)
            except ValueError:
                pass
        raise _fail(f"expected a number, got {value!r}", name, source)
    if hint is str:
        if isinstance(value, str):
            return value
        if isinstance(value, Path):
            return str(value)
        raise _fail(f"expected a string, got {value!r}", name, source)
    if origin is tuple:
        args = typing.get_args(hint)
        if not isinstance(value, (list, tuple)) or len(value) != len(args):
            raise _fail(f"expected {_describe(hint)}, got {value!r}", name, source)
        return tuple(_coerce(v, a, name, source) for v, a in zip(value, args, strict=True))
    if origin is dict:
        if isinstance(value, Mapping):
            return {str(k): v for k, v in value.items()}
        raise _fail(f"expected a mapping, got {value!r}", name, source)
    raise TypeError(f"config field {name} has an unsupported annotation {hint!r}")


def _positive(config: Any, names: Iterable[str], prefix: str, source: str | None) -> None:
    for attr in names:
        value = getattr(config, attr)
        if value is not None and value < 1:
            raise _fail(f"must be >= 1, got {value!r}", f"{prefix}{attr}", source)


def _check_values(config: Any, prefix: str, source: str | None) -> None:
    """Range checks the annotations cannot express."""
    if isinstance(config, DataConfig):
        _positive(
            config,
            (
                "num_frames",
                "stride",
                "short_side",
                "crop_size",
                "batch_size",
                "eval_batch_size",
                "scene_variants",
                "cache_limit_mb",
            ),
            prefix,
            source,
        )
        if config.num_workers < 0:
            raise _fail("must be >= 0", f"{prefix}num_workers", source)
        if any(s <= 0 for s in config.std):
            raise _fail(f"must be positive, got {list(config.std)}", f"{prefix}std", source)
        if config.short_side and config.crop_size and config.crop_size > config.short_side:
            raise _fail(
                f"crop {config.crop_size} is larger than the short side {config.short_side}",
                f"{prefix}crop_size",
                source,
            )
        if config.masks == "cache" and not config.mask_cache:
            raise _fail("masks: cache needs data.mask_cache (a folder)", f"{prefix}masks", source)
    elif isinstance(config, OptimConfig):
        if config.lr <= 0:
            raise _fail(f"must be positive, got {config.lr}", f"{prefix}lr", source)
        for attr in ("weight_decay", "plateau_threshold", "momentum", "label_smoothing"):
            if getattr(config, attr) < 0:
                raise _fail("must be >= 0", f"{prefix}{attr}", source)
        if not 0 < config.plateau_factor < 1:
            raise _fail("must lie in (0, 1)", f"{prefix}plateau_factor", source)
        if config.plateau_patience < 0:
            raise _fail("must be >= 0", f"{prefix}plateau_patience", source)
        if config.label_smoothing >= 1:
            raise _fail("must be < 1", f"{prefix}label_smoothing", source)
    elif isinstance(config, TrainerConfig):
        _positive(
            config,
            (
                "max_epochs",
                "num_nodes",
                "check_val_every_n_epoch",
                "log_every_n_steps",
                "accumulate_grad_batches",
            ),
            prefix,
            source,
        )
        if isinstance(config.devices, int) and config.devices < 1 and config.devices != -1:
            raise _fail("must be >= 1, -1 (all) or 'auto'", f"{prefix}devices", source)
        for attr in ("limit_train_batches", "limit_val_batches"):
            value = getattr(config, attr)
            if value <= 0 or (isinstance(value, float) and value > 1):
                raise _fail(
                    "must be a fraction in (0, 1] or a batch count", f"{prefix}{attr}", source
                )
