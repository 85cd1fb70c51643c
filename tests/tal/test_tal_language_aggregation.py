"""ActionVLM: the language weight lambda, residual aggregation and the forward modes."""

from __future__ import annotations

import math

import pytest
import torch
from tal_testkit import T, language_batches, small_actionformer, small_actionvlm

from actionbias.tal.language.aggregation import ActionVLM, aggregate, language_weight


def test_language_weight_range_and_zero_for_non_positive_advantage():
    a_hat = torch.linspace(-50, 50, 1001)
    lam = language_weight(a_hat)
    assert torch.all(lam[a_hat <= 0] == 0)
    assert torch.all((lam >= 0) & (lam < 1))
    assert torch.all(lam[a_hat > 0] > 0)
    assert math.isclose(
        float(language_weight(torch.tensor(1.0))), 2 / (1 + math.exp(-1)) - 1, rel_tol=1e-6
    )
    torch.testing.assert_close(lam[a_hat < 10], 2 * torch.sigmoid(a_hat.relu()[a_hat < 10]) - 1)
    assert torch.all(lam[1:] >= lam[:-1])  # monotone


def test_aggregate_is_residual_per_frame():
    f_vis = torch.randn(2, 4, 5)
    f_c, f_l = torch.randn(2, 4, 5), torch.randn(2, 4, 5)
    lam = torch.rand(2, 5)
    f_cls, f_loc = aggregate(f_vis, f_c, f_l, lam)
    torch.testing.assert_close(f_cls[1, :, 3], f_vis[1, :, 3] + lam[1, 3] * f_c[1, :, 3])
    torch.testing.assert_close(f_loc, f_vis + lam[:, None] * f_l)
    torch.testing.assert_close(aggregate(f_vis, f_c, f_l, 0.0)[0], f_vis)


def test_actionvlm_forward_modes():
    model = small_actionvlm().eval()
    b = language_batches(1)[0]
    out = model(b.feats, b.mask, prompt=b.language_inputs["prompt"])
    assert out.a_hat.shape == out.lam.shape == (2, T)
    assert torch.all(out.lam[1, 26:] == 0)
    assert torch.all((out.lam >= 0) & (out.lam < 1))
    torch.testing.assert_close(out.lam, language_weight(out.a_hat) * b.mask)
    vis = model(b.feats, b.mask, use_language=False)
    assert vis.lang is None and vis.lam is None
    # fixed lambda 0 reproduces the vision-only detector exactly
    fixed0 = small_actionvlm("fixed-0.0").eval()
    a = fixed0(b.feats, b.mask, prompt=b.language_inputs["prompt"]).det.cls_logits[0]
    v = fixed0(b.feats, b.mask, use_language=False).det.cls_logits[0]
    torch.testing.assert_close(a, v)
    with pytest.raises(ValueError, match="needs a language model"):
        ActionVLM(small_actionformer(), None, "full")
    assert ActionVLM(small_actionformer(), None, "vision-only").language is None


def test_language_only_ablation_ignores_vision_features():
    model = small_actionvlm("language-only").eval()
    b = language_batches(1)[0]
    lang = model.language(b.feats, b.mask, prompt=b.language_inputs["prompt"])
    out = model(b.feats, b.mask, prompt=b.language_inputs["prompt"])
    ref = model.detector(lang.cls, b.mask, feats_loc=lang.loc)
    torch.testing.assert_close(out.det.cls_logits[0], ref.cls_logits[0])
