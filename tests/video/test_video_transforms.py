from __future__ import annotations

import numpy as np
import pytest

from actionbias import video


def gradient(h: int = 48, w: int = 64, t: int | None = None) -> np.ndarray:
    """Pixel (y, x) = (y, x, 7): every position identifiable after a crop."""
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.stack([yy, xx, np.full_like(yy, 7)], axis=-1).astype(np.uint8)
    return img if t is None else np.stack([img] * t)


def test_resize_short_side_keeps_aspect():
    assert video.resize_short_side(gradient(48, 64), 24).shape == (24, 32, 3)
    assert video.resize_short_side(gradient(64, 48), 24).shape == (32, 24, 3)  # portrait
    assert video.resize_short_side(gradient(340, 604), 256).shape == (256, 455, 3)  # 454.6 rounds
    assert video.resize_short_side(gradient(48, 64, t=3), 96).shape == (3, 96, 128, 3)


def test_resize_exact_size_and_square_int():
    assert video.resize(gradient(), (20, 30)).shape == (20, 30, 3)
    assert video.resize(gradient(t=2), 16).shape == (2, 16, 16, 3)
    flat = np.full((10, 10, 3), 200, np.uint8)
    assert np.all(video.resize(flat, (25, 7)) == 200)  # interpolation keeps flat colours


def test_center_crop_takes_the_middle():
    out = video.center_crop(gradient(48, 64), (20, 30))
    assert out.shape == (20, 30, 3)
    # offsets (48 - 20) // 2 = 14 and (64 - 30) // 2 = 17
    assert out[0, 0].tolist() == [14, 17, 7]
    assert out[-1, -1].tolist() == [33, 46, 7]
    odd = video.center_crop(gradient(5, 5), 2)  # odd margin: the extra pixel goes bottom/right
    assert odd[0, 0].tolist() == [1, 1, 7]


def test_crop_box_is_top_left_height_width():
    out = video.crop(gradient(t=2), (5, 10, 4, 6))
    assert out.shape == (2, 4, 6, 3)
    assert out[0, 0, 0].tolist() == [5, 10, 7]


@pytest.mark.parametrize("box", [(40, 0, 10, 10), (0, 60, 5, 5), (-1, 0, 5, 5), (0, 0, 0, 5)])
def test_crop_box_outside_the_frame_is_refused(box):
    with pytest.raises(ValueError, match="crop box"):
        video.crop(gradient(), box)


def test_center_crop_larger_than_frame_is_refused():
    with pytest.raises(ValueError, match="larger than"):
        video.center_crop(gradient(48, 64), 50)


def test_rotate_is_clockwise():
    img = np.zeros((4, 6, 3), np.uint8)
    img[0, 0] = 255  # top-left marker
    r90 = video.rotate(img, 90)
    assert r90.shape == (6, 4, 3)
    assert r90[0, -1, 0] == 255  # clockwise: top-left goes to top-right
    assert video.rotate(img, 180)[-1, -1, 0] == 255
    assert video.rotate(img, 270)[-1, 0, 0] == 255
    assert video.rotate(img, -90)[-1, 0, 0] == 255
    assert np.array_equal(video.rotate(video.rotate(img, 90), 270), img)
    stack = video.rotate(np.stack([img, img]), 90)
    assert stack.shape == (2, 6, 4, 3) and stack[1, 0, -1, 0] == 255
    with pytest.raises(ValueError):
        video.rotate(img, 45)


def test_resize_to_cover_then_crop_fits_exactly():
    out = video.resize_to_cover(gradient(48, 64), (40, 40))
    assert out.shape == (40, 53, 3)
    assert video.resize_to_cover(gradient(48, 64), (10, 60)).shape[:2] == (45, 60)


def test_geometry_order_short_side_then_centre_crop():
    geo = video.Geometry.from_args(short_side=24, size=16, crop="center")
    out = geo.apply(gradient(48, 64, t=2))
    assert out.shape == (2, 16, 16, 3)
    expected = video.center_crop(video.resize_short_side(gradient(48, 64, t=2), 24), 16)
    assert np.array_equal(out, expected)


def test_geometry_variants():
    img = gradient(48, 64)
    assert video.Geometry.from_args().apply(img) is img
    assert video.Geometry.from_args(size=(20, 30)).apply(img).shape == (20, 30, 3)
    assert video.Geometry.from_args(size=32, crop="center").apply(img).shape == (32, 32, 3)
    assert video.Geometry.from_args(short_side=24).apply(img).shape == (24, 32, 3)
    assert video.Geometry.from_args(crop="center").apply(img).shape == (48, 48, 3)
    assert video.Geometry.from_args(short_side=24, crop="center").apply(img).shape == (24, 24, 3)
    boxed = video.Geometry.from_args(size=(24, 32), crop=(2, 3, 10, 12)).apply(img)
    assert boxed.shape == (10, 12, 3)
    # size=int and size=(h, w) mean the same square
    a = video.Geometry.from_args(size=20, crop="center").apply(img)
    b = video.Geometry.from_args(size=(20, 20), crop="center").apply(img)
    assert np.array_equal(a, b)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"short_side": 24, "size": 16},  # ambiguous without crop="center"
        {"short_side": 0},
        {"size": (0, 5)},
        {"size": (1, 2, 3)},
        {"crop": "random"},
        {"crop": (1, 2, 3)},
    ],
)
def test_geometry_rejects_bad_requests(kwargs):
    with pytest.raises(ValueError):
        video.Geometry.from_args(**kwargs)


def test_transforms_reject_non_rgb_arrays():
    with pytest.raises(ValueError, match="H x W x 3"):
        video.resize(np.zeros((4, 4), np.uint8), 2)
