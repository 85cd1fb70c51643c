"""The ``actionbias audit | sweep | evaluate | metrics`` commands: the `COMMANDS` table.

`actionbias.cli` loops over `COMMANDS`; each row names a command, adds its flags
(``add_*_arguments``) and points at its handler (``cmd_*``: take the parsed
`argparse.Namespace`, call one library function, print, return an exit code).

Model strings (``--model``/``--models``) are documented in
`actionbias.audit.scorers.spec`: a checkpoint path, ``hf:ID``, ``clip:ID``, ``siglip:ID``,
``internvl:ID`` or ``openai:MODEL[@BASE_URL]``, each with ``?key=value``
options.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from actionbias.argtypes import key_values, positive_int, shard
from actionbias.commandline import Command, add_commands, flags
from actionbias.errors import BadInputError

SUMMARY_KEYS = ("videos", "skipped", "no_answer", "errors", "complete")
# Kept here (not imported from the runner) so that `actionbias --help` stays light.
LABEL_SPACE_HELP = (
    "classes CLIP/SigLIP/X-CLIP score and video LLMs' MCQ distractors come from: kinetics400 (the "
    "paper's protocol: all 400 Kinetics labels), dataset (the data's own classes) or auto "
    "(default: kinetics400 when every dataset class is a Kinetics-400 class, as for HAT, "
    "Mimetics and Kinetics-50; dataset otherwise). Classifiers answer in their own classes"
)


def _splits(values: list[str] | str | None) -> list[str] | None:
    """``--splits test swap`` or ``--splits test,swap`` (both forms, as the old flag)."""
    if not values:
        return None
    items = [values] if isinstance(values, str) else values
    out = [s.strip() for item in items for s in item.split(",") if s.strip()]
    return out or None


def _prompt(args: argparse.Namespace):
    from actionbias.audit.mcq_prompt import MCQPrompt

    instruction = None if getattr(args, "no_instruction", False) else MCQPrompt().instruction
    return MCQPrompt.from_style(getattr(args, "prompt_style", "neutral"), instruction)


def _add_data_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--data",
        required=True,
        type=Path,
        help="SynthAct folder, manifest (Kinetics/Mimetics CSV, list, HAT root) or swap_pairs.csv",
    )
    p.add_argument(
        "--splits",
        nargs="+",
        metavar="SPLIT",
        help="splits to audit (SynthAct default: test swap mimetic); 'test,swap' also works",
    )
    p.add_argument("--format", default="auto", help="manifest format (default: %(default)s)")
    p.add_argument("--root", type=Path, help="media root the manifest's paths are relative to")
    p.add_argument("--classes", type=Path, help="class list file (one name per line)")
    p.add_argument("--group", help="group name of a single manifest (default: test/swap/mimetic)")


def _add_run_flags(
    p: argparse.ArgumentParser, frames_help: str, protocol: str = "all", frame_list: bool = False
) -> None:
    p.add_argument("--protocol", choices=("all", "mcq"), default=protocol, help="%(default)s")
    if frame_list:
        p.add_argument("--frames", nargs="+", type=positive_int, default=[8], help=frames_help)
    else:
        p.add_argument("--frames", type=positive_int, help=frames_help)
    p.add_argument("--batch-size", type=positive_int, default=8, help="%(default)s")
    p.add_argument("--seed", type=int, default=0, help="question and bootstrap seed (0)")
    p.add_argument("--questions", type=Path, help="MCQ questions file to answer (another run's)")
    p.add_argument(
        "--shard", type=shard, help="process shard K of N (0-based, e.g. 0/4) into this run dir"
    )
    p.add_argument("--limit", type=positive_int, help="at most N videos per group")
    p.add_argument("--force", action="store_true", help="discard an existing run in --out")
    p.add_argument("--device", help="torch device for local models (cpu, cuda, cuda:1)")
    p.add_argument("--workers", type=positive_int, help="decoding threads / loader workers")
    p.add_argument("--bootstrap", type=positive_int, default=2000, help="resamples (2000)")
    p.add_argument(
        "--prompt-style",
        choices=("neutral", "prefixed", "human", "background"),
        default="neutral",
        help="MCQ prompt of the paper (Sec. 4.2, A.5) for video LLMs (%(default)s)",
    )
    p.add_argument(
        "--no-instruction",
        action="store_true",
        help="leave out the 'Answer with the option's letter' line (bare paper prompt)",
    )
    p.add_argument(
        "--label-space",
        choices=("auto", "kinetics400", "dataset"),
        default=None,
        help=LABEL_SPACE_HELP.replace("%", "%%"),
    )
    p.add_argument("--tag", action="append", metavar="KEY=VALUE", help="free-form run tags")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def add_audit_arguments(p: argparse.ArgumentParser) -> None:
    """Flags of ``actionbias audit``."""
    p.add_argument(
        "--model",
        required=True,
        help="checkpoint path | hf:ID (Hugging Face video classifier: VideoMAE, TimeSformer, "
        "ViViT) | clip:ID | siglip:ID | xclip:ID | internvl:ID | openai:MODEL[@BASE_URL]; "
        "CLIP/SigLIP use the raw class label as the prompt (the paper) unless "
        "?prompts=authors (the model's templates) or ?prompts=TEMPLATE",
    )
    _add_data_flags(p)
    p.add_argument("--out", required=True, type=Path, help="run directory")
    p.add_argument("--name", help="display name of the model in the report")
    _add_run_flags(p, "frames sampled uniformly per video (classifiers: the checkpoint's; else 8)")


def add_sweep_arguments(p: argparse.ArgumentParser) -> None:
    """Flags of ``actionbias sweep``."""
    p.add_argument("--models", required=True, nargs="+", help="model strings (see audit --model)")
    _add_data_flags(p)
    p.add_argument("--out", required=True, type=Path, help="root folder of the sweep's runs")
    _add_run_flags(p, "frame counts (e.g. 1 2 4 8 16 32; default 8)", "mcq", frame_list=True)


def add_evaluate_arguments(p: argparse.ArgumentParser) -> None:
    """Flags of ``actionbias evaluate`` (the audit of a checkpoint; the old flags still work)."""
    p.add_argument("checkpoint", type=Path, help="checkpoint written by `actionbias train`")
    _add_data_flags(p)
    p.add_argument(
        "--out",
        required=True,
        type=Path,
        help="run directory; a .jsonl name writes only a predictions file (the old behaviour)",
    )
    p.add_argument("--name", help="display name of the model in the report")
    _add_run_flags(p, "frames per clip (default: the checkpoint's)")


def _audit_options(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "splits": _splits(args.splits),
        "batch_size": args.batch_size,
        "seed": args.seed,
        "questions": args.questions,
        "force": args.force,
        "limit": args.limit,
        "progress": not args.no_progress and sys.stderr.isatty(),
        "device": args.device,
        "prompt": _prompt(args),
        "n_boot": args.bootstrap,
        "tags": key_values(args.tag, "--tag") or None,
        "data_format": args.format,
        "root": args.root,
        "classes": args.classes,
        "group": args.group,
        "workers": args.workers,
        "label_space": args.label_space,
    }


def _summary(metrics: dict[str, Any], run_dir: Path) -> dict[str, Any]:
    out: dict[str, Any] = {"run_dir": str(run_dir), "name": metrics.get("run", {}).get("name")}
    out.update({k: metrics[k] for k in SUMMARY_KEYS if k in metrics})
    groups = {}
    for name, group in metrics.get("summary", {}).get("groups", {}).items():
        entry: dict[str, Any] = {"n": group["n"], "top1": group["top1"]}
        if "swap" in group:
            entry["shacc"] = group["swap"]["shacc"]
            entry["sberr"] = group["swap"]["sberr"]
        groups[name] = entry
    out["groups"] = groups
    return out


def _run_audit(model: Any, args: argparse.Namespace) -> dict[str, Any]:
    """`run_audit` of ``model`` with the flags ``audit`` and ``evaluate`` share."""
    from actionbias.audit.runner import run_audit

    options = _audit_options(args)
    return run_audit(
        model,
        args.data,
        args.out,
        **flags(args, "protocol", "frames", "shard", "name"),
        **options,
    )


def cmd_audit(args: argparse.Namespace) -> int:
    """audit a model's background bias on a dataset (resumable run directory)

    Predict every video of a dataset with a classifier checkpoint, CLIP/SigLIP zero-shot or a video
    LLM (local InternVL3 or an OpenAI-compatible endpoint) and write a run directory: config.json,
    predictions.jsonl (appended per batch), skipped.jsonl, metrics.json/csv (accuracy, SHAcc, SBErr
    with 95 % intervals). Running it again resumes; --shard K/N splits the work over processes.
    """
    metrics = _run_audit(args.model, args)
    print(json.dumps(_summary(metrics, args.out), indent=2))
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    """audits over several models and frame counts (Figure 1a/1b curves)

    One audit run per (model, frame count) under --out, all answering the same MCQ questions;
    finished runs are skipped when run again.
    """
    from actionbias.audit.sweep import run_sweep

    options = _audit_options(args)
    if args.shard is not None:
        raise BadInputError("a sweep runs whole audits; shard single audits instead", "--shard")
    entries = run_sweep(
        args.models,
        args.frames,
        args.data,
        args.out,
        args.protocol,
        **options,
    )
    print(json.dumps({"out": str(args.out), "runs": entries}, indent=2))
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    """audit a checkpoint of `actionbias train` (accuracy, SHAcc, SBErr)

    The audit of a trained classifier: a run directory with per-video predictions and every bias
    figure. With --out NAME.jsonl only a predictions file is written.
    """
    if args.out.suffix.lower() in (".jsonl", ".json", ".ndjson"):
        from actionbias.audit import summarize
        from actionbias.train import evaluate

        result = evaluate(args.checkpoint, args.data, args.out, splits=_splits(args.splits))
        summary = summarize(result.table, n_boot=args.bootstrap, seed=args.seed)
        summary["skipped"] = result.skipped.to_dict()
        print(json.dumps(summary, indent=2))
        return 0
    metrics = _run_audit({"type": "classifier", "checkpoint": str(args.checkpoint)}, args)
    # the full summary (as the old command printed) plus the run's counts
    summary = dict(metrics["summary"])
    summary.update({k: v for k, v in _summary(metrics, args.out).items() if k != "groups"})
    print(json.dumps(summary, indent=2))
    return 0


def add_metrics_arguments(p: argparse.ArgumentParser) -> None:
    """Flags of ``actionbias metrics``."""
    p.add_argument("--predictions", required=True, type=Path, help="CSV or JSONL file")
    p.add_argument("--classes", type=Path, help="class list, one per line (for index labels)")
    p.add_argument("--compare", type=Path, help="a second predictions file to compare against")
    p.add_argument("--out", type=Path, help="write the JSON here as well as to stdout")
    p.add_argument("--bootstrap", type=positive_int, default=2000, help="resamples (%(default)s)")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed (%(default)s)")


def cmd_metrics(args: argparse.Namespace) -> int:
    """every bias figure (accuracy, SHAcc, SBErr, breakdowns) from a predictions file

    Compute accuracy (top-5 and mAP when scores are given) with accuracy per class and its most
    frequent wrong answer, and on swap rows SHAcc, SBErr and the remainder with per-class
    breakdowns, each with a bootstrap 95 % interval, from a CSV/JSONL of per-video predictions
    (columns: id, label, prediction, optional background_label, dataset, scores). With --compare,
    paired tests (bootstrap and McNemar) of the two models on their shared videos.
    """
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


#: The audit package's top-level commands (``audit``, ``sweep``, ``evaluate``, ``metrics``).
COMMANDS: tuple[Command, ...] = (
    Command("audit", add_audit_arguments, cmd_audit),
    Command("sweep", add_sweep_arguments, cmd_sweep),
    Command("evaluate", add_evaluate_arguments, cmd_evaluate),
    Command("metrics", add_metrics_arguments, cmd_metrics),
)


def add_audit_parsers(sub: argparse._SubParsersAction) -> None:
    """Register ``audit``, ``sweep`` and ``evaluate`` (kept until `cli` loops over `COMMANDS`)."""
    add_commands(sub, COMMANDS[:3])
