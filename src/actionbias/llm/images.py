"""Video frames as OpenAI chat image parts (base64 JPEG data URLs).

Every OpenAI-compatible server that takes images (OpenAI, vLLM, Ollama,
llama.cpp) accepts `{"type": "image_url", "image_url": {"url": "data:..."}}`
parts, so frames are sent inline rather than by URL: no file server, and the
request (hence the cache key) is a pure function of the pixels. Frames are
downscaled before encoding because providers bill and rate-limit by image
size and tile count, and VLMs resize to a few hundred pixels anyway.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence

import cv2
import numpy as np

DEFAULT_MAX_SIDE = 512
DEFAULT_QUALITY = 85


def _as_frames(frames: np.ndarray | Sequence[np.ndarray]) -> list[np.ndarray]:
    """Accept one RGB image, a (T, H, W, 3) clip or a list of images."""
    if isinstance(frames, np.ndarray):
        if frames.ndim == 2 or (frames.ndim == 3 and frames.shape[-1] in (1, 3)):
            items = [frames]
        elif frames.ndim == 4:
            items = list(frames)
        else:
            raise ValueError(
                f"frames: expected (H, W, 3) or (T, H, W, 3) array, got shape {frames.shape}"
            )
    else:
        items = [np.asarray(f) for f in frames]
    if not items:
        raise ValueError("frames: no frames given")
    out = []
    for i, frame in enumerate(items):
        if frame.ndim == 3 and frame.shape[-1] == 1:
            frame = frame[..., 0]
        if frame.ndim == 2:
            frame = np.repeat(frame[..., None], 3, axis=-1)
        if frame.ndim != 3 or frame.shape[-1] != 3 or min(frame.shape[:2]) < 1:
            raise ValueError(f"frames[{i}]: expected an (H, W, 3) RGB image, got {frame.shape}")
        if frame.dtype != np.uint8:
            if np.issubdtype(frame.dtype, np.floating) and float(np.nanmax(frame)) <= 1.0:
                frame = frame * 255.0  # float images in [0, 1]
            frame = np.clip(np.nan_to_num(frame), 0, 255).astype(np.uint8)
        out.append(frame)
    return out


def encode_jpeg(
    frame: np.ndarray, max_side: int = DEFAULT_MAX_SIDE, quality: int = DEFAULT_QUALITY
) -> bytes:
    """JPEG bytes of one RGB uint8 frame, downscaled so its longer side is <= `max_side`."""
    if max_side < 1:
        raise ValueError(f"max_side must be >= 1, got {max_side}")
    if not 1 <= quality <= 100:
        raise ValueError(f"quality must be in 1..100, got {quality}")
    (frame,) = _as_frames(frame)
    height, width = frame.shape[:2]
    scale = max_side / max(height, width)
    if scale < 1.0:  # never upscale: it adds bytes, not information
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        frame = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
    bgr = cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2BGR)
    ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise ValueError(f"could not JPEG-encode a frame of shape {frame.shape}")
    return buf.tobytes()


def jpeg_data_url(jpeg: bytes) -> str:
    return "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii")


def decode_data_url(url: str) -> np.ndarray:
    """RGB uint8 image from a `data:image/...;base64,` URL (the inverse, for tests and servers)."""
    header, sep, payload = url.partition(",")
    if not sep or not header.startswith("data:image/") or not header.endswith(";base64"):
        raise ValueError(f"not a base64 image data URL: {url[:40]!r}")
    buf = np.frombuffer(base64.b64decode(payload, validate=True), dtype=np.uint8)
    bgr = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    if bgr is None:
        raise ValueError("data URL does not hold a decodable image")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def frames_to_image_parts(
    frames: np.ndarray | Sequence[np.ndarray],
    max_side: int = DEFAULT_MAX_SIDE,
    quality: int = DEFAULT_QUALITY,
    detail: str | None = None,
) -> list[dict]:
    """One OpenAI `image_url` content part per frame, in frame order.

    `frames` is an RGB uint8 (T, H, W, 3) clip, one (H, W, 3) image or a list
    of images (grey or float-in-[0, 1] images are converted). `detail`
    ("low"/"high"/"auto") is passed through for OpenAI, which bills low-detail
    images at a flat rate; other servers ignore it.
    """
    parts = []
    for frame in _as_frames(frames):
        image_url: dict[str, str] = {"url": jpeg_data_url(encode_jpeg(frame, max_side, quality))}
        if detail is not None:
            image_url["detail"] = detail
        parts.append({"type": "image_url", "image_url": image_url})
    return parts
