"""The `actionbias` command.

Thin on purpose: each sub-command parses its arguments and calls one library
function. Heavy packages are imported inside the handlers so that `--help` and
argument errors answer instantly.

Exit codes: 0 ok, 1 failure, 2 bad input (a one-line message naming the file,
row or field), 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from actionbias import __version__
from actionbias.argtypes import positive_int
from actionbias.errors import BadInputError

log = logging.getLogger("actionbias")

Handler = Callable[[argparse.Namespace], int]


def _fraction(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be in [0, 1], got {value}")
    return value


# --------------------------------------------------------------------------- synth


_SYNTH_HELP = """\
knobs of the scene shortcut (README, "SynthAct"):
  --correlation R     share of train/val/test clips filmed in their class's home set
  --scene-sets M      scenes per class: its own home scene + the next M-1 classes'
                      (every scene is then shared by M classes; 1 = one scene each)
  --home-weight W     share of a class's home-set clips on its own home scene
  --lighting V        per-clip lighting / colour / hue change of the scene, 0..1
  --props MIN,MAX     class-independent distractor props per clip
  --actor-height A,B  actor height as a fraction of the frame
  --set KEY=VALUE     any other preset field (e.g. --set camera_shake=0.5)
sub-command:
  actionbias synth card DATA   measure a generated folder's shortcut (benchmark card)
