"""The package layering of docs/architecture.md: no module imports a higher layer.

Imports are read with `ast` from the source files (nothing is imported), lazy
imports inside functions included, so a cycle-avoiding local import cannot hide
an upward dependency.
"""

from __future__ import annotations

import ast
import warnings
from pathlib import Path

import actionbias

SRC = Path(actionbias.__file__).resolve().parent

# Lowest first; a module may import its own layer or a lower one.
LAYERS: list[tuple[str, ...]] = [
    ("__init__", "errors", "fileio", "argtypes", "progress", "runstate", "commandline", "lazy"),
    ("video", "llm", "metrics"),
    ("data", "models"),
    ("synth", "segment"),
    ("train",),
    ("audit",),
    ("report",),
    ("prompting", "tal", "a2o", "demo"),
    ("cli", "__main__"),
]
LAYER = {name: rank for rank, names in enumerate(LAYERS) for name in names}
WORKFLOWS = LAYERS[-2]

# Upward imports still present, as (importing module, imported top-level package).
# Remove an entry when its import goes; a new upward import fails the test.
KNOWN_UPWARD: set[tuple[str, str]] = set()


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts.pop()
    return ".".join(parts)


def _package(module: str) -> str:
    return module.split(".")[0]


def _imported_modules(path: Path, module: str) -> set[str]:
    """Every `actionbias` module `path` imports, as dotted names below `actionbias`."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                drop = node.level - 1 if is_package else node.level
                base = base[: len(base) - drop] if drop else base
                stem = ".".join(["actionbias", *base, *([node.module] if node.module else [])])
            else:
                stem = node.module or ""
            # `from actionbias import x` imports the submodule x when there is one.
            names = [stem] + [
                f"{stem}.{alias.name}" for alias in node.names if _is_module(f"{stem}.{alias.name}")
            ]
        else:
            continue
        for name in names:
            if name == "actionbias":
                found.add("__init__")
            elif name.startswith("actionbias."):
                found.add(name.removeprefix("actionbias."))
    return found


def _is_module(name: str) -> bool:
    parts = name.split(".")[1:]
    path = SRC.joinpath(*parts)
    return path.is_dir() or path.with_suffix(".py").is_file()


def _imports() -> dict[str, set[str]]:
    return {
        _module_name(path): _imported_modules(path, _module_name(path))
        for path in sorted(SRC.rglob("*.py"))
    }


def test_every_top_level_module_has_a_layer():
    unplaced = sorted({_package(m) for m in _imports()} - set(LAYER))
    assert not unplaced, f"add {', '.join(unplaced)} to LAYERS in tests/test_layers.py"


def test_no_module_imports_a_higher_layer():
    upward = set()
    for module, targets in _imports().items():
        own = LAYER.get(_package(module))
        for target in targets:
            theirs = LAYER.get(_package(target))
            if own is not None and theirs is not None and theirs > own:
                upward.add((module, _package(target), target))
    new = sorted(f"{m} imports actionbias.{t}" for m, p, t in upward if (m, p) not in KNOWN_UPWARD)
    assert not new, "upward imports: " + "; ".join(new)
    gone = KNOWN_UPWARD - {(m, p) for m, p, _ in upward}
    if gone:
        warnings.warn(f"KNOWN_UPWARD lists imports that are gone: {sorted(gone)}", stacklevel=1)


def test_workflow_packages_do_not_import_each_other():
    """`prompting`, `tal`, `a2o` and `demo` share code only through lower layers."""
    crossing = sorted(
        f"{module} imports actionbias.{target}"
        for module, targets in _imports().items()
        if _package(module) in WORKFLOWS
        for target in targets
        if _package(target) in WORKFLOWS and _package(target) != _package(module)
    )
    assert not crossing, "; ".join(crossing)


def test_the_check_sees_lazy_and_package_imports(tmp_path):
    """The parser finds imports inside functions and `from actionbias import x`."""
    source = tmp_path / "probe.py"
    source.write_text(
        "from actionbias import fileio, __version__\n"
        "def f():\n"
        "    from actionbias.a2o.loop import run_icrl\n"
        "    import actionbias.tal.nms\n"
    )
    found = _imported_modules(source, "models.probe")
    assert found == {"__init__", "fileio", "a2o.loop", "tal.nms"}
