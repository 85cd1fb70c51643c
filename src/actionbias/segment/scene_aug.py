"""Scene-swap augmentation for training (paper, appendix A.4).

The paper pasted the person of every Kinetics-50 training clip onto a random
Places365 image, "each video kept the same background throughout, and we resized the
background image to match the resolution of the original video", doubling the
training set. Offline, SynthAct's neutral scenes (or any folder of images) play the
part of Places365.

Two ways to use it:

* on the fly: ``SceneSwapAugment(backgrounds, p=0.5, seed=0)`` is a callable
  ``(frames, masks) -> frames`` for a data pipeline. With probability ``p`` it picks
  one background, resizes it to the clip (bilinear, aspect not kept, as the paper
  did) and composites ``rint(frame*m + bg*(1-m))`` on every frame; otherwise it
  returns the frames untouched. Pass ``key=`` (e.g. the clip id and epoch) to make
  the draw a pure function of ``(seed, key)``: data-loader workers then agree no
  matter which worker gets which clip, whereas the keyless draw advances one RNG
  (copied, not shared, by each worker).
* materialised: `write_scene_swap_videos` writes one augmented copy per clip, the
  paper's doubled dataset (see also ``workflows.run_scene_swap``).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import cv2
import numpy as np

from actionbias.errors import BadInputError, VideoReadError
from actionbias.segment.backend import check_frames
from actionbias.segment.composite import blend

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp")

Background = str | Path | np.ndarray


def list_scene_images(folder: str | Path) -> list[Path]:
    """Every image under ``folder`` (recursively), sorted, for use as backgrounds."""
    folder = Path(folder)
    if not folder.is_dir():
        raise BadInputError("scene image folder not found", source=folder)
    images = sorted(
        p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file()
    )
    if not images:
        raise BadInputError(f"no images ({', '.join(IMAGE_EXTENSIONS)}) found", source=folder)
    return images


def load_background(background: Background) -> np.ndarray:
    """A background as uint8 RGB ``H x W x 3`` (from a path or an array)."""
    if isinstance(background, np.ndarray):
        image = background
        if image.ndim == 2:
            image = np.repeat(image[..., None], 3, axis=2)
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(f"background arrays must be uint8 H x W x 3, got {image.shape}")
        return image
    path = Path(background)
    if not path.is_file():
        raise VideoReadError(path, "background image not found")
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise VideoReadError(path, "cannot decode background image")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def scene_swap(frames: np.ndarray, masks: np.ndarray, background: Background) -> np.ndarray:
    """The person of ``frames`` on one background image resized to the frame size."""
    frames = check_frames(frames)
    image = load_background(background)
    height, width = frames.shape[1:3]
    if image.shape[:2] != (height, width):
        image = cv2.resize(image, (width, height), interpolation=cv2.INTER_LINEAR)
    masks = np.asarray(masks)
    if masks.shape[:3] != frames.shape[:3]:
        raise ValueError(f"masks {masks.shape} do not match frames {frames.shape[:3]}")
    return blend(frames, masks, image[None])


class SceneSwapAugment:
    """Random scene swap as a training transform (see the module docstring)."""

    def __init__(
        self,
        backgrounds: Sequence[Background] | str | Path,
        p: float = 0.5,
        seed: int | None = None,
    ) -> None:
        if isinstance(backgrounds, (str, Path)):
            backgrounds = list_scene_images(backgrounds)
        self.backgrounds = list(backgrounds)
        if not self.backgrounds:
            raise BadInputError("scene-swap augmentation needs at least one background")
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"p must be in [0, 1], got {p}")
        self.p = float(p)
        self.seed = seed
        self._rng = np.random.default_rng(seed)

    def draw(self, key: str | None = None) -> int | None:
        """Index of the background to use, or None to leave the clip unchanged."""
        if key is None:
            rng = self._rng
        else:
            rng = np.random.default_rng([self.seed or 0, zlib.crc32(key.encode("utf-8"))])
        apply = rng.random() < self.p
        index = int(rng.integers(len(self.backgrounds)))
        return index if apply else None

    def __call__(self, frames: np.ndarray, masks: np.ndarray, key: str | None = None) -> np.ndarray:
        index = self.draw(key)
        if index is None:
            return frames
        return scene_swap(frames, masks, self.backgrounds[index])


def write_scene_swap_videos(
    clips: Iterable[tuple[str, np.ndarray, np.ndarray]],
    backgrounds: Sequence[Background] | str | Path,
    out_dir: str | Path,
    seed: int = 0,
    fps: float = 30.0,
    writer: Callable[[Path, np.ndarray, float], object] | None = None,
) -> list[tuple[str, Path, int]]:
    """Write one scene-swapped copy of every ``(clip_id, frames, masks)``.

    Every clip is augmented (``p = 1``); the background of clip ``clip_id`` is drawn
    from ``(seed, clip_id)``, so reruns and sharded runs agree. Videos go to
    ``out_dir/<clip_id>.mp4`` (``clip_id`` may contain ``/``, e.g. ``class/clip``)
    through ``actionbias.video.write_video`` unless ``writer(path, frames, fps)`` is
    given. Returns ``(clip_id, path, background index)`` per clip.
    """
    if writer is None:
        from actionbias.video import write_video

        def writer(path: Path, frames: np.ndarray, fps: float) -> object:
            return write_video(path, frames, fps=fps)

    augment = SceneSwapAugment(backgrounds, p=1.0, seed=seed)
    out_dir = Path(out_dir)
    written = []
    for clip_id, frames, masks in clips:
        index = augment.draw(clip_id)
        assert index is not None  # p == 1
        path = out_dir / f"{clip_id}.mp4"
        path.parent.mkdir(parents=True, exist_ok=True)
        writer(path, scene_swap(frames, masks, augment.backgrounds[index]), fps)
        written.append((clip_id, path, index))
    return written
