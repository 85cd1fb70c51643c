"""Finding a dataset's clips on disk, whichever folder layout the download produced.

Kinetics-style clips named `{youtube_id}_{start:06d}_{end:06d}.mp4` are found in
practice under several layouts: class folders spelled with spaces (the official
downloader), with underscores (MMAction2's `rename_classnames.sh`), a split
folder above the class folders, or flat `split/{clip}.mp4` (the CVDF mirror).
Instead of guessing paths per record (several stat calls per clip, slow on
network file systems), `MediaIndex` walks the tree once, a few levels deep, and
answers by clip name.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

from actionbias.data.class_names import class_key
from actionbias.errors import BadInputError

log = logging.getLogger(__name__)

VIDEO_EXTENSIONS = (".mp4", ".webm", ".mkv", ".avi", ".mov", ".m4v", ".mpg", ".mpeg")
FRAME_EXTENSIONS = (".jpg", ".jpeg", ".png")
#: A Kinetics-style clip name: "<youtube id>_<start:06d>_<end:06d>".
CLIP_NAME = re.compile(r"^(?P<ytid>.+)_(?P<start>\d{6})_(?P<end>\d{6})$")


class MediaIndex:
    """Clip name -> path(s) for every video file or clip frame-folder under `root`.

    Video files are indexed by file stem at any depth up to `max_depth`
    (root/split/class/file is depth 3). Folders named like a Kinetics clip are
    indexed as frame folders and not entered; other folders are entered.
    """

    def __init__(self, root: str | Path, max_depth: int = 3):
        self.root = os.path.abspath(root)
        if not os.path.isdir(self.root):
            raise BadInputError("video root is not a directory", source=self.root)
        self._paths: dict[str, list[str]] = {}
        self._class_folders: dict[str, str] = {}  # class_key(folder name) -> folder path
        self._flat = 0
        self._nested = 0
        self._walk(self.root, 1, max_depth)

    def _walk(self, folder: str, depth: int, max_depth: int) -> None:
        try:
            entries = list(os.scandir(folder))
        except OSError as err:
            log.warning("cannot list %s: %s", folder, err.strerror)
            return
        for entry in entries:
            if entry.name.startswith("."):
                continue
            stem, ext = os.path.splitext(entry.name)
            if entry.is_dir():
                if CLIP_NAME.match(entry.name):
                    self._add(entry.name, entry.path, depth)
                elif depth < max_depth:
                    self._walk(entry.path, depth + 1, max_depth)
            elif ext.lower() in VIDEO_EXTENSIONS:
                self._add(stem, entry.path, depth)

    def _add(self, name: str, path: str, depth: int) -> None:
        self._paths.setdefault(name, []).append(path)
        if depth == 1:
            self._flat += 1
        else:
            self._nested += 1
            folder = os.path.dirname(path)
            self._class_folders.setdefault(class_key(os.path.basename(folder)), folder)

    def __len__(self) -> int:
        return len(self._paths)

    def find(self, name: str, label: str | None = None, split: str | None = None) -> str | None:
        """Path of clip `name`, or None.

        When the same clip name exists in several folders, the one whose parent
        folder is the label (any spelling), then one under the split folder, wins;
        otherwise the first in sorted order, so the answer is deterministic.
        """
        paths = self._paths.get(name)
        if not paths:
            return None
        if len(paths) == 1:
            return paths[0]
        paths = sorted(paths)
        if label is not None:
            key = class_key(label)
            for path in paths:
                if class_key(os.path.basename(os.path.dirname(path))) == key:
                    return path
        if split is not None:
            for path in paths:
                if split in Path(os.path.relpath(path, self.root)).parts[:-1]:
                    return path
        return paths[0]

    def expected_path(self, name: str, label: str | None, ext: str = ".mp4") -> str:
        """Where a missing clip would be, following the layout the found clips use.

        Only used to say which file is missing; the same class folder as found
        clips of that label (whatever its spelling), else `root/label/`, or `root/`
        when most found clips lie there flat.
        """
        if label is None or self._flat > self._nested:
            return os.path.join(self.root, name + ext)
        folder = self._class_folders.get(class_key(label), os.path.join(self.root, label))
        return os.path.join(folder, name + ext)


def count_frames(folder: str | Path) -> int:
    """Number of image files (jpg/jpeg/png) directly inside `folder` (0 if absent)."""
    try:
        with os.scandir(folder) as entries:
            return sum(
                1
                for e in entries
                if e.is_file() and os.path.splitext(e.name)[1].lower() in FRAME_EXTENSIONS
            )
    except OSError:
        return 0


def report_missing(
    missing: list[tuple[str, str]], total: int, source: str | Path, strict: bool
) -> None:
    """Log (or, with `strict`, raise on) records whose media was not found.

    `missing` holds (where in the annotation file, expected media path). One
    warning summarises them all, so that reading annotations without their
    videos stays quiet enough to read.
    """
    if not missing:
        return
    where, path = missing[0]
    if strict:
        raise BadInputError(
            f"media not found: {path} ({len(missing)} of {total} records have no media)",
            source=source,
            where=where,
        )
    log.warning(
        "%s: %d of %d records have no media (first, %s: %s)",
        source,
        len(missing),
        total,
        where,
        path,
    )
