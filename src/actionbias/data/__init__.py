"""Datasets in their published formats, read into one record type.

`VideoRecord`/`Manifest` are what every workflow consumes; the readers and
writers here translate Kinetics-400 and Mimetics CSVs, PySlowFast and MMAction2
lists, the HAT ori/seg/inp layout and its Action-Swap pair pickles, swap-pair
CSVs and ActivityNet/ActionFormer temporal JSON. Writers and readers round-trip.
"""

from __future__ import annotations

from actionbias.data.activitynet import (
    Segment,
    TemporalAnnotations,
    VideoAnnotation,
    read_activitynet_json,
    write_activitynet_json,
)
from actionbias.data.class_names import (
    ClassLookup,
    kinetics400_classes,
    mimetics_classes,
    normalize_class_name,
    read_class_list,
    write_class_list,
)
from actionbias.data.hat import hat_frame_path, read_hat
from actionbias.data.kinetics import (
    kinetics_clip_name,
    read_kinetics_csv,
    read_mimetics_csv,
    write_kinetics_csv,
)
from actionbias.data.kinetics50 import build_kinetics50
from actionbias.data.lists import (
    read_rawframe_list,
    read_slowfast_list,
    write_rawframe_list,
    write_slowfast_list,
)
from actionbias.data.loading import detect_format, load_manifest
from actionbias.data.records import Manifest, VideoRecord
from actionbias.data.skips import SkipLog, SkippedItem, iter_clips
from actionbias.data.swaps import (
    SwapPair,
    read_hat_pairs,
    read_swap_csv,
    write_hat_pairs,
    write_swap_csv,
)

__all__ = [
    "ClassLookup",
    "Manifest",
    "Segment",
    "SkipLog",
    "SkippedItem",
    "SwapPair",
    "TemporalAnnotations",
    "VideoAnnotation",
    "VideoRecord",
    "build_kinetics50",
    "detect_format",
    "hat_frame_path",
    "iter_clips",
    "kinetics400_classes",
    "kinetics_clip_name",
    "load_manifest",
    "mimetics_classes",
    "normalize_class_name",
    "read_activitynet_json",
    "read_class_list",
    "read_hat",
    "read_hat_pairs",
    "read_kinetics_csv",
    "read_mimetics_csv",
    "read_rawframe_list",
    "read_slowfast_list",
    "read_swap_csv",
    "write_activitynet_json",
    "write_class_list",
    "write_hat_pairs",
    "write_kinetics_csv",
    "write_rawframe_list",
    "write_slowfast_list",
    "write_swap_csv",
]
