"""The demo's detectors: one seeded initialisation for both kinds, the demo's training options."""

from __future__ import annotations

import torch

from actionbias.tal.demo_settings import ACTIONVLM, VISION, TALDemoSettings, demo_settings
from actionbias.tal.demo_training import build_demo_model, train_config

TINY = TALDemoSettings(
    "tiny", {}, recogniser_epochs=1, width=8, downsample_blocks=1, attn_window=3, epochs=4,
    batch_size=2, lm_width=8,
)  # fmt: skip


def test_both_kinds_start_from_the_same_detector_weights():
    vision = build_demo_model(VISION, 4, 3, TINY, seed=2)
    vlm = build_demo_model(ACTIONVLM, 4, 3, TINY, seed=2)
    other = build_demo_model(VISION, 4, 3, TINY, seed=3)
    assert vision.language is None and vlm.language is not None
    a, b = vision.detector.state_dict(), vlm.detector.state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    c = other.detector.state_dict()
    assert not all(torch.equal(a[k], c[k]) for k in a)  # the seed decides the weights


def test_train_config_follows_the_settings():
    settings = demo_settings(quick=True, seed=4)
    cfg = train_config(settings, seed=7)
    assert (cfg.epochs, cfg.batch_size, cfg.seed) == (8, 4, 7)
    assert cfg.lr == cfg.language_lr == settings.lr and cfg.ema_decay is None
    assert cfg.warmup_epochs == 1
