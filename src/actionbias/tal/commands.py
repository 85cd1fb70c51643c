"""The ``actionbias tal features | train | infer | eval`` commands.

Heavy modules (torch, models) are imported inside the handlers so that
``actionbias --help`` stays fast.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from actionbias.errors import BadInputError

VIDEO_SUFFIXES = {".mp4", ".avi", ".mkv", ".webm", ".mov", ".m4v"}


def _write_json(obj: object, out: str | None) -> None:
    text = json.dumps(obj, indent=2)
    if out:
        from actionbias.fileio import atomic_write_text

        atomic_write_text(out, text + "\n")
    else:
        sys.stdout.write(text + "\n")


def _thresholds(spec: str):
    from actionbias.metrics.tal import parse_tiou_thresholds

    try:
        return parse_tiou_thresholds(spec)
    except ValueError as err:
        raise BadInputError(str(err), where="--tiou") from None


def cmd_eval(args: argparse.Namespace) -> int:
    from actionbias.data.activitynet import read_activitynet_json
    from actionbias.tal.evaluation import evaluate_files

    ann = read_activitynet_json(args.gt, subset=args.subset)
    if len(ann) == 0:
        raise BadInputError(f"no videos in subset {args.subset!r}", source=args.gt)
    result = evaluate_files(
        ann,
        args.pred,
        _thresholds(args.tiou),
        ignore_unknown_videos=args.ignore_unknown_videos,
        subset=args.subset,
    )
    _write_json(result.to_dict(), args.out)
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


def _dataset(
    args: argparse.Namespace, subset: str | None, train: bool, label_map=None, feature_dim=None
):
    from actionbias.data.activitynet import read_activitynet_json
    from actionbias.tal.features import TALFeatureDataset

    ann = read_activitynet_json(args.gt, subset=subset)
    return TALFeatureDataset(
        ann,
        args.features,
        label_map=label_map,
        feature_dim=feature_dim,
        feat_stride=args.feat_stride,
        num_frames=args.num_frames,
        default_fps=args.default_fps,
        max_seq_len=args.max_seq_len,
        resize_length=args.resize_length,
        train=train,
        seed=args.seed,
        file_prefix=args.file_prefix,
    )


def _predict(
    model, dataset, batch_size: int, device: str, cfg, inputs=None, skipped: list | None = None
) -> list:
    """Detections on every video; with `skipped`, a video whose features cannot be used is
    reported on stderr, recorded there as (video, reason) and left out instead of stopping."""
    from actionbias.tal.features import collate_samples
    from actionbias.tal.inference import detect_model

    model.to(device).eval()
    out = []
    for start in range(0, len(dataset), batch_size):
        samples = []
        for i in range(start, min(start + batch_size, len(dataset))):
            try:
                samples.append(dataset[i])
            except BadInputError as err:
                if skipped is None:
                    raise
                skipped.append((dataset.videos[i].id, str(err)))
                print(f"skipped {dataset.videos[i].id}: {err}", file=sys.stderr)
        if not samples:
            continue
        batch = collate_samples(samples, pad_to=model.detector.max_stride)
        batch["feats"] = batch["feats"].to(device)
        batch["mask"] = batch["mask"].to(device)
        out.extend(detect_model(model, batch, cfg, inputs))
    return out


def _descriptions(args: argparse.Namespace, classes: list[str]) -> list[str]:
    """One description per class id: --descriptions FILE, else a shipped set that covers
    every class (the paper's THUMOS14 set, SynthAct's); ids no class uses get their name."""
    from actionbias.tal.demo import synthact_descriptions
    from actionbias.tal.language.descriptions import load_descriptions, thumos14_descriptions

    real = [c for c in classes if not c.startswith("<unused ")]
    if args.descriptions:
        table = load_descriptions(args.descriptions)
        source = str(args.descriptions)
    else:
        for name, table in (
            ("THUMOS14", thumos14_descriptions()),
            ("SynthAct", synthact_descriptions()),
        ):
            if all(c in table for c in real):
                source = f"shipped {name} descriptions"
                break
        else:
            raise BadInputError(
                f"no shipped descriptions cover classes such as {real[0]!r}: pass "
                "--descriptions FILE (JSON or YAML: class name -> one sentence)",
                where="--descriptions",
            )
    missing = [c for c in real if c not in table]
    if missing:
        raise BadInputError(
            f"no description for class {missing[0]!r} ({len(missing)} missing)", source=source
        )
    return [table.get(c, c) for c in classes]


def _language_inputs(args: argparse.Namespace, spec: dict, classes: list[str]):
    """The prompt of the language branch (None for a vision-only model)."""
    lang = spec.get("language")
    if lang is None:
        return None
    texts = _descriptions(args, classes)
    if lang["kind"] == "compact":
        from actionbias.tal.language.inputs import CompactInputs, compact_prompt

        try:
            return CompactInputs(compact_prompt(texts, args.text_encoder))
        except (OSError, ValueError) as err:
            raise BadInputError(f"text encoder: {err}", where="--text-encoder") from err
    from transformers import AutoTokenizer

    from actionbias.tal.language.inputs import CausalLMInputs

    try:
        tokenizer = AutoTokenizer.from_pretrained(args.tokenizer or lang["name_or_path"])
    except (OSError, ValueError) as err:
        raise BadInputError(f"cannot load the tokenizer: {err}", where="--tokenizer") from err
    return CausalLMInputs(tokenizer, classes, texts)


def _model_spec(args: argparse.Namespace, in_dim: int, num_classes: int) -> dict:
    from actionbias.tal.actionvlm import model_spec

    detector = {
        "embed_dim": args.embed_dim,
        "fpn_dim": args.embed_dim,
        "head_dim": args.embed_dim,
        "window": args.window,
        "heads": args.heads,
        "stem_blocks": args.stem_blocks,
        "downsample_blocks": args.downsample_blocks,
        "max_seq_len": args.max_seq_len,
    }
    compact = {"width": args.lm_width, "layers": args.lm_layers, "heads": args.lm_heads}
    lm_options = {"lora_rank": args.lora_rank, "lora_alpha": args.lora_alpha}
    try:
        spec = model_spec(
            in_dim,
            num_classes,
            detector,
            language=args.language,
            ablation=args.ablation,
            compact=compact,
            lm=args.lm,
            lm_options=lm_options,
        )
    except ValueError as err:
        raise BadInputError(str(err), where="--language/--ablation") from None
    if args.tokenizer and spec["language"]:
        spec["language"]["tokenizer"] = args.tokenizer
    return spec


def _epoch_line(epochs: int, epoch: int, row: dict) -> str:
    parts = [f"cls {row['cls']:.4f}", f"reg {row['reg']:.4f}"]
    parts += [f"{k} {row[k]:.4f}" for k in ("tg", "adv", "mean_lambda") if k in row]
    return (
        f"epoch {epoch + 1}/{epochs} ({row.get('mode', 'vision')}): "
        f"loss {row['total']:.4f} ({', '.join(parts)})"
    )


def cmd_train(args: argparse.Namespace) -> int:
    import torch

    from actionbias.tal.actionvlm import build_tal_model, save_tal_model
    from actionbias.tal.config import resolve
    from actionbias.tal.inference import InferenceConfig, results_json
    from actionbias.tal.train import TALTrainConfig, fit

    resolve(args, args.tal_train_actions, args.config, args.sets)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    train_set = _dataset(args, args.train_subset, train=True)
    if len(train_set) == 0:
        raise BadInputError(f"no annotated videos in subset {args.train_subset!r}", source=args.gt)
    in_dim = train_set[0].feats.shape[0]
    spec = _model_spec(args, in_dim, train_set.num_classes)
    torch.manual_seed(args.seed)
    try:
        model = build_tal_model(spec)
    except OSError as err:  # a Hugging Face folder or id that cannot be loaded
        raise BadInputError(f"cannot load the language model: {err}", where="--lm") from err
    inputs = _language_inputs(args, spec, train_set.classes)
    cfg = TALTrainConfig(
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        language_lr=args.language_lr,
        weight_decay=args.weight_decay,
        warmup_epochs=args.warmup_epochs,
        ema_decay=args.ema_decay or None,
        loss_tg=args.loss_tg,
        loss_adv=args.loss_adv,
        seed=args.seed,
        device=args.device,
        num_threads=args.threads,
    )
    state_path = out / "train_state.pt"
    if state_path.is_file():
        print(f"resuming from {state_path}", file=sys.stderr)
    data = {
        "gt": str(Path(args.gt).resolve()),
        "features": str(Path(args.features).resolve()),
        "train_subset": args.train_subset,
        "file_prefix": args.file_prefix,
        "feat_stride": args.feat_stride,
        "num_frames": args.num_frames,
        "default_fps": args.default_fps,
        "max_seq_len": args.max_seq_len,
        "resize_length": args.resize_length,
    }
    prompt = inputs.state() if inputs is not None else None
    text = prompt.get("descriptions") if prompt else None
    if prompt and prompt["kind"] == "compact":
        text = [round(float(x), 6) for x in prompt["prompt"].flatten()[:64]]
    settings = {"data": data, "spec": spec, "prompt": text}
    options = {k: v for k, v in vars(args).items() if k in args.tal_train_actions}
    _write_json({"options": options, "spec": spec}, str(out / "config.json"))
    result = fit(
        model,
        train_set,
        cfg,
        on_epoch=lambda e, row: print(_epoch_line(cfg.epochs, e, row), file=sys.stderr),
        language_inputs=inputs,
        state_path=state_path,
        settings=settings,
    )
    extra = {
        "classes": train_set.classes,
        "label_map": train_set.label_map,
        "feat_stride": args.feat_stride,
        "num_frames": args.num_frames,
        "default_fps": args.default_fps,
        "resize_length": args.resize_length,
        "file_prefix": args.file_prefix,
        "max_seq_len": args.max_seq_len,
    }
    final = result.ema_model.cpu()
    save_tal_model(out / "model.pt", final, inputs=inputs, extra=extra)
    _write_json({"history": result.history}, str(out / "history.json"))
    summary: dict[str, object] = {
        "checkpoint": str(out / "model.pt"),
        "model": spec["ablation"] + ("" if spec["language"] is None else f" ({args.language})"),
        "videos": len(train_set),
    }
    if args.val_subset:
        val = _dataset(
            args, args.val_subset, False, label_map=train_set.label_map, feature_dim=in_dim
        )
        if len(val):
            dets = _predict(final, val, args.batch_size, args.device, InferenceConfig(), inputs)
            _write_json(results_json(dets, train_set.classes), str(out / "predictions.json"))
            from actionbias.data.activitynet import read_activitynet_json
            from actionbias.tal.evaluation import evaluate_files

            ann = read_activitynet_json(args.gt, subset=args.val_subset)
            res = evaluate_files(
                ann, out / "predictions.json", _thresholds(args.tiou), subset=args.val_subset
            )
            _write_json(res.to_dict(), str(out / "metrics.json"))
            summary["average_mAP"] = res.average_map
    _write_json(summary, None)
    return 0


def cmd_infer(args: argparse.Namespace) -> int:
    from actionbias.tal.actionvlm import load_tal_model
    from actionbias.tal.inference import InferenceConfig, results_json

    model, inputs, extra = load_tal_model(args.checkpoint)
    for key in ("feat_stride", "num_frames", "default_fps", "resize_length", "file_prefix"):
        if getattr(args, key) is None and key in extra:
            setattr(args, key, extra[key])
    args.feat_stride = args.feat_stride or 4
    args.num_frames = args.num_frames or 16
    args.file_prefix = args.file_prefix or ""
    in_dim = model.detector.in_dim
    dataset = _dataset(args, args.subset, False, extra.get("label_map"), feature_dim=in_dim)
    cfg = InferenceConfig(
        score_threshold=args.score_threshold,
        max_segments=args.max_segments,
        nms_sigma=args.nms_sigma,
    )
    skipped: list[tuple[str, str]] = []
    dets = _predict(model, dataset, args.batch_size, args.device, cfg, inputs, skipped)
    if skipped and len(skipped) == len(dataset):
        raise BadInputError(f"no usable features for any of the {len(dataset)} videos; first: "
                            f"{skipped[0][1]}")  # fmt: skip
    classes = extra.get("classes") or dataset.classes
    results = results_json(dets, classes)
    if skipped:
        results["skipped"] = [{"video": v, "reason": r} for v, r in skipped]
        print(f"{len(skipped)} of {len(dataset)} videos skipped", file=sys.stderr)
    _write_json(results, args.out)
    return 0


def _video_list(src: Path) -> list[Path]:
    if src.is_dir():
        videos = sorted(p for p in src.iterdir() if p.suffix.lower() in VIDEO_SUFFIXES)
    elif src.is_file():
        videos = [src]
    else:
        raise BadInputError("no such file or directory", source=src)
    if not videos:
        raise BadInputError("no video files found", source=src)
    return videos


def _registered_extractor(args: argparse.Namespace):
    """(extractor, ExtractConfig options) of a registered recogniser's penultimate layer."""
    from actionbias.models.registry import build_model, model_entry
    from actionbias.tal.extract import PenultimateFeatures

    options = {}
    for item in args.option:
        name, sep, value = item.partition("=")
        if not sep:
            raise BadInputError(f"expected KEY=VALUE, got {item!r}", where="--option")
        try:
            options[name] = json.loads(value)
        except json.JSONDecodeError:
            options[name] = value
    model = build_model(args.model, args.num_classes, pretrained=args.checkpoint, **options)
    key = model_entry(args.model).required_inputs[0]
    if key != "video":
        raise BadInputError(f"model {args.model!r} needs {key!r} input; pick a video model")
    size = args.size or 112
    clip = {"clip_frames": args.clip_frames or 8, "size": (size, size)}
    return PenultimateFeatures(model), clip


