"""Error types shared by every package.

A leaf module (imports nothing from actionbias) so that `video` and `metrics`
can use it and still import nothing from the rest. The command line maps
`BadInputError` to exit code 2 with its one-line message; anything else is a
failure (exit 1).
"""

from __future__ import annotations

from pathlib import Path


class ActionBiasError(Exception):
    """Base class of every error this package raises on purpose."""


class BadInputError(ActionBiasError):
    """Input a user gave is unusable; the message names the file, row or field.

    `source` is the file (or directory) at fault, `where` the row, line or field
    inside it when known. `str(err)` is a single line meant for a terminal.
    """

    def __init__(self, message: str, source: str | Path | None = None, where: str | None = None):
        self.reason = message
        self.source = str(source) if source is not None else None
        self.where = where
        super().__init__(self._format())

    def _format(self) -> str:
        parts = []
        if self.source:
            parts.append(self.source)
        if self.where:
            parts.append(self.where)
        prefix = ":".join(parts)
        text = f"{prefix}: {self.reason}" if prefix else self.reason
        return " ".join(text.split())  # always one line


class VideoReadError(BadInputError):
    """A video, frame folder or image cannot be decoded.

    Raised for every kind of broken media (missing, zero bytes, truncated, not a
    video, zero frames) so that dataset loaders catch one type, skip the item,
    log `path` and `reason`, and count it.
    """

    def __init__(self, path: str | Path, reason: str):
        self.path = str(path)
        super().__init__(reason, source=path)
