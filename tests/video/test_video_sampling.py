from __future__ import annotations

import numpy as np
import pytest

from actionbias.video import sample_indices, window_to_range


def test_uniform_is_the_centre_of_equal_segments():
    # 300 frames in 8 segments of 37.5: centres 18.75, 56.25, ... floored.
    assert sample_indices(300, 8).tolist() == [18, 56, 93, 131, 168, 206, 243, 281]
    assert sample_indices(10, 4, "uniform").tolist() == [1, 3, 6, 8]
    assert sample_indices(8, 8).tolist() == list(range(8))


def test_uniform_repeats_frames_of_a_short_window():
    assert sample_indices(3, 8).tolist() == [0, 0, 0, 1, 1, 2, 2, 2]
    assert sample_indices(1, 4).tolist() == [0, 0, 0, 0]


def test_uniform_ignores_stride_and_seed():
    assert sample_indices(100, 4, stride=5, seed=3).tolist() == sample_indices(100, 4).tolist()


def test_center_block_is_centred_and_strided():
    # span = 7 * 2 + 1 = 15, offset (100 - 15) // 2 = 42
    assert sample_indices(100, 8, "center", stride=2).tolist() == list(range(42, 57, 2))
    assert sample_indices(10, 4, "center").tolist() == [3, 4, 5, 6]


def test_center_clamps_when_the_window_is_too_short():
    # offset (5 - 8) // 2 = -2 -> [-2..5] clamped to [0, 4]
    assert sample_indices(5, 8, "center").tolist() == [0, 0, 0, 1, 2, 3, 4, 4]
    assert sample_indices(4, 3, "center", stride=4).tolist() == [0, 1, 3]  # -3, 1, 5


def test_dense_without_seed_is_the_centred_block():
    assert np.array_equal(
        sample_indices(100, 8, "dense", stride=4), sample_indices(100, 8, "center", stride=4)
    )


def test_dense_with_seed_is_reproducible_random_and_in_range():
    a = sample_indices(200, 8, "dense", stride=3, seed=7)
    assert np.array_equal(a, sample_indices(200, 8, "dense", stride=3, seed=7))
    assert np.all(np.diff(a) == 3)
    assert a[0] >= 0 and a[-1] < 200
    offsets = {int(sample_indices(200, 8, "dense", stride=3, seed=s)[0]) for s in range(20)}
    assert len(offsets) > 5  # really random
    assert max(offsets) <= 200 - 22


def test_dense_seeded_on_a_short_window_clamps():
    assert sample_indices(3, 4, "dense", stride=2, seed=1).tolist() == [0, 2, 2, 2]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((10, 0), "num_frames"),
        ((10, 4, "random"), "sampling must be one of"),
        ((10, 4, "center", 0), "stride"),
        ((0, 4), "num_available"),
    ],
)
def test_bad_sampling_arguments(args, message):
    with pytest.raises(ValueError, match=message):
        sample_indices(*args)


def test_window_to_range_maps_seconds_to_frames():
    assert window_to_range(300, 30.0) == (0, 300)
    assert window_to_range(300, 30.0, 1.0, 2.0) == (30, 60)  # frames shown in [1 s, 2 s)
    assert window_to_range(300, 30.0, 0.99, 2.01) == (30, 61)
    assert window_to_range(300, 30.0, start=9.5) == (285, 300)
    assert window_to_range(300, 30.0, end=20.0) == (0, 300)  # clipped to the source
    first, stop = window_to_range(300, 30.0, start=12.0)
    assert stop <= first  # past the end: empty, the reader reports it


@pytest.mark.parametrize(("start", "end"), [(-1.0, None), (2.0, 1.0), (1.0, 1.0), (None, 0.0)])
def test_window_to_range_rejects_bad_windows(start, end):
    with pytest.raises(ValueError):
        window_to_range(300, 30.0, start, end)
