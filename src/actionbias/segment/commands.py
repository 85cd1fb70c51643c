"""``actionbias segment | inpaint | swap``: person masks, HAT-style folders, Action-Swap videos.

Each handler reads the dataset, calls one workflow of `actionbias.segment.workflows`
(resumable, sharded, counting what it skipped) and prints its counts; a run in which
every item failed exits 1.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from actionbias.argtypes import fraction, shard
from actionbias.commandline import Command, flags


def _add_dataset_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", required=True, type=Path, help="manifest file or HAT root")
    p.add_argument("--format", default="auto", help="manifest format (default: %(default)s)")
    p.add_argument("--root", type=Path, help="media root the manifest's paths are relative to")


def _add_run_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", required=True, type=Path, help="output directory")
    p.add_argument(
        "--shard", default="0/1", type=shard, help="process shard i of n, e.g. 0/4 (%(default)s)"
    )
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def _records(args: argparse.Namespace) -> Any:
    from actionbias.data import load_manifest

    return load_manifest(args.data, format=args.format, root=args.root)


def _finish(stats: Any) -> int:
    """Print the run's counts; exit 1 only when every item failed."""
    summary = stats.to_json()
    print(json.dumps(summary, indent=2, default=str))
    items = summary.get("videos", summary.get("items", 0))
    failed = summary.get("failed", 0)
    return 1 if items and failed == items else 0


def add_segment_arguments(p: argparse.ArgumentParser) -> None:
    """Flags of ``actionbias segment``."""
    _add_dataset_args(p)
    _add_run_args(p)
    p.add_argument(
        "--backend", default="mediapipe", help="mediapipe | oracle | yolo-sam2 (%(default)s)"
    )
    p.add_argument("--model", choices=("selfie", "pose"), help="mediapipe model (selfie)")
    p.add_argument("--detector", help="yolo-sam2: object detector checkpoint (path or id)")
    p.add_argument("--sam2", help="yolo-sam2: SAM2 video checkpoint (path or id)")
    p.add_argument("--device", help="yolo-sam2: cpu | cuda")


def cmd_segment(args: argparse.Namespace) -> int:
    """per-frame person masks for every video of a dataset (cached, resumable)

    Compute soft person masks for every video of a manifest and cache them (compressed, atomic
    writes). A rerun, or a run over another --shard, skips videos already cached; frames and videos
    without a person are counted.
    """
    from actionbias.segment.workflows import run_segment

    options = {
        key: getattr(args, key)
        for key in ("model", "detector", "sam2", "device")
        if getattr(args, key) is not None
    }
    stats = run_segment(
        _records(args),
        args.out,
        backend=args.backend,
        shard=args.shard,
        progress=not args.no_progress,
        **options,
    )
    return _finish(stats)


def add_inpaint_arguments(p: argparse.ArgumentParser) -> None:
    """Flags of ``actionbias inpaint``."""
    _add_dataset_args(p)
    _add_run_args(p)
    p.add_argument("--masks", type=Path, help="mask cache written by `actionbias segment`")
    p.add_argument("--backend", default="mediapipe", help="mediapipe | oracle (%(default)s)")
    p.add_argument("--method", choices=("telea", "ns"), default="telea", help="%(default)s")
    p.add_argument("--ext", choices=("jpg", "png"), default="jpg", help="frame files (jpg)")


def cmd_inpaint(args: argparse.Namespace) -> int:
    """write HAT-style ori/seg/inp folders (frames, person masks, inpainted background)

    For every video: original frames, person masks and the background with the person removed (mask
    dilated with a 3x3 cross 4 times, then OpenCV inpainting), in HAT's ori/seg/inp layout, which
    `actionbias swap` reads.
    """
    from actionbias.segment.workflows import run_inpaint

    stats = run_inpaint(
        _records(args),
        args.out,
        masks_dir=args.masks,
        **flags(args, "backend", "method", "shard", "ext"),
        progress=not args.no_progress,
    )
    return _finish(stats)


def add_swap_arguments(p: argparse.ArgumentParser) -> None:
    """Flags of ``actionbias swap``."""
    p.add_argument("--hat", required=True, type=Path, help="HAT-style root with ori/seg/inp")
    _add_run_args(p)
    p.add_argument("--pairs", type=Path, help="HAT actionswap_*.pickle or swap-pair CSV")
    p.add_argument("--policy", choices=("hat", "alpha"), default="hat", help="%(default)s")
    p.add_argument(
        "--mode", choices=("random", "same-class"), default="random", help="pair sampling"
    )
    p.add_argument("--seed", type=int, default=0, help="pair sampling seed (%(default)s)")
    p.add_argument(
        "--coverage",
        nargs=2,
        type=fraction,
        metavar=("LOW", "HIGH"),
        help="keep pairs whose human covers LOW..HIGH of the frame (HAT: 0.05 0.5)",
    )
    p.add_argument("--canvas", choices=("background", "human"), default="background")
    p.add_argument("--fps", type=float, default=30.0, help="fps of written videos")
    p.add_argument("--classes", type=Path, help="class list for index-based pair files")


def cmd_swap(args: argparse.Namespace) -> int:
    """Action-Swap videos: the human of clip A on the background of clip B

    Compose Action-Swap videos from a HAT-style ori/seg/inp folder (HAT's download, SynthAct's hat/
    or `actionbias inpaint` output). Pairs come from a HAT pickle or swap CSV (--pairs) or are drawn
    (--mode). Writes videos and swap_pairs.csv.
    """
    from actionbias.segment.workflows import run_swap

    stats = run_swap(
        args.hat,
        args.out,
        **flags(args, "pairs", "policy", "mode", "seed", "canvas", "fps", "shard", "classes"),
        coverage=tuple(args.coverage) if args.coverage else None,
        progress=not args.no_progress,
    )
    return _finish(stats)


COMMANDS: tuple[Command, ...] = (
    Command("segment", add_segment_arguments, cmd_segment),
    Command("inpaint", add_inpaint_arguments, cmd_inpaint),
    Command("swap", add_swap_arguments, cmd_swap),
)
