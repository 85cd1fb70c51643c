"""SAM 2 box-to-mask refinement (transformers `Sam2Model`): the "SAM2" of Grounded SAM2.

The A2O paper's detector is Grounded SAM2: open-vocabulary boxes, each refined
into a pixel mask by SAM 2 with the box as its prompt. `Sam2Refiner.refine`
does that second step for the boxes OWLv2 or Grounding DINO found; the backend
then paints score x mask instead of score x box (`boxes_to_map(..., masks=)`),
so a map no longer covers the background inside a box.

Preprocessing is done here, not by `Sam2Processor`: its image processor imports
torchvision, which does not import in this environment. The steps are the
processor's: RGB resized to the model's square input (bilinear, antialiased),
scaled to [0, 1], normalised with the ImageNet mean/std (or the folder's
``preprocessor_config.json`` when it has one); box corners scaled by
``size / width`` and ``size / height``; one mask per box
(``multimask_output=False``), its low-resolution logits resized bilinearly to
the frame and thresholded at 0 (``post_process_masks``). Each frame's image
embedding is computed once for all its boxes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from actionbias.a2o.maps.backend import batched, resolve_torch_device
from actionbias.errors import BadInputError

#: SAM 2.1 Hiera-S, the "small model" the paper's Grounded SAM2 uses.
DEFAULT_SAM2 = "facebook/sam2.1-hiera-small"
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def _preprocessor_settings(model_id: str) -> dict[str, Any]:
    """size / image_mean / image_std from a local folder's preprocessor_config.json, if any."""
    path = Path(model_id) / "preprocessor_config.json"
    if path.is_file():
        try:
            return dict(json.loads(path.read_text(encoding="utf-8")))
        except ValueError as err:
            raise BadInputError(f"unreadable SAM 2 preprocessor config ({err})", path) from None
    if Path(model_id).exists():
        return {}
    try:  # a hub id: the file sits in the local Hugging Face cache after the first download
        from huggingface_hub import hf_hub_download

        cached = hf_hub_download(model_id, "preprocessor_config.json")
    except Exception:  # no file, offline, or not a hub id: the processor's defaults
        return {}
    return dict(json.loads(Path(cached).read_text(encoding="utf-8")))


class Sam2Refiner:
    """Boxes per frame -> one boolean mask per box, from a SAM 2 model loaded lazily.

    ``model`` is a Hugging Face id or a ``save_pretrained`` folder of a
    `transformers.Sam2Model`; ``device``/``dtype`` as for the detectors ("auto"
    picks CUDA and fp16 when present). Pickling drops the model.
    """

    def __init__(
        self,
        model: str = DEFAULT_SAM2,
        device: str | None = None,
        dtype: str | None = None,
        batch_size: int = 4,
        mask_threshold: float = 0.0,
    ) -> None:
        self.model_id = str(model)
        self.device = device
        self.dtype = dtype
        self.batch_size = max(1, int(batch_size))
        self.mask_threshold = float(mask_threshold)
        self._model: Any = None
        self._size: int | None = None
        self._mean: tuple[float, float, float] = IMAGENET_MEAN
        self._std: tuple[float, float, float] = IMAGENET_STD

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_model"] = None
        return state

    def cache_key(self) -> dict[str, Any]:
        return {
            "sam2": self.model_id,
            "sam2_dtype": str(resolve_torch_device(self.device, self.dtype)[1]).removeprefix(
                "torch."
            ),
            "mask_threshold": self.mask_threshold,
        }

    def load(self) -> Any:
        if self._model is None:
            from transformers import Sam2Model

            device, dtype = resolve_torch_device(self.device, self.dtype)
            model = Sam2Model.from_pretrained(self.model_id, dtype=dtype)
            settings = _preprocessor_settings(self.model_id)
            self.set_model(
                model.to(device),
                size=(settings.get("size") or {}).get("height"),
                mean=settings.get("image_mean"),
                std=settings.get("image_std"),
            )
        return self._model

    def set_model(
        self,
        model: Any,
        size: int | None = None,
        mean: Sequence[float] | None = None,
        std: Sequence[float] | None = None,
    ) -> None:
        """Use an already-built `Sam2Model`; ``size`` defaults to its prompt encoder's."""
        self._model = model.eval()
        self._size = int(size or model.config.prompt_encoder_config.image_size)
        self._mean = tuple(float(v) for v in (mean or IMAGENET_MEAN))  # type: ignore[assignment]
        self._std = tuple(float(v) for v in (std or IMAGENET_STD))  # type: ignore[assignment]

    @property
    def input_size(self) -> int:
        self.load()
        assert self._size is not None
        return self._size

    def pixel_values(self, frames: np.ndarray) -> Any:
        """uint8 B x H x W x 3 -> float B x 3 x S x S, as Sam2Processor prepares images."""
        import torch
        import torch.nn.functional as F

        size = self.input_size
        x = torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).float()
        x = F.interpolate(
            x, size=(size, size), mode="bilinear", align_corners=False, antialias=True
        )
        x = x / 255.0
        mean = torch.tensor(self._mean).view(1, 3, 1, 1)
        std = torch.tensor(self._std).view(1, 3, 1, 1)
        return (x - mean) / std

    def scale_boxes(self, boxes: np.ndarray, height: int, width: int) -> np.ndarray:
        """(x0, y0, x1, y1) frame pixels -> the model's square input coordinates."""
        size = self.input_size
        out = np.asarray(boxes, dtype=np.float32).reshape(-1, 4).copy()
        out[:, 0::2] *= size / width
        out[:, 1::2] *= size / height
        return out

    def refine(self, frames: np.ndarray, boxes: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Per frame, bool masks N_t x H x W for its N_t boxes (x0, y0, x1, y1 pixels)."""
        import torch
        import torch.nn.functional as F

        frames = np.asarray(frames)
        if len(boxes) != len(frames):
            raise ValueError(f"{len(boxes)} box lists for {len(frames)} frames")
        height, width = frames.shape[1:3]
        out = [np.zeros((len(np.asarray(b).reshape(-1, 4)), height, width), bool) for b in boxes]
        wanted = [t for t, b in enumerate(boxes) if len(np.asarray(b).reshape(-1, 4))]
        if not wanted:
            return out
        model = self.load()
        device = next(model.parameters()).device
        dtype = next(model.parameters()).dtype
        for part in batched(len(wanted), self.batch_size):
            chunk = wanted[part]
            pixels = self.pixel_values(frames[chunk]).to(device, dtype=dtype)
            with torch.inference_mode():
                embeddings = model.get_image_embeddings(pixels)
                for i, t in enumerate(chunk):
                    prompt = torch.from_numpy(self.scale_boxes(boxes[t], height, width))
                    result = model(
                        image_embeddings=[e[i : i + 1] for e in embeddings],
                        input_boxes=prompt[None].to(device, dtype=dtype),
                        multimask_output=False,
                    )
                    logits = result.pred_masks[0, :, 0:1].float()  # N x 1 x h x w
                    full = F.interpolate(
                        logits, size=(height, width), mode="bilinear", align_corners=False
                    )
                    out[t] = (full[:, 0] > self.mask_threshold).cpu().numpy()
        return out


__all__ = ["DEFAULT_SAM2", "Sam2Refiner"]
