"""YAML run configs for `tal train`, with ``--set KEY=VALUE`` overrides.

A config is a flat YAML mapping whose keys are the command's option names
(``feat_stride`` or ``feat-stride``). Values resolve as

    built-in defaults < the config file < flags given on the command line < --set

so a shipped config (``--config thumos14_i3d``: the files in
``actionbias/tal/configs/``) can be used as is and adjusted per run. Every key
and value is checked against the option it sets (type, choices); a wrong one
is a one-line error naming the file (or ``--set``) and the key.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from actionbias.errors import BadInputError

EXPLICIT = "_explicit_options"


def shipped_configs() -> dict[str, Path]:
    """Name -> path of the configs that ship with the package."""
    folder = resources.files("actionbias.tal").joinpath("configs")
    return {Path(str(p)).stem: Path(str(p)) for p in folder.iterdir() if str(p).endswith(".yaml")}


def config_path(name_or_path: str) -> Path:
    path = Path(name_or_path)
    if path.is_file():
        return path
    shipped = shipped_configs()
    if name_or_path in shipped:
        return shipped[name_or_path]
    known = ", ".join(sorted(shipped))
    raise BadInputError(f"no such file, and not a shipped config ({known})", source=path)


def load_config_file(path: Path) -> dict[str, Any]:
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else None
        message = f"invalid YAML: {err}".splitlines()[0]
        raise BadInputError(message, source=path, where=where) from err
    except OSError as err:
        raise BadInputError(f"cannot read: {err.strerror or err}", source=path) from err
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise BadInputError("a config must be a mapping of option names to values", source=path)
    return data


def _tracking(cls: type[argparse.Action]) -> type[argparse.Action]:
    class Tracked(cls):  # type: ignore[valid-type, misc]
        def __call__(self, parser, namespace, values, option_string=None):
            super().__call__(parser, namespace, values, option_string)
            explicit = set(getattr(namespace, EXPLICIT, set()))
            explicit.add(self.dest)
            setattr(namespace, EXPLICIT, explicit)

    Tracked.__name__ = f"Tracked{cls.__name__}"
    return Tracked


def track_explicit_options(parser: argparse.ArgumentParser) -> None:
    """Make `parser` record which options the command line set (call before add_argument)."""
    parser.register("action", None, _tracking(argparse._StoreAction))
    parser.register("action", "store", _tracking(argparse._StoreAction))
    parser.register("action", "store_true", _tracking(argparse._StoreTrueAction))
    parser.register("action", "store_false", _tracking(argparse._StoreFalseAction))


def _coerce(action: argparse.Action, value: Any, source: str | Path, key: str) -> Any:
    def bad(why: str) -> BadInputError:
        return BadInputError(why, source=source, where=key)

    if isinstance(action, (argparse._StoreTrueAction, argparse._StoreFalseAction)):
        if not isinstance(value, bool):
            raise bad(f"expected true or false, got {value!r}")
        return value
    if value is None:
        if action.default is not None or action.required:
            raise bad("needs a value")
        return None
    kind = action.type
    if isinstance(value, bool) and kind in (int, float):
        raise bad(f"expected a number, got {value!r}")
    try:
        if kind is int and isinstance(value, float):
            if not value.is_integer():
                raise ValueError
            value = int(value)
        elif kind is not None:
            value = kind(
                value if kind in (int, float) and not isinstance(value, str) else str(value)
            )
        elif not isinstance(value, (str, int, float)):
            raise ValueError
        elif not isinstance(value, str):
            value = str(value)
    except (TypeError, ValueError, argparse.ArgumentTypeError):
        name = getattr(kind, "__name__", "text")
        raise bad(f"expected {name}, got {value!r}") from None
    if action.choices is not None and value not in action.choices:
        raise bad(f"must be one of {', '.join(map(str, action.choices))}, got {value!r}")
    return value


def resolve(
    args: argparse.Namespace,
    actions: Mapping[str, argparse.Action],
    config: str | None,
    sets: Iterable[str],
    reserved: Iterable[str] = ("config", "sets", "handler", "out", "gt", "features"),
) -> dict[str, Any]:
    """Apply the config file (to options the command line did not set) and the --set
    overrides to `args` in place; returns what the file and --set changed."""
    explicit = set(getattr(args, EXPLICIT, set()))
    blocked = set(reserved)
    changed: dict[str, Any] = {}

    def key_of(raw: str, source: str | Path) -> str:
        key = str(raw).strip().replace("-", "_")
        if key not in actions or key in blocked:
            known = ", ".join(sorted(k for k in actions if k not in blocked))
            raise BadInputError(f"unknown key {raw!r} (known: {known})", source=source, where=raw)
        return key

    if config is not None:
        path = config_path(config)
        for raw, value in load_config_file(path).items():
            key = key_of(raw, path)
            value = _coerce(actions[key], value, path, str(raw))
            if key not in explicit:
                setattr(args, key, value)
                changed[key] = value
    for item in sets:
        import yaml

        raw, sep, text = item.partition("=")
        if not sep:
            raise BadInputError(f"expected KEY=VALUE, got {item!r}", where="--set")
        key = key_of(raw, "--set")
        try:
            value = yaml.safe_load(text) if text.strip() else text
        except yaml.YAMLError:
            value = text
        value = _coerce(actions[key], value, "--set", raw.strip())
        setattr(args, key, value)
        changed[key] = value
    return changed
