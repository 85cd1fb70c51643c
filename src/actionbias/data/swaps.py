"""Action-Swap pairs: which person clip is pasted onto which background clip.

Two on-disk forms:

* HAT's pair pickles (`actionswap_{rand,same,close,far}_{1,2,3}.pickle`): a dict
  `"<class>/<clip>" -> [background_clip, background_frame_count,
  background_class_index]`. The HAT README calls the value
  `[background_video_name, background_video_frame_number,
  background_video_class_index]`, and its loader opens the background as
  `os.path.join(background_rgb_prefix, background_clip)` with the prefix being
  the `inp/` root -- so `background_clip` is itself "<class>/<clip>". Class
  indices are alphabetical Kinetics-400 indices. We also accept a bare clip name
  and then take its class from the index.
* A plain CSV `human_clip,human_label,background_clip,background_label[,has_person]`
  for swap sets built by other tools (our synthetic benchmark, Places365 pastes).

Pickles are loaded with an unpickler that only admits plain containers and
numpy scalars, so a pair file cannot run code.
"""

from __future__ import annotations

import io
import pickle
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from actionbias.data._io import atomic_write_bytes, atomic_write_text, csv_text, iter_csv
from actionbias.data.class_names import ClassLookup, kinetics400_classes, resolve_classes
from actionbias.data.hat import locate_clip
from actionbias.data.media import count_frames
from actionbias.errors import BadInputError

SWAP_COLUMNS = ("human_clip", "human_label", "background_clip", "background_label")


@dataclass
class SwapPair:
    """A person clip of class `human_label` composed onto `background_clip`'s scene.

    Clip references are the dataset's keys ("class/clip" for HAT). For HAT
    pairs `extras` carries `background_frames`, `human_label_id`,
    `background_label_id` and, given a HAT root, the `human_dir`,
    `human_seg_dir`, `background_dir` (inpainted) and `background_seg_dir`
    folders needed to compose the swap video.
    """

    human_clip: str
    human_label: str
    background_clip: str
    background_label: str
    has_person: bool | None = None
    extras: dict[str, Any] = field(default_factory=dict)


class _PlainUnpickler(pickle.Unpickler):
    """Admit only what a pair file legitimately holds: containers, str, numbers."""

    _ALLOWED = {
        ("builtins", name)
        for name in ("dict", "list", "tuple", "set", "frozenset", "int", "float", "str")
    } | {
        ("numpy", "dtype"),
        ("_codecs", "encode"),  # how protocol-2 pickles spell bytes (numpy scalar payloads)
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
    }

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in self._ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a pair file")


def _load_pickle(path: Path) -> Any:
    try:
        data = path.read_bytes()
    except OSError as err:
        raise BadInputError(f"cannot read: {err.strerror}", source=path) from err
    try:
        return _PlainUnpickler(io.BytesIO(data)).load()
    except Exception as err:  # any unpickling failure is a bad file, whatever its type
        raise BadInputError(f"not a readable pair pickle: {err}", source=path) from err


def read_hat_pairs(
    pickle_path: str | Path,
    hat_root: str | Path | None = None,
    classes: Sequence[str] | str | Path | None = None,
) -> list[SwapPair]:
    """Read a HAT Action-Swap pickle into pairs, in the file's order.

    `classes` is the list the background indices refer to (default: the 400
    Kinetics classes). A background class index that disagrees with the class
    folder of `background_clip`, an unknown class folder, or a malformed entry
    raises BadInputError naming the file and the entry's key.
    """
    path = Path(pickle_path)
    class_list = resolve_classes(classes, near=path, default=kinetics400_classes())
    assert class_list is not None
    lookup = ClassLookup(class_list)
    mapping = _load_pickle(path)
    if not isinstance(mapping, dict):
        raise BadInputError(
            "expected a dict of 'class/clip' -> [clip, frames, class], "
            f"got {type(mapping).__name__}",
            source=path,
        )
    pairs = []
    for key, value in mapping.items():
        where = f"key {key!r}"
        if not isinstance(key, str):
            raise BadInputError("key is not a 'class/clip' string", source=path, where=where)
        if not isinstance(value, (list, tuple)) or len(value) != 3:
            raise BadInputError(
                "value must be [background_clip, frame_count, class_index]",
                source=path,
                where=where,
            )
        background_clip, frames, bg_index = value
        if not isinstance(background_clip, str):
            raise BadInputError("background clip is not a string", source=path, where=where)
        try:
            frames, bg_index = int(frames), int(bg_index)
        except (TypeError, ValueError):
            raise BadInputError(
                "frame count and class index must be integers", source=path, where=where
            ) from None
        if not 0 <= bg_index < len(class_list):
            raise BadInputError(
                f"background class index {bg_index} out of range for {len(class_list)} classes",
                source=path,
                where=where,
            )
        background_label = class_list[bg_index]
        if "/" in background_clip:
            folder_id = lookup.index(background_clip.split("/")[0], source=path, where=where)
            if folder_id != bg_index:
                raise BadInputError(
                    f"background {background_clip!r} is in class folder "
                    f"{class_list[folder_id]!r} but its index {bg_index} is "
                    f"{background_label!r} (wrong class list?)",
                    source=path,
                    where=where,
                )
        human_folder = _class_folder(key, hat_root)
        if human_folder is None:
            raise BadInputError(
                "key has no class folder ('class/clip'); pass hat_root to look it up",
                source=path,
                where=where,
            )
        human_id = lookup.index(human_folder, source=path, where=where)
        extras: dict[str, Any] = {
            "background_frames": frames,
            "human_label_id": human_id,
            "background_label_id": bg_index,
        }
        if hat_root is not None:
            extras["human_dir"] = locate_clip(hat_root, "ori", key)
            extras["human_seg_dir"] = locate_clip(hat_root, "seg", key)
            extras["background_dir"] = locate_clip(hat_root, "inp", background_clip)
            extras["background_seg_dir"] = locate_clip(hat_root, "seg", background_clip)
        pairs.append(
            SwapPair(
                human_clip=key,
                human_label=class_list[human_id],
                background_clip=background_clip,
                background_label=background_label,
                extras=extras,
            )
        )
    return pairs


