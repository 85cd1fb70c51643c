"""The one declaration of the backbone options: names, overrides, presets."""

from __future__ import annotations

import pytest

from actionbias.errors import BadInputError
from actionbias.models import (
    BackboneOptions,
    SlowOnlyOptions,
    backbone_spec,
    fusion,
    model_entry,
    slowonly,
)

BACKBONE_NAMES = (
    "depths",
    "width",
    "stem_kernel",
    "temporal_kernels",
    "dropout",
    "zero_init_final_bn",
    "clip_size",
)


def test_names_in_declaration_order():
    assert BackboneOptions.names() == BACKBONE_NAMES
    assert SlowOnlyOptions.names() == (*BACKBONE_NAMES, "head_pool_kernel")


def test_unset_options_keep_the_preset():
    assert BackboneOptions().overrides() == {}
    assert BackboneOptions().resolve("slow_small") == backbone_spec("slow_small")
    options = SlowOnlyOptions(width=4, dropout=0.0, head_pool_kernel=(2, 2, 2))
    assert options.overrides() == {"width": 4, "dropout": 0.0, "head_pool_kernel": (2, 2, 2)}
    spec = options.resolve("slow_tiny")
    assert spec == backbone_spec("slow_tiny", width=4, dropout=0.0, head_pool_kernel=(2, 2, 2))
    assert spec.depths == backbone_spec("slow_tiny").depths


def test_values_are_checked_by_the_spec():
    with pytest.raises(BadInputError, match="field width"):
        BackboneOptions(width=0).resolve("slow_tiny")
    with pytest.raises(BadInputError, match="unknown backbone"):
        BackboneOptions().resolve("slow_r101")


def test_every_resnet_model_lists_the_shared_options_after_its_own():
    for name in ("slow_r50", "slow_small", "slow_tiny", "segmented"):
        assert model_entry(name).options()[-8:] == SlowOnlyOptions.names()
    for name in ("dual_sum", "dual_stack", "weighted_focus", "a2o"):
        assert model_entry(name).options()[-7:] == BACKBONE_NAMES


def test_factories_called_directly_refuse_options_of_another_type():
    assert slowonly.slow_tiny(3, width=4).spec.width == 4
    with pytest.raises(TypeError, match="head_pool_kernel"):
        fusion.dual_sum(3, backbone="slow_tiny", head_pool_kernel=(1, 1, 1))
