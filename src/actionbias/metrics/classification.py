"""Accuracy-style figures over class scores or predicted labels."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from actionbias.metrics.stats import Clusters, Estimate, Resampling, bootstrap_mean, resampling


def top1_correct(predictions: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Per-video 0/1 correctness; predictions are class indices."""
    p = np.asarray(predictions).ravel()
    t = np.asarray(targets).ravel()
    if p.shape != t.shape:
        raise ValueError(f"{p.size} predictions for {t.size} targets")
    return (p == t).astype(np.float64)


def topk_correct(scores: np.ndarray, targets: np.ndarray, k: int = 5) -> np.ndarray:
    """Per-video 0/1: is the target among the k highest scores?

    Ties are broken by class index (stable sort), so results do not depend on
    platform-specific argsort behaviour.
    """
    s = np.asarray(scores, dtype=np.float64)
    t = np.asarray(targets).ravel()
    if s.ndim != 2 or s.shape[0] != t.size:
        raise ValueError(f"scores must be (N, C) with N={t.size}, got {s.shape}")
    k = min(k, s.shape[1])
    order = np.argsort(-s, axis=1, kind="stable")[:, :k]
    return np.any(order == t[:, None], axis=1).astype(np.float64)


def average_precision(scores: np.ndarray, positives: np.ndarray) -> float:
    """Non-interpolated AP of one class: mean precision at each positive's rank.

    NaN when the class has no positive (the caller decides whether to skip it).
    """
    s = np.asarray(scores, dtype=np.float64).ravel()
    y = np.asarray(positives, dtype=bool).ravel()
    n_pos = int(y.sum())
    if n_pos == 0:
        return float("nan")
    order = np.argsort(-s, kind="stable")
    hits = y[order]
    ranks = np.flatnonzero(hits) + 1
    precision_at_hits = np.arange(1, n_pos + 1) / ranks
    return float(precision_at_hits.mean())


def mean_average_precision(scores: np.ndarray, targets: np.ndarray) -> float:
    """Macro mAP over the classes that have at least one positive video."""
    s = np.asarray(scores, dtype=np.float64)
    t = np.asarray(targets).ravel()
    aps = [average_precision(s[:, c], t == c) for c in range(s.shape[1])]
    finite = [a for a in aps if not np.isnan(a)]
    return float(np.mean(finite)) if finite else float("nan")


@dataclass(frozen=True)
class ClassAccuracy:
    """Top-1 accuracy of the videos of one true class, and where its errors go.

    A dataset-level accuracy hides which classes a model cannot recognise out
    of context (Mimetics: the object classes, the time-reversed pairs); the
    most frequent wrong answer says what the model answered instead.
    ``confused_with`` is None when the class has no error; an unanswered video
    counts as the answer ``NO_ANSWER_NAME``.
    """

    class_index: int
    class_name: str
    n: int
    top1: Estimate
    confused_with: str | None
    confused_n: int

    def as_dict(self) -> dict[str, object]:
        return {
            "class": self.class_name,
            "n": self.n,
            "top1": self.top1.as_dict(),
            "confused_with": self.confused_with,
            "confused_n": self.confused_n,
        }


NO_ANSWER_NAME = "(no answer)"


def class_accuracy(
    predictions: np.ndarray,
    targets: np.ndarray,
    class_names: list[str],
    n_boot: int = 1000,
    seed: int = 0,
    clusters: Clusters | Resampling | None = None,
) -> list[ClassAccuracy]:
    """Accuracy per true class (in class order), each with its bootstrap interval.

    Predictions are class indices, negative for no answer. With ``clusters``
    each class's videos are resampled by the sources that repeat within it.
    """
    p = np.asarray(predictions).ravel()
    t = np.asarray(targets).ravel()
    correct = top1_correct(p, t)
    plan = resampling(t.size, clusters)
    rows = []
    for c in np.unique(t):
        sel = t == c
        wrong = p[sel & (p != c)]
        confused_with, confused_n = None, 0
        if wrong.size:
            answers, counts = np.unique(wrong, return_counts=True)
            k = int(np.argmax(counts))  # ties: the lowest class index, so stable
            answer = int(answers[k])
            confused_with = class_names[answer] if answer >= 0 else NO_ANSWER_NAME
            confused_n = int(counts[k])
        rows.append(
            ClassAccuracy(
                int(c),
                class_names[int(c)],
                int(sel.sum()),
                bootstrap_mean(correct[sel], n_boot, seed, clusters=plan.subset(sel)),
                confused_with,
                confused_n,
            )
        )
    return rows
