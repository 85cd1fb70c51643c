"""Detectors -> per-frame, per-query likelihood maps M(u, v) in [0, 1] (A2O, Section 3.2).

Backends (`build_backend(name, **options)`, `list_backends()`):

* ``synth-oracle`` -- SynthAct's exact named masks, with miss rate / jitter / blur /
  score to imitate a detector's errors;
* ``pose`` -- mediapipe pose landmarks drawn as body-part maps (PC3D++'s skeleton maps);
* ``owlv2`` -- OWLv2 open-vocabulary boxes, per-query scores;
* ``grounding-dino`` -- Grounding DINO boxes scored from each query's token span.

Both box detectors paint score x box (``mask="box"``, the default without a SAM 2
model) or, as the paper's Grounded SAM2, score x the SAM 2 mask of each box
(``sam2=ID_OR_FOLDER`` or ``mask="sam2"``; `actionbias.a2o.maps.sam2`); the mask mode
is part of the cache key.

`MapStore` caches maps per (video, query, backend options) on disk and in memory, so
repeated ICRL iterations do not detect again. Queries are answered from named regions
(oracle, pose) by `RegionVocabulary`.
"""

from __future__ import annotations

from actionbias.a2o.maps.backend import (
    MapBackend,
    box_indicator,
    boxes_to_map,
    build_backend,
    detector_label,
    list_backends,
    stable_seed,
)
from actionbias.a2o.maps.store import MapStore
from actionbias.a2o.maps.vocabulary import (
    DEFAULT_THRESHOLD,
    RegionMatch,
    RegionVocabulary,
    normalize_query,
)

__all__ = [
    "DEFAULT_THRESHOLD",
    "MapBackend",
    "MapStore",
    "RegionMatch",
    "RegionVocabulary",
    "box_indicator",
    "boxes_to_map",
    "build_backend",
    "detector_label",
    "list_backends",
    "normalize_query",
    "stable_seed",
]
