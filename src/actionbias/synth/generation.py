"""`generate`: render every planned clip and write SynthAct in the real formats.

Clips are rendered and written by a process pool, one job per clip (untrimmed
videos first: they are the longest jobs, so they must not trail at the end).
Each job is a pure function of its spec, so the bytes do not depend on the
worker count or on completion order; annotation files are written afterwards
in plan order by the parent. `synthact.json` is written last and marks a
complete output: a rerun with the same preset, overrides and seed finds it and
returns without work; anything else clears the managed paths and regenerates.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

import actionbias
from actionbias.data import (
    Manifest,
    Segment,
    SwapPair,
    TemporalAnnotations,
    VideoAnnotation,
    VideoRecord,
    write_activitynet_json,
    write_hat_pairs,
    write_kinetics_csv,
    write_swap_csv,
)
from actionbias.errors import BadInputError
from actionbias.progress import progress_bar
from actionbias.synth.actions import ACTIONS, REVERSED_PAIRS
from actionbias.synth.body import PART_NAMES
from actionbias.synth.config import SPLITS, SynthConfig, resolve_config
from actionbias.synth.files import save_masks, write_json, write_text
from actionbias.synth.plan import (
    Plan,
    PlannedClip,
    PlannedVideo,
    class_object,
    make_plan,
    mimetic_scene_names,
    scene_sets,
)
from actionbias.synth.render import render_clip
from actionbias.synth.scenes import NEUTRAL_SCENES, PROP_NAMES, scene_elements
from actionbias.video import write_frame_folder, write_video

FORMAT_VERSION = "synthact-1"
#: Paths under the output folder that `generate` owns (and clears before regenerating).
MANAGED = (
    "annotations",
    "videos",
    "hat",
    "masks",
    "untrimmed",
    "classes.txt",
    "synthact.json",
    "generation.json",
)
VIDEO_PRESET = "medium"
#: x264 in its deterministic mode (`write_video(deterministic=True)`): one thread (its
#: bitstream otherwise depends on thread scheduling) and SSE code paths only (its AVX2
#: code made the same frames encode differently from run to run).


@dataclass(frozen=True)
class _Job:
    kind: str  # "clip" or "video"
    item: PlannedClip | PlannedVideo
    out: str
    crf: int
    hat: bool = False


def clip_video_path(out: Path, split: str, label: str, clip_name: str) -> Path:
    return out / "videos" / split / label / f"{clip_name}.mp4"


def hat_dir(out: Path, kind: str, label: str, clip_name: str) -> Path:
    return out / "hat" / kind / label / clip_name


def mask_path(out: Path, split: str, clip_name: str) -> Path:
    return out / "masks" / split / f"{clip_name}.npz"


def _write_seg(directory: Path, person: np.ndarray) -> None:
    """HAT seg folder: one single-channel 0/255 PNG per frame, numbered from 1."""
    directory.mkdir(parents=True, exist_ok=True)
    for t, mask in enumerate(person):
        name = directory / f"{t + 1:06d}.png"
        if not cv2.imwrite(str(name), mask.astype(np.uint8) * 255):
            raise OSError(f"{name}: OpenCV could not write the mask")


def _run_job(job: _Job) -> dict[str, Any]:
    out = Path(job.out)
    t0 = time.perf_counter()
    spec = job.item.spec
    clip = render_clip(spec)
    t1 = time.perf_counter()
    person = clip.person
    if job.kind == "clip":
        item = job.item
        assert isinstance(item, PlannedClip) and spec.label is not None
        write_video(
            clip_video_path(out, spec.split, spec.label, item.clip_name),
            clip.frames,
            fps=spec.fps,
            crf=job.crf,
            preset=VIDEO_PRESET,
            deterministic=True,
        )
        if job.hat:
            for kind, frames in (("ori", clip.frames), ("inp", clip.background)):
                folder = hat_dir(out, kind, spec.label, item.clip_name)
                write_frame_folder(folder, frames, ext="png", overwrite=True)
            _write_seg(hat_dir(out, "seg", spec.label, item.clip_name), person)
        save_masks(mask_path(out, spec.split, item.clip_name), clip.masks)
        name = item.clip_name
    else:
        item = job.item
        assert isinstance(item, PlannedVideo)
        write_video(
            out / "untrimmed" / "videos" / f"{item.video_id}.mp4",
            clip.frames,
            fps=spec.fps,
            crf=job.crf,
            preset=VIDEO_PRESET,
            deterministic=True,
        )
        save_masks(out / "untrimmed" / "masks" / f"{item.video_id}.npz", {"person": person})
        name = item.video_id
    t2 = time.perf_counter()
    return {
        "name": name,
        "frames": int(spec.frames),
        "person_every_frame": bool(person.reshape(len(person), -1).any(axis=1).all()),
        "render_seconds": t1 - t0,
        "write_seconds": t2 - t1,
    }


def _init_worker() -> None:
    cv2.setNumThreads(1)


def _execute(jobs: list[_Job], workers: int) -> Iterator[dict[str, Any]]:
    if workers <= 1 or len(jobs) <= 1:
        for job in jobs:
            yield _run_job(job)
        return
    # "spawn", not fork: a forked child inherits OpenCV's and libx264's thread pools
    # in whatever state the parent left them, and can deadlock on its first call.
    context = multiprocessing.get_context("spawn")
    with context.Pool(processes=workers, initializer=_init_worker) as pool:
        yield from pool.imap_unordered(_run_job, jobs, chunksize=1)


# --- annotation files ---------------------------------------------------------------------


def _manifest(plan: Plan, split: str, out: Path) -> Manifest:
    records = []
    for clip in plan.clips[split]:
        extras: dict[str, Any] = {
            "youtube_id": clip.youtube_id,
            "time_start": 0,
            "time_end": clip.time_end,
            "scene": clip.scene,
            "object": clip.object or "",
        }
        extras.update(clip.extras)
        records.append(
            VideoRecord(
                id=clip.clip_name,
                path=str(clip_video_path(out, split, clip.spec.label or "", clip.clip_name)),
                label=clip.spec.label,
                label_id=clip.label_id,
                split=split,
                extras=extras,
            )
        )
    return Manifest(records, list(plan.config.classes), name=f"synthact-{split}")


def _swap_pairs(plan: Plan, person_ok: dict[str, bool]) -> list[SwapPair]:
    pairs = []
    for clip in plan.clips["swap"]:
        pairs.append(
            SwapPair(
                human_clip=clip.extras["human_clip"],
                human_label=clip.spec.label or "",
                background_clip=clip.extras["background_clip"],
                background_label=clip.extras["background_label"],
                has_person=person_ok[clip.clip_name],
                extras={"background_frames": plan.config.frames},
            )
        )
    return pairs


def _temporal_annotations(plan: Plan) -> TemporalAnnotations:
    classes = list(plan.config.classes)
    videos = []
    for video in plan.videos:
        timeline = video.spec.motion
        segments = [
            Segment(
                start=inst.start, end=inst.end, label=inst.label, label_id=classes.index(inst.label)
            )
            for inst in timeline.instances  # type: ignore[attr-defined]
        ]
        videos.append(
            VideoAnnotation(
                id=video.video_id,
                subset=video.subset,
                duration=round(video.spec.frames / video.spec.fps, 6),
                fps=float(video.spec.fps),
                segments=segments,
                extras={"scene": video.scene},
            )
        )
    return TemporalAnnotations(videos=videos, version=FORMAT_VERSION)


def _description(plan: Plan, preset: str) -> dict[str, Any]:
    config = plan.config
    counts = {split: len(plan.clips[split]) for split in SPLITS}
    counts["untrimmed"] = len(plan.videos)
    scenes_used = sorted(
        {c.scene for clips in plan.clips.values() for c in clips} | {v.scene for v in plan.videos}
    )
    return {
        "format": FORMAT_VERSION,
        "actionbias_version": actionbias.__version__,
        "preset": preset,
        "seed": plan.seed,
        "config": config.to_json(),
        "classes": list(config.classes),
        "home_scenes": {c: ACTIONS[c].home_scene for c in config.classes},
        "scene_sets": {c: [[n, w] for n, w in ws] for c, ws in scene_sets(config).items()},
        "objects": {c: class_object(config, c) for c in config.classes},
        "reversed_pairs": [
            list(p) for p in REVERSED_PAIRS if p[0] in config.classes and p[1] in config.classes
        ],
        "neutral_scenes": list(NEUTRAL_SCENES),
        "mimetic_scenes": mimetic_scene_names(config),
        "counts": counts,
        "clip_seconds": config.frames / config.fps,
        "masks": {
            "person": "union of the body parts",
            "body_parts": list(PART_NAMES),
            "objects": sorted({o for c in config.classes if (o := class_object(config, c))}),
            "scene_elements": {name: list(scene_elements(name)) for name in scenes_used},
            "props": list(PROP_NAMES) if config.props[1] > 0 else [],
        },
        "hat_splits": list(config.hat_splits),
    }


# --- output folder ----------------------------------------------------------------------------


def _read_json(path: Path) -> dict[str, Any] | None:
    import json

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _prepare(out: Path, description: dict[str, Any], force: bool) -> dict[str, Any] | None:
    """Return the previous summary if `out` already holds this exact output, else clear it."""
    if out.exists() and not out.is_dir():
        raise BadInputError("output path exists and is not a directory", source=out)
    out.mkdir(parents=True, exist_ok=True)
    previous = _read_json(out / "synthact.json")
    status = _read_json(out / "generation.json")
    if previous is None and status is None and any(out.iterdir()):
        raise BadInputError(
            "directory is not empty and holds no SynthAct output; use an empty or new directory",
            source=out,
        )
    if (
        not force
        and previous == description
        and status is not None
        and status.get("status") == "complete"
    ):
        return status.get("summary")
    for name in MANAGED:
        path = out / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
    return None


def generate(
    out_dir: str | os.PathLike[str],
    preset: str = "default",
    seed: int = 0,
    workers: int | None = None,
    progress: bool = True,
    force: bool = False,
    **overrides: Any,
) -> dict[str, Any]:
    """Render SynthAct into `out_dir` and return a summary (counts, paths, timings).

    `overrides` adjust the preset (see `actionbias.synth.config`); `workers`
    defaults to the CPU count. Same preset, overrides and seed give the same
    bytes in every file except `generation.json` (timings). A complete output
    with the same settings is kept as is unless `force` is set.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise BadInputError(
            f"seed must be a non-negative integer, got {seed!r}", where="field seed"
        )
    config: SynthConfig = resolve_config(preset, overrides)
    workers = (os.cpu_count() or 1) if workers is None else int(workers)
    if workers < 1:
        raise BadInputError(f"workers must be >= 1, got {workers}", where="field workers")
    out = Path(out_dir)
    started = time.time()
    t0 = time.perf_counter()
    plan = make_plan(config, int(seed))
    description = _description(plan, preset)
    previous = _prepare(out, description, force)
    if previous is not None:
        return {**previous, "skipped": True}
    write_json(out / "generation.json", {"status": "running", "started": started})

    jobs = [_Job("video", v, str(out), config.crf) for v in plan.videos]
    jobs += [
        _Job("clip", c, str(out), config.crf, hat=split in config.hat_splits)
        for split in SPLITS
        for c in plan.clips[split]
    ]
    results: dict[str, dict[str, Any]] = {}
    with progress_bar(progress, "SynthAct") as display:
        task = display.task("render", len(jobs))
        for result in _execute(jobs, workers):
            results[result["name"]] = result
            task.advance(1)

    classes_text = "".join(f"{c}\n" for c in config.classes)
    write_text(out / "classes.txt", classes_text)
    write_text(out / "annotations" / "classes.txt", classes_text)
    write_text(out / "hat" / "classes.txt", classes_text)
    for split in SPLITS:
        write_kinetics_csv(_manifest(plan, split, out), out / "annotations" / f"{split}.csv")
    person_ok = {name: r["person_every_frame"] for name, r in results.items()}
    pairs = _swap_pairs(plan, person_ok)
    write_swap_csv(pairs, out / "hat" / "swap_pairs.csv")
    write_hat_pairs(pairs, out / "hat" / "actionswap_rand_1.pickle", classes=list(config.classes))
    if plan.videos:
        write_activitynet_json(_temporal_annotations(plan), out / "untrimmed" / "annotations.json")
    write_json(out / "synthact.json", description)

    seconds = time.perf_counter() - t0
    render_seconds = sum(r["render_seconds"] for r in results.values())
    write_seconds = sum(r["write_seconds"] for r in results.values())
    summary = {
        "out_dir": str(out),
        "preset": preset,
        "seed": int(seed),
        "classes": list(config.classes),
        "counts": description["counts"],
        "frames_rendered": int(sum(r["frames"] for r in results.values())),
        "paths": {
            "description": str(out / "synthact.json"),
            "classes": str(out / "classes.txt"),
            "annotations": {s: str(out / "annotations" / f"{s}.csv") for s in SPLITS},
            "videos": str(out / "videos"),
            "hat": str(out / "hat"),
            "swap_pairs": str(out / "hat" / "swap_pairs.csv"),
            "hat_pairs": str(out / "hat" / "actionswap_rand_1.pickle"),
            "masks": str(out / "masks"),
            "untrimmed": str(out / "untrimmed"),
        },
        "seconds": round(seconds, 3),
        "render_cpu_seconds": round(render_seconds, 3),
        "write_cpu_seconds": round(write_seconds, 3),
        "workers": workers,
    }
    write_json(
        out / "generation.json",
        {
            "status": "complete",
            "started": started,
            "seconds": summary["seconds"],
            "summary": summary,
        },
    )
    return {**summary, "skipped": False}
