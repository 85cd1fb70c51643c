"""Load weights into registered models: ours, PySlowFast, pytorchvideo and Caffe2 files.

Four sources are understood, recognised from the file and its key names:

* our own state dicts (``torch.save(model.state_dict())``), bare or under
  ``state_dict``/``model_state``/``model``, with DDP (``module.``), Lightning
  (``model.``) or ``torch.compile`` (``_orig_mod.``) prefixes;
* PySlowFast PyTorch checkpoints (``.pyth``): ``{"model_state": ..., "epoch": ...}``
  with keys such as ``s1.pathway0_stem.conv.weight``,
  ``s2.pathway0_res0.branch1.weight``, ``s2.pathway0_res0.branch1_bn.running_mean``,
  ``s2.pathway0_res0.branch2.a.weight`` .. ``branch2.c_bn.bias`` and
  ``head.projection.weight`` (older releases name the stem ``s1.s0_stem``);
* pytorchvideo checkpoints (``torch.hub`` ``slow_r50``, the seed paper's model;
  e.g. ``SLOW_8x8_R50.pyth`` of its model zoo, tensors under ``model_state``):
  ``blocks.0.conv``/``blocks.0.norm`` (stem),
  ``blocks.N.res_blocks.M.branch1_conv``/``branch1_norm`` (projection shortcut),
  ``blocks.N.res_blocks.M.branch2.conv_a..c``/``norm_a..c`` (bottleneck) for
  N = 1..4, and ``blocks.5.proj`` (head; a linear layer, no softmax). Logits
  equal pytorchvideo's at 8x224x224; at larger clips its head averages 8x7x7
  windows, which ``head_pool_kernel=(8, 7, 7)`` reproduces;
* PySlowFast's Caffe2 model-zoo files (``.pkl``, e.g. the Kinetics-400
  ``SLOWONLY_8x8_R50.pkl``): a pickled ``{"blobs": {name: ndarray}}`` with names
  such as ``conv1_w``, ``res_conv1_bn_s``, ``res2_0_branch2a_w``,
  ``res2_0_branch1_bn_riv`` and ``pred_w``. They are read with an unpickler that
  only accepts numpy arrays, so a hostile file cannot run code.

Tensors are matched by name and shape: everything that fits is loaded, the rest is
listed in a `LoadReport` (missing, unexpected, shape-mismatched). A head trained for
another class count does not fit and keeps its fresh initialisation.
"""

from __future__ import annotations

import logging
import pickle
import re
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from actionbias.errors import BadInputError

log = logging.getLogger(__name__)

_WRAPPER_PREFIXES = ("module", "model", "_orig_mod")
_STATE_KEYS = ("model_state", "state_dict", "model")

# One (our name, their name) template per module, read both ways: loading renames
# theirs -> ours, exporting ours -> theirs, so a correction lands in both directions.
# Placeholders: {res} our stage (res2-res5), {blk} pytorchvideo's stage index (blocks.1-4,
# = res - 1), {i} the block within a stage, {x} the bottleneck conv (a, b, c).
_PYSLOWFAST_NAMES = (
    ("stem.conv.", "s1.pathway0_stem.conv."),
    ("stem.bn.", "s1.pathway0_stem.bn."),
    ("res{res}.{i}.proj.", "s{res}.pathway0_res{i}.branch1."),
    ("res{res}.{i}.proj_bn.", "s{res}.pathway0_res{i}.branch1_bn."),
    ("res{res}.{i}.{x}.", "s{res}.pathway0_res{i}.branch2.{x}."),
    ("res{res}.{i}.{x}_bn.", "s{res}.pathway0_res{i}.branch2.{x}_bn."),
    ("head.fc.", "head.projection."),
)
# Older PySlowFast releases name the stem ``s1.s0_stem``: read, never written.
_OLD_PYSLOWFAST_NAMES = (
    ("stem.conv.", "s1.s0_stem.conv."),
    ("stem.bn.", "s1.s0_stem.bn."),
)
# pytorchvideo ``create_resnet`` names: blocks.0 stem, blocks.1-4 = res2-res5, blocks.5 head.
_PYTORCHVIDEO_NAMES = (
    ("stem.conv.", "blocks.0.conv."),
    ("stem.bn.", "blocks.0.norm."),
    ("res{res}.{i}.proj.", "blocks.{blk}.res_blocks.{i}.branch1_conv."),
    ("res{res}.{i}.proj_bn.", "blocks.{blk}.res_blocks.{i}.branch1_norm."),
    ("res{res}.{i}.{x}.", "blocks.{blk}.res_blocks.{i}.branch2.conv_{x}."),
    ("res{res}.{i}.{x}_bn.", "blocks.{blk}.res_blocks.{i}.branch2.norm_{x}."),
    ("head.fc.", "blocks.5.proj."),
)
_PLACEHOLDERS = {"res": "[2-5]", "blk": "[1-4]", "i": r"\d+", "x": "[abc]"}
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _template_pattern(template: str) -> re.Pattern[str]:
    parts = _PLACEHOLDER.split(template)  # literal, placeholder, literal, ...
    return re.compile(
        "^"
        + "".join(
            f"(?P<{part}>{_PLACEHOLDERS[part]})" if k % 2 else re.escape(part)
            for k, part in enumerate(parts)
        )
    )


