"""Package exports that load their module on first use (a PEP 562 ``__getattr__``).

The command line imports every package's ``commands`` table to build its parser;
a package ``__init__`` that imported its workflows (torch, Lightning, matplotlib)
would make every ``actionbias`` call, ``--help`` included, pay for them. So a
package names where each export lives and `lazy_exports` imports it when asked.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(namespace: dict[str, Any], where: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for the package whose ``globals()`` is ``namespace``.

    ``where`` maps an export to its module (absolute, or relative to the package
    with a leading dot). A loaded export is kept in ``namespace``, so only its
    first use goes through here; an unknown name is the usual AttributeError.
    """
    package = namespace["__name__"]

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module, package), name)
        namespace[name] = value
        return value

    return __getattr__
