"""Pose backend: body-part maps drawn from landmarks, and mediapipe on a real photo."""

from __future__ import annotations

import numpy as np
import pytest

from actionbias.a2o.maps.pose import PART_NAMES, draw_parts
from actionbias.a2o.maps.vocabulary import RegionVocabulary


def _standing_person(height: int = 200, width: int = 120) -> np.ndarray:
    """33 hand-placed landmarks of an upright person facing the camera (x px, y px, vis)."""
    pts = np.zeros((33, 3), dtype=np.float32)
    pts[:, 2] = 1.0
    cx = width / 2
    face = {0: (cx, 30), 7: (cx + 8, 28), 8: (cx - 8, 28), 9: (cx + 3, 38), 10: (cx - 3, 38)}
    for i in range(11):
        pts[i, :2] = face.get(i, (cx + (i % 3) - 1, 26))
    for i, xy in face.items():
        pts[i, :2] = xy
    pts[11, :2], pts[12, :2] = (cx + 20, 55), (cx - 20, 55)  # shoulders
    pts[13, :2], pts[14, :2] = (cx + 25, 85), (cx - 25, 85)  # elbows
    pts[15, :2], pts[16, :2] = (cx + 28, 112), (cx - 28, 112)  # wrists
    for i, dy in ((17, 8), (19, 9), (21, 6)):
        pts[i, :2] = (cx + 30, 112 + dy)
        pts[i + 1, :2] = (cx - 30, 112 + dy)
    pts[23, :2], pts[24, :2] = (cx + 12, 115), (cx - 12, 115)  # hips
    pts[25, :2], pts[26, :2] = (cx + 13, 150), (cx - 13, 150)  # knees
    pts[27, :2], pts[28, :2] = (cx + 13, 185), (cx - 13, 185)  # ankles
    pts[29, :2], pts[30, :2] = (cx + 10, 190), (cx - 10, 190)  # heels
    pts[31, :2], pts[32, :2] = (cx + 20, 192), (cx - 20, 192)  # toes
    return pts


def _centroid_y(image: np.ndarray) -> float:
    ys, _ = np.nonzero(image)
    return float(ys.mean())


def test_draw_parts_geometry_and_visibility() -> None:
    pts = _standing_person()
    pts[25, 2] = 0.4  # left knee half visible: left thigh and shin take the smaller visibility
    maps = draw_parts(pts, 200, 120)
    assert set(maps) == set(PART_NAMES)
    assert maps["left thigh"].max() == pytest.approx(0.4)
    assert maps["left shin"].max() == pytest.approx(0.4)
    assert maps["right thigh"].max() == pytest.approx(1.0)
    order = ["head", "torso", "left thigh", "left shin", "left foot"]
    ys = [_centroid_y(maps[name]) for name in order]
    assert ys == sorted(ys)  # head above torso above thigh above shin above foot
    assert (
        np.mean(np.nonzero(maps["left forearm"])[1])
        > 60
        > np.mean(np.nonzero(maps["right forearm"])[1])
    )  # mediapipe's "left" is the person's left: image right for a person facing us
    person = maps["person"]
    for name in PART_NAMES:
        assert np.all(person >= maps[name])
        assert maps[name].min() >= 0.0 and maps[name].max() <= 1.0


def test_pose_backend_answers_body_part_queries_only(monkeypatch: pytest.MonkeyPatch) -> None:
    from actionbias.a2o.maps.pose import PoseMapBackend

    backend = PoseMapBackend()
    backend.vocabulary = RegionVocabulary(use_embedding=False)  # no MiniLM load needed here
    pts = _standing_person()
    monkeypatch.setattr(backend, "landmarks", lambda frames: [(pts, None), (None, None)])
    frames = np.zeros((2, 200, 120, 3), dtype=np.uint8)
    out = backend.compute(None, frames, ["arm", "left hand", "human", "xylophone"])
    drawn = draw_parts(pts, 200, 120)
    arm = np.max(
        [drawn[f"{s} {p}"] for s in ("left", "right") for p in ("upper arm", "forearm")], 0
    )
    np.testing.assert_array_equal(out[0, 0], arm)
    np.testing.assert_array_equal(out[1, 0], drawn["left hand"])
    np.testing.assert_array_equal(out[2, 0], drawn["person"])
    assert not out[3].any()  # not a body part
    assert not out[:, 1].any()  # nobody found in frame 2


@pytest.fixture(scope="module")
def mediapipe_pose():
    from actionbias.segment.mediapipe_backend import mediapipe_available

    if not mediapipe_available():
        pytest.skip("mediapipe 0.10.14 not installed")
    from actionbias.a2o.maps.pose import PoseMapBackend

    return PoseMapBackend


def test_pose_on_astronaut(mediapipe_pose) -> None:
    skimage_data = pytest.importorskip("skimage.data")
    image = skimage_data.astronaut()
    backend = mediapipe_pose(static=True)
    out = backend.compute(None, image[None], ["head", "hands", "torso", "person", "left hand"])
    head, hands, torso, person, left = out[:, 0]
    assert out.dtype == np.float32 and out.min() >= 0 and out.max() <= 1
    assert head.max() > 0.9  # the face is clearly visible
    assert _centroid_y(head) < _centroid_y(torso)
    assert _centroid_y(head) < _centroid_y(hands)
    ys, xs = np.nonzero(head)
    assert 0 < ys.mean() < 256 and 100 < xs.mean() < 350  # the face, upper middle of the photo
    assert np.all(person >= head)
    assert np.all(hands >= left)


@pytest.mark.slow
def test_pose_segmentation_person_map(mediapipe_pose) -> None:
    skimage_data = pytest.importorskip("skimage.data")
    image = skimage_data.astronaut()
    out = mediapipe_pose(static=True, segmentation=True).compute(None, image[None], ["person"])
    person = out[0, 0]
    assert person[100:200, 180:280].mean() > 0.9  # face
    assert person[20:80, 420:500].mean() < 0.1  # background top right
