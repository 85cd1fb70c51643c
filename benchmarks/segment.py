"""Speed of person masks and counterfactual construction at Kinetics resolution (340p).

Measures, on ONE CPU core (the process is pinned with ``os.sched_setaffinity``
because mediapipe's TFLite graphs ignore ``cv2.setNumThreads`` and start their own
threads; ``--all-cores`` lifts the pin):

* mask frames/s of the mediapipe backend (selfie/general — the default,
  selfie/landscape, pose in video mode) on a 604x340 clip of a moving person;
* swap videos/s for 16-frame 604x340 person clips on a 480x360 (4:3) background
  clip, ``hat`` (short-side resize + centre-of-mass shift + hard paste) and
  ``alpha`` (resize to A + soft blend) policies;
* background-only (OpenCV Telea inpainting) and human-only frames/s.

Run: ``python benchmarks/segment.py`` (about a minute).
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Callable

import cv2
import numpy as np

from actionbias.segment import (
    alpha_swap,
    background_only,
    build_segmenter,
    hat_swap,
    human_only,
    mediapipe_available,
)

WIDTH, HEIGHT = 604, 340


def person_clip(num: int) -> np.ndarray:
    """A 604x340 clip: the astronaut photo (a real person) sliding across a scene."""
    try:
        from skimage.data import astronaut

        person = cv2.resize(astronaut(), (300, 300))
    except ImportError:  # without scikit-image: a synthetic figure (masks still time it)
        person = np.zeros((300, 300, 3), np.uint8)
        cv2.ellipse(person, (150, 180), (80, 130), 0, 0, 360, (230, 90, 40), -1)
        cv2.circle(person, (150, 60), 45, (220, 180, 150), -1)
    scene = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
    scene[:] = np.linspace(60, 200, WIDTH, dtype=np.uint8)[None, :, None]
    frames = np.empty((num, HEIGHT, WIDTH, 3), np.uint8)
    for t in range(num):
        x = 40 + (t * 7) % (WIDTH - 340)
        frames[t] = scene
        frames[t, 40:340, x : x + 300] = person
    return frames


def timed(fn: Callable[[], object], repeats: int) -> tuple[float, float]:
    """Best wall seconds over ``repeats`` runs, and CPU seconds per wall second."""
    fn()  # warm-up (graph construction, caches)
    best, ratio = float("inf"), 0.0
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        if wall < best:
            best, ratio = wall, cpu / wall
    return best, ratio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mask-frames", type=int, default=48)
    parser.add_argument("--swap-clips", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--all-cores", action="store_true", help="do not pin to one core")
    args = parser.parse_args()

    cv2.setNumThreads(1)
    pinned = "no"
    if not args.all_cores and hasattr(os, "sched_setaffinity"):
        core = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {core})
        pinned = f"yes (core {core})"
    print(
        f"segment benchmark: {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs, pinned to one core: {pinned}, cv2 threads: 1"
    )
    print(f"frames {WIDTH}x{HEIGHT}\n")

    clip = person_clip(args.mask_frames)
    masks = None
    print(f"{'person masks':<34}{'frames/s':>10}{'cpu/wall':>10}")
    if mediapipe_available():
        for label, options in [
            ("mediapipe selfie/general (default)", {"model": "selfie"}),
            ("mediapipe selfie/landscape", {"model": "selfie", "selfie_model": "landscape"}),
            ("mediapipe pose (video mode)", {"model": "pose"}),
        ]:
            with build_segmenter("mediapipe", **options) as segmenter:
                seconds, ratio = timed(lambda s=segmenter: s.segment(clip), args.repeats)
                if masks is None:
                    masks = segmenter.segment(clip)
            print(f"{label:<34}{len(clip) / seconds:>10.1f}{ratio:>10.2f}")
    else:
        print("mediapipe not installed: mask speed not measured")
    if masks is None:  # fall back to the figure's own silhouette
        masks = np.abs(clip.astype(int) - clip[:, :1, :1].astype(int)).sum(-1) > 30
        masks = masks.astype(np.float32)

    human, human_masks = clip[:16], masks[:16]
    rng = np.random.default_rng(0)
    background = rng.integers(0, 256, (30, 360, 480, 3), dtype=np.uint8)
    background = np.stack([cv2.GaussianBlur(f, (0, 0), 3) for f in background])
    bg_masks = np.zeros((30, 360, 480), np.float32)
    bg_masks[:, 60:330, 150:330] = 1.0

    def hat() -> None:
        for _ in range(args.swap_clips):
            hat_swap(human, human_masks, background, bg_masks)

    def alpha() -> None:
        for _ in range(args.swap_clips):
            alpha_swap(human, human_masks, background)

    print(f"\n{'16-frame swaps (604x340 on 480x360)':<34}{'videos/s':>10}{'frames/s':>10}")
    for label, fn in [("hat policy", hat), ("alpha policy", alpha)]:
        seconds, _ = timed(fn, args.repeats)
        rate = args.swap_clips / seconds
        print(f"{label:<34}{rate:>10.1f}{rate * 16:>10.1f}")

    print(f"\n{'per-frame constructions':<34}{'frames/s':>10}")
    for label, fn in [
        ("background-only (Telea inpaint)", lambda: background_only(human, human_masks)),
        ("human-only (soft, zero fill)", lambda: human_only(human, human_masks)),
    ]:
        seconds, _ = timed(fn, args.repeats)
        print(f"{label:<34}{len(human) / seconds:>10.1f}")


if __name__ == "__main__":
    main()
