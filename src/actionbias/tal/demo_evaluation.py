"""Stage 5 of `actionbias tal demo`: detections, mAP, LAP and the figures of results.json.

Each trained detector is run over the validation and test splits (`predict`),
scored with the ActivityNet mAP of `tal eval` (`score`), ActionVLM again with
deranged class descriptions (for LAP), and its language weights summarised
(`language_diagnostics`). `seed_figures` turns the per-seed rows into the
figures the report shows: class groups by vision-only AP on the *validation*
split (so the grouping is not fitted to the test numbers), the reversed-motion
(visually ambiguous) pairs against the other classes, and means over seeds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from actionbias.tal.demo_settings import ACTIONVLM, TIOU, VISION, TALDemoSettings


def predict(model, dataset, prompt, settings: TALDemoSettings, use_language: bool = True):
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


def seed_figures(
    per_seed: Sequence[Mapping[str, Any]],
    det_classes: Sequence[str],
    reversed_pairs: Sequence[Sequence[str]],
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """(figures per seed, summary over seeds) from the demo's per-seed rows.

    A row holds the seed and, per kind, the validation and test scores; ActionVLM's
    also its advantages, lambdas, diagnostics and mismatched-description mAPs.
    """
    ambiguous = sorted({c for p in reversed_pairs for c in p if c in det_classes})
    others = [c for c in det_classes if c not in ambiguous]
    seeds_out = [_one_seed(row, ambiguous, others) for row in per_seed]
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
    return seeds_out, summary


def _one_seed(
    row: Mapping[str, Any], ambiguous: Sequence[str], others: Sequence[str]
) -> dict[str, Any]:
    from actionbias.metrics.lap import (
        advantage_by_group,
        group_classes_by_ap,
        lap_over_permutations,
    )

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
    return {
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
            "others_mean_lambda": _mean(np.concatenate([lam[c] for c in oth]) if oth else []),
        },
        "language_diagnostics": vlm.get("diagnostics"),
        "final_loss": {
            "vision_only": row[VISION]["final_loss"],
            "actionvlm": row[ACTIONVLM]["final_loss"],
        },
    }
