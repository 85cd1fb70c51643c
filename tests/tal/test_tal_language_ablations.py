"""The named weighting variants of the paper's ablations."""

from __future__ import annotations

import pytest

from actionbias.tal.language.ablations import ABLATIONS, AblationConfig, ablation_config


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
