"""`actionbias tal demo`: ActionVLM end to end on SynthAct untrimmed videos, on CPU.

Stages, each skipped when its output exists (the run folder is resumable):

1. ``data/``: SynthAct with more untrimmed videos than the presets make (the
   untrimmed set is re-split 60/20/20 into training/validation/test by a
   seeded permutation, written to ``tal/annotations.json``).
2. ``recogniser/``: slow_tiny trained on SynthAct's trimmed clips with the
   ``synthact`` recipe (or an existing run folder passed as `recogniser_dir`).
3. ``features/``: its penultimate features on 16-frame windows every 4 frames
   (`tal features`' extractor), one ``.npy`` per untrimmed video.
4. ``detectors/``: per seed, (a) the vision-only ActionFormer and (b) ActionVLM
   with the compact language model over the SynthAct class descriptions, both
   trained by `ActionVLMTrainer` with the same optimiser, schedule and
   detector initialisation, so the only difference is the language branch.
5. ``results.json`` and ``report.html``: mAP per tIoU and average mAP on the
   test split, LAP (ActionVLM re-evaluated with deranged descriptions),
   easy/medium/hard classes (by vision-only AP on the *validation* split, so
   the grouping is not fitted to the test numbers) with the mean predicted
   language advantage, and the reversed-motion pairs (SynthAct's visually
   ambiguous classes: same poses, opposite order) against the other classes.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from actionbias.errors import BadInputError
from actionbias.fileio import atomic_path, atomic_write_text

log = logging.getLogger(__name__)

# every model of the demo is tiny (64 px slow_tiny, 64-channel detectors): one torch thread
# is as fast on idle cores and several times faster on busy ones (see `torch_threads`)
DEMO_THREADS = 1
SPLITS = {"training": 0.6, "validation": 0.2, "test": 0.2}
TIOU = (0.3, 0.4, 0.5, 0.6, 0.7)
VISION, ACTIONVLM = "vision-only", "actionvlm"


@dataclass(frozen=True)
class TALDemoSettings:
    """Everything that decides the demo's numbers; stored with the run and checked on resume."""

    preset: str
    synth: dict[str, Any]
    recogniser_epochs: int
    window: int = 16
    stride: int = 4
    clip_frames: int = 8
    size: int = 64
    width: int = 64
    downsample_blocks: int = 3
    attn_window: int = 9
    epochs: int = 30
    batch_size: int = 4
    lr: float = 1e-3
    weight_decay: float = 0.05
    lm_width: int = 64
    seeds: tuple[int, ...] = (0,)
    lap_permutations: int = 3
    data_seed: int = 0
    splits: dict[str, float] = field(default_factory=lambda: dict(SPLITS))

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["seeds"] = list(self.seeds)
        return data


def demo_settings(quick: bool, seed: int = 0) -> TALDemoSettings:
    """Quick: tiny preset (6 classes, one reversed pair), one seed. Full: 10 classes, 3 seeds."""
    if quick:
        synth = {
            "untrimmed": 15,
            "untrimmed_seconds": [10.0, 14.0],
            "untrimmed_instances": [2, 4],
            "hat_splits": "test",
        }
        return TALDemoSettings(
            "tiny", synth, recogniser_epochs=1, epochs=8, seeds=(seed,), lap_permutations=2,
            data_seed=seed,
        )  # fmt: skip
    synth = {
        "size": 64,
        "untrimmed": 60,
        "untrimmed_seconds": [20.0, 32.0],
        "untrimmed_instances": [3, 6],
        "hat_splits": "test",
    }
    return TALDemoSettings(
        "default", synth, recogniser_epochs=10, epochs=30, seeds=(seed, seed + 1, seed + 2),
        data_seed=seed,
    )  # fmt: skip


def synthact_descriptions() -> dict[str, str]:
    """Short motion descriptions of SynthAct's classes (data file next to this module)."""
    text = resources.files(__package__).joinpath("synthact_descriptions.json").read_text("utf-8")
    return dict(json.loads(text)["descriptions"])


