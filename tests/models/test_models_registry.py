"""The registry: names, options checked against signatures and option types, one-line errors."""

from __future__ import annotations

import pytest
import torch

from actionbias.errors import BadInputError
from actionbias.models import (
    BackboneOptions,
    SlowOnly,
    build_model,
    list_backbones,
    list_models,
    model_entry,
    register_model,
    registry,
)


@pytest.fixture
def scratch_registry(monkeypatch):
    """Registrations made in a test vanish afterwards."""
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))


def test_entries_declare_inputs_and_options():
    assert model_entry("slow_r50").required_inputs == ("video",)
    assert model_entry("segmented").required_inputs == ("human",)
    assert model_entry("dual_sum").required_inputs == ("video", "human")
    assert model_entry("dual_stack").required_inputs == ("video", "human")
    assert model_entry("weighted_focus").required_inputs == ("video", "mask")
    for name in ("segmented", "dual_sum", "dual_stack", "weighted_focus"):
        assert "backbone" in model_entry(name).options()
    assert "focus_at" in model_entry("weighted_focus").options()
    assert model_entry("slow_r50").summary.startswith("Slow-only R50")
    assert set(list_backbones()) == {"slow_r50", "slow_small", "slow_tiny"}


def test_unknown_names_and_options_are_one_line_errors():
    with pytest.raises(BadInputError, match=r"unknown model 'slow_r51'.*slow_r50") as err:
        build_model("slow_r51", 10)
    assert "\n" not in str(err.value)
    with pytest.raises(BadInputError, match=r"no option.*fusion.*accepted: backbone"):
        build_model("dual_sum", 10, fusion="max")
    with pytest.raises(BadInputError, match="unknown backbone 'slow_r101'"):
        build_model("dual_sum", 10, backbone="slow_r101")
    for bad in (0, -3, 2.5, True):
        with pytest.raises(BadInputError, match="num_classes"):
            build_model("slow_tiny", bad)


def test_register_model_adds_a_buildable_entry(scratch_registry):
    @register_model("toy", inputs=("video", "mask"))
    def toy(num_classes: int, *, depth: int = 1) -> SlowOnly:
        """A toy entry."""
        return build_model("slow_tiny", num_classes, depths=(depth, 1, 1, 1))

    assert "toy" in list_models()
    assert model_entry("toy").options() == ("depth",)
    assert model_entry("toy").required_inputs == ("video", "mask")
    assert len(build_model("toy", 3, depth=2).res2) == 2
    with pytest.raises(ValueError, match="already registered"):
        register_model("toy")(toy)
    with pytest.raises(TypeError, match="num_classes"):
        register_model("broken")(lambda classes: torch.nn.Linear(1, classes))


def test_a_factory_taking_options_registers_their_type(scratch_registry):
    @register_model("toy_shared", options=BackboneOptions)
    def toy_shared(num_classes: int, *, depth: int = 1, **options) -> SlowOnly:
        """A toy entry with the backbone options."""
        return build_model("slow_tiny", num_classes, depths=(depth, 1, 1, 1), **options)

    entry = model_entry("toy_shared")
    assert entry.options() == ("depth", *BackboneOptions.names())
    assert build_model("toy_shared", 3, depth=2, width=4).spec.width == 4
    with pytest.raises(
        BadInputError, match=r"no option.*head_pool_kernel.*accepted: depth, depths"
    ):
        build_model("toy_shared", 3, head_pool_kernel=(1, 1, 1))
    with pytest.raises(TypeError, match="options="):
        register_model("no_type")(lambda num_classes, **options: toy_shared(num_classes))
    with pytest.raises(TypeError, match="options="):
        register_model("no_kwargs", options=BackboneOptions)(lambda num_classes: None)
    with pytest.raises(TypeError, match="dataclass"):
        register_model("not_a_dataclass", options=dict)(lambda num_classes, **o: None)


def test_registration_does_not_leak_between_tests():
    assert "toy" not in list_models() and "toy_shared" not in list_models()
