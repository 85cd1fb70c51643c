"""The input convention every classifier in this package follows.

``model(batch)`` takes ONE mapping of named tensors and returns logits
``B x num_classes`` (no softmax, also in eval mode — unlike PySlowFast's head,
which applies softmax at test time; apply it yourself when you need scores):

* ``"video"``: ``B x 3 x T x H x W`` float, already normalised (mean/std);
* ``"human"``: the human-only clip, same shape as video: background pixels
  blanked on the frames (the paper sets them to 0; see
  `actionbias.segment.human_only`), then normalised exactly like ``video``;
* ``"mask"``: ``B x 1 x T x H x W`` (or ``B x T x H x W``) person mask in [0, 1]
  at the clip's resolution, 1 = human;
* ``"maps"``: ``B x Q x T x H x W`` float in [0, 1], one detector likelihood map per
  object query and frame, aligned with ``video`` (A2O, `actionbias.a2o`).

Each model lists the keys it reads in ``required_inputs``, so a data module
decodes, segments or composites only what is needed and a training loop stays
model-agnostic (it just moves the dict to the device). Extra keys (labels, ids)
are ignored. ``model(batch, return_aux=True)`` returns ``(logits, aux)`` where
``aux`` holds per-clip side outputs (e.g. ``alpha`` for weighted focus; empty for
plain models), so logging learned quantities needs no model-specific code.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping

import torch
from torch import Tensor, nn

from actionbias.models.backbone import SlowSpec

INPUT_KEYS = ("video", "human", "mask", "maps")


class VideoClassifier(nn.Module, ABC):
    """Base class: holds the class count, backbone spec and the batch checks."""

    required_inputs: tuple[str, ...] = ("video",)

    def __init__(self, num_classes: int, spec: SlowSpec):
        super().__init__()
        self.num_classes = num_classes
        self.spec = spec

    @property
    def clip_size(self) -> tuple[int, int, int]:
        """The T x H x W the backbone was designed for (what cost figures use)."""
        return self.spec.clip_size

    def forward(
        self, batch: Mapping[str, Tensor], return_aux: bool = False
    ) -> Tensor | tuple[Tensor, dict[str, Tensor]]:
        inputs = self.check_batch(batch)
        logits, aux = self.compute(inputs)
        return (logits, aux) if return_aux else logits

    @abstractmethod
    def compute(self, inputs: dict[str, Tensor]) -> tuple[Tensor, dict[str, Tensor]]:
        """Logits and side outputs from validated inputs."""

    def adapt_state_dict(self, state: dict[str, Tensor]) -> dict[str, Tensor]:
        """Rename a single-stream backbone state dict onto this model's modules.

        Identity here; two-stream models override it to copy a Slow-only
        checkpoint into both branches.
        """
        return state

    def check_batch(self, batch: Mapping[str, Tensor]) -> dict[str, Tensor]:
        """Pick and validate the required inputs; the errors name the key and shape."""
        if not isinstance(batch, Mapping):
            raise TypeError(
                f"{type(self).__name__} takes a dict of tensors with keys "
                f"{list(self.required_inputs)}, got {type(batch).__name__}"
            )
        missing = [key for key in self.required_inputs if key not in batch]
        if missing:
            raise ValueError(
                f"{type(self).__name__} needs batch keys {list(self.required_inputs)}; "
                f"missing {missing} (got {sorted(batch)})"
            )
        inputs = {key: batch[key] for key in self.required_inputs}
        reference = None
        for key in ("video", "human"):
            if key not in inputs:
                continue
            clip = inputs[key]
            if clip.dim() != 5 or clip.shape[1] != self.spec.in_channels:
                raise ValueError(
                    f"batch[{key!r}] must be B x {self.spec.in_channels} x T x H x W, "
                    f"got {tuple(clip.shape)}"
                )
            if not clip.is_floating_point():
                raise ValueError(f"batch[{key!r}] must be a float tensor, got {clip.dtype}")
            if reference is not None and clip.shape != reference[1].shape:
                raise ValueError(
                    f"batch[{key!r}] has shape {tuple(clip.shape)} but "
                    f"batch[{reference[0]!r}] has {tuple(reference[1].shape)}"
                )
            reference = (key, clip)
        if "mask" in inputs:
            mask = inputs["mask"]
            if mask.dim() == 4:
                mask = mask.unsqueeze(1)
            if mask.dim() != 5 or mask.shape[1] != 1:
                raise ValueError(
                    f"batch['mask'] must be B x 1 x T x H x W, got {tuple(inputs['mask'].shape)}"
                )
            if reference is not None:
                clip = reference[1]
                if mask.shape[0] != clip.shape[0] or mask.shape[2:] != clip.shape[2:]:
                    raise ValueError(
                        f"batch['mask'] {tuple(mask.shape)} does not match "
                        f"batch[{reference[0]!r}] {tuple(clip.shape)} in B, T, H or W"
                    )
            if mask.dtype == torch.bool:
                mask = mask.to(reference[1].dtype if reference is not None else torch.float32)
            elif not mask.is_floating_point():
                raise ValueError(
                    f"batch['mask'] must be float in [0, 1] or bool, got {mask.dtype} "
                    "(divide 0-255 byte masks by 255 first)"
                )
            inputs["mask"] = mask
        return inputs
