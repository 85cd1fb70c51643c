"""Accuracy-style figures over class scores or predicted labels."""

from __future__ import annotations

import numpy as np


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
