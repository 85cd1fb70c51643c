"""The ``actionbias tal eval | train | infer | features | demo`` commands.

Each handler calls one workflow: `actionbias.tal.evaluation.evaluate_files`,
`actionbias.tal.workflows.train_detector` / `detect_videos`,
`actionbias.tal.extraction.extract_features` or `actionbias.tal.demo.run_tal_demo`.
Heavy modules (torch, models) are imported inside them, so ``actionbias --help``
and ``actionbias tal eval`` start without torch.
"""

from __future__ import annotations

import argparse
import sys

from actionbias.argtypes import key_values
from actionbias.commandline import Command, flags
from actionbias.errors import BadInputError
from actionbias.tal.workflows import (
    FEATURE_READING,
    TALTrainOptions,
    tiou_thresholds,
    write_json,
)


def cmd_eval(args: argparse.Namespace) -> int:
    """mAP per tIoU, average mAP and per-class AP of a results file

    ActivityNet/ActionFormer detection mAP, by the reference's rules: every prediction in the file
    is scored, and one on a video without ground truth of its class -- a video of another subset or
    absent from the annotation file included -- is a false positive. The JSON and a line on stderr
    say how many there were.
    """
    from actionbias.data.activitynet import read_activitynet_json
    from actionbias.tal.evaluation import evaluate_files

    ann = read_activitynet_json(args.gt, subset=args.subset)
    if len(ann) == 0:
        raise BadInputError(f"no videos in subset {args.subset!r}", source=args.gt)
    result = evaluate_files(
        ann,
        args.pred,
        tiou_thresholds(args.tiou),
        ignore_unknown_videos=args.ignore_unknown_videos,
        subset=args.subset,
    )
    write_json(result.to_dict(), args.out)
    print(eval_summary(result), file=sys.stderr)
    if args.out:
        print(f"average mAP {result.average_map:.4f} -> {args.out}")
    return 0


def eval_summary(result) -> str:
    """One line: what was evaluated and what happened to predictions outside it."""
    subset = result.extras.get("subset", "all")
    where = "every video of the file" if subset == "all" else f"subset {subset!r}"
    fate = (
        "ignored (--ignore-unknown-videos)"
        if result.ignore_unknown_videos
        else "counted as false positives, as the reference does"
    )
    return (
        f"evaluated {where} ({result.extras.get('num_videos', '?')} videos, "
        f"{result.num_ground_truth} ground-truth segments, {len(result.classes)} classes); "
        f"{result.num_predictions} predictions, {result.unknown_video_predictions} on videos "
        f"outside it: {fate}; {result.no_ground_truth_predictions} scored on a video without "
        f"ground truth of their class; {result.unscored_label_predictions} with a label absent "
        f"from the ground truth (not scored)"
    )


def cmd_train(args: argparse.Namespace) -> int:
    """Resolve --config and --set over the flags, train, print the run's summary."""
    from actionbias.tal.config import resolve
    from actionbias.tal.workflows import train_detector

    resolve(args, args.tal_train_actions, args.config, args.sets)
    recorded = {k: v for k, v in vars(args).items() if k in args.tal_train_actions}
    summary = train_detector(TALTrainOptions.from_options(args), record=recorded)
    write_json(summary, None)
    return 0


def cmd_infer(args: argparse.Namespace) -> int:
    """detections of a trained detector as results JSON"""
    from actionbias.tal.inference import InferenceConfig
    from actionbias.tal.workflows import detect_videos

    cfg = InferenceConfig(
        **flags(args, "score_threshold", "max_segments", "nms_sigma"),
    )
    options = {
        k: getattr(args, k) for k in (*FEATURE_READING, "max_seq_len", "batch_size", "device")
    }
    results = detect_videos(
        args.checkpoint,
        args.gt,
        args.features,
        subset=args.subset,
        seed=args.seed,
        inference=cfg,
        **options,
    )
    write_json(results, args.out)
    return 0


def cmd_features(args: argparse.Namespace) -> int:
    """sliding-window features of videos with a registered recogniser or a Hugging Face video
    encoder
    """
    from actionbias.tal.extraction import extract_features

    info = extract_features(
        args.videos,
        args.out,
        **flags(
            args,
            "model",
            "num_classes",
            "checkpoint",
            "window",
            "stride",
            "clip_frames",
            "size",
            "batch_size",
            "device",
            "annotations",
            "overwrite",
        ),
        options=key_values(args.option, "--option"),
    )
    meta = info["videos"]
    failed = sum(1 for m in meta.values() if "error" in m)
    print(f"{len(meta) - failed} videos -> {args.out} ({failed} skipped)")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """SynthAct untrimmed videos -> features -> vision-only vs ActionVLM, mAP, LAP, report"""
    from actionbias.tal.demo import run_tal_demo

    result = run_tal_demo(
        args.out,
        quick=args.quick,
        seed=args.seed,
        recogniser_dir=args.recogniser,
        log_fn=lambda msg: print(msg, file=sys.stderr),
    )
    summary = result.results["summary"]
    print(
        f"average mAP: vision-only {summary['vision_only_average_mAP']['mean']:.4f}, "
        f"ActionVLM {summary['actionvlm_average_mAP']['mean']:.4f} -> {result.report_path}"
    )
    return 0


