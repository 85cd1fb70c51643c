"""Atomic file writes, append-only JSON Lines and file digests, shared by every package.

Long runs are resumable because "the output exists" means "the output is
complete": every file is written to a temporary sibling and renamed into
place, so a kill mid-write leaves the old file or none, never a truncated one.
Files get the usual permissions (0666 minus the umask) rather than
`mkstemp`'s private 0600, because datasets and results are meant to be shared.

Files that grow row by row (predictions, ICRL histories, per-seed results) are
JSON Lines appended with one ``write`` and an fsync per batch instead: a kill
can then cut only the last line, which `read_jsonl` drops and `append_jsonl`
cuts off before appending, so nothing finished is ever lost or duplicated.

A base module like `errors` (the only one it imports): `video` and `metrics` may
import it.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from actionbias.errors import BadInputError


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


def atomic_write_json(
    path: str | Path,
    obj: Any,
    *,
    indent: int | None = 2,
    sort_keys: bool = False,
    default: Callable[[Any], Any] | None = None,
) -> None:
    """`obj` as JSON plus a final newline, written atomically."""
    text = json.dumps(obj, indent=indent, sort_keys=sort_keys, default=default)
    atomic_write_text(path, text + "\n")


# ---------------------------------------------------------------------- JSON Lines


def jsonl_text(rows: Iterable[Mapping[str, Any]]) -> str:
    """Rows as JSON Lines, each with its newline (non-ASCII kept as is)."""
    return "".join(json.dumps(dict(row), ensure_ascii=False) + "\n" for row in rows)


def read_jsonl(path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) per complete line; a truncated last line is dropped.

    A line is complete when a newline follows it: every row is written with its
    newline in one ``write`` call, so only the line a kill interrupted lacks one.
    Garbage anywhere else is corruption and raises `BadInputError`. A missing
    file yields nothing.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return
    lines = data.split(b"\n")
    complete = lines[:-1]  # the part after the last newline is empty or truncated
    for lineno, raw in enumerate(complete, start=1):
        if raw.strip():
            yield lineno, _json_object(raw, path, lineno)


def read_jsonl_whole(path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) per non-blank line of a file written in one go.

    For files a person or a finished step wrote (predictions, MCQ questions),
    not for logs a kill may cut: every line counts, the last one too whether or
    not a newline ends it, and a missing file is the usual `FileNotFoundError`.
    """
    path = Path(path)
    # bytes, so a line that is not UTF-8 is a bad row naming file:line, not a crash
    with path.open("rb") as fh:
        for lineno, line in enumerate(fh, start=1):
            if line.strip():
                yield lineno, _json_object(line, path, lineno)


def _json_object(line: str | bytes, path: Path, lineno: int) -> dict[str, Any]:
    """One JSON Lines row, which must be an object; anything else names ``file:line``."""
    try:
        row = json.loads(line)
    except json.JSONDecodeError as err:
        raise BadInputError(f"not JSON ({err.msg})", path, f"line {lineno}") from None
    except UnicodeDecodeError as err:
        raise BadInputError(f"not UTF-8 ({err.reason})", path, f"line {lineno}") from None
    if not isinstance(row, dict):
        raise BadInputError("each line must be a JSON object", path, f"line {lineno}")
    return row


def _repair_tail(path: Path) -> int:
    """Cut a truncated last line (left by a kill) off before appending; bytes removed."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return 0
    if size == 0:
        return 0
    with path.open("rb+") as fh:
        fh.seek(max(0, size - 1))
        if fh.read(1) == b"\n":
            return 0
        # Scan back for the last newline in chunks (the tail is at most one row).
        end = size
        keep = 0
        while end > 0:
            start = max(0, end - 65536)
            fh.seek(start)
            chunk = fh.read(end - start)
            pos = chunk.rfind(b"\n")
            if pos >= 0:
                keep = start + pos + 1
                break
            end = start
        fh.truncate(keep)
        fh.flush()
        os.fsync(fh.fileno())
    return size - keep


def append_jsonl(path: str | Path, rows: Iterable[Mapping[str, Any]]) -> int:
    """Append rows in one write, flushed and fsynced; the number of rows written.

    A truncated last line left by a kill is cut off first, so the new rows never
    run into half a row.
    """
    path = Path(path)
    text = jsonl_text(rows)
    if not text:
        return 0
    _repair_tail(path)
    with path.open("a", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    return text.count("\n")


# ---------------------------------------------------------------------- digests


def file_sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes, read in 1 MiB chunks (checkpoints can be large).

    Records which exact weights or question file a result came from, so a
    resumed run notices a file replaced under the same name.
    """
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
