"""The ``tal train`` and ``tal infer`` workflows as library functions.

``train_detector(TALTrainOptions(gt=..., features=..., out=...))`` trains the
vision-only ActionFormer or an ActionVLM variant on pre-extracted features into a
run folder, exactly as ``actionbias tal train`` does (the command only resolves its
config file and ``--set`` overrides, then calls it). ``detect_videos(checkpoint,
gt, features)`` is ``tal infer``: the detections of a trained model as results JSON.

Nothing heavy is imported at module level: the command line reads
`TALTrainOptions` to build its parser, and ``actionbias tal eval`` must start
without torch.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Mapping
from dataclasses import MISSING, asdict, dataclass, fields
from pathlib import Path
from typing import Any

from actionbias.errors import BadInputError

#: How feature files are named, sampled and mapped to seconds. A checkpoint keeps them, so
#: that `tal infer` reads features as training did, and a resumed run must keep them.
FEATURE_READING = ("feat_stride", "num_frames", "default_fps", "resize_length", "file_prefix")


def _stderr(message: str) -> None:
    print(message, file=sys.stderr)


def _reading(options: Any) -> dict[str, Any]:
    """The `FEATURE_READING` options and the sequence length, as `TALFeatureDataset` takes them."""
    return {key: getattr(options, key) for key in (*FEATURE_READING, "max_seq_len")}


@dataclass(frozen=True, kw_only=True)
class TALTrainOptions:
    """Every option of ``actionbias tal train`` (same names and defaults; see its --help).

    Grouped as the command lists them: data (annotation file, feature folder and how
    feature steps map to seconds), the run (folder, subsets, threads), optimisation,
    the detector's shape and the language branch.
    """

    gt: str
    features: str
    feat_stride: float = 4
    num_frames: float = 16
    default_fps: float | None = None
    resize_length: int | None = None
    file_prefix: str = ""
    max_seq_len: int = 2304
    batch_size: int = 2
    device: str = "cpu"
    seed: int = 0
    out: str
    threads: int | None = None
    train_subset: str = "training"
    val_subset: str | None = "validation"
    tiou: str = "0.3:0.7:5"
    epochs: int = 35
    lr: float = 1e-4
    language_lr: float = 5e-6
    weight_decay: float = 0.05
    warmup_epochs: float = 5
    ema_decay: float = 0.999
    embed_dim: int = 512
    heads: int = 4
    window: int = 19
    stem_blocks: int = 2
    downsample_blocks: int = 5
    language: str = "none"
    ablation: str | None = None
    loss_tg: float = 0.1
    loss_adv: float = 0.1
    descriptions: str | None = None
    text_encoder: str | None = None
    lm_width: int = 128
    lm_layers: int = 2
    lm_heads: int = 4
    lm: str | None = None
    tokenizer: str | None = None
    lora_rank: int = 128
    lora_alpha: int = 256

    @classmethod
    def defaults(cls) -> dict[str, Any]:
        """Option name -> default, for every option that has one (the parser's defaults)."""
        return {f.name: f.default for f in fields(cls) if f.default is not MISSING}

    @classmethod
    def from_options(cls, options: Any) -> TALTrainOptions:
        """The fields read off any object with these attributes (the parsed command line)."""
        return cls(**{f.name: getattr(options, f.name) for f in fields(cls)})


def write_json(obj: object, out: str | Path | None) -> None:
    """Indented JSON to the file `out` (atomically), or to stdout when `out` is None."""
    text = json.dumps(obj, indent=2)
    if out:
        from actionbias.fileio import atomic_write_text

        atomic_write_text(out, text + "\n")
    else:
        sys.stdout.write(text + "\n")


def tiou_thresholds(spec: str) -> Any:
    """The tIoU thresholds of ``start:stop:count`` or ``a,b,c`` (bad input names --tiou)."""
    from actionbias.metrics.tal import parse_tiou_thresholds

    try:
        return parse_tiou_thresholds(spec)
    except ValueError as err:
        raise BadInputError(str(err), where="--tiou") from None


def feature_dataset(
    options: Any, subset: str | None, train: bool, label_map=None, feature_dim=None
) -> Any:
    """The annotated videos of `subset` with their feature files, as `options` describes them."""
    from actionbias.data.activitynet import read_activitynet_json
    from actionbias.tal.features import TALFeatureDataset

    ann = read_activitynet_json(options.gt, subset=subset)
    return TALFeatureDataset(
        ann,
        options.features,
        label_map=label_map,
        feature_dim=feature_dim,
        train=train,
        seed=options.seed,
        **_reading(options),
    )


def predict(
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


def class_descriptions(descriptions: str | None, classes: list[str]) -> list[str]:
    """One description per class id: the file `descriptions`, else a shipped set that covers
    every class (the paper's THUMOS14 set, SynthAct's); ids no class uses get their name."""
    from actionbias.tal.demo_settings import synthact_descriptions
    from actionbias.tal.language.descriptions import load_descriptions, thumos14_descriptions

    real = [c for c in classes if not c.startswith("<unused ")]
    if descriptions:
        table = load_descriptions(descriptions)
        source = str(descriptions)
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


def language_inputs(options: TALTrainOptions, spec: dict, classes: list[str]) -> Any:
    """The prompt of the language branch (None for a vision-only model)."""
    lang = spec.get("language")
    if lang is None:
        return None
    texts = class_descriptions(options.descriptions, classes)
    if lang["kind"] == "compact":
        from actionbias.tal.language.inputs import CompactInputs, compact_prompt

        try:
            return CompactInputs(compact_prompt(texts, options.text_encoder))
        except (OSError, ValueError) as err:
            raise BadInputError(f"text encoder: {err}", where="--text-encoder") from err
    from transformers import AutoTokenizer

    from actionbias.tal.language.inputs import CausalLMInputs

    try:
        tokenizer = AutoTokenizer.from_pretrained(options.tokenizer or lang["name_or_path"])
    except (OSError, ValueError) as err:
        raise BadInputError(f"cannot load the tokenizer: {err}", where="--tokenizer") from err
    return CausalLMInputs(tokenizer, classes, texts)


def detector_spec(options: TALTrainOptions, in_dim: int, num_classes: int) -> dict:
    """The model spec (`actionbias.tal.actionvlm.model_spec`) the options describe."""
    from actionbias.tal.actionvlm import model_spec

    detector = {
        "embed_dim": options.embed_dim,
        "fpn_dim": options.embed_dim,
        "head_dim": options.embed_dim,
        "window": options.window,
        "heads": options.heads,
        "stem_blocks": options.stem_blocks,
        "downsample_blocks": options.downsample_blocks,
        "max_seq_len": options.max_seq_len,
    }
    compact = {"width": options.lm_width, "layers": options.lm_layers, "heads": options.lm_heads}
    lm_options = {"lora_rank": options.lora_rank, "lora_alpha": options.lora_alpha}
    try:
        spec = model_spec(
            in_dim,
            num_classes,
            detector,
            language=options.language,
            ablation=options.ablation,
            compact=compact,
            lm=options.lm,
            lm_options=lm_options,
        )
    except ValueError as err:
        raise BadInputError(str(err), where="--language/--ablation") from None
    if options.tokenizer and spec["language"]:
        spec["language"]["tokenizer"] = options.tokenizer
    return spec


def epoch_line(epochs: int, epoch: int, row: dict) -> str:
    """One progress line per finished epoch: its losses (and mean lambda, with language)."""
    parts = [f"cls {row['cls']:.4f}", f"reg {row['reg']:.4f}"]
    parts += [f"{k} {row[k]:.4f}" for k in ("tg", "adv", "mean_lambda") if k in row]
    return (
        f"epoch {epoch + 1}/{epochs} ({row.get('mode', 'vision')}): "
        f"loss {row['total']:.4f} ({', '.join(parts)})"
    )


def _data_settings(options: TALTrainOptions) -> dict[str, Any]:
    """What the data side of a resumed run must keep (its settings guard)."""
    return {
        "gt": str(Path(options.gt).resolve()),
        "features": str(Path(options.features).resolve()),
        "train_subset": options.train_subset,
        **_reading(options),
    }


def _checkpoint_extra(options: TALTrainOptions, train_set: Any) -> dict[str, Any]:
    """What `tal infer` needs besides the weights to read features as training did."""
    return {
        "classes": train_set.classes,
        "label_map": train_set.label_map,
        **_reading(options),
    }


def _fit_config(options: TALTrainOptions) -> Any:
    """The training loop's settings (`actionbias.tal.train.TALTrainConfig`) of the options.

    The command's options carry the loop's settings under the loop's own names
    (epochs, rates, loss weights, seed, device); only two are spelled otherwise:
    ``--ema-decay 0`` means no EMA and ``--threads`` is ``num_threads``. Settings
    the command does not offer (gradient clip, alternation) keep the loop's defaults.
    """
    from actionbias.tal.train import TALTrainConfig

    offered = {f.name for f in fields(TALTrainOptions)}
    same = {f.name: getattr(options, f.name) for f in fields(TALTrainConfig) if f.name in offered}
    same["ema_decay"] = options.ema_decay or None
    return TALTrainConfig(**same, num_threads=options.threads)


def _prompt_settings(inputs: Any) -> Any:
    """The part of the language prompt a resumed run must keep: the descriptions, or the
    first 64 values of a compact prompt's embedding."""
    prompt = inputs.state() if inputs is not None else None
    text = prompt.get("descriptions") if prompt else None
    if prompt and prompt["kind"] == "compact":
        text = [round(float(x), 6) for x in prompt["prompt"].flatten()[:64]]
    return text


def _validate(
    options: TALTrainOptions, model: Any, train_set: Any, in_dim: int, inputs: Any
) -> float | None:
    """Detect on the validation subset and score it (predictions.json, metrics.json in the
    run folder); the average mAP, or None when the subset has no videos."""
    from actionbias.data.activitynet import read_activitynet_json
    from actionbias.tal.evaluation import evaluate_files
    from actionbias.tal.inference import InferenceConfig, results_json

    out = Path(options.out)
    val = feature_dataset(
        options, options.val_subset, False, label_map=train_set.label_map, feature_dim=in_dim
    )
    if not len(val):
        return None
    dets = predict(model, val, options.batch_size, options.device, InferenceConfig(), inputs)
    write_json(results_json(dets, train_set.classes), out / "predictions.json")
    ann = read_activitynet_json(options.gt, subset=options.val_subset)
    thresholds = tiou_thresholds(options.tiou)
    res = evaluate_files(ann, out / "predictions.json", thresholds, subset=options.val_subset)
    write_json(res.to_dict(), out / "metrics.json")
    return res.average_map


def train_detector(
    options: TALTrainOptions,
    *,
    record: Mapping[str, Any] | None = None,
    log: Callable[[str], None] = _stderr,
) -> dict[str, Any]:
    """Train a detector on ``options.train_subset`` into ``options.out``; score the EMA copy
    on ``options.val_subset``; return the summary ``tal train`` prints.

    The run folder gets config.json (`record`, default the options, and the model spec),
    model.pt, history.json and, with a validation subset, predictions.json and
    metrics.json. The state after every epoch is kept in train_state.pt, so calling it
    again continues a killed run (and refuses one whose data or model settings differ).
    `log` receives the resume notice and one line per epoch.
    """
    import torch

    from actionbias.tal.actionvlm import build_tal_model, save_tal_model
    from actionbias.tal.train import fit

    out = Path(options.out)
    out.mkdir(parents=True, exist_ok=True)
    train_set = feature_dataset(options, options.train_subset, train=True)
    if len(train_set) == 0:
        raise BadInputError(
            f"no annotated videos in subset {options.train_subset!r}", source=options.gt
        )
    in_dim = train_set[0].feats.shape[0]
    spec = detector_spec(options, in_dim, train_set.num_classes)
    torch.manual_seed(options.seed)
    try:
        model = build_tal_model(spec)
    except OSError as err:  # a Hugging Face folder or id that cannot be loaded
        raise BadInputError(f"cannot load the language model: {err}", where="--lm") from err
    inputs = language_inputs(options, spec, train_set.classes)
    cfg = _fit_config(options)
    state_path = out / "train_state.pt"
    if state_path.is_file():
        log(f"resuming from {state_path}")
    settings = {"data": _data_settings(options), "spec": spec, "prompt": _prompt_settings(inputs)}
    recorded = dict(record) if record is not None else asdict(options)
    write_json({"options": recorded, "spec": spec}, out / "config.json")
    result = fit(
        model,
        train_set,
        cfg,
        on_epoch=lambda e, row: log(epoch_line(cfg.epochs, e, row)),
        language_inputs=inputs,
        state_path=state_path,
        settings=settings,
    )
    final = result.ema_model.cpu()
    save_tal_model(
        out / "model.pt", final, inputs=inputs, extra=_checkpoint_extra(options, train_set)
    )
    write_json({"history": result.history}, out / "history.json")
    language = "" if spec["language"] is None else f" ({options.language})"
    summary: dict[str, Any] = {
        "checkpoint": str(out / "model.pt"),
        "model": spec["ablation"] + language,
        "videos": len(train_set),
    }
    if options.val_subset:
        score = _validate(options, final, train_set, in_dim, inputs)
        if score is not None:
            summary["average_mAP"] = score
    return summary


def detect_videos(
    checkpoint: str | Path,
    gt: str | Path,
    features: str | Path,
    *,
    subset: str | None = None,
    feat_stride: float | None = None,
    num_frames: float | None = None,
    default_fps: float | None = None,
    resize_length: int | None = None,
    file_prefix: str | None = None,
    max_seq_len: int = 2304,
    batch_size: int = 2,
    device: str = "cpu",
    seed: int = 0,
    inference: Any = None,
    log: Callable[[str], None] = _stderr,
) -> dict[str, Any]:
    """Detections of the model in `checkpoint` on the videos of `gt` (one `subset`, or all).

    Feature reading options left None are the ones the model was trained with (then
    stride 4, 16-frame windows, no file prefix). A video whose features cannot be used
    is skipped, logged and listed under ``skipped`` in the results; none usable at all
    is bad input. `inference` is an `InferenceConfig` (default thresholds when None).
    """
    from types import SimpleNamespace

    from actionbias.tal.actionvlm import load_tal_model
    from actionbias.tal.inference import InferenceConfig, results_json

    model, inputs, extra = load_tal_model(checkpoint)
    reading = {
        "feat_stride": feat_stride,
        "num_frames": num_frames,
        "default_fps": default_fps,
        "resize_length": resize_length,
        "file_prefix": file_prefix,
    }
    for key, value in reading.items():
        if value is None and key in extra:
            reading[key] = extra[key]
    reading["feat_stride"] = reading["feat_stride"] or 4
    reading["num_frames"] = reading["num_frames"] or 16
    reading["file_prefix"] = reading["file_prefix"] or ""
    options = SimpleNamespace(
        gt=gt, features=features, max_seq_len=max_seq_len, seed=seed, **reading
    )
    in_dim = model.detector.in_dim
    dataset = feature_dataset(options, subset, False, extra.get("label_map"), feature_dim=in_dim)
    skipped: list[tuple[str, str]] = []
    cfg = inference if inference is not None else InferenceConfig()
    dets = predict(model, dataset, batch_size, device, cfg, inputs, skipped)
    if skipped and len(skipped) == len(dataset):
        raise BadInputError(f"no usable features for any of the {len(dataset)} videos; first: "
                            f"{skipped[0][1]}")  # fmt: skip
    classes = extra.get("classes") or dataset.classes
    results = results_json(dets, classes)
    if skipped:
        results["skipped"] = [{"video": v, "reason": r} for v, r in skipped]
        log(f"{len(skipped)} of {len(dataset)} videos skipped")
    return results
