"""ActionVLM: the detector with language features added where language is predicted to help.

The language features enter the detector residually (paper 3.5, Eq. 5),
F_cls = F_vis + lambda*F_lang,cls and F_loc = F_vis + lambda*F_lang,loc, with the
per-frame weight lambda = 2*sigmoid(ReLU(A_hat)) - 1 (Eq. 4) of the advantage
A_hat = FC(F_adv) the [adv] state predicts: lambda is exactly 0 where A_hat <= 0.
The ablations (`actionbias.tal.language.ablations`) replace lambda by one learned
global weight or a constant, or drop the vision features. What A_hat learns from is
`actionbias.tal.language.advantage`; the epochs that teach it,
`actionbias.tal.language.trainer`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from actionbias.tal.language.ablations import AblationConfig, ablation_config
from actionbias.tal.language.model import LanguageFeatures


def language_weight(a_hat: Tensor) -> Tensor:
    """Eq. 4: lambda = 2*sigmoid(ReLU(A_hat)) - 1, in [0, 1); exactly 0 where A_hat <= 0.

    Computed as tanh(ReLU(A_hat) / 2) (the same function, more accurate near 0)
    and kept below 1 in floating point: in float32 the sigmoid rounds to 1 for
    A_hat > ~17, which would hand language the full weight the formula never gives.
    """
    lam = torch.tanh(0.5 * F.relu(a_hat))
    below_one = torch.nextafter(torch.ones((), dtype=lam.dtype), torch.zeros((), dtype=lam.dtype))
    return torch.minimum(lam, below_one.to(lam.device))


def aggregate(
    f_vis: Tensor, f_lang_cls: Tensor, f_lang_loc: Tensor, lam: Tensor | float
) -> tuple[Tensor, Tensor]:
    """Eq. 5: (F_cls, F_loc) = (F_vis + lam*F_lang,cls, F_vis + lam*F_lang,loc).

    Features are (B, C, T); `lam` is a float, a scalar tensor or (B, T) per frame.
    """
    if isinstance(lam, Tensor) and lam.dim() == 2:
        lam = lam[:, None, :]
    return f_vis + lam * f_lang_cls, f_vis + lam * f_lang_loc


@dataclass
class ActionVLMOutput:
    det: Any  # the detector's DetectorOutput
    lang: LanguageFeatures | None
    a_hat: Tensor | None  # (B, T) predicted advantage
    lam: Tensor | None  # (B, T) language weight actually applied


class ActionVLM(nn.Module):
    """Detector + language branch + advantage head, with the weighting chosen by `ablation`.

    `detector` follows `actionbias.tal.detector.ActionFormer`'s contract:
    `detector(feats, mask, feats_loc=None)`. `language` is a backend from
    `actionbias.tal.language.model` (None only for the vision-only ablation).
    """

    def __init__(
        self,
        detector: nn.Module,
        language: nn.Module | None,
        ablation: AblationConfig | str = "full",
    ):
        super().__init__()
        self.ablation = ablation_config(ablation) if isinstance(ablation, str) else ablation
        if self.ablation.uses_language and language is None:
            raise ValueError(f"ablation {self.ablation.name!r} needs a language model")
        self.detector = detector
        self.language = language if self.ablation.uses_language else None
        hidden = int(language.hidden_size) if self.language is not None else 1
        self.adv_head = nn.Linear(hidden, 1)
        self.global_logit = nn.Parameter(torch.zeros(()))

    def frame_weight(self, lang: LanguageFeatures, mask: Tensor) -> tuple[Tensor, Tensor | None]:
        """(lambda (B, T), A_hat (B, T) or None) for the configured ablation."""
        shape = mask.shape
        mode = self.ablation.lambda_mode
        if mode == "advantage":
            a_hat = self.adv_head(lang.adv.float()).squeeze(-1)
            return language_weight(a_hat) * mask.to(a_hat.dtype), a_hat
        if mode == "global":
            return torch.sigmoid(self.global_logit).expand(shape) * mask, None
        return torch.full(shape, self.ablation.fixed_lambda, device=mask.device) * mask, None

    def forward(
        self, feats: Tensor, mask: Tensor, *, use_language: bool = True, **language_inputs: Any
    ) -> ActionVLMOutput:
        """Vision-only when `use_language` is False or the ablation has no language."""
        if self.language is None or not use_language:
            return ActionVLMOutput(self.detector(feats, mask), None, None, None)
        lang = self.language(feats, mask, **language_inputs)
        lam, a_hat = self.frame_weight(lang, mask)
        if self.ablation.use_vision:
            f_cls, f_loc = aggregate(feats, lang.cls, lang.loc, lam)
        else:
            f_cls, f_loc = lang.cls, lang.loc
        det = self.detector(f_cls, mask, feats_loc=f_loc)
        return ActionVLMOutput(det, lang, a_hat, lam)
