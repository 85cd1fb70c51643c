"""File plumbing shared by the readers and writers: atomic writes, CSV/line reading
with line numbers, path resolution.

Every reader reports bad input as `BadInputError(msg, source=file, where="line N")`;
keeping the line bookkeeping here keeps the format modules about formats.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

from actionbias.errors import BadInputError
from actionbias.fileio import atomic_write_bytes, atomic_write_text

__all__ = ["atomic_write_bytes", "atomic_write_text", "read_text"]


def read_text(path: str | Path) -> str:
    """File contents as text; a missing/unreadable file is a BadInputError."""
    path = Path(path)
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as err:
        raise BadInputError("file not found", source=path) from err
    except IsADirectoryError as err:
        raise BadInputError("is a directory, expected a file", source=path) from err
    except UnicodeDecodeError as err:
        raise BadInputError(f"not UTF-8 text ({err.reason})", source=path) from err
    except OSError as err:
        raise BadInputError(f"cannot read: {err.strerror}", source=path) from err


def iter_lines(path: str | Path) -> Iterator[tuple[int, str]]:
    """(line number, stripped line) for every non-empty, non-comment line."""
    for number, raw in enumerate(read_text(path).splitlines(), start=1):
        line = raw.strip()
        if line and not line.startswith("#"):
            yield number, line


def iter_csv(
    path: str | Path, required: Sequence[str]
) -> tuple[list[str], Iterator[tuple[int, dict[str, str]]]]:
    """Header and an iterator of (line number, row dict) for a headed CSV file.

    Fields are stripped; blank lines are skipped; a row whose field count differs
    from the header's, or a header lacking one of `required`, is a BadInputError
    naming the file and line.
    """
    path = Path(path)
    text = read_text(path)
    reader = csv.reader(text.splitlines(keepends=True))
    header: list[str] | None = None
    for row in reader:
        if any(cell.strip() for cell in row):
            header = [cell.strip() for cell in row]
            break
    if header is None:
        raise BadInputError("empty CSV file (no header)", source=path)
    header_line = reader.line_num
    missing = [name for name in required if name not in header]
    if missing:
        raise BadInputError(
            f"missing column {missing[0]!r} (header has: {', '.join(header)})",
            source=path,
            where=f"line {header_line}",
        )
    duplicated = sorted({name for name in header if header.count(name) > 1})
    if duplicated:
        raise BadInputError(
            f"column {duplicated[0]!r} appears twice", source=path, where=f"line {header_line}"
        )

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        try:
            for row in reader:
                if not any(cell.strip() for cell in row):
                    continue
                if len(row) != len(header):
                    raise BadInputError(
                        f"expected {len(header)} fields ({','.join(header)}), got {len(row)}",
                        source=path,
                        where=f"line {reader.line_num}",
                    )
                yield reader.line_num, {k: v.strip() for k, v in zip(header, row, strict=True)}
        except csv.Error as err:
            raise BadInputError(
                f"malformed CSV: {err}", source=path, where=f"line {reader.line_num}"
            ) from err

    return header, rows()


def csv_text(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """CSV text with "\\n" line ends (what the official Kinetics files use)."""
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def resolve(root: str | Path, value: str | Path) -> str:
    """Absolute, normalised path of `value` (kept as is when already absolute)."""
    return os.path.abspath(os.path.join(root, value))


def relative_or_absolute(path: str | Path, base: str | Path) -> str:
    """`path` relative to `base` when it lies inside it, else absolute (POSIX slashes).

    Writers use this so that a list written next to its media stays portable,
    while a list pointing elsewhere still reads back to the same files.
    """
    absolute = os.path.abspath(path)
    base = os.path.abspath(base)
    try:
        common = os.path.commonpath([absolute, base])
    except ValueError:
        return absolute
    if common == base:
        return Path(os.path.relpath(absolute, base)).as_posix()
    return absolute


def parse_int(value: str, what: str, source: str | Path, where: str) -> int:
    """An integer field ("12" or "12.0"); anything else is a BadInputError."""
    try:
        number = float(value)
    except ValueError:
        raise BadInputError(
            f"{what} {value!r} is not a number", source=source, where=where
        ) from None
    if not number.is_integer():
        raise BadInputError(
            f"{what} {value!r} is not a whole number", source=source, where=where
        ) from None
    return int(number)