"""


def _add_synth(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "synth",
        help="generate the SynthAct benchmark (videos, masks, swap/mimetic splits, untrimmed)",
        description=(
            "Render SynthAct, the procedurally generated action benchmark with a "
            "controllable scene shortcut, in the real dataset formats (Kinetics CSV + mp4, "
            "HAT ori/seg/inp, swap pairs, ActionFormer JSON). Same seed and preset, same bytes "
            "(any worker count, any load). Presets: calibrated (default: the papers' regime, "
            "see the benchmark card), legacy (the first default: one home scene per class, "
            "an extreme shortcut), tiny (test fixture)."
        ),
        epilog=_SYNTH_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--out", type=Path, help="output directory (required to generate)")
    p.add_argument("--preset", default="default", help="default | legacy | tiny (%(default)s)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    p.add_argument("--correlation", type=_fraction, help="fraction of clips on their home set")
    p.add_argument("--classes", type=positive_int, help="number of action classes")
    p.add_argument("--frames", type=positive_int, help="frames per trimmed clip")
    p.add_argument("--size", type=positive_int, help="frame height and width in pixels")
    p.add_argument("--fps", type=float, help="frames per second of the written videos")
    for split in ("train", "val", "test", "mimetic"):
        p.add_argument(f"--{split}", type=int, metavar="N", help=f"{split} clips per class")
    p.add_argument("--untrimmed", type=int, metavar="N", help="number of untrimmed videos")
    p.add_argument(
        "--hat-splits",
        help="comma-separated splits written as HAT ori/seg/inp PNG folders (e.g. test,swap)",
    )
    p.add_argument("--crf", type=int, help="H.264 quality (0 lossless .. 51)")
    p.add_argument("--scene-sets", type=positive_int, metavar="M", help="scenes per class")
    p.add_argument("--home-weight", type=_fraction, metavar="W", help="own-scene share")
    p.add_argument("--lighting", type=_fraction, metavar="V", help="scene lighting variety")
    p.add_argument("--props", metavar="MIN,MAX", help="distractor props per clip")
    p.add_argument("--actor-height", metavar="A,B", help="actor height, frame fraction")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="sets")
    p.add_argument("--workers", type=positive_int, help="parallel worker processes")
    p.add_argument("--force", action="store_true", help="regenerate even if OUT is up to date")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(handler=_run_synth)
    actions = p.add_subparsers(dest="synth_command", metavar="card")
    card = actions.add_parser(
        "card",
        help="measure how strong a shortcut a generated SynthAct folder has",
        description=(
            "Train the same small probe (the demo recipe's slow_tiny, 8x48x48, 14 epochs) on "
            "four views of the folder's clips: background only, human only, RGB with the scenes "
            "shuffled across classes (no shortcut) and RGB as generated (the baseline: test "
            "accuracy, swap SHAcc/SBErr, mimetic accuracy). Writes JSON (and an HTML page "
            "with --html); prints the card."
        ),
    )
    card.add_argument("data", type=Path, help="a generated SynthAct folder")
    card.add_argument("--json", type=Path, help="card JSON (default: DATA/card.json)")
    card.add_argument("--html", type=Path, help="also write the card as an HTML page")
    card.add_argument("--epochs", type=positive_int, default=14, help="probe epochs (14)")
    card.add_argument("--seed", type=int, default=0, dest="card_seed", help="probe seed (0)")
    card.add_argument("--workers", type=positive_int, default=2, help="render processes (2)")
    card.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    card.set_defaults(handler=_run_synth_card)


def _synth_overrides(args: argparse.Namespace) -> dict[str, object]:
    keys = ("correlation", "classes", "frames", "size", "fps", "train", "val", "test")
    keys += ("mimetic", "untrimmed", "crf", "scene_sets", "home_weight", "lighting")
    keys += ("props", "actor_height")
    overrides: dict[str, object] = {}
    for pair in args.sets:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise BadInputError(f"expected KEY=VALUE, got {pair!r}", where="--set")
        overrides[key.strip()] = value.strip()
    overrides.update({k: getattr(args, k) for k in keys if getattr(args, k) is not None})
    if args.hat_splits:
        overrides["hat_splits"] = [s.strip() for s in args.hat_splits.split(",") if s.strip()]
    return overrides


def _run_synth(args: argparse.Namespace) -> int:
    from actionbias.synth import generate

    if args.out is None:
        raise BadInputError("--out is required to generate (or use: actionbias synth card DATA)")
    summary = generate(
        args.out,
        preset=args.preset,
        seed=args.seed,
        workers=args.workers,
        progress=not args.no_progress,
        force=args.force,
        **_synth_overrides(args),
    )
    print(json.dumps(summary, indent=2, sort_keys=True, default=str))
    return 0


def _run_synth_card(args: argparse.Namespace) -> int:
    from actionbias.synth.card import benchmark_card, card_summary
    from actionbias.synth.quickfit import FitBudget

    out = args.json or args.data / "card.json"
    card = benchmark_card(
        args.data,
        out,
        budget=FitBudget(epochs=args.epochs, seed=args.card_seed),
        workers=args.workers,
        progress=not args.no_progress,
    )
    if args.html:
        from actionbias.report.card import write_card_page

        write_card_page(card, args.html)
    width = max(len(label) for label, _ in card_summary(card))
    for label, figure in card_summary(card):
        print(f"{label:<{width}}  {figure}")
    print(f"card: {out}" + (f", {args.html}" if args.html else ""))
    return 0


# --------------------------------------------------------------------------- video


def _add_probe(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "probe",
        help="print a video's, frame folder's or image's metadata as JSON",
        description="Print frame count, fps, duration, display size and rotation as JSON.",
    )
    p.add_argument("paths", nargs="+", type=Path, help="video files, frame folders or images")
    p.set_defaults(handler=_run_probe)


def _run_probe(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from actionbias.video import probe

    infos = [asdict(probe(path)) for path in args.paths]
    print(json.dumps(infos if len(infos) > 1 else infos[0], indent=2))
    return 0


# --------------------------------------------------------------------------- data


def _load_manifest(path: Path, format: str, root: Path | None):
    from actionbias.data import load_manifest

    kwargs = {"root": root} if root is not None else {}
    return load_manifest(path, format=format, **kwargs)


def _add_data(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "data",
        help="read and check dataset manifests in any supported format",
        description="Dataset manifests: Kinetics/Mimetics CSV, PySlowFast, MMAction2 lists, HAT.",
    )
    data_sub = p.add_subparsers(dest="data_command", metavar="COMMAND", required=True)
    c = data_sub.add_parser(
        "check",
        help="read a manifest, print class and split counts and missing media",
        description=(
            "Read a manifest (format detected unless given), report how many records, "
            "classes and missing media files it has. Missing media are fatal with --strict."
        ),
    )
    c.add_argument("path", type=Path, help="manifest file or HAT root directory")
    c.add_argument(
        "--format",
        default="auto",
        help="auto | kinetics | mimetics | slowfast | rawframes | hat (default: %(default)s)",
    )
    c.add_argument("--root", type=Path, help="media root the manifest's paths are relative to")
    c.add_argument("--strict", action="store_true", help="exit 2 when any media file is missing")
    c.set_defaults(handler=_run_data_check)


def _run_data_check(args: argparse.Namespace) -> int:
    from collections import Counter

    manifest = _load_manifest(args.path, args.format, args.root)
    missing = manifest.missing_media()
    if missing and args.strict:
        first = missing[0]
        raise BadInputError(
            f"{len(missing)} of {len(manifest)} media files missing (first: {first.path})",
            source=args.path,
            where=f"record {first.id}",
        )
    report = {
        "source": str(args.path),
        "records": len(manifest),
        "classes": len(manifest.classes),
        "splits": dict(Counter(r.split or "" for r in manifest)),
        "labels_used": len({r.label for r in manifest}),
        "missing_media": len(missing),
        "missing_examples": [r.path for r in missing[:5]],
    }
    print(json.dumps(report, indent=2))
    return 0


# --------------------------------------------------------------------------- segment


def _add_dataset_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", required=True, type=Path, help="manifest file or HAT root")
    p.add_argument("--format", default="auto", help="manifest format (default: %(default)s)")
    p.add_argument("--root", type=Path, help="media root the manifest's paths are relative to")


def _add_run_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", required=True, type=Path, help="output directory")
    p.add_argument("--shard", default="0/1", help="process shard i of n, e.g. 0/4 (%(default)s)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def _load_records(args: argparse.Namespace):
    return _load_manifest(args.data, args.format, args.root)


def _finish(stats) -> int:
    summary = stats.to_json()
    print(json.dumps(summary, indent=2, default=str))
    items = summary.get("videos", summary.get("items", 0))
    failed = summary.get("failed", 0)
    return 1 if items and failed == items else 0


def _add_segment(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "segment",
        help="per-frame person masks for every video of a dataset (cached, resumable)",
        description=(
            "Compute soft person masks for every video of a manifest and cache them "
            "(compressed, atomic writes). A rerun, or a run over another --shard, skips "
            "videos already cached; frames and videos without a person are counted."
        ),
    )
    _add_dataset_args(p)
    _add_run_args(p)
    p.add_argument(
        "--backend", default="mediapipe", help="mediapipe | oracle | yolo-sam2 (%(default)s)"
    )
    p.add_argument("--model", choices=("selfie", "pose"), help="mediapipe model (selfie)")
    p.add_argument("--detector", help="yolo-sam2: object detector checkpoint (path or id)")
    p.add_argument("--sam2", help="yolo-sam2: SAM2 video checkpoint (path or id)")
    p.add_argument("--device", help="yolo-sam2: cpu | cuda")
    p.set_defaults(handler=_run_segment_cmd)


def _run_segment_cmd(args: argparse.Namespace) -> int:
    from actionbias.segment import parse_shard
    from actionbias.segment.workflows import run_segment

    options = {
        key: getattr(args, key)
        for key in ("model", "detector", "sam2", "device")
        if getattr(args, key) is not None
    }
    stats = run_segment(
        _load_records(args),
        args.out,
        backend=args.backend,
        shard=parse_shard(args.shard),
        progress=not args.no_progress,
        **options,
    )
    return _finish(stats)


def _add_inpaint(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "inpaint",
        help="write HAT-style ori/seg/inp folders (frames, person masks, inpainted background)",
        description=(
            "For every video: original frames, person masks and the background with the "
            "person removed (mask dilated with a 3x3 cross 4 times, then OpenCV inpainting), "
            "in HAT's ori/seg/inp layout, which `actionbias swap` reads."
        ),
    )
    _add_dataset_args(p)
    _add_run_args(p)
    p.add_argument("--masks", type=Path, help="mask cache written by `actionbias segment`")
    p.add_argument("--backend", default="mediapipe", help="mediapipe | oracle (%(default)s)")
    p.add_argument("--method", choices=("telea", "ns"), default="telea", help="%(default)s")
    p.add_argument("--ext", choices=("jpg", "png"), default="jpg", help="frame files (jpg)")
    p.set_defaults(handler=_run_inpaint_cmd)


def _run_inpaint_cmd(args: argparse.Namespace) -> int:
    from actionbias.segment import parse_shard
    from actionbias.segment.workflows import run_inpaint

    stats = run_inpaint(
        _load_records(args),
        args.out,
        masks_dir=args.masks,
        backend=args.backend,
        method=args.method,
        shard=parse_shard(args.shard),
        ext=args.ext,
        progress=not args.no_progress,
    )
    return _finish(stats)


def _add_swap(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "swap",
        help="Action-Swap videos: the human of clip A on the background of clip B",
        description=(
            "Compose Action-Swap videos from a HAT-style ori/seg/inp folder (HAT's download, "
            "SynthAct's hat/ or `actionbias inpaint` output). Pairs come from a HAT pickle or "
            "swap CSV (--pairs) or are drawn (--mode). Writes videos and swap_pairs.csv."
        ),
    )
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
        type=_fraction,
        metavar=("LOW", "HIGH"),
        help="keep pairs whose human covers LOW..HIGH of the frame (HAT: 0.05 0.5)",
    )
    p.add_argument("--canvas", choices=("background", "human"), default="background")
    p.add_argument("--fps", type=float, default=30.0, help="fps of written videos")
    p.add_argument("--classes", type=Path, help="class list for index-based pair files")
    p.set_defaults(handler=_run_swap_cmd)


def _run_swap_cmd(args: argparse.Namespace) -> int:
    from actionbias.segment import parse_shard
    from actionbias.segment.workflows import run_swap

    stats = run_swap(
        args.hat,
        args.out,
        pairs=args.pairs,
        policy=args.policy,
        mode=args.mode,
        seed=args.seed,
        coverage=tuple(args.coverage) if args.coverage else None,
        canvas=args.canvas,
        fps=args.fps,
        shard=parse_shard(args.shard),
        classes=args.classes,
        progress=not args.no_progress,
    )
    return _finish(stats)


# --------------------------------------------------------------------------- train


def _add_train(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train",
        help="train a registered model (Lightning; checkpoints every epoch, resumes)",
        description=(
            "Train a model from the registry on any manifest or a SynthAct directory. "
            "Config = recipe (paper | synthact | a YAML file) <- flags <- --set KEY=VALUE. "
            "Running again with the same --out resumes from last.ckpt."
        ),
    )
    p.add_argument("--config", default="synthact", help="recipe name or YAML (%(default)s)")
    p.add_argument("--model", help="registered model name (e.g. slow_r50, dual_sum)")
    p.add_argument("--data", help="training data: manifest, SynthAct dir or HAT root")
    p.add_argument("--val", help="validation data (default: the training data's val split)")
    p.add_argument("--out", required=True, help="run directory")
    p.add_argument("--epochs", type=positive_int, help="maximum epochs")
    p.add_argument("--devices", help="Lightning devices (e.g. 1, 4, auto)")
    p.add_argument("--num-nodes", type=positive_int, help="Lightning nodes for DDP")
    p.add_argument("--seed", type=int, help="random seed")
    p.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="config override"
    )
    p.set_defaults(handler=_run_train)


def _run_train(args: argparse.Namespace) -> int:
    from actionbias.train import load_config, train

    overrides = [f"run_dir={args.out}"]
    flag_keys = {
        "model": "model.name",
        "data": "data.train",
        "val": "data.val",
        "epochs": "trainer.max_epochs",
        "devices": "trainer.devices",
        "num_nodes": "trainer.num_nodes",
        "seed": "seed",
    }
    for attr, key in flag_keys.items():
        value = getattr(args, attr)
        if value is not None:
            overrides.append(f"{key}={value}")
    if args.data is not None and args.val is None:
        overrides.append(f"data.val={args.data}")
    overrides.extend(args.set)
    result = train(load_config(args.config, overrides))
    print(
        json.dumps(
            {
                "run_dir": str(result.run_dir),
                "best_checkpoint": str(result.best_checkpoint),
                "best_score": result.best_score,
                "monitor": result.monitor,
                "epochs": result.epochs,
                "resumed_from": str(result.resumed_from) if result.resumed_from else None,
                "skipped": result.skipped,
            },
            indent=2,
        )
    )
    return 0


def _add_audit(sub: argparse._SubParsersAction) -> None:
    """`audit`, `sweep` and `evaluate`: their flags and handlers live in actionbias.audit."""
    from actionbias.audit.commands import add_audit_parsers

    add_audit_parsers(sub)


def _add_prompting(sub: argparse._SubParsersAction) -> None:
    """`prompt-tune` and `prompt-eval`: video-LLM prompts (actionbias.prompting)."""
    from actionbias.prompting.commands import (
        add_prompt_eval_arguments,
        add_prompt_tune_arguments,
    )

    p = sub.add_parser(
        "prompt-tune",
        help="automated prompt tuning of a video LLM (OPRO-style) on Action-Swap MCQ",
        description=(
            "An optimiser LLM proposes instructions from the history of tried ones and their "
            "SHAcc/SBErr on a 25 % tuning split of the swap set; every prompt is also scored "
            "on the held-out 75 %. Resumable: history is saved after every step."
        ),
    )
    add_prompt_tune_arguments(p)
    p.set_defaults(handler=_run_prompt_tune)
    p = sub.add_parser(
        "prompt-eval",
        help="score the paper's manual (and automated) prompts on Action-Swap MCQ",
        description="SHAcc and SBErr of the paper's manual prompts for one video LLM.",
    )
    add_prompt_eval_arguments(p)
    p.set_defaults(handler=_run_prompt_eval)


def _run_prompt_tune(args: argparse.Namespace) -> int:
    from actionbias.prompting.commands import cmd_prompt_tune

    return cmd_prompt_tune(args)


def _run_prompt_eval(args: argparse.Namespace) -> int:
    from actionbias.prompting.commands import cmd_prompt_eval

    return cmd_prompt_eval(args)


def _add_tal(sub: argparse._SubParsersAction) -> None:
    """`tal eval|train|infer|features`: temporal action localisation (actionbias.tal)."""
    from actionbias.tal.commands import add_tal_parsers

    add_tal_parsers(sub)


def _add_a2o(sub: argparse._SubParsersAction) -> None:
    """`a2o run|maps|demo`: agent-chosen object-centric features (actionbias.a2o)."""
    from actionbias.a2o.commands import add_a2o_parsers

    add_a2o_parsers(sub)


def _add_report(sub: argparse._SubParsersAction) -> None:
    from actionbias.report.commands import add_report_arguments

    p = sub.add_parser(
        "report",
        help="one self-contained HTML report from audit/demo run directories",
        description=(
            "Collect every run directory (config.json + metrics.json) under the given paths "
            "and write one HTML file with inline plots: accuracy, SHAcc and SBErr with 95 % "
            "intervals, per-class SBErr, frame sweeps, Table 2/3 analogues and paired tests."
        ),
    )
    add_report_arguments(p)
    p.set_defaults(handler=_run_report)


def _run_report(args: argparse.Namespace) -> int:
    from actionbias.report.commands import report_command

    return report_command(args)


def _add_demo(sub: argparse._SubParsersAction) -> None:
    from actionbias.demo.commands import DESCRIPTION, HELP, add_demo_arguments

    p = sub.add_parser("demo", help=HELP, description=DESCRIPTION)
    add_demo_arguments(p)
    p.set_defaults(handler=_run_demo)


def _run_demo(args: argparse.Namespace) -> int:
    from actionbias.demo.commands import cmd_demo

    return cmd_demo(args)


# --------------------------------------------------------------------------- metrics


def _add_metrics(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "metrics",
        help="every bias figure (accuracy, SHAcc, SBErr, breakdowns) from a predictions file",
        description=(
            "Compute accuracy (top-5 and mAP when scores are given), and on swap rows SHAcc, "
            "SBErr and the remainder with per-class breakdowns, each with a bootstrap 95 % "
            "interval, from a CSV/JSONL of per-video predictions (columns: id, label, "
            "prediction, optional background_label, dataset, scores). With --compare, paired "
            "tests (bootstrap and McNemar) of the two models on their shared videos."
        ),
    )
    p.add_argument("--predictions", required=True, type=Path, help="CSV or JSONL file")
    p.add_argument("--classes", type=Path, help="class list, one per line (for index labels)")
    p.add_argument("--compare", type=Path, help="a second predictions file to compare against")
    p.add_argument("--out", type=Path, help="write the JSON here as well as to stdout")
    p.add_argument("--bootstrap", type=positive_int, default=2000, help="resamples (%(default)s)")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed (%(default)s)")
    p.set_defaults(handler=_run_metrics)


def _run_metrics(args: argparse.Namespace) -> int:
    from actionbias.audit import compare, read_predictions, summarize

    classes = None
    if args.classes is not None:
        from actionbias.data import read_class_list

        classes = read_class_list(args.classes)
    table = read_predictions(args.predictions, classes)
    result = summarize(table, n_boot=args.bootstrap, seed=args.seed)
    if args.compare is not None:
        other = read_predictions(args.compare, table.classes)
        result["comparison"] = compare(table, other, n_boot=args.bootstrap, seed=args.seed)
        result["comparison"]["b"] = str(args.compare)
    text = json.dumps(result, indent=2)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
    print(text)
    return 0


# --------------------------------------------------------------------------- main


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole parser; with `command` one of `_ALONE`, only that command's sub-parser, so
    running it imports no other command's modules (``tal eval`` stays fast)."""
    parser = argparse.ArgumentParser(
        prog="actionbias",
        description=(
            "Measure and mitigate shortcut bias (scene, objects, language prior) "
            "in video action understanding."
        ),
    )
    parser.add_argument("--version", action="version", version=f"actionbias {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on failure")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for add in (
        _add_synth,
        _add_probe,
        _add_data,
        _add_segment,
        _add_inpaint,
        _add_swap,
        _add_train,
        _add_audit,
        _add_report,
        _add_demo,
        _add_prompting,
        _add_tal,
        _add_a2o,
        _add_metrics,
    ):
        if command not in _ALONE or add is _ALONE[command]:
            add(sub)
    return parser


_ALONE = {"tal": _add_tal}


def _command_of(argv: Sequence[str]) -> str | None:
    """The sub-command named on the line (global options take no value)."""
    return next((a for a in argv if not a.startswith("-")), None)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser(_command_of(sys.argv[1:] if argv is None else argv))
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
    )
    handler: Handler = args.handler
    try:
        return handler(args)
    except BadInputError as err:
        if args.debug:
            raise
        print(f"actionbias {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"actionbias {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as err:
        if args.debug:
            raise
        message = " ".join(str(err).split()) or type(err).__name__
        print(
            f"actionbias {args.command}: failed: {type(err).__name__}: {message} "
            "(run with --debug for the traceback)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
