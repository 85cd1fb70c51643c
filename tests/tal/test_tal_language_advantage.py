"""Language advantage (Algorithm 1): lambda, aggregation, targets, schedule, trainer, ablations."""

from __future__ import annotations

import math

import pytest
import torch

from actionbias.tal import detector as detector_mod
from actionbias.tal.assign import assign_targets
from actionbias.tal.language import advantage as A
from actionbias.tal.language.ablations import ABLATIONS, AblationConfig, ablation_config
from actionbias.tal.language.model import CompactLanguageModel
from actionbias.tal.losses import detection_loss, sigmoid_focal_loss

C, T, NUM_CLASSES = 16, 32, 3


def test_language_weight_range_and_zero_for_non_positive_advantage():
    a_hat = torch.linspace(-50, 50, 1001)
    lam = A.language_weight(a_hat)
    assert torch.all(lam[a_hat <= 0] == 0)
    assert torch.all((lam >= 0) & (lam < 1))
    assert torch.all(lam[a_hat > 0] > 0)
    assert math.isclose(
        float(A.language_weight(torch.tensor(1.0))), 2 / (1 + math.exp(-1)) - 1, rel_tol=1e-6
    )
    torch.testing.assert_close(lam[a_hat < 10], 2 * torch.sigmoid(a_hat.relu()[a_hat < 10]) - 1)
    assert torch.all(lam[1:] >= lam[:-1])  # monotone


def test_aggregate_is_residual_per_frame():
    f_vis = torch.randn(2, 4, 5)
    f_c, f_l = torch.randn(2, 4, 5), torch.randn(2, 4, 5)
    lam = torch.rand(2, 5)
    f_cls, f_loc = A.aggregate(f_vis, f_c, f_l, lam)
    torch.testing.assert_close(f_cls[1, :, 3], f_vis[1, :, 3] + lam[1, 3] * f_c[1, :, 3])
    torch.testing.assert_close(f_loc, f_vis + lam[:, None] * f_l)
    torch.testing.assert_close(A.aggregate(f_vis, f_c, f_l, 0.0)[0], f_vis)


def test_alternating_schedule():
    assert [A.AlternatingSchedule().mode(e) for e in range(4)] == [
        "vision", "vision_language", "vision", "vision_language",
    ]  # fmt: skip
    s = A.AlternatingSchedule(vision_epochs=1, language_epochs=2)
    assert [s.mode(e) for e in range(6)] == [
        "vision", "vision_language", "vision_language",
    ] * 2  # fmt: skip
    with pytest.raises(ValueError):
        A.AlternatingSchedule(vision_epochs=0)


def test_class_meter_and_advantage_target_by_hand():
    meter = A.ClassLossMeter(num_classes=2)  # buckets 0, 1 and background 2
    loss = torch.tensor([[1.0, 3.0, 0.5, 9.0], [2.0, 4.0, 1.5, 7.0]])
    bucket = torch.tensor([[0, 0, 2, 1], [0, 2, 2, 1]])
    mask = torch.tensor([[True, True, True, True], [True, True, True, False]])
    meter.update(loss, bucket, mask)
    with pytest.raises(RuntimeError):
        meter.means()
    means = meter.finish()
    # class 0: (1 + 3 + 2) / 3 = 2; class 1: 9 (the masked 7 is ignored);
    # background: (0.5 + 4 + 1.5) / 3 = 2
    torch.testing.assert_close(means, torch.tensor([2.0, 9.0, 2.0]))
    vl = torch.tensor([[1.5, 2.5, 3.0, 4.0]])
    target = A.advantage_targets(means, torch.tensor([[0, 0, 2, 1]]), vl)
    torch.testing.assert_close(target, torch.tensor([[0.5, -0.5, -1.0, 5.0]]))
    a_hat = torch.tensor([[0.5, 0.5, 0.0, 0.0]])
    l_adv = A.advantage_loss(a_hat, target, torch.tensor([[True, True, True, False]]))
    assert math.isclose(float(l_adv), (0 + 1 + 1) / 3, rel_tol=1e-6)
    # a class unseen in the vision epoch falls back to the overall mean
    m2 = A.ClassLossMeter(num_classes=3)
    m2.update(torch.tensor([[1.0, 3.0]]), torch.tensor([[0, 3]]), torch.ones(1, 2, dtype=bool))
    torch.testing.assert_close(m2.finish(), torch.tensor([1.0, 2.0, 2.0, 3.0]))


