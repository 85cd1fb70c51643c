"""What the data tests share.

Import it from a test module in this folder with ``from data_testkit import ...``.
"""

from __future__ import annotations

from pathlib import Path


def write(path: Path, text: str) -> Path:
    """Write `text` to `path` (making its folder) and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path