def _data_args(p: argparse.ArgumentParser, defaults: bool = True) -> None:
    p.add_argument("--gt", required=True, help="ActivityNet/ActionFormer annotation JSON")
    p.add_argument("--features", required=True, help="folder of <video_id>.npy (T x C)")
    p.add_argument("--feat-stride", type=float, default=4 if defaults else None)
    p.add_argument(
        "--num-frames",
        type=float,
        default=16 if defaults else None,
        help="frames per feature window (for the window-centre offset)",
    )
    p.add_argument(
        "--default-fps", type=float, default=None, help="fps of videos whose annotation has none"
    )
    p.add_argument(
        "--resize-length",
        type=int,
        default=None,
        help="resample every video to this many steps (ActivityNet style)",
    )
    p.add_argument(
        "--file-prefix",
        default="" if defaults else None,
        help="feature files are PREFIX<video_id>.npy (ActivityNet TSP: v_)",
    )
    p.add_argument("--max-seq-len", type=int, default=2304)
    p.add_argument("--batch-size", type=int, default=2)
    p.add_argument("--device", default="cpu")
    p.add_argument("--seed", type=int, default=0)


def _shipped_config_names() -> list[str]:
    from actionbias.tal.config import shipped_configs

    return sorted(shipped_configs())


def add_eval_arguments(ev: argparse.ArgumentParser) -> None:
    """Flags of ``tal eval``."""
    ev.add_argument("--gt", required=True, help="ActivityNet/ActionFormer annotation JSON")
    ev.add_argument("--pred", required=True, help='{"results": {video: [{label, score, segment}]}}')
    ev.add_argument("--tiou", default="0.3:0.7:5", help="start:stop:count or a,b,c")
    ev.add_argument(
        "--subset",
        default=None,
        help="evaluate one subset (e.g. validation, test; case-insensitive). "
        "Default: every video of the file, whatever its subset",
    )
    ev.add_argument(
        "--ignore-unknown-videos",
        action="store_true",
        help="drop predictions on videos outside the evaluated subset instead of counting "
        "them as false positives (not the reference's rule; published numbers do not do this)",
    )
    ev.add_argument("--out", default=None, help="write the JSON here instead of stdout")


def add_train_arguments(tr: argparse.ArgumentParser) -> None:
    """Flags of ``tal train``; their defaults are `TALTrainOptions`'s."""
    from actionbias.tal.config import track_explicit_options

    track_explicit_options(tr)
    _data_args(tr)
    tr.add_argument(
        "--out",
        required=True,
        help="run folder (model.pt, config.json, history, metrics); the state after every "
        "epoch is kept in train_state.pt and rerunning the command continues from it",
    )
    tr.add_argument("--config", default=None, help="YAML config: a file or a shipped name")
    tr.add_argument(
        "--set",
        dest="sets",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override one option (any option name, e.g. epochs=10 language=none)",
    )
    tr.add_argument("--threads", type=int, help="torch CPU threads while training")
    tr.add_argument("--train-subset")
    tr.add_argument("--val-subset")
    tr.add_argument("--tiou")
    tr.add_argument("--epochs", type=int)
    tr.add_argument("--lr", type=float, help="detection head and new layers")
    tr.add_argument(
        "--language-lr",
        type=float,
        help="LoRA adapters of a pretrained language model (--language lm); the compact "
        "language model is trained from scratch at --lr",
    )
    tr.add_argument("--weight-decay", type=float)
    tr.add_argument("--warmup-epochs", type=float)
    tr.add_argument("--ema-decay", type=float, help="0: no EMA copy")
    tr.add_argument("--embed-dim", type=int)
    tr.add_argument("--heads", type=int)
    tr.add_argument("--window", type=int)
    tr.add_argument("--stem-blocks", type=int)
    tr.add_argument("--downsample-blocks", type=int)
    tr.add_argument(
        "--language",
        choices=["none", "compact", "lm"],
        help="none: vision-only ActionFormer; compact: small CPU language model over "
        "MiniLM-embedded descriptions; lm: a Hugging Face causal LM (--lm) with LoRA",
    )
    tr.add_argument(
        "--ablation",
        help="language weighting (default: full with a language model, vision-only "
        "without): full, llm-lambda-no-adv, global-lambda, no-tg, language-only, fixed-X",
    )
    tr.add_argument("--loss-tg", type=float, help="lambda_tg of Eq. 9")
    tr.add_argument("--loss-adv", type=float, help="lambda_adv of Eq. 9")
    tr.add_argument(
        "--descriptions",
        help="class descriptions, JSON or YAML (class -> sentence); default: the shipped "
        "THUMOS14 or SynthAct set when it covers every class",
    )
    tr.add_argument("--text-encoder", help="sentence encoder folder (default: MiniLM)")
    tr.add_argument("--lm-width", type=int, help="compact language model width")
    tr.add_argument("--lm-layers", type=int)
    tr.add_argument("--lm-heads", type=int)
    tr.add_argument("--lm", help="--language lm: causal LM id or folder (Qwen2.5)")
    tr.add_argument("--tokenizer", help="tokenizer folder (default: --lm's)")
    tr.add_argument("--lora-rank", type=int)
    tr.add_argument("--lora-alpha", type=int)
    tr.set_defaults(**TALTrainOptions.defaults())
    tr.set_defaults(tal_train_actions={a.dest: a for a in tr._actions if a.dest != "help"})


