"""Speed of `tal eval` against a reference-style evaluation (a per-class pandas loop).

The baseline is the usual way the ActivityNet evaluation is written: group by
class, sort by score, then `iterrows()` over the predictions with a per-video
`groupby` lookup and a loop over thresholds. It is written here from the
definition (pandas needed only for this baseline: `pip install pandas`), and the
script first checks the two give the same AP to 1e-6.

THUMOS-sized case: 212 videos x 200 predictions x 20 classes x 5 thresholds,
about 15 ground-truth segments per video; 1 % of the predictions are on videos
absent from the annotation file (false positives by the reference's rule).

Two figures:

* in process: `evaluate_detection` on arrays vs the pandas loop on DataFrames;
* end to end, what a user waits for: the `actionbias tal eval` command as a
  subprocess (start-up, imports, reading both JSON files, writing the result)
  vs the reference process (a fresh Python that imports pandas, reads the same
  two files into DataFrames and runs the loop). The command's imports are
  checked too: torch, pandas, scipy or cv2 on its path fail the run.

Run: ``python benchmarks/tal_eval.py [--repeats 3]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from actionbias.metrics.tal import evaluate_detection

HEAVY = ("torch", "pandas", "scipy", "cv2", "sklearn", "transformers")


def make_case(
    seed: int,
    videos: int,
    preds_per_video: int,
    classes: int,
    gt_per_video: int,
    unknown_fraction: float = 0.0,
):
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
            where = vid if rng.random() >= unknown_fraction else f"unknown_{v:04d}"
            pred_rows.append((where, s, e, lab, float(rng.random())))
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


def write_case(folder: Path, gt_rows, pred_rows) -> tuple[Path, Path]:
    """The case as an ActionFormer-style annotation JSON and an ActivityNet results JSON."""
    database: dict[str, dict] = {}
    for vid, s, e, lab in gt_rows:
        entry = database.setdefault(
            vid, {"subset": "test", "duration": 300.0, "fps": 30.0, "annotations": []}
        )
        entry["annotations"].append({"label": lab, "segment": [s, e]})
    results: dict[str, list] = {}
    for vid, s, e, lab, score in pred_rows:
        results.setdefault(vid, []).append({"label": lab, "score": score, "segment": [s, e]})
    gt_path, pred_path = folder / "gt.json", folder / "pred.json"
    gt_path.write_text(json.dumps({"version": "bench", "database": database}))
    pred_path.write_text(json.dumps({"version": "bench", "results": results}))
    return gt_path, pred_path


def reference_process(gt_path: str, pred_path: str, thresholds: list[float]) -> None:
    """Body of the reference process: files -> DataFrame rows -> pandas loop -> JSON."""
    import pandas as pd  # noqa: F401  (imported up front, as the reference does)

    database = json.loads(Path(gt_path).read_text())["database"]
    gt_rows = [
        (vid, float(a["segment"][0]), float(a["segment"][1]), a["label"])
        for vid, entry in database.items()
        for a in entry["annotations"]
    ]
    results = json.loads(Path(pred_path).read_text())["results"]
    pred_rows = [
        (vid, float(p["segment"][0]), float(p["segment"][1]), p["label"], float(p["score"]))
        for vid, items in results.items()
        for p in items
    ]
    classes, ap = pandas_loop_map(gt_rows, pred_rows, np.array(thresholds))
    print(json.dumps({"classes": classes, "ap": ap.tolist()}))


def timed(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, str, str]:
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    elapsed = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:4])} ... failed:\n{done.stderr}")
    return elapsed, done.stdout, done.stderr


def end_to_end(gt_rows, pred_rows, thresholds: np.ndarray, repeats: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        gt_path, pred_path = write_case(folder, gt_rows, pred_rows)
        out = folder / "map.json"
        spec = ",".join(f"{t:g}" for t in thresholds)
        ours = [sys.executable, "-m", "actionbias", "tal", "eval", "--gt", str(gt_path)]
        ours += ["--pred", str(pred_path), "--tiou", spec, "--out", str(out)]
        # imports of the command: nothing heavy may be on its path
        _, _, err = timed([sys.executable, "-X", "importtime", *ours[1:]])
        loaded = {line.split("|")[-1].strip().split(".")[0] for line in err.splitlines()}
        heavy = sorted(set(HEAVY) & loaded)
        print(f"tal eval imports: {len(loaded)} top-level modules, heavy: {heavy or 'none'}")
        cli = []
        for _ in range(repeats):
            elapsed, _, err = timed(ours)
            cli.append(elapsed)
        summary = [line for line in err.splitlines() if line.startswith("evaluated")]
        result = json.loads(out.read_text())
        ref_cmd = [sys.executable, __file__, "--reference-process", str(gt_path), str(pred_path)]
        ref_cmd += ["--tiou", spec]
        ref_time, stdout, _ = timed(ref_cmd)
        ref = json.loads(stdout)
        mine = np.array(
            [[result["per_class_AP"][c][f"{t:.2f}"] for c in ref["classes"]] for t in thresholds]
        )
        diff = float(np.abs(mine - np.array(ref["ap"])).max())
        print(f"  {summary[0] if summary else ''}")
        print(f"max |AP difference| end to end = {diff:.2e}")
        best = min(cli)
        print(f"actionbias tal eval (subprocess): {best:.3f} s (best of {repeats})")
        print(f"reference process (pandas):       {ref_time:.3f} s")
        print(f"end-to-end speed-up:              {ref_time / best:.1f}x")
        if diff > 1e-6:
            raise SystemExit("end-to-end results differ")
        if heavy:
            raise SystemExit(f"tal eval imports {heavy}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=212)
    parser.add_argument("--preds", type=int, default=200)
    parser.add_argument("--classes", type=int, default=20)
    parser.add_argument("--gt", type=int, default=15)
    parser.add_argument("--unknown", type=float, default=0.01, help="share on unknown videos")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--tiou", default="0.3,0.4,0.5,0.6,0.7")
    parser.add_argument("--skip-in-process", action="store_true")
    parser.add_argument("--reference-process", nargs=2, metavar=("GT", "PRED"), help="internal")
    args = parser.parse_args()
    thresholds = np.array([float(t) for t in args.tiou.split(",")])
    if args.reference_process:
        reference_process(*args.reference_process, thresholds.tolist())
        return
    gt_rows, pred_rows = make_case(
        0, args.videos, args.preds, args.classes, args.gt, unknown_fraction=args.unknown
    )
    print(
        f"python {platform.python_version()}, {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}"
    )
    print(
        f"case: {args.videos} videos, {len(pred_rows)} predictions "
        f"({sum(r[0].startswith('unknown') for r in pred_rows)} on unknown videos), "
        f"{len(gt_rows)} GT, {args.classes} classes, {len(thresholds)} thresholds"
    )
    if not args.skip_in_process:
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
        print(f"in process: evaluate_detection {best * 1e3:.1f} ms (best of {args.repeats})")
        print(f"            pandas loop        {slow * 1e3:.1f} ms -> {slow / best:.1f}x")
        if diff > 1e-6:
            raise SystemExit("results differ")
    end_to_end(gt_rows, pred_rows, thresholds, args.repeats)


if __name__ == "__main__":
    main()