def _write_json(path: Path, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2) + "\n")


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None


# ----------------------------------------------------------------------------- stages 1-3


def _generate(data_dir: Path, settings: TALDemoSettings) -> dict[str, Any]:
    from actionbias.synth import generate

    summary = generate(
        data_dir, settings.preset, seed=settings.data_seed, progress=False, **settings.synth
    )
    return {"generated_now": not summary.get("skipped", False), "counts": summary["counts"]}


def split_untrimmed(source: Path, target: Path, fractions: dict[str, float], seed: int) -> dict:
    """Re-split SynthAct's untrimmed videos into training/validation/test (seeded permutation).

    SynthAct itself writes 70 % training and 30 % validation; a test split that
    no model or grouping decision has seen is needed here.
    """
    from actionbias.data.activitynet import read_activitynet_json, write_activitynet_json

    ann = read_activitynet_json(source)
    n = len(ann)
    if n < 5:
        raise BadInputError(f"need at least 5 untrimmed videos to split, found {n}", source=source)
    order = np.random.default_rng(seed).permutation(n)
    names = list(fractions)
    cuts = np.round(np.cumsum([fractions[k] for k in names]) * n).astype(int)
    counts: dict[str, int] = {}
    start = 0
    for name, stop in zip(names, cuts, strict=True):
        for i in order[start:stop]:
            ann.videos[int(i)].subset = name
        counts[name] = int(stop - start)
        start = stop
    write_activitynet_json(ann, target)
    return counts


def _recogniser(
    out: Path, data_dir: Path, settings: TALDemoSettings, given: Path | None
) -> tuple[Path, dict]:
    """(checkpoint, info) of the slow_tiny recogniser: reused when finished, else trained."""
    from actionbias.train import load_config, train

    run_dir = given if given is not None else out / "recogniser"
    results = _read_json(run_dir / "results.json")
    best = (results or {}).get("best_checkpoint")
    epochs = int((results or {}).get("epochs") or 0)
    if (
        best
        and Path(best).is_file()
        and (given is not None or epochs >= settings.recogniser_epochs)
    ):
        return Path(best), {"trained_now": False, "epochs": epochs, "run_dir": str(run_dir)}
    if given is not None:
        raise BadInputError("not a finished training run (no results.json/best checkpoint)", given)
    config = load_config(
        "synthact",
        [
            f"data.train={data_dir}",
            f"data.val={data_dir}",
            f"run_dir={run_dir}",
            f"trainer.max_epochs={settings.recogniser_epochs}",
            f"seed={settings.data_seed}",
            "trainer.progress=false",
            "data.num_workers=0",
        ],
    )
    result = train(config)
    if result.best_checkpoint is None:
        raise RuntimeError(f"{run_dir}: training wrote no best checkpoint")
    val = [r.get("val_acc") for r in result.history if r.get("val_acc") is not None]
    info = {"trained_now": True, "epochs": result.epochs, "run_dir": str(run_dir)}
    info["best_val_acc"] = max(val) if val else None
    return result.best_checkpoint, info


def _features(
    checkpoint: Path, data_dir: Path, feat_dir: Path, settings: TALDemoSettings, classes: list[str]
) -> dict:
    from actionbias.models.registry import build_model
    from actionbias.tal.extract import ExtractConfig, PenultimateFeatures, extract_directory

    info = _read_json(feat_dir / "features.json")
    if info is not None and info.get("checkpoint") == str(checkpoint):
        return info
    videos = sorted((data_dir / "untrimmed" / "videos").glob("*.mp4"))
    model = build_model("slow_tiny", len(classes), pretrained=checkpoint)
    extractor = PenultimateFeatures(model)
    cfg = ExtractConfig(
        window=settings.window,
        stride=settings.stride,
        clip_frames=settings.clip_frames,
        size=(settings.size, settings.size),
    )
    meta = extract_directory(extractor, videos, feat_dir, cfg, "video", overwrite=info is not None)
    failed = [v for v, m in meta.items() if "error" in m]
    if failed:
        raise BadInputError(f"feature extraction failed for {len(failed)} videos ({failed[0]})")
    info = {
        "model": "slow_tiny",
        "checkpoint": str(checkpoint),
        "feature_dim": extractor.dim,
        "feat_stride": settings.stride,
        "num_frames": settings.window,
        "videos": meta,
    }
    _write_json(feat_dir / "features.json", info)
    return info


