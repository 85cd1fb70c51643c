"""Speed of `actionbias.metrics.tal.evaluate_detection` vs a per-class pandas loop.

The baseline is the usual way the ActivityNet evaluation is written: group by
class, sort by score, then `iterrows()` over the predictions with a per-video
`groupby` lookup and a loop over thresholds. It is written here from the
definition (pandas needed only for this baseline: `pip install pandas`), and the
script first checks the two give the same AP to 1e-6.

THUMOS-sized case: 212 videos x 200 predictions x 20 classes x 5 thresholds,
about 15 ground-truth segments per video.

Run: ``python benchmarks/tal_eval.py [--repeats 3]``.
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np

from actionbias.metrics.tal import evaluate_detection


def make_case(seed: int, videos: int, preds_per_video: int, classes: int, gt_per_video: int):
    rng = np.random.default_rng(seed)
    gt_rows, pred_rows = [], []
    for v in range(videos):
        vid = f"video_{v:04d}"
        duration = float(rng.uniform(60, 300))
        segs = []
        for _ in range(gt_per_video):
            s = float(rng.uniform(0, duration - 10))
            e = s + float(rng.uniform(1, 10))
            lab = f"class_{int(rng.integers(classes)):02d}"
            segs.append((s, e, lab))
            gt_rows.append((vid, s, e, lab))
        for _ in range(preds_per_video):
            if rng.random() < 0.5:
                s, e, lab = segs[int(rng.integers(len(segs)))]
                s, e = s + rng.normal(0, 1), e + rng.normal(0, 1)
                if rng.random() < 0.2:
                    lab = f"class_{int(rng.integers(classes)):02d}"
            else:
                s = float(rng.uniform(0, duration - 10))
                e = s + float(rng.uniform(1, 10))
                lab = f"class_{int(rng.integers(classes)):02d}"
            s = max(0.0, s)
            e = max(s + 0.1, e)
            pred_rows.append((vid, s, e, lab, float(rng.random())))
    return gt_rows, pred_rows


def pandas_loop_map(gt_rows, pred_rows, thresholds) -> tuple[list[str], np.ndarray]:
    import pandas as pd

    gt = pd.DataFrame(gt_rows, columns=["video-id", "t-start", "t-end", "label"])
    pred = pd.DataFrame(pred_rows, columns=["video-id", "t-start", "t-end", "label", "score"])
    classes = sorted(gt["label"].unique())
    ap = np.zeros((len(thresholds), len(classes)))
    gt_by_label = gt.groupby("label")
    pred_by_label = pred.groupby("label")
    for c, name in enumerate(classes):
        cgt = gt_by_label.get_group(name).reset_index(drop=True)
        if name not in pred_by_label.groups:
            continue
        cpred = pred_by_label.get_group(name).reset_index(drop=True)
        order = cpred["score"].values.argsort()[::-1]
        cpred = cpred.loc[order].reset_index(drop=True)
        lock = np.full((len(thresholds), len(cgt)), -1)
        tp = np.zeros((len(thresholds), len(cpred)))
        fp = np.zeros((len(thresholds), len(cpred)))
        by_video = cgt.groupby("video-id")
        for i, row in cpred.iterrows():
            if row["video-id"] not in by_video.groups:
                fp[:, i] = 1
                continue
            vgt = by_video.get_group(row["video-id"]).reset_index()
            seg = vgt[["t-start", "t-end"]].values
            lo = np.maximum(row["t-start"], seg[:, 0])
            hi = np.minimum(row["t-end"], seg[:, 1])
            inter = (hi - lo).clip(0)
            union = (seg[:, 1] - seg[:, 0]) + (row["t-end"] - row["t-start"]) - inter
            tiou = inter / union
            for t, thr in enumerate(thresholds):
                for j in tiou.argsort()[::-1]:
                    if tiou[j] < thr:
                        break
                    g = vgt.loc[j]["index"]
                    if lock[t, g] >= 0:
                        continue
                    tp[t, i] = 1
                    lock[t, g] = i
                    break
                if tp[t, i] == 0:
                    fp[t, i] = 1
        tpc = np.cumsum(tp, axis=1)
        fpc = np.cumsum(fp, axis=1)
        rec = tpc / len(cgt)
        prec = tpc / (tpc + fpc)
        for t in range(len(thresholds)):
            mprec = np.hstack([[0], prec[t], [0]])
            mrec = np.hstack([[0], rec[t], [1]])
            for k in range(len(mprec) - 2, -1, -1):
                mprec[k] = max(mprec[k], mprec[k + 1])
            idx = np.where(mrec[1:] != mrec[:-1])[0] + 1
            ap[t, c] = np.sum((mrec[idx] - mrec[idx - 1]) * mprec[idx])
    return classes, ap


def fast_map(gt_rows, pred_rows, thresholds):
    return evaluate_detection(
        [r[0] for r in gt_rows],
        np.array([[r[1], r[2]] for r in gt_rows]),
        [r[3] for r in gt_rows],
        [r[0] for r in pred_rows],
        np.array([[r[1], r[2]] for r in pred_rows]),
        [r[3] for r in pred_rows],
        np.array([r[4] for r in pred_rows]),
        thresholds,
        deduplicate=False,  # the baseline does not de-duplicate; random GT has no duplicates
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=212)
    parser.add_argument("--preds", type=int, default=200)
    parser.add_argument("--classes", type=int, default=20)
    parser.add_argument("--gt", type=int, default=15)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    thresholds = np.linspace(0.3, 0.7, 5)
    gt_rows, pred_rows = make_case(0, args.videos, args.preds, args.classes, args.gt)
    print(f"python {platform.python_version()}, {platform.processor() or platform.machine()}")
    print(
        f"case: {args.videos} videos, {len(pred_rows)} predictions, {len(gt_rows)} GT, "
        f"{args.classes} classes, {len(thresholds)} thresholds"
    )
    fast = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        res = fast_map(gt_rows, pred_rows, thresholds)
        fast.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    classes, ref = pandas_loop_map(gt_rows, pred_rows, thresholds)
    slow = time.perf_counter() - t0
    assert classes == res.classes
    diff = float(np.abs(ref - res.ap).max())
    print(f"max |AP difference| = {diff:.2e}; average mAP = {res.average_map:.4f}")
    best = min(fast)
    print(f"evaluate_detection: {best * 1e3:.1f} ms (best of {args.repeats})")
    print(f"pandas loop:        {slow * 1e3:.1f} ms")
    print(f"speed-up:           {slow / best:.1f}x")
    if diff > 1e-6:
        raise SystemExit("results differ")


if __name__ == "__main__":
    main()
