"""Spatial transforms on uint8 RGB frames, one frame (H x W x 3) or a stack (T x H x W x 3).

Plain numpy + OpenCV so that decoding workers need no torch. Interpolation is
``INTER_AREA`` when shrinking (it averages, so thin structures do not alias away) and
``INTER_LINEAR`` otherwise. Centre crops put the extra pixel of an odd margin on the
bottom/right, i.e. offset ``(H - h) // 2`` as in MMAction2.

`Geometry` fixes the one order every reader applies:
rotation (done by the decoder) -> resize (`short_side` or `size`) -> crop.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

SizeArg = int | tuple[int, int]
CropArg = str | tuple[int, int, int, int]


def as_hw(size: SizeArg, name: str = "size") -> tuple[int, int]:
    """`size` as (height, width); an int means a square."""
    if isinstance(size, (int, np.integer)) and not isinstance(size, bool):
        h = w = int(size)
    elif isinstance(size, (tuple, list)) and len(size) == 2:
        h, w = (int(v) for v in size)
    else:
        raise ValueError(f"{name} must be an int or a (height, width) pair, got {size!r}")
    if h < 1 or w < 1:
        raise ValueError(f"{name} must be positive, got {size!r}")
    return h, w


def _check_frames(frames: np.ndarray) -> None:
    if frames.ndim not in (3, 4) or frames.shape[-1] != 3:
        raise ValueError(f"expected H x W x 3 or T x H x W x 3 frames, got shape {frames.shape}")


def _resize_one(frame: np.ndarray, h: int, w: int) -> np.ndarray:
    if frame.shape[0] == h and frame.shape[1] == w:
        return frame
    shrink = h <= frame.shape[0] and w <= frame.shape[1]
    interp = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
    return cv2.resize(frame, (w, h), interpolation=interp)


def resize(frames: np.ndarray, size: SizeArg) -> np.ndarray:
    """Resize to exactly `size` = (h, w) (or a square), ignoring the aspect ratio."""
    _check_frames(frames)
    h, w = as_hw(size)
    if frames.ndim == 3:
        return _resize_one(frames, h, w)
    if frames.shape[1:3] == (h, w):
        return frames
    return np.stack([_resize_one(f, h, w) for f in frames]) if len(frames) else frames


def short_side_shape(height: int, width: int, short_side: int) -> tuple[int, int]:
    """(h, w) with the shorter side equal to `short_side`, aspect kept (rounded)."""
    if short_side < 1:
        raise ValueError(f"short_side must be positive, got {short_side}")
    if height <= width:
        return short_side, max(1, round(width * short_side / height))
    return max(1, round(height * short_side / width)), short_side


def resize_short_side(frames: np.ndarray, short_side: int) -> np.ndarray:
    """Resize so the shorter side is `short_side` pixels, keeping the aspect ratio."""
    _check_frames(frames)
    h, w = frames.shape[-3:-1]
    return resize(frames, short_side_shape(h, w, short_side))


def resize_to_cover(frames: np.ndarray, size: SizeArg) -> np.ndarray:
    """Smallest aspect-keeping resize that covers `size`, so a centre crop of `size` fits."""
    _check_frames(frames)
    th, tw = as_hw(size)
    h, w = frames.shape[-3:-1]
    scale = max(th / h, tw / w)
    # max() guards against rounding a side to one pixel below the crop.
    return resize(frames, (max(th, round(h * scale)), max(tw, round(w * scale))))


def crop(frames: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """Crop the box (top, left, height, width), in pixels of the frames given."""
    _check_frames(frames)
    if len(box) != 4:
        raise ValueError(f"crop box must be (top, left, height, width), got {box!r}")
    top, left, bh, bw = (int(v) for v in box)
    h, w = frames.shape[-3:-1]
    if top < 0 or left < 0 or bh < 1 or bw < 1 or top + bh > h or left + bw > w:
        raise ValueError(
            f"crop box (top={top}, left={left}, height={bh}, width={bw}) "
            f"does not fit in a {h}x{w} frame"
        )
    return frames[..., top : top + bh, left : left + bw, :]


def center_crop(frames: np.ndarray, size: SizeArg) -> np.ndarray:
    """Central (h, w) region; fails if the frames are smaller than that."""
    _check_frames(frames)
    ch, cw = as_hw(size)
    h, w = frames.shape[-3:-1]
    if ch > h or cw > w:
        raise ValueError(f"centre crop {ch}x{cw} is larger than the {h}x{w} frame")
    return crop(frames, ((h - ch) // 2, (w - cw) // 2, ch, cw))


def rotate(frames: np.ndarray, degrees_cw: int) -> np.ndarray:
    """Rotate by a multiple of 90 degrees clockwise (how display rotation is applied)."""
    _check_frames(frames)
    if degrees_cw % 90:
        raise ValueError(f"rotation must be a multiple of 90 degrees, got {degrees_cw}")
    k = (degrees_cw // 90) % 4
    if k == 0:
        return frames
    # np.rot90 turns counter-clockwise for positive k.
    return np.ascontiguousarray(np.rot90(frames, -k, axes=(-3, -2)))


@dataclass(frozen=True)
class Geometry:
    """Validated resize/crop request, applied identically by every reader.

    Resize step: `short_side` keeps the aspect ratio; `size` alone resizes to exactly
    (h, w); `size` with ``crop="center"`` (and no `short_side`) resizes just enough to
    cover `size`, keeping the aspect ratio. Crop step: ``"center"`` crops to `size`, or
    to a centred square of the short side when `size` is not given; a (top, left,
    height, width) box is taken in pixels of the resized frame.
    `short_side` together with `size` is only meaningful with ``crop="center"``
    (SlowFast-style "short side 256, centre crop 224").
    """

    short_side: int | None = None
    size: tuple[int, int] | None = None
    crop: str | tuple[int, int, int, int] | None = None

    @classmethod
    def from_args(
        cls,
        short_side: int | None = None,
        size: SizeArg | None = None,
        crop: CropArg | None = None,
    ) -> Geometry:
        hw = as_hw(size) if size is not None else None
        if short_side is not None and short_side < 1:
            raise ValueError(f"short_side must be positive, got {short_side}")
        box: str | tuple[int, int, int, int] | None
        if crop is None or crop == "center":
            box = crop
        elif isinstance(crop, str):
            raise ValueError(
                f"crop must be 'center' or a (top, left, height, width) box, got {crop!r}"
            )
        else:
            if len(crop) != 4:
                raise ValueError(f"crop box must be (top, left, height, width), got {crop!r}")
            box = tuple(int(v) for v in crop)  # type: ignore[assignment]
        if short_side is not None and hw is not None and box != "center":
            raise ValueError(
                "give short_side or size, not both (both only with crop='center': "
                "short_side resizes, size is the crop)"
            )
        return cls(short_side=short_side, size=hw, crop=box)

    @property
    def is_identity(self) -> bool:
        return self.short_side is None and self.size is None and self.crop is None

    def apply(self, frames: np.ndarray) -> np.ndarray:
        """Resize then crop one frame or a stack (already in display orientation)."""
        if self.is_identity:
            return frames
        out = frames
        if self.short_side is not None:
            out = resize_short_side(out, self.short_side)
        elif self.size is not None:
            if self.crop == "center":
                out = resize_to_cover(out, self.size)
            else:
                out = resize(out, self.size)
        if self.crop == "center":
            if self.size is not None:
                out = center_crop(out, self.size)
            else:
                side = min(out.shape[-3:-1])
                out = center_crop(out, side)
        elif self.crop is not None:
            out = crop(out, self.crop)  # type: ignore[arg-type]
        return np.ascontiguousarray(out)
