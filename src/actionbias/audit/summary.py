"""Every figure the audit reports, computed from a prediction table.

One function per table so the command line, the demo and the report all show
the same numbers: accuracy (and top-5 / mAP when scores exist) for every
dataset group, with accuracy per true class and its most frequent wrong
answer for the plain (non-swap) rows, plus SHAcc / SBErr / other with
per-class breakdowns for swap rows, each with a bootstrap interval; and
paired tests between two models on the videos they share.

Where swap videos share a source clip (``human_clip`` / ``background_clip``
columns with repeated ids) the bootstrap resamples those clips instead of the
videos; every group says what it resampled under ``resampling``, and every
interval carries its ``unit``. Swap videos marked ``has_person`` false (their
human was not segmented) are left out of the group's figures and reported on
their own under ``no_person``, as HAT does.
"""

from __future__ import annotations

import numpy as np

from actionbias.data.predictions import NO_ANSWER, PredictionTable
from actionbias.metrics import (
    bootstrap_mean,
    bootstrap_statistic,
    class_accuracy,
    extreme_classes,
    mean_average_precision,
    paired_comparison,
    resampling,
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
        apart = sub.without_person()
        g = _figures(sub.subset(~apart), n_boot, seed, top_k)
        if apart.any():
            g["no_person"] = _figures(sub.subset(apart), n_boot, seed, top_k, breakdowns=False)
        groups[name] = g
    out["groups"] = groups
    return out


def _figures(
    sub: PredictionTable, n_boot: int, seed: int, top_k: int, breakdowns: bool = True
) -> dict[str, object]:
    plan = resampling(len(sub), sub.clusters())
    g: dict[str, object] = {
        "n": len(sub),
        "no_answer": int(np.sum(sub.predictions == NO_ANSWER)),
        "resampling": plan.describe(),
        "top1": bootstrap_mean(
            top1_correct(sub.predictions, sub.labels), n_boot, seed, clusters=plan
        ).as_dict(),
    }
    if sub.scores is not None and len(sub):
        g[f"top{top_k}"] = bootstrap_mean(
            topk_correct(sub.scores, sub.labels, top_k), n_boot, seed, clusters=plan
        ).as_dict()
        g["mAP"] = bootstrap_statistic(
            mean_average_precision,
            sub.scores,
            sub.labels,
            n_boot=min(n_boot, 500),
            seed=seed,
            clusters=plan,
        ).as_dict()
    is_swap = sub.backgrounds >= 0
    if breakdowns and (~is_swap).any():
        plain = sub.subset(~is_swap)
        rows = class_accuracy(
            plain.predictions, plain.labels, sub.classes, 500, seed, plan.subset(~is_swap)
        )
        g["by_class"] = [r.as_dict() for r in rows]
    if is_swap.any():
        sw = sub.subset(is_swap)
        sw_plan = plan.subset(is_swap)
        scores = swap_scores(sw.predictions, sw.labels, sw.backgrounds, n_boot, seed, sw_plan)
        g["swap"] = scores.as_dict()
        g["swap"]["n"] = len(sw)
        if breakdowns:
            by_bg = swap_breakdown(
                sw.predictions,
                sw.labels,
                sw.backgrounds,
                sub.classes,
                "background",
                500,
                seed,
                sw_plan,
            )
            by_h = swap_breakdown(
                sw.predictions,
                sw.labels,
                sw.backgrounds,
                sub.classes,
                "human",
                500,
                seed,
                sw_plan,
            )
            high, low = extreme_classes(by_bg, k=5)
            g["by_background"] = [_group_row(r) for r in by_bg]
            g["by_human"] = [_group_row(r) for r in by_h]
            g["highest_sberr_backgrounds"] = [r.class_name for r in high]
            g["lowest_sberr_backgrounds"] = [r.class_name for r in low]
    return g


def compare(
    a: PredictionTable, b: PredictionTable, n_boot: int = 2000, seed: int = 0
) -> dict[str, object]:
    """Paired comparison of model A against model B on the videos both answered.

    Videos are matched by id; those present in only one file are counted and
    left out (reported, never silently). Source clips (A's columns, else B's) are
    resampled where they repeat, and swap videos without a person are left out
    of the tests (their count is reported), as in `summarize`.
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
    apart = a.without_person()[ia] | b.without_person()[ib] if len(ia) else np.zeros(0, bool)
    groups: dict[str, object] = {}
    for name in sorted(set(datasets.tolist())):
        in_group = datasets == name
        sel = in_group & ~apart
        source, rows = (a, ia) if a.clusters() else (b, ib)
        clusters = {k: [v[i] for i in rows[sel]] for k, v in source.clusters().items()}
        plan = resampling(int(sel.sum()), clusters)
        pa, pb = a.predictions[ia[sel]], b.predictions[ib[sel]]
        labels = a.labels[ia[sel]]
        bgs = a.backgrounds[ia[sel]]
        g: dict[str, object] = {
            "n": int(sel.sum()),
            "no_person_left_out": int((in_group & apart).sum()),
            "resampling": plan.describe(),
            "top1": paired_comparison(
                pa == labels, pb == labels, n_boot, seed, clusters=plan
            ).as_dict(),
        }
        swap = bgs >= 0
        if swap.any():
            sw_plan = plan.subset(swap)
            g["shacc"] = paired_comparison(
                pa[swap] == labels[swap], pb[swap] == labels[swap], n_boot, seed, clusters=sw_plan
            ).as_dict()
            g["sberr"] = paired_comparison(
                pa[swap] == bgs[swap], pb[swap] == bgs[swap], n_boot, seed, clusters=sw_plan
            ).as_dict()
        groups[name] = g
    result["groups"] = groups
    return result
