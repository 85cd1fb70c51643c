"""Person masks and the counterfactual videos built from them.

Masks: ``build_segmenter("mediapipe" | "oracle" | "yolo-sam2", **options)`` returns a
`PersonSegmenter` whose ``segment(frames, indices=None, record=None)`` gives float32
``T x H x W`` soft masks; `MaskCache` stores them per video (atomic, compressed) and
`segment_videos` runs a backend over a dataset shard with resume. ``yolo-sam2``
(the paper's pipeline: first confident person box -> SAM2 video propagation) lives
in `actionbias.segment.yolo_sam2` and needs the optional ``transformers``.

Counterfactuals (pure numpy/OpenCV on arrays): `human_only`, `background_only`
(OpenCV inpainting) or `load_inpainted_frames` (HAT ``inp/``), `hat_swap` and
`alpha_swap` (Action-Swap), `sample_swap_pairs` / `load_swap_pairs` /
`filter_by_coverage`, and `SceneSwapAugment` (scene-swap training augmentation).

mediapipe is imported only when the mediapipe backend is built.
"""

from __future__ import annotations

from actionbias.segment.backend import (
    PersonSegmenter,
    build_segmenter,
    register_segmenter,
    segmenter_names,
)
from actionbias.segment.cache import (
    CachedMasks,
    MaskCache,
    SegmentStats,
    parse_shard,
    read_item_frames,
    segment_videos,
    shard_items,
)
from actionbias.segment.composite import (
    HAT_MEAN_RGB,
    IMAGENET_MEAN_RGB,
    background_only,
    dataset_mean_rgb,
    human_only,
    inpaint_holes,
    load_hat_masks,
    load_inpainted_frames,
)
from actionbias.segment.masks import (
    DEFAULT_MIN_PERSON_AREA,
    HUMAN_BYTE_THRESHOLD,
    as_byte_masks,
    as_unit_masks,
    binarize,
    has_person,
    human_coverage,
    person_area,
)
from actionbias.segment.mediapipe_backend import MediapipeSegmenter, mediapipe_available
from actionbias.segment.oracle import OracleSegmenter, load_oracle_masks
from actionbias.segment.pairs import (
    HAT_COVERAGE_RANGE,
    filter_by_coverage,
    load_swap_pairs,
    sample_swap_pairs,
)
from actionbias.segment.scene_aug import (
    SceneSwapAugment,
    list_scene_images,
    scene_swap,
    write_scene_swap_videos,
)
from actionbias.segment.smoothing import TemporalSmoothing, smooth_masks
from actionbias.segment.swap import (
    SWAP_POLICIES,
    SwapResult,
    alpha_swap,
    hat_background_indices,
    hat_swap,
)

__all__ = [
    "DEFAULT_MIN_PERSON_AREA",
    "HAT_COVERAGE_RANGE",
    "HAT_MEAN_RGB",
    "HUMAN_BYTE_THRESHOLD",
    "IMAGENET_MEAN_RGB",
    "SWAP_POLICIES",
    "CachedMasks",
    "MaskCache",
    "MediapipeSegmenter",
    "OracleSegmenter",
    "PersonSegmenter",
    "SceneSwapAugment",
    "SegmentStats",
    "SwapResult",
    "TemporalSmoothing",
    "alpha_swap",
    "as_byte_masks",
    "as_unit_masks",
    "background_only",
    "binarize",
    "build_segmenter",
    "dataset_mean_rgb",
    "filter_by_coverage",
    "has_person",
    "hat_background_indices",
    "hat_swap",
    "human_coverage",
    "human_only",
    "inpaint_holes",
    "list_scene_images",
    "load_hat_masks",
    "load_inpainted_frames",
    "load_oracle_masks",
    "load_swap_pairs",
    "mediapipe_available",
    "parse_shard",
    "person_area",
    "read_item_frames",
    "register_segmenter",
    "sample_swap_pairs",
    "scene_swap",
    "segment_videos",
    "segmenter_names",
    "shard_items",
    "smooth_masks",
    "write_scene_swap_videos",
]