def _template_filler(template: str) -> Callable[[re.Match[str]], str]:
    def fill(match: re.Match[str]) -> str:
        values = match.groupdict()
        if "res" in values:
            values["blk"] = str(int(values["res"]) - 1)
        elif "blk" in values:
            values["res"] = str(int(values["blk"]) + 1)
        return template.format(**values)

    return fill


_Rule = tuple[re.Pattern[str], Callable[[re.Match[str]], str]]


def _rename_rules(
    names: tuple[tuple[str, str], ...], *, to_theirs: bool = False
) -> tuple[_Rule, ...]:
    """Rename rules of (ours, theirs) templates: theirs -> ours, or ours -> theirs."""
    pairs = ((ours, theirs) if to_theirs else (theirs, ours) for ours, theirs in names)
    return tuple((_template_pattern(old), _template_filler(new)) for old, new in pairs)


# First matching rule wins; unmatched keys are kept and end up "unexpected" (PySlowFast's
# Fast pathway, non-local blocks, lateral fusions; another architecture's extra blocks).
_FROM_PYSLOWFAST = _rename_rules(_PYSLOWFAST_NAMES + _OLD_PYSLOWFAST_NAMES)
_TO_PYSLOWFAST = _rename_rules(_PYSLOWFAST_NAMES, to_theirs=True)
_PYSLOWFAST_KEY = re.compile(r"^(s[1-5]\.(pathway\d|s\d)_|head\.projection\.)")
_FROM_PYTORCHVIDEO = _rename_rules(_PYTORCHVIDEO_NAMES)
_TO_PYTORCHVIDEO = _rename_rules(_PYTORCHVIDEO_NAMES, to_theirs=True)
_PYTORCHVIDEO_KEY = re.compile(r"^blocks\.(0\.(conv|norm)|[1-4]\.res_blocks\.\d+|5\.proj)\.")

# Caffe2 blob names -> PySlowFast names.
_C2_BN = {"s": "weight", "b": "bias", "rm": "running_mean", "riv": "running_var"}
_C2_RULES = (
    (re.compile(r"^conv1_w$"), lambda m: "s1.pathway0_stem.conv.weight"),
    (re.compile(r"^res_conv1_bn_(s|b|rm|riv)$"), lambda m: f"s1.pathway0_stem.bn.{_C2_BN[m[1]]}"),
    (
        re.compile(r"^res(\d)_(\d+)_branch1_w$"),
        lambda m: f"s{m[1]}.pathway0_res{m[2]}.branch1.weight",
    ),
    (
        re.compile(r"^res(\d)_(\d+)_branch1_bn_(s|b|rm|riv)$"),
        lambda m: f"s{m[1]}.pathway0_res{m[2]}.branch1_bn.{_C2_BN[m[3]]}",
    ),
    (
        re.compile(r"^res(\d)_(\d+)_branch2([abc])_w$"),
        lambda m: f"s{m[1]}.pathway0_res{m[2]}.branch2.{m[3]}.weight",
    ),
    (
        re.compile(r"^res(\d)_(\d+)_branch2([abc])_bn_(s|b|rm|riv)$"),
        lambda m: f"s{m[1]}.pathway0_res{m[2]}.branch2.{m[3]}_bn.{_C2_BN[m[4]]}",
    ),
    (re.compile(r"^pred_w$"), lambda m: "head.projection.weight"),
    (re.compile(r"^pred_b$"), lambda m: "head.projection.bias"),
)
_C2_TRAINING_STATE = re.compile(r"(momentum|(?:^|_)lr$|model_iter)")


