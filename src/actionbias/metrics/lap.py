"""Modality-bias diagnostics for temporal action localisation (ActionVLM, Tables 2, 3 and 5).

* LAP (language advantage on performance): the relative drop of average mAP when
  the class descriptions are mismatched (permuted across classes) instead of
  aligned. A model that leans on text loses a lot; one grounded in vision barely
  moves. Fractions here (0.026 is the paper's "2.6 %").
* Hallucination rates of text-answering (QA) localisers: *fixed* outputs (the
  same boundaries whatever the video, or boundaries that cannot be real) and
  *endless listing* (the answer runs into the token limit, repeats segments or
  lists implausibly many).
* Visual-ambiguity metrics on clips with misleading or incomplete poses: mean
  confidence and mean normalised span of the top prediction, and the fraction
  of spans below 0.3 / 0.5 / 0.7 of the clip.
* Easy / medium / hard class groups by vision-only AP, with mAP, gain over the
  vision-only baseline and the mean frame-level language advantage per group.

Pure functions over numbers and plain records; imports nothing from the rest of
actionbias.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

# Appendix A.8: THUMOS14 classes grouped by the vision-only baseline's AP.
THUMOS14_AMBIGUITY_GROUPS: dict[str, tuple[str, ...]] = {
    "easy": ("ThrowDiscus", "LongJump", "HighJump", "HammerThrow"),
    "hard": ("Billiards", "FrisbeeCatch"),
}
AMBIGUITY_SPAN_THRESHOLDS = (0.3, 0.5, 0.7)


# ----------------------------------------------------------------------------- LAP


def language_advantage_on_performance(aligned_map: float, mismatched_map: float) -> float:
    """LAP = (aligned - mismatched) / aligned: relative drop of average mAP, as a fraction.

    Negative when mismatched descriptions score higher. ValueError when the
    aligned mAP is not positive (a relative drop is undefined then).
    """
    aligned, mismatched = float(aligned_map), float(mismatched_map)
    if not np.isfinite(aligned) or aligned <= 0:
        raise ValueError(f"aligned mAP must be positive to measure a relative drop, got {aligned}")
    if not np.isfinite(mismatched) or mismatched < 0:
        raise ValueError(f"mismatched mAP must be finite and >= 0, got {mismatched}")
    return (aligned - mismatched) / aligned


def lap_over_permutations(aligned_map: float, mismatched_maps: Sequence[float]) -> dict:
    """LAP against several mismatched runs (different permutations): mean, std and each value."""
    values = [language_advantage_on_performance(aligned_map, m) for m in mismatched_maps]
    if not values:
        raise ValueError("need at least one mismatched mAP")
    arr = np.asarray(values)
    return {
        "lap": float(arr.mean()),
        "lap_std": float(arr.std(ddof=1)) if arr.size > 1 else 0.0,
        "per_permutation": values,
    }


# ----------------------------------------------------------------------------- hallucinations

_NUMBER = r"(-?\d+(?:\.\d+)?)"
_PAIR = re.compile(
    rf"{_NUMBER}\s*(?:s|sec|seconds|frames?)?\s*(?:-|–|—|to|until|,|and)\s*{_NUMBER}",
    flags=re.IGNORECASE,
)


def parse_segments(text: str) -> list[tuple[float, float]]:
    """(start, end) pairs in a QA model's answer: "12.5 - 20", "from 3 to 8 s", "[4, 9]".

    Text is data: numbers are pulled out with a regular expression, in order.
    """
    return [(float(a), float(b)) for a, b in _PAIR.findall(text)]


@dataclass(frozen=True)
class QAAnswer:
    """One answer of a text-answering localiser for one video (query).

    `segments` are the parsed (start, end) pairs in the video's time unit;
    `duration` the video length in that unit; `truncated` says the generation
    stopped at the token limit (finish_reason "length").
    """

    video: str
    segments: tuple[tuple[float, float], ...]
    duration: float
    truncated: bool = False


def _invalid(seg: tuple[float, float], duration: float, tol: float) -> bool:
    start, end = seg
    return not (start >= -tol and end <= duration + tol and end > start)


def fixed_output_flags(
    answers: Sequence[QAAnswer], *, min_videos: int = 3, decimals: int = 1, tol: float = 1e-6
) -> np.ndarray:
    """Which answers are "fixed outputs with obviously fake boundaries regardless of input".

    An answer is flagged when its boundaries (rounded to `decimals`) are given
    verbatim for at least `min_videos` different videos -- the output does not
    depend on the input -- or when any of its segments cannot be real (end <=
    start, before 0 or past the video's end).
    """
    keys = [tuple((round(s, decimals), round(e, decimals)) for s, e in a.segments) for a in answers]
    videos_per_key: dict[tuple, set[str]] = {}
    for key, answer in zip(keys, answers, strict=True):
        if key:
            videos_per_key.setdefault(key, set()).add(answer.video)
    flags = np.zeros(len(answers), dtype=bool)
    for i, (key, answer) in enumerate(zip(keys, answers, strict=True)):
        repeated = bool(key) and len(videos_per_key[key]) >= min_videos
        fake = any(_invalid(seg, answer.duration, tol) for seg in answer.segments)
        flags[i] = repeated or fake
    return flags


def endless_listing_flags(
    answers: Sequence[QAAnswer], *, max_segments: int = 50, max_repeats: int = 2, decimals: int = 1
) -> np.ndarray:
    """Which answers list or repeat segments without end.

    Flagged when the generation hit the token limit, when one segment (rounded
    to `decimals`) appears more than `max_repeats` times, or when more than
    `max_segments` segments are listed.
    """
    flags = np.zeros(len(answers), dtype=bool)
    for i, answer in enumerate(answers):
        counts = Counter((round(s, decimals), round(e, decimals)) for s, e in answer.segments)
        most = max(counts.values(), default=0)
        flags[i] = answer.truncated or most > max_repeats or len(answer.segments) > max_segments
    return flags


def hallucination_rates(answers: Sequence[QAAnswer], **options) -> dict[str, float]:
    """{"fixed": rate, "endless": rate} over the answers (fractions; Table 2's two columns)."""
    if not answers:
        raise ValueError("no answers to rate")
    fixed_opts = {k: options[k] for k in ("min_videos", "decimals", "tol") if k in options}
    endless_opts = {
        k: options[k] for k in ("max_segments", "max_repeats", "decimals") if k in options
    }
    return {
        "fixed": float(fixed_output_flags(answers, **fixed_opts).mean()),
        "endless": float(endless_listing_flags(answers, **endless_opts).mean()),
    }


# ----------------------------------------------------------------------------- visual ambiguity


def normalised_spans(pred_segments: np.ndarray, clip_segments: np.ndarray) -> np.ndarray:
    """Length of each prediction inside its ambiguous clip, divided by the clip's length.

    Only the part inside the clip counts (evaluation is restricted to the clip),
    so values lie in [0, 1]; a prediction outside the clip has span 0.
    """
    pred = np.asarray(pred_segments, dtype=np.float64).reshape(-1, 2)
    clip = np.asarray(clip_segments, dtype=np.float64).reshape(-1, 2)
    if pred.shape != clip.shape:
        raise ValueError(f"{len(pred)} predictions for {len(clip)} clips")
    length = clip[:, 1] - clip[:, 0]
    if np.any(length <= 0):
        raise ValueError("every ambiguous clip needs end > start")
    inside = np.minimum(pred[:, 1], clip[:, 1]) - np.maximum(pred[:, 0], clip[:, 0])
    return np.clip(inside, 0.0, None) / length


def ambiguity_metrics(
    scores: np.ndarray,
    pred_segments: np.ndarray,
    clip_segments: np.ndarray,
    thresholds: Sequence[float] = AMBIGUITY_SPAN_THRESHOLDS,
) -> dict[str, float]:
    """Table 5 on N ambiguous clips, from each clip's highest-confidence prediction.

    `scores` (N,) are those predictions' confidences (0 and any segment for a
    clip without a prediction); returns mean confidence `mconf`, mean normalised
    span `mlen` and `acc@t`: the fraction of spans strictly below t. Lower
    `mconf`/`mlen` and higher `acc@t` mean the model is cautious where the
    visual evidence is misleading.
    """
    conf = np.asarray(scores, dtype=np.float64).ravel()
    spans = normalised_spans(pred_segments, clip_segments)
    if conf.shape != spans.shape:
        raise ValueError(f"{conf.size} scores for {spans.size} clips")
    if conf.size == 0:
        raise ValueError("no ambiguous clips")
    out = {"mconf": float(conf.mean()), "mlen": float(spans.mean())}
    for t in thresholds:
        out[f"acc@{t:g}"] = float((spans < t).mean())
    return out


# ----------------------------------------------------------------------------- class groups


def group_classes_by_ap(
    vision_ap: Mapping[str, float], *, n_easy: int | None = None, n_hard: int | None = None
) -> dict[str, list[str]]:
    """Easy / medium / hard classes ranked by vision-only AP (appendix A.8).

    The paper puts the 4 best of 20 THUMOS14 classes in easy and the 2 worst in
    hard; by default the same fractions (20 % and 10 %, at least one each when
    there are three or more classes) are used for any class count.
    """
    names = list(vision_ap)
    if len(names) < 3:
        raise ValueError("need at least three classes to form three groups")
    n_easy = max(1, round(0.2 * len(names))) if n_easy is None else n_easy
    n_hard = max(1, round(0.1 * len(names))) if n_hard is None else n_hard
    if n_easy < 0 or n_hard < 0 or n_easy + n_hard > len(names):
        raise ValueError(f"cannot take {n_easy} easy and {n_hard} hard of {len(names)} classes")
    # Stable: ties keep the input order, so the grouping is deterministic.
    ranked = sorted(names, key=lambda c: -float(vision_ap[c]))
    return {
        "easy": ranked[:n_easy],
        "medium": ranked[n_easy : len(names) - n_hard],
        "hard": ranked[len(names) - n_hard :],
    }


def thumos14_groups(class_names: Sequence[str]) -> dict[str, list[str]]:
    """The paper's fixed THUMOS14 grouping (A.8), restricted to `class_names`."""
    easy = [c for c in class_names if c in THUMOS14_AMBIGUITY_GROUPS["easy"]]
    hard = [c for c in class_names if c in THUMOS14_AMBIGUITY_GROUPS["hard"]]
    medium = [c for c in class_names if c not in easy and c not in hard]
    return {"easy": easy, "medium": medium, "hard": hard}


@dataclass(frozen=True)
class GroupRow:
    """One row of Table 3: a group's mAP, its gain over the baseline and mean LA."""

    group: str
    classes: tuple[str, ...]
    map: float
    gain: float | None
    mean_advantage: float | None


def advantage_by_group(
    groups: Mapping[str, Sequence[str]],
    model_ap: Mapping[str, float],
    baseline_ap: Mapping[str, float] | None = None,
    frame_advantage: Mapping[str, np.ndarray] | None = None,
) -> list[GroupRow]:
    """Table 3: per group, mean AP of `model_ap`, gain over `baseline_ap` and mean frame-level LA.

    `frame_advantage` maps a class to the predicted advantages (or lambdas) of
    its ground-truth frames; the group's mLA pools the frames of all its classes
    (so a class with more frames weighs more, as a frame-level mean should).
    """
    rows = []
    for group, classes in groups.items():
        classes = tuple(classes)
        if not classes:
            rows.append(GroupRow(group, classes, float("nan"), None, None))
            continue
        missing = [c for c in classes if c not in model_ap]
        if missing:
            raise ValueError(f"no AP for class {missing[0]!r} of group {group!r}")
        m = float(np.mean([model_ap[c] for c in classes]))
        gain = None
        if baseline_ap is not None:
            gain = m - float(np.mean([baseline_ap[c] for c in classes]))
        mla = None
        if frame_advantage is not None:
            parts = [
                np.asarray(frame_advantage[c], dtype=np.float64).ravel()
                for c in classes
                if c in frame_advantage
            ]
            frames = np.concatenate(parts) if parts else np.zeros(0)
            mla = float(frames.mean()) if frames.size else None
        rows.append(GroupRow(group, classes, m, gain, mla))
    return rows
