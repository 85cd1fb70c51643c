"""Algorithm 1: the alternating schedule and the trainer under each kind of ablation."""

from __future__ import annotations

import math

import pytest
import torch
from tal_testkit import NUM_CLASSES, language_batches, small_actionvlm

from actionbias.tal.language.trainer import ActionVLMTrainer, AlternatingSchedule
from actionbias.tal.losses import detection_loss


def test_alternating_schedule():
    assert [AlternatingSchedule().mode(e) for e in range(4)] == [
        "vision", "vision_language", "vision", "vision_language",
    ]  # fmt: skip
    s = AlternatingSchedule(vision_epochs=1, language_epochs=2)
    assert [s.mode(e) for e in range(6)] == [
        "vision", "vision_language", "vision_language",
    ] * 2  # fmt: skip
    with pytest.raises(ValueError):
        AlternatingSchedule(vision_epochs=0)


def test_trainer_alternates_and_regresses_the_advantage():
    model = small_actionvlm()
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    trainer = ActionVLMTrainer(model, opt, NUM_CLASSES)
    batches = language_batches()
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
        model = small_actionvlm(name)
        opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=1e-3)
        trainer = ActionVLMTrainer(model, opt, NUM_CLASSES)
        logs = trainer.run_epoch(language_batches(1), 0)
        assert logs["mode"] == expected and "adv" not in logs
    # the global lambda is learned by the detection loss alone
    model = small_actionvlm("global-lambda")
    b = language_batches(1)[0]
    out = model(b.feats, b.mask, prompt=b.language_inputs["prompt"])
    assert torch.allclose(out.lam[b.mask], torch.tensor(0.5))
    detection_loss(out.det, b.segments, b.labels)["total"].backward()
    assert model.global_logit.grad is not None and model.global_logit.grad != 0