def test_frame_buckets_prefer_the_shortest_action():
    b = A.frame_buckets([torch.tensor([[1.0, 6.0], [3.0, 4.0]])], [torch.tensor([0, 1])], 8, 2)
    assert b.tolist() == [[2, 0, 0, 1, 1, 0, 0, 2]]


def _detector():
    return detector_mod.ActionFormer(
        C, NUM_CLASSES, embed_dim=16, fpn_dim=16, head_dim=16, window=5, heads=2,
        downsample_blocks=2, max_seq_len=T,
    )  # fmt: skip


def _batches(n: int = 2):
    torch.manual_seed(0)
    out = []
    for _ in range(n):
        feats = torch.randn(2, C, T)
        mask = torch.ones(2, T, dtype=torch.bool)
        mask[1, 26:] = False
        segs = [torch.tensor([[3.0, 7.0], [15.0, 24.0]]), torch.tensor([[2.0, 20.0]])]
        labels = [torch.tensor([0, 2]), torch.tensor([1])]
        desc = torch.randn(NUM_CLASSES, 24)
        out.append(
            A.TALBatch(feats, mask, segs, labels, {"prompt": desc, "targets": (segs, labels)})
        )
    return out


def test_per_frame_detection_loss_with_real_detector():
    det = _detector()
    batch = _batches(1)[0]
    out = det(batch.feats, batch.mask)
    loss, bucket = A.per_frame_detection_loss(out, batch.segments, batch.labels, batch.mask)
    assert loss.shape == (2, T) and torch.all(loss[1, 26:] == 0) and torch.all(loss[:, :26] > 0)
    assert bucket[0, 5] == 0 and bucket[0, 20] == 2 and bucket[0, 10] == NUM_CLASSES
    # every point's loss lands on its frames: totals agree
    no_reg, _ = A.per_frame_detection_loss(
        out, batch.segments, batch.labels, torch.ones(2, T, dtype=torch.bool), loc_weight=0.0
    )
    points = torch.cat(out.points)
    stride = points[:, 3]
    logits = torch.cat(out.cls_logits, 1)
    per_point = []
    for i in range(2):
        cls_t, _ = assign_targets(points, batch.segments[i], batch.labels[i], NUM_CLASSES)
        valid = torch.cat(out.masks, 1)[i]
        per_point.append(sigmoid_focal_loss(logits[i], cls_t).sum(-1) * valid)
    expected = (torch.stack(per_point) * stride).sum(1)
    torch.testing.assert_close(no_reg.sum(1), expected, rtol=1e-5, atol=1e-4)


def _model(ablation="full"):
    torch.manual_seed(1)
    lang = CompactLanguageModel(C, NUM_CLASSES, desc_dim=24, width=16, heads=2)
    return A.ActionVLM(_detector(), lang, ablation)


def test_actionvlm_forward_modes():
    model = _model().eval()
    b = _batches(1)[0]
    out = model(b.feats, b.mask, prompt=b.language_inputs["prompt"])
    assert out.a_hat.shape == out.lam.shape == (2, T)
    assert torch.all(out.lam[1, 26:] == 0)
    assert torch.all((out.lam >= 0) & (out.lam < 1))
    torch.testing.assert_close(out.lam, A.language_weight(out.a_hat) * b.mask)
    vis = model(b.feats, b.mask, use_language=False)
    assert vis.lang is None and vis.lam is None
    # fixed lambda 0 reproduces the vision-only detector exactly
    fixed0 = _model("fixed-0.0").eval()
    a = fixed0(b.feats, b.mask, prompt=b.language_inputs["prompt"]).det.cls_logits[0]
    v = fixed0(b.feats, b.mask, use_language=False).det.cls_logits[0]
    torch.testing.assert_close(a, v)
    with pytest.raises(ValueError, match="needs a language model"):
        A.ActionVLM(_detector(), None, "full")
    assert A.ActionVLM(_detector(), None, "vision-only").language is None