# ----------------------------------------------------------------------------- stage 4


def _dataset(ann_path: Path, feat_dir: Path, subset: str, settings, train: bool, seed: int = 0):
    from actionbias.data.activitynet import read_activitynet_json
    from actionbias.tal.features import TALFeatureDataset

    full = read_activitynet_json(ann_path)
    return TALFeatureDataset(
        full.by_subset(subset),
        feat_dir,
        label_map=full.label_map(),
        feat_stride=settings.stride,
        num_frames=settings.window,
        train=train,
        seed=seed,
    )


def build_model(kind: str, in_dim: int, num_classes: int, settings: TALDemoSettings, seed: int):
    """The detector (same initialisation for both kinds under a seed) and its ActionVLM wrapper."""
    import torch

    from actionbias.tal.language.advantage import ActionVLM
    from actionbias.tal.language.model import CompactLanguageModel
    from actionbias.tal.train import build_detector

    torch.manual_seed(seed)
    detector = build_detector(
        in_dim,
        num_classes,
        embed_dim=settings.width,
        fpn_dim=settings.width,
        head_dim=settings.width,
        window=settings.attn_window,
        heads=4,
        downsample_blocks=settings.downsample_blocks,
        max_seq_len=256,
    )
    if kind == VISION:
        return ActionVLM(detector, None, "vision-only")
    torch.manual_seed(seed + 10_000)
    language = CompactLanguageModel(in_dim, num_classes, width=settings.lm_width, heads=4)
    return ActionVLM(detector, language, "full")


