"""The action library: shape of the registry and the reversed-pair property."""

from __future__ import annotations

import numpy as np
import pytest

from actionbias.synth import ACTIONS, HOME_SCENES, OBJECTS, PRESETS, REVERSED_PAIRS, sample_motion
from actionbias.synth.body import POSE_SIZE, SEGMENTS

FRAMES, FPS = 16, 8.0


def test_library_has_enough_classes_pairs_and_valid_references() -> None:
    assert len(ACTIONS) >= 10
    assert len(REVERSED_PAIRS) >= 3
    homes = [a.home_scene for a in ACTIONS.values()]
    assert len(set(homes)) == len(homes), "every class needs its own home scene"
    for name, action in ACTIONS.items():
        assert name == name.strip().lower() and name.replace(" ", "").isalpha()
        assert action.home_scene in HOME_SCENES
        assert action.object is None or action.object in OBJECTS
    default = PRESETS["default"].classes
    assert len(default) == 10
    assert all(a in default and b in default for a, b in REVERSED_PAIRS)
    tiny = PRESETS["tiny"].classes
    assert 4 <= len(tiny) <= 6
    assert any(a in tiny and b in tiny for a, b in REVERSED_PAIRS)


@pytest.mark.parametrize("action", list(ACTIONS))
def test_every_action_gives_valid_moving_poses(action: str) -> None:
    poses = sample_motion(action, np.random.default_rng(3)).poses(FRAMES, FPS)
    assert poses.shape == (FRAMES, POSE_SIZE)
    assert np.isfinite(poses).all()
    directions = poses[:, : 3 * len(SEGMENTS)].reshape(FRAMES, len(SEGMENTS), 3)
    np.testing.assert_allclose(np.linalg.norm(directions, axis=-1), 1.0, atol=1e-9)
    assert np.abs(np.diff(poses, axis=0)).max() > 0.05, "the actor must move"


@pytest.mark.parametrize(("base", "reverse"), REVERSED_PAIRS)
def test_reversed_class_plays_the_same_frames_backwards(base: str, reverse: str) -> None:
    for seed in range(10):
        forward = sample_motion(base, np.random.default_rng(seed)).poses(FRAMES, FPS)
        backward = sample_motion(reverse, np.random.default_rng(seed)).poses(FRAMES, FPS)
        np.testing.assert_array_equal(backward, forward[::-1])
        assert not np.allclose(backward, forward)


def _clips(action: str, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.stack([sample_motion(action, rng).poses(FRAMES, FPS) for _ in range(n)])


def _nn_accuracy(
    train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray, test_y: np.ndarray
) -> float:
    d = (test_x**2).sum(1)[:, None] + (train_x**2).sum(1)[None, :] - 2.0 * test_x @ train_x.T
    return float((train_y[d.argmin(1)] == test_y).mean())


def _turning(clips: np.ndarray) -> np.ndarray:
    """Per clip: mean rotation axis of every limb between frames (order-sensitive)."""
    d = clips[:, :, : 3 * len(SEGMENTS)].reshape(*clips.shape[:2], len(SEGMENTS), 3)
    spin = np.cross(d[:, :-1], d[:, 1:]).mean(axis=1).reshape(len(clips), -1)
    drift = np.diff(clips[:, :, 3 * len(SEGMENTS) :], axis=1).mean(axis=1)
    return np.concatenate([spin, drift], axis=1)


@pytest.mark.parametrize(("base", "reverse"), REVERSED_PAIRS)
def test_reversed_pairs_are_ambiguous_per_frame_but_not_in_time(base: str, reverse: str) -> None:
    # Independent draws of both classes: a single frame is at chance (same pose
    # distribution), while the order of frames separates them almost perfectly.
    n = 80
    a_train, a_test = _clips(base, n, 1), _clips(base, n, 2)
    b_train, b_test = _clips(reverse, n, 3), _clips(reverse, n, 4)
    frames_train = np.concatenate([a_train, b_train]).reshape(-1, POSE_SIZE)
    frames_test = np.concatenate([a_test, b_test]).reshape(-1, POSE_SIZE)
    y_frames_train = np.repeat([0, 1], n * FRAMES)
    y_frames_test = np.repeat([0, 1], n * FRAMES)
    static = _nn_accuracy(frames_train, y_frames_train, frames_test, y_frames_test)
    assert 0.4 <= static <= 0.6, f"single frames should be at chance, got {static:.3f}"

    clips_train = _turning(np.concatenate([a_train, b_train]))
    clips_test = _turning(np.concatenate([a_test, b_test]))
    y = np.repeat([0, 1], n)
    temporal = _nn_accuracy(clips_train, y, clips_test, y)
    assert temporal >= 0.95, f"motion direction should separate the pair, got {temporal:.3f}"


def test_unpaired_classes_differ_in_static_pose() -> None:
    n = 40
    a, b = _clips("waving", n, 5), _clips("jumping jacks", n, 6)
    a2, b2 = _clips("waving", n, 7), _clips("jumping jacks", n, 8)
    x_train = np.concatenate([a, b]).reshape(-1, POSE_SIZE)
    x_test = np.concatenate([a2, b2]).reshape(-1, POSE_SIZE)
    y = np.repeat([0, 1], n * FRAMES)
    assert _nn_accuracy(x_train, y, x_test, y) > 0.9