def _hf_extractor(args: argparse.Namespace):
    """(extractor, ExtractConfig options) of a Hugging Face video encoder, sized by its configs."""
    from actionbias.tal.hf_extract import load_hf_video_model

    if args.checkpoint or args.option:
        raise BadInputError(
            "--checkpoint/--option apply to registered models, not hf:", where="--model"
        )
    extractor, spec = load_hf_video_model(args.model)
    frames = spec.clip_frames or args.clip_frames or 16
    if spec.clip_frames and args.clip_frames and args.clip_frames != spec.clip_frames:
        raise BadInputError(
            f"the model takes {spec.clip_frames}-frame clips, not {args.clip_frames}",
            where="--clip-frames",
        )
    size = (args.size, args.size) if args.size else (spec.size or (224, 224))
    clip = {"clip_frames": frames, "size": size, "mean": spec.mean, "std": spec.std}
    return extractor, clip


def cmd_features(args: argparse.Namespace) -> int:
    from actionbias.tal.extract import ExtractConfig, extract_directory
    from actionbias.tal.hf_extract import is_hf_model

    videos = _video_list(Path(args.videos))
    hf = is_hf_model(args.model)
    extractor, clip = _hf_extractor(args) if hf else _registered_extractor(args)
    cfg = ExtractConfig(
        window=args.window,
        stride=args.stride,
        batch_size=args.batch_size,
        device=args.device,
        **clip,
    )
    extractor = extractor.to(args.device)
    meta = extract_directory(extractor, videos, args.out, cfg, "video", overwrite=args.overwrite)
    info = {
        "model": args.model,
        "feature_dim": extractor.dim,
        "feat_stride": args.stride,
        "num_frames": args.window,
        "clip_frames": cfg.clip_frames,
        "size": list(cfg.size),
        "mean": list(cfg.mean),
        "std": list(cfg.std),
        "videos": meta,
    }
    _write_json(info, str(Path(args.out) / "features.json"))
    if args.annotations:
        from actionbias.data.activitynet import read_activitynet_json, write_activitynet_json

        ann = read_activitynet_json(args.annotations)
        for video in ann:
            entry = meta.get(video.id, {})
            if "fps" in entry:
                video.fps = entry["fps"]
                video.duration = video.duration or entry["duration"]
        write_activitynet_json(ann, Path(args.out) / "annotations.json")
    failed = sum(1 for m in meta.values() if "error" in m)
    print(f"{len(meta) - failed} videos -> {args.out} ({failed} skipped)")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
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