def add_infer_arguments(inf: argparse.ArgumentParser) -> None:
    """Flags of ``tal infer``: reading options left out are the checkpoint's."""
    _data_args(inf, defaults=False)
    inf.add_argument("--checkpoint", required=True)
    inf.add_argument("--subset", default=None)
    inf.add_argument("--out", default=None)
    inf.add_argument("--score-threshold", type=float, default=1e-3)
    inf.add_argument("--max-segments", type=int, default=200)
    inf.add_argument("--nms-sigma", type=float, default=0.5)


def add_features_arguments(fe: argparse.ArgumentParser) -> None:
    """Flags of ``tal features``."""
    fe.add_argument("--videos", required=True, help="a video file or a folder of videos")
    fe.add_argument("--out", required=True, help="output folder (<video>.npy, features.json)")
    fe.add_argument(
        "--model",
        default="slow_small",
        help="a registered model name, or hf:ID_OR_FOLDER for a transformers video encoder "
        "(VideoMAE, V-JEPA 2, ...; tokens mean-pooled, clip size and normalisation from its "
        "configs)",
    )
    fe.add_argument("--num-classes", type=int, default=400)
    fe.add_argument("--checkpoint", default=None, help="weights of the recogniser")
    fe.add_argument(
        "--option", action="append", default=[], help="model option KEY=VALUE (JSON value)"
    )
    fe.add_argument("--window", type=int, default=16)
    fe.add_argument("--stride", type=int, default=4)
    fe.add_argument(
        "--clip-frames",
        type=int,
        default=None,
        help="frames sampled per window (default 8; hf: the model's num_frames)",
    )
    fe.add_argument(
        "--size", type=int, default=None, help="frame side in pixels (default 112; hf: the model's)"
    )
    fe.add_argument("--batch-size", type=int, default=8)
    fe.add_argument("--device", default="cpu")
    fe.add_argument(
        "--annotations",
        default=None,
        help="annotation JSON to copy into --out with probed fps/duration",
    )
    fe.add_argument("--overwrite", action="store_true")


def add_demo_arguments(de: argparse.ArgumentParser) -> None:
    """Flags of ``tal demo``."""
    de.add_argument("--out", required=True, help="run folder (resumable)")
    de.add_argument(
        "--quick", action="store_true", help="tiny preset, one seed (~30-60 s on 2 cores)"
    )
    de.add_argument("--seed", type=int, default=0)
    de.add_argument("--recogniser", default=None, help="finished `actionbias train` run folder")


#: The ``tal`` group and its sub-commands.
COMMANDS: tuple[Command, ...] = (
    Command(
        name="tal",
        help="temporal action localisation (ActionFormer, mAP)",
        subcommands=(
            Command("eval", add_eval_arguments, cmd_eval),
            Command(
                name="train",
                help="train the ActionFormer detector or an ActionVLM variant on features",
                description="Train a temporal action detector on pre-extracted features: the "
                "vision-only ActionFormer (--language none) or ActionVLM with a language branch "
                "(--language compact|lm) weighted by --ablation (full: learned language "
                "advantage with L_adv and alternating vision / vision-language epochs; "
                "llm-lambda-no-adv: per-frame lambda without L_adv; global-lambda: one learned "
                "lambda; fixed-X: constant lambda X; no-tg; language-only). Options come from "
                "the built-in defaults < --config FILE < command-line flags < --set KEY=VALUE. "
                f"Shipped configs: {', '.join(_shipped_config_names())}.",
                add_arguments=add_train_arguments,
                handler=cmd_train,
            ),
            Command("infer", add_infer_arguments, cmd_infer),
            Command("features", add_features_arguments, cmd_features),
            Command("demo", add_demo_arguments, cmd_demo),
        ),
    ),
)
