"""The workflows behind ``actionbias segment | inpaint | swap`` (and the scene-swap dataset).

Each function takes already-loaded records (a ``Manifest`` or any list of
``VideoRecord``), writes under ``out_dir``, is resumable (finished outputs are
skipped: every output is written atomically, so existing = complete), processes
only its shard ``(i, n)``, and counts what it skipped or could not read instead of
stopping. The command line only parses arguments and calls them.

Data flow::

    run_segment   records -> masks cache           out/<backend>/<stem>-<hash>.npz
    run_inpaint   records -> HAT layout            out/{ori,seg,inp}/<class>/<clip>/000001.*
    run_swap      HAT layout + pairs -> swaps      out/videos/<human class>/<A>__on__<B>.mp4
                                                    out/swap_pairs.csv
    run_scene_swap records + scene images          out/videos/<class>/<clip>.mp4, out/list.txt

``run_inpaint`` writes the same layout HAT distributes and SynthAct writes, so
``run_swap`` composes swaps identically from HAT's downloads, SynthAct's exact
renders or our own masks + OpenCV inpainting. Seg PNGs are written through
``actionbias.video.write_frame_folder`` as 3-channel grey images (identical
channels); HAT's 1-channel PNGs and ours read the same through `load_hat_masks`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from actionbias.errors import BadInputError
from actionbias.fileio import atomic_write_json
from actionbias.progress import progress_bar
from actionbias.segment.backend import PersonSegmenter, build_segmenter
from actionbias.segment.cache import (
    CachedMasks,
    MaskCache,
    SegmentStats,
    segment_videos,
    shard_items,
)
from actionbias.segment.composite import background_only, load_hat_masks
from actionbias.segment.masks import DEFAULT_MIN_PERSON_AREA, binarize, human_coverage
from actionbias.segment.pairs import (
    HAT_COVERAGE_RANGE,
    PairMode,
    filter_by_coverage,
    load_swap_pairs,
    sample_swap_pairs,
)
from actionbias.segment.scene_aug import Background, list_scene_images, write_scene_swap_videos
from actionbias.segment.swap import alpha_swap, hat_swap

log = logging.getLogger(__name__)

__all__ = [
    "RunStats",
    "hat_key",
    "run_inpaint",
    "run_scene_swap",
    "run_segment",
    "run_swap",
]


@dataclass
class RunStats:
    """Counts of one construction run (inpaint, swap, scene swap) over a shard."""

    items: int = 0
    written: int = 0
    existing: int = 0  # already complete from an earlier run (resume)
    failed: int = 0
    filtered: int = 0  # swap pairs outside the coverage range
    without_person: int = 0  # outputs whose human mask is empty on every frame
    failures: list[tuple[str, str]] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        data = {k: v for k, v in self.__dict__.items() if k not in ("failures", "outputs")}
        data["failures"] = [{"item": i, "reason": r} for i, r in self.failures]
        return data


def _shard_suffix(shard: tuple[int, int]) -> str:
    return "" if shard[1] == 1 else f".shard{shard[0]}of{shard[1]}"


@contextmanager
def _progress(total: int, description: str, enabled: bool) -> Iterator[Callable[..., None]]:
    """One bar's ``advance(*_)``, shaped to be `segment_videos`' per-video callback."""
    with progress_bar(enabled and total > 0) as display:
        task = display.task(description, total)
        yield lambda *_: task.advance()


@contextmanager
def _item(
    stats: RunStats,
    name: str,
    advance: Callable[..., None],
    errors: tuple[type[Exception], ...] = (BadInputError,),
    noun: str = "",
) -> Iterator[None]:
    """One item of a run: a bad one is logged, counted and skipped; the bar moves on."""
    try:
        yield
    except errors as err:
        log.warning("skipping %s%s: %s", noun, name, err)
        stats.failed += 1
        stats.failures.append((name, str(err)))
    advance()


def hat_key(record: Any) -> str:
    """The ``<class>/<clip>`` folder key of a record in the HAT layout."""
    extras = getattr(record, "extras", {}) or {}
    if extras.get("hat_key"):
        return str(extras["hat_key"])
    if "/" in record.id:
        return str(record.id)
    label = record.label or "unlabelled"
    return f"{label}/{record.id}"


def _clip_with_masks(
    record: Any, segmenter: PersonSegmenter, cache: MaskCache
) -> tuple[np.ndarray, float, CachedMasks]:
    """A record's frames, fps and person masks (cached; computed and cached when missing)."""
    from actionbias.video import read_all_frames

    clip = read_all_frames(record.path, start=record.start, end=record.end)
    frames, indices = clip.frames, np.asarray(clip.indices, dtype=np.int64)
    window = {"start": record.start, "end": record.end}
    options = segmenter.options()
    entry = cache.load(record.path, segmenter.name, options, **window)
    if entry is None or entry.num_frames != len(frames):
        masks = segmenter.segment(frames, indices=indices, record=record)
        entry = cache.save(record.path, segmenter.name, options, masks, indices, **window)
    return frames, float(clip.fps), entry


