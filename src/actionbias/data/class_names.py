"""Class-name lists and the one spelling rule every reader shares.

Datasets spell the same Kinetics class three ways: the official CSVs use spaces
and parentheses ("skiing (not slalom or crosscountry)"), MMAction2's renamed
folders use underscores ("skiing_(not_slalom_or_crosscountry)") and some
third-party label files drop the parentheses ("skiing not slalom or
crosscountry"). Readers accept all three and always hand out the spelling of the
class list in use, so that labels compare equal across formats.

The shipped lists (``classes/kinetics400.txt``, ``classes/mimetics50.txt``) are
the official Kinetics-400 names in alphabetical order -- that order is the
standard index order used by every public K400 checkpoint and by the HAT pair
files -- and the 50 Mimetics classes (Weinzaepfel & Rogez, IJCV 2021), which are
all Kinetics-400 names. No Kinetics-400 name contains a hyphen; ten contain
parentheses or an apostrophe, which is why normalisation never strips them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from importlib import resources
from pathlib import Path

from actionbias.data._io import atomic_write_text
from actionbias.errors import BadInputError

_SPACES = re.compile(r"\s+")
_LOOSE = re.compile(r"[\s_()]+")
#: Name of the class-list file readers look for beside an annotation file.
CLASS_LIST_FILENAME = "classes.txt"
_HEADERS = {"id,name", "id name", "index,name", "index name", "label,name"}


def _read_packaged(name: str) -> tuple[str, ...]:
    text = resources.files("actionbias.data").joinpath("classes", name).read_text("utf-8")
    return tuple(line.strip() for line in text.splitlines() if line.strip())


@lru_cache(maxsize=1)
def _k400() -> tuple[str, ...]:
    return _read_packaged("kinetics400.txt")


@lru_cache(maxsize=1)
def _mimetics() -> tuple[str, ...]:
    return _read_packaged("mimetics50.txt")


@lru_cache(maxsize=1)
def kinetics400_lookup() -> ClassLookup:
    """A shared lookup over the Kinetics-400 list (building one costs ~0.2 ms)."""
    return ClassLookup(_k400())


def kinetics400_classes() -> list[str]:
    """The 400 official Kinetics-400 class names; list position = class index."""
    return list(_k400())


def mimetics_classes() -> list[str]:
    """The 50 Mimetics classes (Kinetics-400 spelling), alphabetical."""
    return list(_mimetics())


def class_key(name: str) -> str:
    """A lenient comparison key: case, underscores, spacing and parentheses ignored.

    Used only to match a user's spelling against a known class list, never as a
    label itself.
    """
    return _LOOSE.sub(" ", name).strip().casefold()


def normalize_class_name(name: str, classes: Sequence[str] | None = None) -> str:
    """Canonical spelling of a class name.

    Underscores become spaces and runs of whitespace collapse to one space;
    parentheses, apostrophes and hyphens are kept. When the result matches a
    name in `classes` (default: Kinetics-400) leniently -- ignoring case and
    parentheses, so "passing_american_football_(in_game)" and "passing American
    football in game" both match -- that list's exact spelling is returned, so
    callers get one spelling whichever dataset the name came from.
    """
    spaced = _SPACES.sub(" ", name.replace("_", " ")).strip()
    lookup = kinetics400_lookup() if classes is None else ClassLookup(classes)
    index = lookup.find(spaced)
    return lookup.classes[index] if index is not None else spaced


class ClassLookup:
    """Name -> index for one class list, exact spelling first, then lenient.

    A lenient key shared by two classes of the list is dropped (only their exact
    spellings then match), so leniency can never pick the wrong class.
    """

    def __init__(self, classes: Iterable[str]):
        self.classes: list[str] = list(classes)
        self._exact: dict[str, int] = {}
        loose: dict[str, int | None] = {}
        for index, name in enumerate(self.classes):
            if name in self._exact:
                raise BadInputError(f"class list has {name!r} twice")
            self._exact[name] = index
            key = class_key(name)
            loose[key] = None if key in loose else index
        self._loose = {k: v for k, v in loose.items() if v is not None}

    def __len__(self) -> int:
        return len(self.classes)

    def find(self, name: str) -> int | None:
        """Index of `name`, or None when it names no class of the list."""
        index = self._exact.get(name)
        if index is None:
            index = self._exact.get(_SPACES.sub(" ", name.replace("_", " ")).strip())
        if index is None:
            index = self._loose.get(class_key(name))
        return index

    def index(self, name: str, source: str | Path | None = None, where: str | None = None) -> int:
        """Index of `name`; BadInputError naming `source`/`where` when unknown."""
        index = self.find(name)
        if index is None:
            raise BadInputError(
                f"unknown class {name!r} (not in the {len(self.classes)}-class list in use)",
                source=source,
                where=where,
            )
        return index


def read_class_list(path: str | Path) -> list[str]:
    """A class list from a text file, one name per line (blank lines ignored).

    A line may also be "index name" or "index,name" as in many label-map files;
    the names must then be listed in index order 0..N-1.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as err:
        raise BadInputError(f"cannot read class list: {err.strerror}", source=path) from err
    names: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or (not names and line.casefold() in _HEADERS):
            continue
        head, sep, rest = line.replace(",", " ", 1).partition(" ")
        if sep and head.isdigit():
            if int(head) != len(names):
                raise BadInputError(
                    f"class index {head} out of order (expected {len(names)})",
                    source=path,
                    where=f"line {number}",
                )
            line = rest.strip()
        names.append(line)
    if not names:
        raise BadInputError("class list is empty", source=path)
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise BadInputError(f"class {dup!r} is listed twice", source=path)
    return names


def write_class_list(classes: Sequence[str], path: str | Path) -> None:
    """Write one class name per line (the format `read_class_list` reads)."""
    atomic_write_text(path, "".join(f"{name}\n" for name in classes))


def resolve_classes(
    classes: Sequence[str] | str | Path | None,
    near: str | Path | None = None,
    default: Sequence[str] | None = None,
) -> list[str] | None:
    """The class list a reader should use.

    `classes` may be a list of names or the path of a class-list file. When it
    is None, a `classes.txt` beside the annotation file `near` is used if there
    is one (SynthAct and our writers put it there), else `default`.
    """
    if isinstance(classes, (str, Path)):
        return read_class_list(classes)
    if classes is not None:
        return list(classes)
    if near is not None:
        sidecar = Path(near).parent / CLASS_LIST_FILENAME
        if sidecar.is_file():
            return read_class_list(sidecar)
    return list(default) if default is not None else None
