"""`load_manifest`: one entry point for every clip-list format, by name or by sniffing."""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any

from actionbias.data._io import iter_lines
from actionbias.data.hat import read_hat
from actionbias.data.kinetics import read_kinetics_csv, read_mimetics_csv
from actionbias.data.lists import read_rawframe_list, read_slowfast_list
from actionbias.data.media import VIDEO_EXTENSIONS
from actionbias.data.records import Manifest
from actionbias.errors import BadInputError

_READERS = {
    "kinetics": read_kinetics_csv,
    "mimetics": read_mimetics_csv,
    "slowfast": read_slowfast_list,
    "rawframes": read_rawframe_list,
    "hat": read_hat,
}
_ALIASES = {
    "kinetics400": "kinetics",
    "k400": "kinetics",
    "kinetics-csv": "kinetics",
    "csv": "kinetics",
    "videos": "slowfast",
    "video-list": "slowfast",
    "pyslowfast": "slowfast",
    "rawframe": "rawframes",
    "mmaction-rawframes": "rawframes",
}
FORMATS = tuple(_READERS)


def load_manifest(path: str | Path, format: str = "auto", **kwargs: Any) -> Manifest:
    """Read any supported clip list into a Manifest.

    `format` is one of "kinetics", "mimetics", "slowfast", "rawframes", "hat"
    or "auto", which decides from the path: a folder with `ori/` is HAT; a CSV
    with a `youtube_id` column is Kinetics (Mimetics when the file name says
    so); a text list whose lines end in two integers is a rawframe list,
    otherwise a `path label` video list. Keyword arguments go to the reader
    (`classes`, `strict`, ...). The media root may be given as `root` or
    `video_root` whatever the format, so callers need not know which name a
    reader uses; a HAT root is `path` itself.
    """
    path = Path(path)
    name = format.casefold()
    name = _ALIASES.get(name, name)
    if name == "auto":
        name = detect_format(path)
    if name not in _READERS:
        raise BadInputError(
            f"unknown manifest format {format!r} (choose from auto, {', '.join(FORMATS)})"
        )
    return _READERS[name](path, **_media_root_kwargs(name, path, kwargs))


def _media_root_kwargs(name: str, path: Path, kwargs: dict[str, Any]) -> dict[str, Any]:
    kwargs = dict(kwargs)
    roots = [kwargs.pop(key) for key in ("root", "video_root") if key in kwargs]
    roots = [r for r in roots if r is not None]
    if len(roots) == 2 and Path(roots[0]) != Path(roots[1]):
        raise BadInputError("root and video_root disagree; give one of them")
    if not roots:
        return kwargs
    if name in ("kinetics", "mimetics"):
        kwargs["video_root"] = roots[0]
    elif name in ("slowfast", "rawframes"):
        kwargs["root"] = roots[0]
    elif os.path.abspath(roots[0]) != os.path.abspath(path):
        raise BadInputError(
            f"a HAT manifest is read from its root folder; got a separate media root {roots[0]}",
            source=path,
        )
    return kwargs


def detect_format(path: str | Path) -> str:
    """The `load_manifest` format name for `path` (BadInputError when none fits)."""
    path = Path(path)
    if path.is_dir():
        if (path / "ori").is_dir():
            return "hat"
        raise BadInputError("folder has no ori/ subfolder, so it is not a HAT root", source=path)
    suffix = path.suffix.lower()
    if suffix == ".json":
        raise BadInputError(
            "a JSON file holds temporal annotations: use read_activitynet_json", source=path
        )
    if suffix in (".pickle", ".pkl"):
        raise BadInputError("a pickle holds Action-Swap pairs: use read_hat_pairs", source=path)
    first = next(iter_lines(path), None)
    if first is None:
        raise BadInputError("empty file", source=path)
    line = first[1]
    if suffix == ".csv" or ("," in line and " " not in line.split(",")[0]):
        header = [cell.strip() for cell in next(csv.reader([line]))]
        if "youtube_id" in header:
            return "mimetics" if "mimetics" in path.name.casefold() else "kinetics"
        if "human_clip" in header:
            raise BadInputError("a swap-pair CSV: use read_swap_csv", source=path)
        if len(header) == 2:
            return "slowfast"
        raise BadInputError(
            f"CSV with columns {', '.join(header)} is not a known clip list", source=path
        )
    tokens = line.split()
    if len(tokens) >= 3 and all(t.isdigit() for t in tokens[-2:]):
        path_part = " ".join(tokens[:-2])
        if os.path.splitext(path_part)[1].lower() not in VIDEO_EXTENSIONS:
            return "rawframes"
    if len(tokens) >= 2:
        return "slowfast"
    raise BadInputError(f"cannot tell the list format from {line!r}", source=path)