def run_segment(
    records: Sequence[Any],
    out_dir: str | Path,
    backend: str = "mediapipe",
    shard: tuple[int, int] = (0, 1),
    min_area: float = DEFAULT_MIN_PERSON_AREA,
    progress: bool = True,
    **backend_options: Any,
) -> SegmentStats:
    """Masks for every video of the shard into the cache at ``out_dir``.

    Writes ``out_dir/segment-summary[.shardIofN].json`` with the counts (videos,
    computed, reused, failed, frames and videos without a person).
    """
    out = Path(out_dir)
    cache = MaskCache(out, min_area=min_area)
    mine = shard_items(list(records), *shard)
    with (
        build_segmenter(backend, **backend_options) as segmenter,
        _progress(len(mine), f"segment ({backend})", progress) as advance,
    ):
        stats = segment_videos(mine, segmenter, cache, progress=advance)
        summary = {"backend": backend, "options": segmenter.options(), **stats.to_json()}
    summary["shard"] = list(shard)
    atomic_write_json(out / f"segment-summary{_shard_suffix(shard)}.json", summary, sort_keys=True)
    return stats


def run_inpaint(
    records: Sequence[Any],
    out_dir: str | Path,
    masks_dir: str | Path | None = None,
    backend: str = "mediapipe",
    backend_options: dict[str, Any] | None = None,
    method: Literal["telea", "ns"] = "telea",
    shard: tuple[int, int] = (0, 1),
    ext: str = "jpg",
    progress: bool = True,
) -> RunStats:
    """Write HAT's ``ori/``, ``seg/`` and ``inp/`` (OpenCV-inpainted) for every record.

    Masks come from the cache in ``masks_dir`` (default ``out_dir/masks``), computed
    with ``backend`` where missing. A clip whose ``inp/`` folder exists is complete
    (written last, atomically) and skipped. When ``records`` is a ``Manifest`` its
    class list is written to ``out_dir/classes.txt``, where HAT-layout readers find it.
    """
    from actionbias.data import write_class_list
    from actionbias.video import write_frame_folder

    out = Path(out_dir)
    classes = getattr(records, "classes", None)
    if classes and not (out / "classes.txt").is_file():
        # HAT's layout has no class list; readers pick this one up beside the root.
        write_class_list(list(classes), out / "classes.txt")
    cache = MaskCache(masks_dir if masks_dir is not None else out / "masks")
    mine = shard_items(list(records), *shard)
    stats = RunStats(items=len(mine))
    with (
        build_segmenter(backend, **(backend_options or {})) as segmenter,
        _progress(len(mine), "inpaint", progress) as advance,
    ):
        for record in mine:
            key = hat_key(record)
            inp_dir = out / "inp" / key
            with _item(stats, str(record.path), advance):
                if inp_dir.is_dir():
                    stats.existing += 1
                else:
                    frames, _, entry = _clip_with_masks(record, segmenter, cache)
                    seg = np.repeat(entry.masks[..., None], 3, axis=3)
                    write_frame_folder(out / "ori" / key, frames, ext=ext, overwrite=True)
                    write_frame_folder(out / "seg" / key, seg, ext="png", overwrite=True)
                    inpainted = background_only(frames, entry.masks, method=method)
                    write_frame_folder(inp_dir, inpainted, ext=ext)
                    stats.written += 1
                    stats.without_person += int(not entry.has_person.any())
                stats.outputs.append(key)
    atomic_write_json(
        out / f"inpaint-summary{_shard_suffix(shard)}.json", stats.to_json(), sort_keys=True
    )
    return stats