def train_config(settings: TALDemoSettings, seed: int):
    """The demo's `TALTrainConfig`: its lr for every group (the compact language model is
    trained from scratch, not LoRA-adapted), warm-up over a tenth of the epochs, no EMA."""
    from actionbias.tal.train import TALTrainConfig

    return TALTrainConfig(
        epochs=settings.epochs,
        batch_size=settings.batch_size,
        lr=settings.lr,
        language_lr=settings.lr,
        weight_decay=settings.weight_decay,
        warmup_epochs=max(1, settings.epochs // 10),
        ema_decay=None,
        seed=seed,
    )


def train_model(
    model,
    dataset,
    settings: TALDemoSettings,
    prompt,
    seed: int,
    *,
    state_path: Path | None = None,
    stop_after: int | None = None,
) -> list[dict]:
    """Algorithm 1 (vision-only for the baseline ablation) through the library's loop
    (`actionbias.tal.train.fit`, the one `tal train` runs).

    With `state_path` the state after every epoch is saved there and a rerun
    continues after the last finished epoch (`actionbias.tal.checkpoint`), ending
    with the weights of an uninterrupted run. `stop_after`: stop after that many
    epochs in total (to be resumed later).
    """
    from actionbias.tal.language.inputs import CompactInputs
    from actionbias.tal.train import fit

    result = fit(
        model,
        dataset,
        train_config(settings, seed),
        language_inputs=CompactInputs(prompt),
        state_path=state_path,
        settings={"demo": settings.to_json()},
        stop_after=stop_after,
    )
    return result.history


# ----------------------------------------------------------------------------- stage 5


def predict(model, dataset, prompt, settings, use_language: bool = True):
    """(detections, per-class predicted advantages, per-class lambdas) over a dataset."""
    import torch

    from actionbias.tal.features import collate_samples
    from actionbias.tal.inference import VideoDetections, decode_video, to_seconds
    from actionbias.tal.language.advantage import advantage_by_class, frame_buckets

    classes = dataset.classes
    dets: list[VideoDetections] = []
    adv: dict[str, list[np.ndarray]] = {c: [] for c in classes}
    lam: dict[str, list[np.ndarray]] = {c: [] for c in classes}
    model.eval()
    for start in range(0, len(dataset), settings.batch_size):
        samples = [dataset[i] for i in range(start, min(start + settings.batch_size, len(dataset)))]
        b = collate_samples(samples, pad_to=model.detector.max_stride)
        with torch.no_grad():
            out = model(b["feats"], b["mask"], use_language=use_language, prompt=prompt)
        for i, sample in enumerate(samples):
            seg, score, label = decode_video(out.det, i)
            sec = to_seconds(seg, sample.grid, sample.duration, sample.start_step)
            dets.append(VideoDetections(sample.video_id, sec, score, label))
        if out.a_hat is not None:
            bucket = frame_buckets(b["segments"], b["labels"], b["mask"].shape[1], len(classes))
            for name, values in advantage_by_class(out.a_hat, bucket, b["mask"], classes).items():
                adv[name].append(values.numpy())
            for name, values in advantage_by_class(out.lam, bucket, b["mask"], classes).items():
                lam[name].append(values.numpy())
    cat = {c: np.concatenate(v) if v else np.zeros(0) for c, v in adv.items()}
    cat_lam = {c: np.concatenate(v) if v else np.zeros(0) for c, v in lam.items()}
    return dets, cat, cat_lam


def score(dets, dataset, ann_path: Path, subset: str) -> dict[str, Any]:
    """ActivityNet mAP of detections on one subset (the `tal eval` computation)."""
    from actionbias.data.activitynet import read_activitynet_json
    from actionbias.metrics.tal import evaluate_detection

    ann = read_activitynet_json(ann_path).by_subset(subset)
    classes = dataset.classes
    gt = [(v.id, s.start, s.end, s.label) for v in ann for s in v.segments]
    pv, ps, pl, sc = [], [], [], []
    for d in dets:
        for (a, b), s, c in zip(
            d.segments.tolist(), d.scores.tolist(), d.labels.tolist(), strict=True
        ):
            pv.append(d.video_id)
            ps.append((a, b))
            pl.append(classes[int(c)])
            sc.append(s)
    result = evaluate_detection(
        [g[0] for g in gt],
        np.array([[g[1], g[2]] for g in gt], dtype=np.float64).reshape(-1, 2),
        [g[3] for g in gt],
        pv,
        np.array(ps, dtype=np.float64).reshape(-1, 2),
        pl,
        np.array(sc, dtype=np.float64),
        TIOU,
        video_ids=[v.id for v in ann],
    )
    out = result.to_dict()
    out["class_AP"] = {c: float(result.ap[:, i].mean()) for i, c in enumerate(result.classes)}
    return out


LAMBDA_BINS = (0.0, 1e-6, 0.05, 0.2, 0.5, 1.0)


def language_diagnostics(
    history: Sequence[Mapping[str, Any]],
    advantage: Mapping[str, np.ndarray],
    lam: Mapping[str, np.ndarray],
) -> dict[str, Any]:
    """Why language got the weight it got: lambda's distribution on the test frames, A_hat
    per class, and, per vision-language training epoch, the target advantage A against
    the prediction (A > 0 on average only where the class's vision-language loss fell
    below its vision-only mean)."""
    values = np.concatenate([np.asarray(v) for v in lam.values()]) if lam else np.zeros(0)
    counts, _ = np.histogram(values, bins=LAMBDA_BINS)
    per_class = {
        c: {
            "frames": len(a),
            "a_hat_mean": float(np.mean(a)) if len(a) else None,
            "a_hat_std": float(np.std(a)) if len(a) else None,
            "lambda_mean": float(np.mean(lam[c])) if len(lam[c]) else None,
        }
        for c, a in ((c, np.asarray(v)) for c, v in advantage.items())
    }
    epochs = [
        {"epoch": int(row["epoch"]), **row["advantage"]["overall"]}
        for row in history
        if row.get("advantage") and row["advantage"].get("overall")
    ]
    last = next((row["advantage"] for row in reversed(history) if row.get("advantage")), None)
    return {
        "lambda_histogram": {"edges": list(LAMBDA_BINS), "counts": counts.tolist()},
        "lambda_positive_share": float(np.mean(values > 0)) if values.size else None,
        "lambda_max": float(values.max()) if values.size else None,
        "test_per_class": per_class,
        "training_epochs": epochs,
        "last_epoch_per_class": last["per_bucket"] if last else {},
    }


def _finite(value: float | None) -> float | None:
    """None for a missing or NaN figure (an empty class group): NaN is not JSON and != itself."""
    return None if value is None or not np.isfinite(value) else float(value)


def _mean(values: Sequence[float]) -> float:
    return float(np.mean(values)) if len(values) else float("nan")


def _summary(values: Sequence[float]) -> dict[str, Any]:
    arr = np.asarray(values, dtype=np.float64)
    return {
        "mean": float(arr.mean()),
        "std": float(arr.std(ddof=1)) if arr.size > 1 else 0.0,
        "per_seed": [float(v) for v in arr],
    }


def _train_and_predict(
    out: Path,
    settings: TALDemoSettings,
    in_dim: int,
    det_classes: list[str],
    datasets: tuple[Any, Any, Any],
    ann_path: Path,
    prompt: Any,
    mismatched: list[Any],
    say: Callable[[str], None],
) -> tuple[list[dict[str, Any]], float]:
    """Stage 4 and the predictions of stage 5 for every seed: (rows per seed, training seconds)."""
    import torch

    train_set, val_set, test_set = datasets
    per_seed: list[dict[str, Any]] = []
    train_seconds = 0.0
    for s in settings.seeds:
        row: dict[str, Any] = {"seed": s}
        for kind in (VISION, ACTIONVLM):
            path = out / "detectors" / f"{kind}-seed{s}.pt"
            model = build_model(kind, in_dim, len(det_classes), settings, s)
            if path.is_file():
                payload = torch.load(path, map_location="cpu", weights_only=False)
                model.load_state_dict(payload["state_dict"])
                history = payload["history"]
            else:
                t1 = time.perf_counter()
                state_path = path.with_name(f"{path.stem}.state.pt")
                history = train_model(model, train_set, settings, prompt, s, state_path=state_path)
                train_seconds += time.perf_counter() - t1
                with atomic_path(path) as tmp:
                    torch.save({"state_dict": model.state_dict(), "history": history}, tmp)
                state_path.unlink(missing_ok=True)
            say(f"seed {s}: {kind} trained ({len(history)} epochs)")
            dets_val, _, _ = predict(model, val_set, prompt, settings)
            dets, adv, lam = predict(model, test_set, prompt, settings)
            entry = {
                "validation": score(dets_val, val_set, ann_path, "validation"),
                "test": score(dets, test_set, ann_path, "test"),
                "final_loss": history[-1].get("total"),
            }
            if kind == ACTIONVLM:
                entry["diagnostics"] = language_diagnostics(history, adv, lam)
                entry["advantage"] = {c: v.tolist() for c, v in adv.items()}
                entry["lambda"] = {c: v.tolist() for c, v in lam.items()}
                mism = []
                for m_prompt in mismatched:
                    dets_m, _, _ = predict(model, test_set, m_prompt, settings)
                    mism.append(score(dets_m, test_set, ann_path, "test")["average_mAP"])
                entry["mismatched_average_mAP"] = mism
            row[kind] = entry
        per_seed.append(row)
    return per_seed, train_seconds


@dataclass
class TALDemoResult:
    out_dir: Path
    results_path: Path
    report_path: Path
    results: dict[str, Any]


def run_tal_demo(
    out_dir: str | Path,
    quick: bool = False,
    seed: int = 0,
    *,
    recogniser_dir: str | Path | None = None,
    log_fn: Callable[[str], None] | None = None,
) -> TALDemoResult:
    """Run (or resume) the demo into `out_dir`; returns the results and the paths written."""

    from actionbias.metrics.lap import (
        advantage_by_group,
        group_classes_by_ap,
        lap_over_permutations,
    )
    from actionbias.models.text_encoder import MiniLMEncoder
    from actionbias.tal.language.descriptions import descriptions_for, mismatched_descriptions
    from actionbias.tal.report import write_tal_report
    from actionbias.tal.train import torch_threads

    say = log_fn or (lambda msg: log.info(msg))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    settings = demo_settings(quick, seed)
    stored = _read_json(out / "settings.json")
    if stored is not None and stored != settings.to_json():
        raise BadInputError(
            "holds a TAL demo run with other settings (quick/seed); use a new folder",
            source=out / "settings.json",
        )
    _write_json(out / "settings.json", settings.to_json())
    timings: dict[str, float] = {}
    started = time.perf_counter()

    t0 = time.perf_counter()
    data_dir = out / "data"
    data = _generate(data_dir, settings)
    timings["generate"] = time.perf_counter() - t0
    say(f"data: {data['counts']['untrimmed']} untrimmed videos")
    synth = _read_json(data_dir / "synthact.json")
    classes = list(synth["classes"])
    reversed_pairs = [list(p) for p in synth.get("reversed_pairs", [])]
    ann_path = out / "tal" / "annotations.json"
    split_counts = split_untrimmed(
        data_dir / "untrimmed" / "annotations.json", ann_path, settings.splits, settings.data_seed
    )

    t0 = time.perf_counter()
    given = Path(recogniser_dir) if recogniser_dir is not None else None
    with torch_threads(DEMO_THREADS):
        checkpoint, recogniser = _recogniser(out, data_dir, settings, given)
    timings["recogniser"] = time.perf_counter() - t0
    say(f"recogniser: {checkpoint}")

    t0 = time.perf_counter()
    feat_dir = out / "features"
    with torch_threads(DEMO_THREADS):
        feat_info = _features(checkpoint, data_dir, feat_dir, settings, classes)
    timings["features"] = time.perf_counter() - t0
    say(f"features: {len(feat_info['videos'])} videos, {feat_info['feature_dim']}-d")

    t0 = time.perf_counter()
    descriptions = synthact_descriptions()
    train_set = _dataset(ann_path, feat_dir, "training", settings, train=True, seed=seed)
    val_set = _dataset(ann_path, feat_dir, "validation", settings, train=False)
    test_set = _dataset(ann_path, feat_dir, "test", settings, train=False)
    det_classes = train_set.classes
    texts = descriptions_for(det_classes, descriptions)
    encoder = MiniLMEncoder()
    prompt = encoder.encode(texts)
    mismatched = [
        encoder.encode(mismatched_descriptions(texts, seed=k))
        for k in range(settings.lap_permutations)
    ]
    timings["text_encoder"] = time.perf_counter() - t0

    in_dim = int(feat_info["feature_dim"])
    with torch_threads(DEMO_THREADS):
        per_seed, train_seconds = _train_and_predict(
            out,
            settings,
            in_dim,
            det_classes,
            (train_set, val_set, test_set),
            ann_path,
            prompt,
            mismatched,
            say,
        )
    timings["detectors"] = time.perf_counter() - t0
    timings["detector_training"] = train_seconds

    t0 = time.perf_counter()
    ambiguous = sorted({c for p in reversed_pairs for c in p if c in det_classes})
    others = [c for c in det_classes if c not in ambiguous]
    seeds_out = []
    for row in per_seed:
        vis, vlm = row[VISION], row[ACTIONVLM]
        groups = group_classes_by_ap(vis["validation"]["class_AP"])
        adv = {c: np.asarray(v) for c, v in vlm["advantage"].items()}
        lam = {c: np.asarray(v) for c, v in vlm["lambda"].items()}
        test_vis, test_vlm = vis["test"]["class_AP"], vlm["test"]["class_AP"]
        present = {g: [c for c in cs if c in test_vlm] for g, cs in groups.items()}
        rows_adv = advantage_by_group(present, test_vlm, test_vis, adv)
        rows_lam = advantage_by_group(present, test_vlm, test_vis, lam)
        aligned = vlm["test"]["average_mAP"]
        lap = lap_over_permutations(aligned, vlm["mismatched_average_mAP"]) if aligned > 0 else None
        amb = [c for c in ambiguous if c in test_vis]
        oth = [c for c in others if c in test_vis]
        seeds_out.append(
            {
                "seed": row["seed"],
                "vision_only": {k: vis["test"][k] for k in ("mAP", "average_mAP")},
                "actionvlm": {k: vlm["test"][k] for k in ("mAP", "average_mAP")},
                "class_AP": {"vision_only": test_vis, "actionvlm": test_vlm},
                "validation_average_mAP": {
                    "vision_only": vis["validation"]["average_mAP"],
                    "actionvlm": vlm["validation"]["average_mAP"],
                },
                "lap": lap,
                "mismatched_average_mAP": vlm["mismatched_average_mAP"],
                "groups": [
                    {
                        "group": ra.group,
                        "classes": list(ra.classes),
                        "actionvlm_mAP": _finite(ra.map),
                        "gain": ra.gain,
                        "mean_advantage": ra.mean_advantage,
                        "mean_lambda": rl.mean_advantage,
                    }
                    for ra, rl in zip(rows_adv, rows_lam, strict=True)
                ],
                "ambiguous": {
                    "classes": amb,
                    "vision_only": _mean([test_vis[c] for c in amb]),
                    "actionvlm": _mean([test_vlm[c] for c in amb]),
                    "others_vision_only": _mean([test_vis[c] for c in oth]),
                    "others_actionvlm": _mean([test_vlm[c] for c in oth]),
                    "mean_lambda": _mean(np.concatenate([lam[c] for c in amb]) if amb else []),
                    "others_mean_lambda": _mean(
                        np.concatenate([lam[c] for c in oth]) if oth else []
                    ),
                },
                "language_diagnostics": vlm.get("diagnostics"),
                "final_loss": {
                    "vision_only": row[VISION]["final_loss"],
                    "actionvlm": row[ACTIONVLM]["final_loss"],
                },
            }
        )
    amb_gain = [s["ambiguous"]["actionvlm"] - s["ambiguous"]["vision_only"] for s in seeds_out]
    oth_gain = [
        s["ambiguous"]["others_actionvlm"] - s["ambiguous"]["others_vision_only"] for s in seeds_out
    ]
    laps = [s["lap"]["lap"] for s in seeds_out if s["lap"] is not None]
    summary = {
        "vision_only_average_mAP": _summary([s["vision_only"]["average_mAP"] for s in seeds_out]),
        "actionvlm_average_mAP": _summary([s["actionvlm"]["average_mAP"] for s in seeds_out]),
        "gain_average_mAP": _summary(
            [s["actionvlm"]["average_mAP"] - s["vision_only"]["average_mAP"] for s in seeds_out]
        ),
        "lap": _summary(laps) if laps else None,
        "ambiguous_gain": _summary(amb_gain) if ambiguous else None,
        "others_gain": _summary(oth_gain),
    }
    timings["evaluate"] = time.perf_counter() - t0
    timings["total"] = time.perf_counter() - started
    results = {
        "settings": settings.to_json(),
        "data": {**data, "dir": str(data_dir), "splits": split_counts, "classes": det_classes},
        "reversed_pairs": reversed_pairs,
        "recogniser": {**recogniser, "checkpoint": str(checkpoint)},
        "features": {
            k: feat_info[k] for k in ("model", "feature_dim", "feat_stride", "num_frames")
        },
        "descriptions": dict(zip(det_classes, texts, strict=True)),
        "tiou_thresholds": list(TIOU),
        "seeds": seeds_out,
        "summary": summary,
        "timings_seconds": {k: round(v, 2) for k, v in timings.items()},
    }
    results_path = out / "results.json"
    _write_json(results_path, results)
    report_path = write_tal_report(results, out / "report.html")
    say(f"results -> {results_path}, report -> {report_path}")
    return TALDemoResult(out, results_path, report_path, results)