def test_trainer_alternates_and_regresses_the_advantage():
    model = _model()
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    trainer = A.ActionVLMTrainer(model, opt, NUM_CLASSES)
    batches = _batches()
    lang_calls = []
    model.language.register_forward_hook(lambda *_: lang_calls.append(1))
    e0 = trainer.run_epoch(batches, 0)
    assert e0["mode"] == "vision" and not lang_calls and "adv" not in e0
    assert trainer.meter.ready
    means = trainer.meter.means()
    assert means.shape == (NUM_CLASSES + 1,) and torch.all(means > 0)
    adv_before = model.adv_head.weight.detach().clone()
    e1 = trainer.run_epoch(batches, 1)
    assert e1["mode"] == "vision_language" and len(lang_calls) == len(batches)
    assert {"adv", "tg", "det", "mean_lambda"} <= set(e1)
    assert math.isfinite(e1["total"])
    assert not torch.equal(adv_before, model.adv_head.weight)
    torch.testing.assert_close(trainer.meter.means(), means)  # frozen during the VL epoch
    assert trainer.run_epoch(batches, 2)["mode"] == "vision"


def test_trainer_modes_for_ablations():
    for name, expected in [("global-lambda", "vision_language"), ("vision-only", "vision")]:
        model = _model(name)
        opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=1e-3)
        trainer = A.ActionVLMTrainer(model, opt, NUM_CLASSES)
        logs = trainer.run_epoch(_batches(1), 0)
        assert logs["mode"] == expected and "adv" not in logs
    # the global lambda is learned by the detection loss alone
    model = _model("global-lambda")
    b = _batches(1)[0]
    out = model(b.feats, b.mask, prompt=b.language_inputs["prompt"])
    assert torch.allclose(out.lam[b.mask], torch.tensor(0.5))
    detection_loss(out.det, b.segments, b.labels)["total"].backward()
    assert model.global_logit.grad is not None and model.global_logit.grad != 0


def test_language_only_ablation_ignores_vision_features():
    model = _model("language-only").eval()
    b = _batches(1)[0]
    lang = model.language(b.feats, b.mask, prompt=b.language_inputs["prompt"])
    out = model(b.feats, b.mask, prompt=b.language_inputs["prompt"])
    ref = model.detector(lang.cls, b.mask, feats_loc=lang.loc)
    torch.testing.assert_close(out.det.cls_logits[0], ref.cls_logits[0])


def test_ablation_table():
    for v in ("1.0", "0.8", "0.6", "0.4", "0.2", "0.0"):
        cfg = ablation_config(f"fixed-{v}")
        assert cfg.lambda_mode == "fixed" and cfg.fixed_lambda == float(v) and not cfg.use_adv_loss
    full = ABLATIONS["full"]
    assert full.use_adv_loss and full.use_tg_loss and full.needs_vision_epochs
    assert not ABLATIONS["vision-only"].uses_language
    assert not ABLATIONS["language-only"].use_vision
    assert not ABLATIONS["no-tg"].use_tg_loss
    with pytest.raises(ValueError, match="known"):
        ablation_config("nope")
    with pytest.raises(ValueError):
        AblationConfig("bad", lambda_mode="fixed", use_adv_loss=True)


def test_advantage_by_class_leaves_out_background_and_padding():
    values = torch.tensor([[0.1, 0.2, 0.3, 0.4]])
    bucket = torch.tensor([[0, 2, 1, 0]])  # 2 = background with two classes
    mask = torch.tensor([[True, True, True, False]])
    out = A.advantage_by_class(values, bucket, mask, ["a", "b"])
    torch.testing.assert_close(out["a"], torch.tensor([0.1]))
    torch.testing.assert_close(out["b"], torch.tensor([0.3]))
