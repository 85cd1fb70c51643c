"""Atomic file writes, shared by every package that writes results.

Long runs are resumable because "the output exists" means "the output is
complete": every file is written to a temporary sibling and renamed into
place, so a kill mid-write leaves the old file or none, never a truncated one.
Files get the usual permissions (0666 minus the umask) rather than
`mkstemp`'s private 0600, because datasets and results are meant to be shared.

A leaf module like `errors`: `video` and `metrics` may import it.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def file_mode() -> int:
    """Permissions a plain `open()` would give a new file."""
    return 0o666 & ~_umask()


def dir_mode() -> int:
    """Permissions a plain `mkdir()` would give a new directory."""
    return 0o777 & ~_umask()


@contextmanager
def atomic_path(path: str | Path, suffix: str | None = None) -> Iterator[Path]:
    """A temporary sibling path to write to; renamed onto `path` if the block succeeds.

    For writers that want a file name rather than a handle (PyAV containers).
    `suffix` defaults to the target's, so format sniffing by extension works.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(
        prefix=f".{path.name}.",
        suffix=f".tmp{path.suffix if suffix is None else suffix}",
        dir=path.parent,
    )
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, file_mode())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@contextmanager
def atomic_open(path: str | Path, mode: str = "wb") -> Iterator[IO]:
    """Open a temporary sibling for writing; flushed, fsynced and renamed on success."""
    if not mode.startswith("w"):
        raise ValueError(f"atomic_open writes; mode must start with 'w', got {mode!r}")
    with atomic_path(path, suffix="") as tmp, tmp.open(mode) as handle:
        yield handle
        handle.flush()
        os.fsync(handle.fileno())


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    with atomic_open(path, "wb") as handle:
        handle.write(data)


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def make_staging_dir(directory: str | Path) -> Path:
    """A temporary sibling directory (normal permissions) to build a folder in, then rename."""
    directory = Path(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=directory.parent))
    os.chmod(staging, dir_mode())
    return staging