def _class_folder(key: str, hat_root: str | Path | None) -> str | None:
    if "/" in key:
        return key.split("/")[0]
    if hat_root is not None:
        found = Path(locate_clip(hat_root, "ori", key))
        if found.exists():
            return found.parent.name
    return None


def write_hat_pairs(
    pairs: Sequence[SwapPair],
    pickle_path: str | Path,
    classes: Sequence[str] | None = None,
    hat_root: str | Path | None = None,
) -> None:
    """Write pairs as a HAT Action-Swap pickle that HAT's own loader can use.

    The background frame count comes from `extras["background_frames"]`, else
    from counting `hat_root/inp/<background_clip>`; class indices index
    `classes` (default: Kinetics-400).
    """
    class_list = list(classes) if classes is not None else kinetics400_classes()
    lookup = ClassLookup(class_list)
    path = Path(pickle_path)
    mapping: dict[str, list[Any]] = {}
    for number, pair in enumerate(pairs):
        where = f"pair {number} ({pair.human_clip!r})"
        if pair.human_clip in mapping:
            raise BadInputError("human clip appears in two pairs", source=path, where=where)
        frames = pair.extras.get("background_frames")
        if frames is None and hat_root is not None:
            frames = count_frames(locate_clip(hat_root, "inp", pair.background_clip)) or None
        if frames is None:
            raise BadInputError(
                "unknown background frame count (no extras['background_frames'] and "
                "no frames found under hat_root/inp)",
                source=path,
                where=where,
            )
        bg_index = lookup.index(pair.background_label, source=path, where=where)
        mapping[pair.human_clip] = [pair.background_clip, int(frames), bg_index]
    atomic_write_bytes(path, pickle.dumps(mapping, protocol=4))


_TRUE = {"1", "true", "yes", "y", "t"}
_FALSE = {"0", "false", "no", "n", "f"}


def read_swap_csv(
    path: str | Path, classes: Sequence[str] | str | Path | None = None
) -> list[SwapPair]:
    """Read `human_clip,human_label,background_clip,background_label[,has_person]`.

    Labels are kept as written unless a class list is known (`classes`, or a
    `classes.txt` beside the file); then they are checked against it and given
    its spelling. `has_person` accepts 1/0, true/false, yes/no or empty (None).
    Other columns are kept as strings in `extras`.
    """
    path = Path(path)
    class_list = resolve_classes(classes, near=path)
    lookup = ClassLookup(class_list) if class_list is not None else None
    header, rows = iter_csv(path, SWAP_COLUMNS)
    extra_columns = [c for c in header if c not in SWAP_COLUMNS and c != "has_person"]
    pairs = []
    for line, row in rows:
        where = f"line {line}"
        for column in SWAP_COLUMNS:
            if not row[column]:
                raise BadInputError(f"empty {column}", source=path, where=where)
        labels = [row["human_label"], row["background_label"]]
        if lookup is not None:
            labels = [lookup.classes[lookup.index(x, source=path, where=where)] for x in labels]
        has_person = None
        if "has_person" in header and row["has_person"]:
            flag = row["has_person"].casefold()
            if flag not in _TRUE | _FALSE:
                raise BadInputError(
                    f"has_person {row['has_person']!r} is not a yes/no value",
                    source=path,
                    where=where,
                )
            has_person = flag in _TRUE
        pairs.append(
            SwapPair(
                human_clip=row["human_clip"],
                human_label=labels[0],
                background_clip=row["background_clip"],
                background_label=labels[1],
                has_person=has_person,
                extras={c: row[c] for c in extra_columns},
            )
        )
    return pairs


def write_swap_csv(pairs: Sequence[SwapPair], path: str | Path) -> None:
    """Write pairs as the swap CSV; `has_person` (1/0/empty) is written when any pair
    has it, and `extras` keys every pair has become extra columns."""
    header = list(SWAP_COLUMNS)
    with_person = any(p.has_person is not None for p in pairs)
    if with_person:
        header.append("has_person")
    extra_columns = (
        [k for k in pairs[0].extras if all(k in p.extras for p in pairs)] if pairs else []
    )
    header += extra_columns
    rows = []
    for pair in pairs:
        row: list[object] = [getattr(pair, column) for column in SWAP_COLUMNS]
        if with_person:
            row.append("" if pair.has_person is None else int(pair.has_person))
        row += [pair.extras[k] for k in extra_columns]
        rows.append(row)
    atomic_write_text(path, csv_text(header, rows))