_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _swap_name(pair: Any) -> str:
    a = _SAFE.sub("_", pair.human_clip.split("/")[-1])
    b = _SAFE.sub("_", pair.background_clip.split("/")[-1])
    return f"{a}__on__{b}"


def _pair_dir(pair: Any, hat_root: Path, extras_key: str, sub: str, clip: str) -> Path:
    if pair.extras.get(extras_key):
        return Path(str(pair.extras[extras_key]))
    return hat_root / sub / clip


def run_swap(
    hat_root: str | Path,
    out_dir: str | Path,
    pairs: Sequence[Any] | str | Path | None = None,
    policy: str = "hat",
    mode: PairMode = "random",
    seed: int = 0,
    coverage: tuple[float, float] | None = HAT_COVERAGE_RANGE,
    canvas: Literal["background", "human"] = "background",
    fps: float = 30.0,
    shard: tuple[int, int] = (0, 1),
    classes: Sequence[str] | str | Path | None = None,
    progress: bool = True,
) -> RunStats:
    """Compose Action-Swap videos from a HAT-layout folder and write the pair CSV.

    ``pairs``: a list of ``SwapPair``, a pair file (HAT ``.pickle`` or swap ``.csv``),
    or None to sample them (``mode``, ``seed``) from the clips of ``hat_root``.
    ``coverage``: keep pairs whose human covers this fraction of the frame (HAT's
    5-50 %), None to keep all. Writes ``out_dir/videos/<human class>/<A>__on__<B>.mp4``
    and ``out_dir/swap_pairs[.shardIofN].csv`` (``has_person``, ``coverage`` and the
    ``video`` path relative to ``out_dir`` per pair).
    """
    from actionbias.data import read_hat, write_swap_csv
    from actionbias.video import read_all_frames, write_video

    if policy not in ("hat", "alpha"):
        raise BadInputError(f"swap policy must be 'hat' or 'alpha', got {policy!r}", where="policy")
    root, out = Path(hat_root), Path(out_dir)
    if pairs is None:
        pair_list = sample_swap_pairs(read_hat(root, classes=classes).records, mode, seed)
    elif isinstance(pairs, (str, Path)):
        pair_list = load_swap_pairs(pairs, classes=classes, hat_root=root)
    else:
        pair_list = list(pairs)
    mine = shard_items(pair_list, *shard)
    stats = RunStats(items=len(mine))
    written_pairs = []
    with _progress(len(mine), f"swap ({policy})", progress) as advance:
        for pair in mine:
            name = f"{pair.human_clip} -> {pair.background_clip}"
            with _item(stats, name, advance, (BadInputError, ValueError), noun="pair "):
                seg_a = _pair_dir(pair, root, "human_seg_dir", "seg", pair.human_clip)
                human_masks = load_hat_masks(seg_a)
                value = human_coverage(human_masks)
                if coverage is not None:
                    kept, _ = filter_by_coverage([pair], {pair.human_clip: value}, *coverage)
                    if not kept:
                        stats.filtered += 1
                        continue
                pair.extras["coverage"] = round(value, 6)
                relative = (
                    Path("videos") / _SAFE.sub("_", pair.human_label) / (_swap_name(pair) + ".mp4")
                )
                target = out / relative
                if target.is_file():
                    stats.existing += 1
                    pair.has_person = bool(binarize(human_masks).any())
                else:
                    ori_a = _pair_dir(pair, root, "human_dir", "ori", pair.human_clip)
                    inp_b = _pair_dir(pair, root, "background_dir", "inp", pair.background_clip)
                    human = read_all_frames(ori_a).frames
                    background = read_all_frames(inp_b).frames
                    if policy == "hat":
                        seg_b = _pair_dir(
                            pair, root, "background_seg_dir", "seg", pair.background_clip
                        )
                        result = hat_swap(
                            human,
                            human_masks,
                            background,
                            load_hat_masks(seg_b),
                            canvas=canvas,
                        )
                    else:
                        result = alpha_swap(human, human_masks, background)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    write_video(target, result.frames, fps=fps)
                    pair.has_person = result.has_person
                    stats.written += 1
                pair.extras["video"] = relative.as_posix()
                stats.without_person += int(not pair.has_person)
                stats.outputs.append(relative.as_posix())
                written_pairs.append(pair)
    suffix = _shard_suffix(shard)
    write_swap_csv(written_pairs, out / f"swap_pairs{suffix}.csv")
    atomic_write_json(
        out / f"swap-summary{suffix}.json", {"policy": policy, **stats.to_json()}, sort_keys=True
    )
    return stats


