"""Answering a free-text query ("arm", "Tennis racket") from a set of named regions.

The oracle and pose backends do not detect text: they own named regions (SynthAct's
mask names, or the body parts drawn from pose landmarks) and must decide which of
them a query an LLM wrote refers to. The rules run from strict to loose and the first
that finds something wins, so a query that names a region exactly is never
re-interpreted by the sentence encoder:

1. normalise: lowercase, strip punctuation and articles, collapse spaces, singularise
   the last word ("Mountains" -> "mountain", "feet" -> "foot", "people" -> "person");
2. exact: the normalised query equals a normalised region name;
3. part-of / synonym: a small body-part table. A sided query ("left arm") keeps its
   side, an unsided one takes both ("arm" -> left/right upper arm + forearm, "leg" ->
   thighs + shins, "limb" -> arms + legs); "human", "body", "man", "athlete"... mean
   "person", "face" means "head";
4. embedding neighbour: cosine similarity of all-MiniLM-L6-v2 sentence embeddings
   (`actionbias.models.text_encoder.MiniLMEncoder`); the best region counts if
   its similarity is at least `threshold` (default 0.65), and every other region within
   `margin` (0.02) of the best is added, so a mirrored pair ("elbow" would otherwise
   pick one arm arbitrarily) or a genuine tie ("basketball": ball 0.674, hoop 0.672)
   is not split by rounding noise;
5. nothing: the "detector" finds nothing and the map is empty.

Why 0.65 (measured on SynthAct's 75 region names): accepted at that level are
"tennis racket" -> racket (0.87), "soccer ball" -> ball (0.83), "ocean" -> sea (0.87),
"spectators" -> crowd (0.70), "audience" -> crowd (0.68), "swimming pool" -> pool deck
(0.73), "boxing ring" -> ring apron (0.66), "barbell" -> dumbbell (0.76), "weights" ->
weight plates (0.65), "floor" -> wooden floor (0.81); rejected are the false friends
just below it: "elbow" -> forearm (0.64), "ground" -> grass (0.57), "car" -> road
(0.57), "shoulder" -> upper arm (0.59), "face" -> head (0.59, answered by the synonym
table instead), "ceiling" -> wall (0.54), "shoes" -> foot (0.49), "clouds" -> sky
(0.62), "table" (0.37). A detector that misses is a better imitation of a real one
than a detector that confidently answers the wrong thing.

Matches are memoised per (query, region names), and every step is deterministic.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

DEFAULT_THRESHOLD = 0.65
DEFAULT_MARGIN = 0.02
SIDES = ("left", "right")

#: Unsided body-part words -> the unsided part names they cover.
PART_OF: dict[str, tuple[str, ...]] = {
    "arm": ("upper arm", "forearm"),
    "leg": ("thigh", "shin"),
    "limb": ("upper arm", "forearm", "thigh", "shin"),
    "upper body": ("head", "neck", "torso", "upper arm", "forearm", "hand"),
    "lower body": ("pelvis", "thigh", "shin", "foot"),
    "extremity": ("hand", "foot"),
}

#: Words that mean one region under another name.
SYNONYMS: dict[str, str] = {
    "human": "person",
    "body": "person",
    "human body": "person",
    "man": "person",
    "woman": "person",
    "child": "person",
    "actor": "person",
    "athlete": "person",
    "player": "person",
    "figure": "person",
    "face": "head",
    "skull": "head",
    "chest": "torso",
    "trunk": "torso",
    "upper leg": "thigh",
    "lower leg": "shin",
    "calf": "shin",
    "hip": "pelvis",
    "lower arm": "forearm",
    "fist": "hand",
    "palm": "hand",
}

_IRREGULAR = {
    "feet": "foot",
    "people": "person",
    "persons": "person",
    "men": "man",
    "women": "woman",
    "children": "child",
    "teeth": "tooth",
    "calves": "calf",
    "knives": "knife",
    "leaves": "leaf",
}
_ARTICLES = {"a", "an", "the"}
_KEEP_S = ("ss", "us", "is", "as", "os")


def singularize(word: str) -> str:
    """Simple English plurals to singular; leaves words that only look plural alone."""
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    if len(word) <= 3 or word.endswith(_KEEP_S):
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "ches", "shes", "zes")):
        return word[:-2]
    if word.endswith("s"):
        return word[:-1]
    return word


def normalize_query(text: str) -> str:
    """Lowercase, punctuation -> space, articles dropped, last word singular."""
    words = re.sub(r"[^0-9a-z]+", " ", str(text).lower()).split()
    words = [w for w in words if w not in _ARTICLES]
    if not words:
        return ""
    words[-1] = singularize(words[-1])
    return " ".join(words)


def split_side(name: str) -> tuple[str | None, str]:
    """("left", "forearm") for "left forearm"; (None, "head") for "head"."""
    first, _, rest = name.partition(" ")
    if first in SIDES and rest:
        return first, rest
    return None, name


@dataclass(frozen=True)
class RegionMatch:
    """Which regions answer a query, by which rule, how confidently (1.0 unless embedding)."""

    query: str
    normalized: str
    regions: tuple[str, ...]
    rule: str  # "exact" | "part" | "synonym" | "embedding" | "none"
    score: float


def _default_encoder() -> Callable[[Sequence[str]], np.ndarray]:
    from actionbias.models.text_encoder import MiniLMEncoder

    encoder = MiniLMEncoder()
    return lambda texts: encoder.encode(list(texts)).numpy()


_SHARED_ENCODER: Callable[[Sequence[str]], np.ndarray] | None = None
_ENCODER_LOCK = threading.Lock()


def shared_encoder() -> Callable[[Sequence[str]], np.ndarray]:
    """One MiniLM per process (loading it costs ~1 s; every vocabulary can share it)."""
    global _SHARED_ENCODER
    with _ENCODER_LOCK:
        if _SHARED_ENCODER is None:
            _SHARED_ENCODER = _default_encoder()
        return _SHARED_ENCODER


class RegionVocabulary:
    """Resolve queries against region names (see the module docstring for the rules).

    `encoder` maps texts to L2-normalised row vectors; None means the shared offline
    MiniLM, loaded on the first query that needs it (exact/part/synonym matches never
    load it). `use_embedding=False` stops after rule 3.
    """

    def __init__(
        self,
        threshold: float = DEFAULT_THRESHOLD,
        margin: float = DEFAULT_MARGIN,
        encoder: Callable[[Sequence[str]], Any] | None = None,
        use_embedding: bool = True,
    ) -> None:
        if not -1.0 <= float(threshold) <= 1.0:
            raise ValueError(f"vocabulary threshold must be a cosine in [-1, 1], got {threshold}")
        if float(margin) < 0:
            raise ValueError(f"vocabulary margin must be >= 0, got {margin}")
        self.threshold = float(threshold)
        self.margin = float(margin)
        self.use_embedding = bool(use_embedding)
        self._encoder = encoder
        self._memo: dict[tuple[str, tuple[str, ...]], RegionMatch] = {}

    def options(self) -> dict[str, Any]:
        """What changes the answers (goes into a backend's cache key)."""
        return {
            "threshold": self.threshold,
            "margin": self.margin,
            "embedding": "all-MiniLM-L6-v2" if self.use_embedding else None,
        }

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        encoder = self._encoder if self._encoder is not None else shared_encoder()
        vectors = np.asarray(encoder(list(texts)), dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-12)

    def match(self, query: str, names: Iterable[str]) -> RegionMatch:
        """The regions among `names` that answer `query` (memoised)."""
        key = (str(query), tuple(sorted(set(names))))
        found = self._memo.get(key)
        if found is None:
            found = self._match(key[0], key[1])
            self._memo[key] = found
        return found

    def _match(self, query: str, names: tuple[str, ...]) -> RegionMatch:
        norm = normalize_query(query)
        if not norm or not names:
            return RegionMatch(query, norm, (), "none", 0.0)
        by_norm: dict[str, list[str]] = {}
        for name in names:
            by_norm.setdefault(normalize_query(name), []).append(name)
        if norm in by_norm:
            return RegionMatch(query, norm, tuple(sorted(by_norm[norm])), "exact", 1.0)
        side, base = split_side(norm)
        for rule, bases in (
            ("synonym", (SYNONYMS[base],) if base in SYNONYMS else ()),
            ("part", PART_OF.get(base, ())),
            ("part", (base,)),  # "forearm" -> both forearms; "left arm" handled above
        ):
            hits = _sided(bases, side, by_norm)
            if hits:
                return RegionMatch(query, norm, hits, rule, 1.0)
        if self.use_embedding:
            return self._nearest(query, norm, names)
        return RegionMatch(query, norm, (), "none", 0.0)

    def _nearest(self, query: str, norm: str, names: tuple[str, ...]) -> RegionMatch:
        # The encoder sees the query as written (cleaned, not singularised): MiniLM knows
        # plurals, and "spectators" is nearer "crowd" than "spectator" is.
        text = " ".join(re.sub(r"[^0-9a-z]+", " ", query.lower()).split()) or norm
        vectors = self._encode([text, *names])
        sims = vectors[1:] @ vectors[0]
        best = float(sims.max())
        if best < self.threshold:
            return RegionMatch(query, norm, (), "none", best)
        keep = tuple(sorted(n for n, s in zip(names, sims, strict=True) if s >= best - self.margin))
        return RegionMatch(query, norm, keep, "embedding", best)


def _sided(
    bases: Iterable[str], side: str | None, by_norm: dict[str, list[str]]
) -> tuple[str, ...]:
    """Region names whose (side, base) has a base in `bases` and the query's side, if any."""
    wanted = set(bases)
    hits: list[str] = []
    for norm_name, originals in by_norm.items():
        region_side, region_base = split_side(norm_name)
        if region_base in wanted and (side is None or side == region_side):
            hits.extend(originals)
    return tuple(sorted(hits))
