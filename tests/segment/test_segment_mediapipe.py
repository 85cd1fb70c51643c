"""The mediapipe backend on a real photo of a person (skimage's astronaut).

Regions were read off the 512x512 image: the flag is in the upper-left corner, the
space-shuttle model (rocket) in the upper-right, the face in the top centre and the
orange suit's torso below it.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from actionbias.segment import build_segmenter, has_person, person_area

pytest.importorskip("mediapipe", reason="the mediapipe backend needs mediapipe==0.10.14")
skimage_data = pytest.importorskip("skimage.data", reason="the astronaut photo needs scikit-image")

# (row0, row1, col0, col1) boxes in the 512x512 astronaut image.
ROCKET = (10, 240, 390, 450)
FLAG = (0, 200, 0, 80)
FACE = (70, 150, 180, 270)
TORSO = (280, 400, 60, 330)


def _mean(mask: np.ndarray, box: tuple[int, int, int, int]) -> float:
    y0, y1, x0, x1 = box
    return float(mask[y0:y1, x0:x1].mean())


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    return skimage_data.astronaut()


@pytest.mark.parametrize("model", ["selfie", "pose"])
def test_mask_covers_the_astronaut_and_not_the_rocket_or_flag(
    astronaut: np.ndarray, model: str
) -> None:
    with build_segmenter("mediapipe", model=model) as segmenter:
        masks = segmenter.segment(np.stack([astronaut] * 3))
    assert masks.shape == (3, 512, 512) and masks.dtype == np.float32
    assert masks.min() >= 0.0 and masks.max() <= 1.0
    mask = masks[1]
    assert _mean(mask, FACE) > 0.9
    assert _mean(mask, TORSO) > 0.9
    assert _mean(mask, ROCKET) < 0.05
    assert _mean(mask, FLAG) < 0.05
    assert has_person(masks).all()
    assert 0.2 < person_area(masks)[0] < 0.7


def test_a_scene_without_people_has_no_person(astronaut: np.ndarray) -> None:
    # The rocket-and-sky corner of the photo, scaled up: no person in view. (Selfie
    # segmentation lights up ~0.15 % of it, under the 0.2 % person threshold.)
    scene = cv2.resize(np.ascontiguousarray(astronaut[:250, 330:]), (240, 320))
    with build_segmenter("mediapipe", model="pose") as segmenter:
        masks = segmenter.segment(np.stack([scene] * 2))
    assert not has_person(masks).any()


def test_options_identify_the_output_and_sparse_frames_are_not_smoothed(
    astronaut: np.ndarray,
) -> None:
    selfie = build_segmenter("mediapipe", smoothing="ema", alpha=0.3)
    landscape = build_segmenter("mediapipe", selfie_model="landscape")
    assert selfie.options() != landscape.options()
    assert selfie.options()["smoothing"] == {"method": "ema", "alpha": 0.3, "bidirectional": True}
    blank = np.zeros_like(astronaut)
    frames = np.stack([astronaut, blank])
    # Consecutive frames: the EMA carries the person into the blank frame ...
    carried = selfie.segment(frames, indices=np.array([0, 1]))
    # ... frames 0 and 50 of a video are not neighbours: no blending across the gap.
    separate = selfie.segment(frames, indices=np.array([0, 50]))
    assert _mean(carried[1], TORSO) > 0.2
    assert _mean(separate[1], TORSO) < 0.05
    selfie.close()
    landscape.close()
    with pytest.raises(ValueError, match="selfie"):
        build_segmenter("mediapipe", model="hands")
