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

This module runs the stages and keeps the run folder (`actionbias.runstate`:
``settings.json`` is the settings guard; each stage's output is its record).
The settings are `actionbias.tal.demo_settings`, the detectors' building and
training `actionbias.tal.demo_training`, stage 5 `actionbias.tal.demo_evaluation`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from actionbias.errors import BadInputError
from actionbias.fileio import atomic_path, atomic_write_json
from actionbias.runstate import StateFile, check_settings, read_record, timed
from actionbias.tal.demo_settings import (
    ACTIONVLM,
    DEMO_THREADS,
    TIOU,
    VISION,
    TALDemoSettings,
    demo_settings,
    synthact_descriptions,
)

log = logging.getLogger(__name__)

__all__ = [
    "TALDemoResult",
    "TALDemoSettings",
    "demo_settings",
    "run_tal_demo",
    "split_untrimmed",
    "synthact_descriptions",
]


# ----------------------------------------------------------------------------- stages 1-4


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
    results = read_record(run_dir / "results.json")
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

    info = read_record(feat_dir / "features.json")
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
    atomic_write_json(feat_dir / "features.json", info)
    return info


def _dataset(
    ann_path: Path,
    feat_dir: Path,
    subset: str,
    settings: TALDemoSettings,
    train: bool,
    seed: int = 0,
):
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


# ----------------------------------------------------------------------------- stages 4-5 per seed


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

    from actionbias.tal.demo_evaluation import language_diagnostics, predict, score
    from actionbias.tal.demo_training import build_demo_model, train_model

    train_set, val_set, test_set = datasets
    per_seed: list[dict[str, Any]] = []
    train_seconds = 0.0
    for s in settings.seeds:
        row: dict[str, Any] = {"seed": s}
        for kind in (VISION, ACTIONVLM):
            path = out / "detectors" / f"{kind}-seed{s}.pt"
            model = build_demo_model(kind, in_dim, len(det_classes), settings, s)
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
    from actionbias.models.text_encoder import MiniLMEncoder
    from actionbias.tal.demo_evaluation import seed_figures
    from actionbias.tal.language.descriptions import descriptions_for, mismatched_descriptions
    from actionbias.tal.report import write_tal_report
    from actionbias.tal.train import torch_threads

    say = log_fn or (lambda msg: log.info(msg))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    settings = demo_settings(quick, seed)
    state = StateFile(out / "settings.json")
    check_settings(
        state, settings.to_json(), key=None, holds="a TAL demo run", remedy="use a new folder"
    )
    state.write(settings.to_json())
    timings: dict[str, float] = {}
    started = time.perf_counter()

    data_dir = out / "data"
    with timed(timings, "generate"):
        data = _generate(data_dir, settings)
    say(f"data: {data['counts']['untrimmed']} untrimmed videos")
    synth = read_record(data_dir / "synthact.json")
    classes = list(synth["classes"])
    reversed_pairs = [list(p) for p in synth.get("reversed_pairs", [])]
    ann_path = out / "tal" / "annotations.json"
    split_counts = split_untrimmed(
        data_dir / "untrimmed" / "annotations.json", ann_path, settings.splits, settings.data_seed
    )

    given = Path(recogniser_dir) if recogniser_dir is not None else None
    with timed(timings, "recogniser"), torch_threads(DEMO_THREADS):
        checkpoint, recogniser = _recogniser(out, data_dir, settings, given)
    say(f"recogniser: {checkpoint}")

    feat_dir = out / "features"
    with timed(timings, "features"), torch_threads(DEMO_THREADS):
        feat_info = _features(checkpoint, data_dir, feat_dir, settings, classes)
    say(f"features: {len(feat_info['videos'])} videos, {feat_info['feature_dim']}-d")

    with timed(timings, "detectors"):  # the text encoding included
        with timed(timings, "text_encoder"):
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
    timings["detector_training"] = train_seconds

    with timed(timings, "evaluate"):
        seeds_out, summary = seed_figures(per_seed, det_classes, reversed_pairs)
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
    atomic_write_json(results_path, results)
    report_path = write_tal_report(results, out / "report.html")
    say(f"results -> {results_path}, report -> {report_path}")
    return TALDemoResult(out, results_path, report_path, results)
