"""Every figure the audit reports, computed from a prediction table.

One function per table so the command line, the demo and the report all show
the same numbers: accuracy (and top-5 / mAP when scores exist) for every
dataset group, plus SHAcc / SBErr / other with per-class breakdowns for swap
rows, each with a bootstrap interval; and paired tests between two models on
the videos they share.
"""

from __future__ import annotations

import numpy as np

from actionbias.audit.predictions import NO_ANSWER, PredictionTable
from actionbias.metrics import (
    bootstrap_mean,
    bootstrap_statistic,
    extreme_classes,
    mean_average_precision,
    paired_comparison,
    swap_breakdown,
    swap_scores,
    top1_correct,
    topk_correct,
)


def _group_row(row) -> dict[str, object]:
    return {
        "class": row.class_name,
        "n": row.n,
        "shacc": row.shacc.as_dict(),
        "sberr": row.sberr.as_dict(),
    }


def summarize(
    table: PredictionTable, n_boot: int = 2000, seed: int = 0, top_k: int = 5
) -> dict[str, object]:
    """Figures per dataset group; swap groups (rows with a background label) get bias figures."""
    out: dict[str, object] = {"source": table.source, "classes": len(table.classes), "groups": {}}
    groups: dict[str, object] = {}
    for name in sorted(set(table.datasets)):
        sub = table.subset(np.array([d == name for d in table.datasets]))
        g: dict[str, object] = {
            "n": len(sub),
            "no_answer": int(np.sum(sub.predictions == NO_ANSWER)),
            "top1": bootstrap_mean(
                top1_correct(sub.predictions, sub.labels), n_boot, seed
            ).as_dict(),
        }
        if sub.scores is not None:
            g[f"top{top_k}"] = bootstrap_mean(
                topk_correct(sub.scores, sub.labels, top_k), n_boot, seed
            ).as_dict()
            g["mAP"] = bootstrap_statistic(
                mean_average_precision, sub.scores, sub.labels, n_boot=min(n_boot, 500), seed=seed
            ).as_dict()
        is_swap = sub.backgrounds >= 0
        if is_swap.any():
            sw = sub.subset(is_swap)
            scores = swap_scores(sw.predictions, sw.labels, sw.backgrounds, n_boot, seed)
            g["swap"] = scores.as_dict()
            g["swap"]["n"] = len(sw)
            by_bg = swap_breakdown(
                sw.predictions, sw.labels, sw.backgrounds, table.classes, "background", 500, seed
            )
            by_h = swap_breakdown(
                sw.predictions, sw.labels, sw.backgrounds, table.classes, "human", 500, seed
            )
            high, low = extreme_classes(by_bg, k=5)
            g["by_background"] = [_group_row(r) for r in by_bg]
            g["by_human"] = [_group_row(r) for r in by_h]
            g["highest_sberr_backgrounds"] = [r.class_name for r in high]
            g["lowest_sberr_backgrounds"] = [r.class_name for r in low]
        groups[name] = g
    out["groups"] = groups
    return out


def compare(
    a: PredictionTable, b: PredictionTable, n_boot: int = 2000, seed: int = 0
) -> dict[str, object]:
    """Paired comparison of model A against model B on the videos both answered.

    Videos are matched by id; those present in only one file are counted and
    left out (reported, never silently).
    """
    if a.classes != b.classes:
        raise ValueError("the two prediction files use different class lists")
    index_b = {vid: i for i, vid in enumerate(b.ids)}
    shared = [(i, index_b[vid]) for i, vid in enumerate(a.ids) if vid in index_b]
    ia = np.array([i for i, _ in shared], dtype=np.int64)
    ib = np.array([j for _, j in shared], dtype=np.int64)
    result: dict[str, object] = {
        "shared_videos": len(shared),
        "only_in_a": len(a) - len(shared),
        "only_in_b": len(b) - len(shared),
        "groups": {},
    }
    datasets = np.array(a.datasets, dtype=object)[ia] if len(ia) else np.array([], dtype=object)
    groups: dict[str, object] = {}
    for name in sorted(set(datasets.tolist())):
        sel = datasets == name
        pa, pb = a.predictions[ia[sel]], b.predictions[ib[sel]]
        labels = a.labels[ia[sel]]
        bgs = a.backgrounds[ia[sel]]
        g = {"top1": paired_comparison(pa == labels, pb == labels, n_boot, seed).as_dict()}
        swap = bgs >= 0
        if swap.any():
            g["shacc"] = paired_comparison(
                pa[swap] == labels[swap], pb[swap] == labels[swap], n_boot, seed
            ).as_dict()
            g["sberr"] = paired_comparison(
                pa[swap] == bgs[swap], pb[swap] == bgs[swap], n_boot, seed
            ).as_dict()
        groups[name] = g
    result["groups"] = groups
    return result
