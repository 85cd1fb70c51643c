"""Background-bias figures on Action-Swap data (human of class A on the scene of B).

SHAcc is the share of swap videos predicted as the human's class A, SBErr the
share predicted as the background's class B (the paper's definitions, Sec. 2).
The remainder (neither) is reported too: a model can lower SBErr simply by
becoming worse, and only the three numbers together show which happened.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from actionbias.metrics.stats import Clusters, Estimate, Resampling, bootstrap_mean, resampling


@dataclass(frozen=True)
class SwapScores:
    shacc: Estimate
    sberr: Estimate
    other: Estimate

    def as_dict(self) -> dict[str, dict[str, float]]:
        return {
            "shacc": self.shacc.as_dict(),
            "sberr": self.sberr.as_dict(),
            "other": self.other.as_dict(),
        }


def swap_outcomes(
    predictions: np.ndarray, human: np.ndarray, background: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-video indicators (is_human, is_background, is_other).

    Predictions that match neither, including "no answer" encoded as -1, count
    as other. Same-class pairs (A == B) count as both human and background.
    """
    p = np.asarray(predictions).ravel()
    h = np.asarray(human).ravel()
    b = np.asarray(background).ravel()
    if not (p.shape == h.shape == b.shape):
        raise ValueError(
            f"swap_outcomes: {p.size} predictions, {h.size} human, {b.size} background labels"
        )
    is_h = (p == h).astype(np.float64)
    is_b = (p == b).astype(np.float64)
    is_o = ((p != h) & (p != b)).astype(np.float64)
    return is_h, is_b, is_o


def swap_scores(
    predictions: np.ndarray,
    human: np.ndarray,
    background: np.ndarray,
    n_boot: int = 2000,
    seed: int = 0,
    clusters: Clusters | Resampling | None = None,
) -> SwapScores:
    """SHAcc, SBErr and other with intervals; ``clusters``: the videos' source clips
    (``{"human_clip": ..., "background_clip": ...}``), resampled as wholes where
    they repeat (see `actionbias.metrics.stats`)."""
    is_h, is_b, is_o = swap_outcomes(predictions, human, background)
    plan = resampling(is_h.size, clusters)
    return SwapScores(
        bootstrap_mean(is_h, n_boot, seed, clusters=plan),
        bootstrap_mean(is_b, n_boot, seed, clusters=plan),
        bootstrap_mean(is_o, n_boot, seed, clusters=plan),
    )


@dataclass(frozen=True)
class GroupRow:
    """Swap figures for the videos sharing one human or one background class."""

    class_index: int
    class_name: str
    n: int
    shacc: Estimate
    sberr: Estimate


def swap_breakdown(
    predictions: np.ndarray,
    human: np.ndarray,
    background: np.ndarray,
    class_names: list[str],
    by: str = "background",
    n_boot: int = 1000,
    seed: int = 0,
    clusters: Clusters | Resampling | None = None,
) -> list[GroupRow]:
    """Per-class SHAcc/SBErr grouped by background class (Table 1 right) or human class.

    With ``clusters`` each class's videos are resampled by the sources that
    repeat within that class.
    """
    if by not in ("background", "human"):
        raise ValueError(f"by must be 'background' or 'human', got {by!r}")
    is_h, is_b, _ = swap_outcomes(predictions, human, background)
    plan = resampling(is_h.size, clusters)
    key = np.asarray(background if by == "background" else human).ravel()
    rows = []
    for c in np.unique(key):
        sel = key == c
        sub = plan.subset(sel)
        rows.append(
            GroupRow(
                int(c),
                class_names[int(c)],
                int(sel.sum()),
                bootstrap_mean(is_h[sel], n_boot, seed, clusters=sub),
                bootstrap_mean(is_b[sel], n_boot, seed, clusters=sub),
            )
        )
    return rows


def extreme_classes(
    rows: list[GroupRow], k: int = 5, min_videos: int = 1
) -> tuple[list[GroupRow], list[GroupRow]]:
    """The k highest- and k lowest-SBErr groups (ties broken by name for stability)."""
    eligible = [r for r in rows if r.n >= min_videos]
    ranked = sorted(eligible, key=lambda r: (-r.sberr.value, r.class_name))
    lowest = sorted(eligible, key=lambda r: (r.sberr.value, r.class_name))
    return ranked[:k], lowest[:k]