def run_scene_swap(
    records: Sequence[Any],
    out_dir: str | Path,
    backgrounds: Sequence[Background] | str | Path,
    masks_dir: str | Path | None = None,
    backend: str = "mediapipe",
    backend_options: dict[str, Any] | None = None,
    seed: int = 0,
    shard: tuple[int, int] = (0, 1),
    progress: bool = True,
) -> RunStats:
    """Materialise the scene-swap training set (paper A.4): one augmented copy per clip.

    Videos go to ``out_dir/videos/<class>/<clip>.mp4`` at the source frame rate; the
    background of a clip depends only on ``(seed, clip key)``. A PySlowFast list of
    the shard's videos (``path label_id``) is written to ``out_dir/list[.shardIofN].txt``
    when the records carry label ids; ``backgrounds.json`` maps each clip to its image.
    """
    from actionbias.data import Manifest, VideoRecord, write_slowfast_list

    out = Path(out_dir)
    if isinstance(backgrounds, (str, Path)):
        backgrounds = list_scene_images(backgrounds)
    scenes = list(backgrounds)
    cache = MaskCache(masks_dir if masks_dir is not None else out / "masks")
    mine = shard_items(list(records), *shard)
    stats = RunStats(items=len(mine))
    done: list[Any] = []
    chosen: dict[str, str] = {}
    with (
        build_segmenter(backend, **(backend_options or {})) as segmenter,
        _progress(len(mine), "scene swap", progress) as advance,
    ):
        for record in mine:
            key = hat_key(record)
            target = out / "videos" / f"{key}.mp4"
            with _item(stats, str(record.path), advance):
                if target.is_file():
                    stats.existing += 1
                else:
                    frames, fps, entry = _clip_with_masks(record, segmenter, cache)
                    [(_, _, index)] = write_scene_swap_videos(
                        [(key, frames, entry.masks)], scenes, out / "videos", seed, fps
                    )
                    scene = scenes[index]
                    chosen[key] = f"array {index}" if isinstance(scene, np.ndarray) else str(scene)
                    stats.written += 1
                    stats.without_person += int(not entry.has_person.any())
                done.append(
                    VideoRecord(
                        id=key,
                        path=str(target),
                        label=record.label,
                        label_id=record.label_id,
                        split=record.split,
                    )
                )
                stats.outputs.append(str(target))
    suffix = _shard_suffix(shard)
    if done and all(r.label_id is not None for r in done):
        write_slowfast_list(Manifest(done, classes=_classes_of(records)), out / f"list{suffix}.txt")
    atomic_write_json(
        out / f"scene-swap-summary{suffix}.json",
        {**stats.to_json(), "chosen": chosen},
        sort_keys=True,
    )
    return stats


def _classes_of(records: Sequence[Any]) -> list[str]:
    classes = getattr(records, "classes", None)
    if classes:
        return list(classes)
    by_id = {r.label_id: r.label for r in records if r.label_id is not None}
    return [by_id.get(i, f"class {i}") for i in range(max(by_id, default=-1) + 1)]