def add_tal_parsers(sub: argparse._SubParsersAction) -> argparse._SubParsersAction:
    """Register ``tal`` and its sub-commands; returns the ``tal`` sub-parser group."""
    tal = sub.add_parser("tal", help="temporal action localisation (ActionFormer, mAP)")
    tal_sub = tal.add_subparsers(dest="tal_command", metavar="COMMAND", required=True)

    ev = tal_sub.add_parser(
        "eval",
        help="mAP per tIoU, average mAP and per-class AP of a results file",
        description="ActivityNet/ActionFormer detection mAP, by the reference's rules: every "
        "prediction in the file is scored, and one on a video without ground truth of its "
        "class -- a video of another subset or absent from the annotation file included -- "
        "is a false positive. The JSON and a line on stderr say how many there were.",
    )
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
    ev.set_defaults(handler=cmd_eval)

    tr = tal_sub.add_parser(
        "train",
        help="train the ActionFormer detector or an ActionVLM variant on features",
        description="Train a temporal action detector on pre-extracted features: the "
        "vision-only ActionFormer (--language none) or ActionVLM with a language branch "
        "(--language compact|lm) weighted by --ablation (full: learned language advantage "
        "with L_adv and alternating vision / vision-language epochs; llm-lambda-no-adv: "
        "per-frame lambda without L_adv; global-lambda: one learned lambda; fixed-X: "
        "constant lambda X; no-tg; language-only). Options come from the built-in "
        "defaults < --config FILE < command-line flags < --set KEY=VALUE. "
        f"Shipped configs: {', '.join(_shipped_config_names())}.",
    )
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
    tr.add_argument("--threads", type=int, default=None, help="torch CPU threads while training")
    tr.add_argument("--train-subset", default="training")
    tr.add_argument("--val-subset", default="validation")
    tr.add_argument("--tiou", default="0.3:0.7:5")
    tr.add_argument("--epochs", type=int, default=35)
    tr.add_argument("--lr", type=float, default=1e-4, help="detection head and new layers")
    tr.add_argument(
        "--language-lr",
        type=float,
        default=5e-6,
        help="LoRA adapters of a pretrained language model (--language lm); the compact "
        "language model is trained from scratch at --lr",
    )
    tr.add_argument("--weight-decay", type=float, default=0.05)
    tr.add_argument("--warmup-epochs", type=float, default=5)
    tr.add_argument("--ema-decay", type=float, default=0.999, help="0: no EMA copy")
    tr.add_argument("--embed-dim", type=int, default=512)
    tr.add_argument("--heads", type=int, default=4)
    tr.add_argument("--window", type=int, default=19)
    tr.add_argument("--stem-blocks", type=int, default=2)
    tr.add_argument("--downsample-blocks", type=int, default=5)
    tr.add_argument(
        "--language",
        default="none",
        choices=["none", "compact", "lm"],
        help="none: vision-only ActionFormer; compact: small CPU language model over "
        "MiniLM-embedded descriptions; lm: a Hugging Face causal LM (--lm) with LoRA",
    )
    tr.add_argument(
        "--ablation",
        default=None,
        help="language weighting (default: full with a language model, vision-only "
        "without): full, llm-lambda-no-adv, global-lambda, no-tg, language-only, fixed-X",
    )
    tr.add_argument("--loss-tg", type=float, default=0.1, help="lambda_tg of Eq. 9")
    tr.add_argument("--loss-adv", type=float, default=0.1, help="lambda_adv of Eq. 9")
    tr.add_argument(
        "--descriptions",
        default=None,
        help="class descriptions, JSON or YAML (class -> sentence); default: the shipped "
        "THUMOS14 or SynthAct set when it covers every class",
    )
    tr.add_argument(
        "--text-encoder", default=None, help="sentence encoder folder (default: MiniLM)"
    )
    tr.add_argument("--lm-width", type=int, default=128, help="compact language model width")
    tr.add_argument("--lm-layers", type=int, default=2)
    tr.add_argument("--lm-heads", type=int, default=4)
    tr.add_argument("--lm", default=None, help="--language lm: causal LM id or folder (Qwen2.5)")
    tr.add_argument("--tokenizer", default=None, help="tokenizer folder (default: --lm's)")
    tr.add_argument("--lora-rank", type=int, default=128)
    tr.add_argument("--lora-alpha", type=int, default=256)
    tr.set_defaults(handler=cmd_train)
    tr.set_defaults(tal_train_actions={a.dest: a for a in tr._actions if a.dest != "help"})

    inf = tal_sub.add_parser("infer", help="detections of a trained detector as results JSON")
    _data_args(inf, defaults=False)
    inf.add_argument("--checkpoint", required=True)
    inf.add_argument("--subset", default=None)
    inf.add_argument("--out", default=None)
    inf.add_argument("--score-threshold", type=float, default=1e-3)
    inf.add_argument("--max-segments", type=int, default=200)
    inf.add_argument("--nms-sigma", type=float, default=0.5)
    inf.set_defaults(handler=cmd_infer)

    fe = tal_sub.add_parser(
        "features",
        help="sliding-window features of videos with a registered recogniser or a "
        "Hugging Face video encoder",
    )
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
    fe.set_defaults(handler=cmd_features)

    de = tal_sub.add_parser(
        "demo",
        help="SynthAct untrimmed videos -> features -> vision-only vs ActionVLM, mAP, LAP, report",
    )
    de.add_argument("--out", required=True, help="run folder (resumable)")
    de.add_argument(
        "--quick", action="store_true", help="tiny preset, one seed (~30-60 s on 2 cores)"
    )
    de.add_argument("--seed", type=int, default=0)
    de.add_argument("--recogniser", default=None, help="finished `actionbias train` run folder")
    de.set_defaults(handler=cmd_demo)
    return tal_sub