@dataclass
class LoadReport:
    """What a checkpoint did to a model; ``summary()`` is one log line."""

    path: str
    source_format: str
    loaded: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    mismatched: list[tuple[str, tuple[int, ...], tuple[int, ...]]] = field(default_factory=list)

    @property
    def head_reinitialised(self) -> bool:
        """True when the checkpoint's head did not fit (another class count)."""
        return any(name.startswith("head.") for name, _, _ in self.mismatched)

    def summary(self) -> str:
        parts = [f"{self.path}: loaded {len(self.loaded)} tensors ({self.source_format})"]
        for label, names in (("missing", self.missing), ("unexpected", self.unexpected)):
            if names:
                parts.append(f"{len(names)} {label} (e.g. {', '.join(names[:3])})")
        if self.mismatched:
            name, got, want = self.mismatched[0]
            parts.append(
                f"{len(self.mismatched)} shape-mismatched "
                f"(e.g. {name}: {list(got)} vs {list(want)})"
            )
        if self.head_reinitialised:
            parts.append("head keeps its fresh initialisation (class count differs)")
        return "; ".join(parts)


def pyslowfast_to_actionbias(state: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """Rename a PySlowFast Slow-only (``ResNet``, single pathway) state dict onto our modules."""
    return {_rename(key, _FROM_PYSLOWFAST): value for key, value in state.items()}


def actionbias_to_pyslowfast(state: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """Our Slow-only state dict under PySlowFast names (to use our weights there)."""
    return _export(state, _TO_PYSLOWFAST, "PySlowFast")


def pytorchvideo_to_actionbias(state: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """Rename a pytorchvideo Slow-only R50 (``create_resnet``) state dict onto our modules.

    Keys that match no rule (another architecture's extra blocks) keep their name
    and end up reported as unexpected.
    """
    return {_rename(key, _FROM_PYTORCHVIDEO): value for key, value in state.items()}


def actionbias_to_pytorchvideo(state: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """Our Slow-only state dict under pytorchvideo's ``slow_r50`` names."""
    return _export(state, _TO_PYTORCHVIDEO, "pytorchvideo")


def caffe2_to_pyslowfast(blobs: Mapping[str, Any]) -> dict[str, Tensor]:
    """Caffe2 blobs (PySlowFast model zoo ``.pkl``) under PySlowFast PyTorch names.

    Optimiser state (``*_momentum``, ``lr``, ``model_iter``) is dropped; blobs that
    match no rule keep their Caffe2 name so they show up as unexpected.
    """
    state: dict[str, Tensor] = {}
    for name, blob in blobs.items():
        if _C2_TRAINING_STATE.search(name):
            continue
        array = np.asarray(blob)
        if array.dtype == object or not np.issubdtype(array.dtype, np.number):
            continue
        for pattern, target in _C2_RULES:
            match = pattern.match(name)
            if match:
                name = target(match)
                break
        state[name] = torch.from_numpy(np.array(array, copy=True))
    return state


def read_checkpoint(path: str | Path) -> tuple[dict[str, Tensor], str]:
    """State dict under OUR module names, plus the detected format name."""
    path = Path(path)
    if not path.is_file():
        raise BadInputError("checkpoint file not found", source=path)
    if path.suffix == ".pkl" and not zipfile.is_zipfile(path):  # torch.save files are zips
        blobs = _read_caffe2_blobs(path)
        return pyslowfast_to_actionbias(caffe2_to_pyslowfast(blobs)), "caffe2"
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises many types for corrupt or unsafe files
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise BadInputError(f"cannot read checkpoint ({reason})", source=path) from err
    state = _strip_wrappers(_find_state_dict(obj, path))
    if any(_PYSLOWFAST_KEY.match(key) for key in state):
        return pyslowfast_to_actionbias(state), "pyslowfast"
    if any(_PYTORCHVIDEO_KEY.match(key) for key in state):
        return pytorchvideo_to_actionbias(state), "pytorchvideo"
    return state, "actionbias"


def load_pretrained(model: nn.Module, path: str | Path) -> LoadReport:
    """Load every tensor of ``path`` that fits ``model`` by name and shape; report the rest."""
    state, source_format = read_checkpoint(path)
    adapt = getattr(model, "adapt_state_dict", None)
    if callable(adapt):
        state = adapt(state)
    own = model.state_dict()
    report = LoadReport(path=str(path), source_format=source_format)
    to_load: dict[str, Tensor] = {}
    for key, value in state.items():
        if key not in own:
            report.unexpected.append(key)
            continue
        target = own[key]
        if tuple(value.shape) != tuple(target.shape):
            # Caffe2 heads may store a linear layer as a 1x1x1 conv (or the reverse):
            # same numbers in the same order, only trailing unit dims differ.
            if _without_trailing_ones(value.shape) == _without_trailing_ones(target.shape):
                value = value.reshape(target.shape)
            else:
                report.mismatched.append((key, tuple(value.shape), tuple(target.shape)))
                continue
        to_load[key] = value.to(dtype=target.dtype)
    if not to_load:
        example = ", ".join(list(state)[:3]) or "no tensors"
        raise BadInputError(
            f"no tensor of this checkpoint fits {type(model).__name__} (keys like {example})",
            source=path,
        )
    model.load_state_dict(to_load, strict=False)
    report.loaded = sorted(to_load)
    report.missing = [
        key for key in own if key not in to_load and not key.endswith("num_batches_tracked")
    ]
    level = logging.WARNING if report.missing or report.mismatched else logging.INFO
    log.log(level, "pretrained weights: %s", report.summary())
    return report


def _export(state: Mapping[str, Tensor], rules: tuple[_Rule, ...], fmt: str) -> dict[str, Tensor]:
    renamed = {}
    for key, value in state.items():
        new = _rename(key, rules)
        if new == key:
            raise ValueError(f"{key!r} has no {fmt} counterpart (only Slow-only keys do)")
        renamed[new] = value
    return renamed


def _rename(key: str, rules: tuple[_Rule, ...]) -> str:
    for pattern, replacement in rules:
        new, count = pattern.subn(replacement, key, count=1)
        if count:
            return new
    return key


def _without_trailing_ones(shape: torch.Size | tuple[int, ...]) -> tuple[int, ...]:
    dims = list(shape)
    while dims and dims[-1] == 1:
        dims.pop()
    return tuple(dims)


def _find_state_dict(obj: Any, path: Path) -> dict[str, Tensor]:
    if isinstance(obj, Mapping):
        for key in _STATE_KEYS:
            if isinstance(obj.get(key), Mapping):
                obj = obj[key]
                break
        tensors = {k: v for k, v in obj.items() if isinstance(k, str) and isinstance(v, Tensor)}
        if tensors:
            return tensors
    raise BadInputError(
        "no state dict found (expected a dict of tensors, or one under "
        f"{', '.join(repr(k) for k in _STATE_KEYS)})",
        source=path,
    )


def _strip_wrappers(state: dict[str, Tensor]) -> dict[str, Tensor]:
    """Drop the prefix DDP, Lightning or torch.compile put before the model's own keys.

    A prefix is stripped when at least half of the keys carry it (a Lightning module
    may hold a loss or metric next to ``model``); keys without it stay as they are
    and end up reported as unexpected.
    """
    while state:
        counts: dict[str, int] = {}
        for key in state:
            head, dot, _ = key.partition(".")
            if dot and head in _WRAPPER_PREFIXES:
                counts[head] = counts.get(head, 0) + 1
        if not counts:
            break
        prefix, count = max(counts.items(), key=lambda item: item[1])
        if 2 * count < len(state):
            break
        state = {
            key[len(prefix) + 1 :] if key.startswith(prefix + ".") else key: value
            for key, value in state.items()
        }
    return state


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Rebuilds numpy arrays and plain containers, refuses every other global."""

    # _codecs.encode rebuilds bytes in protocol-2 pickles written by Python 3.
    _ALLOWED = frozenset(
        {
            ("numpy", "ndarray"),
            ("numpy", "dtype"),
            ("collections", "OrderedDict"),
            ("_codecs", "encode"),
        }
    )
    _NUMPY_CORE = frozenset({"multiarray", "numeric"})
    _NUMPY_CORE_NAMES = frozenset({"_reconstruct", "scalar", "_frombuffer"})

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in self._ALLOWED:
            return super().find_class(module, name)
        # numpy 1.x (and Python 2) pickles say numpy.core.*, numpy 2 says numpy._core.*.
        package, _, submodule = module.rpartition(".")
        if (
            package in ("numpy.core", "numpy._core")
            and submodule in self._NUMPY_CORE
            and name in self._NUMPY_CORE_NAMES
        ):
            current = "numpy._core" if hasattr(np, "_core") else "numpy.core"
            return super().find_class(f"{current}.{submodule}", name)
        raise pickle.UnpicklingError(
            f"refusing to load {module}.{name}: only numpy arrays are allowed"
        )


def _read_caffe2_blobs(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            obj = _NumpyOnlyUnpickler(handle, encoding="latin1").load()
    except Exception as err:
        raise BadInputError(f"cannot read Caffe2 checkpoint ({err})", source=path) from err
    blobs = obj.get("blobs") if isinstance(obj, Mapping) else None
    if not isinstance(blobs, Mapping):
        raise BadInputError("Caffe2 checkpoint has no 'blobs' dict", source=path)
    return {str(k): v for k, v in blobs.items()}
