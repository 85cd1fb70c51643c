"""The "a2o" registry entry: adapter + backbone, plain mode, concat ablation, pretrained."""

from __future__ import annotations

import pytest
import torch

from actionbias.errors import BadInputError
from actionbias.models import build_model, example_batch, model_entry

CLIP = (4, 32, 32)


def test_registry_entry_declares_maps():
    entry = model_entry("a2o")
    assert entry.required_inputs == ("video", "maps")
    for option in ("backbone", "num_maps", "adapter_depth", "adapter_features", "mode"):
        assert option in entry.options()


def test_step_zero_equals_the_plain_backbone():
    torch.manual_seed(0)
    a2o = build_model("a2o", 5, backbone="slow_tiny", num_maps=3, adapter_depth=2).eval()
    torch.manual_seed(0)
    plain = build_model("slow_tiny", 5).eval()
    batch = example_batch(a2o, 2, CLIP, seed=0)
    assert batch["maps"].shape == (2, 3, *CLIP)
    with torch.no_grad():
        logits, aux = a2o(batch, return_aux=True)
        torch.testing.assert_close(logits, plain({"video": batch["video"]}))
    assert torch.count_nonzero(aux["adapter_contribution"]) == 0


def test_maps_change_the_output_once_the_adapter_has_learned():
    torch.manual_seed(0)
    model = build_model("a2o", 4, num_maps=2).eval()
    torch.nn.init.normal_(model.adapter.projection.weight)
    batch = example_batch(model, 2, CLIP, seed=1)
    with torch.no_grad():
        logits, aux = model(batch, return_aux=True)
        other = model({**batch, "maps": torch.zeros_like(batch["maps"])})
    assert not torch.allclose(logits, other)
    assert (aux["adapter_contribution"] > 0).all()


def test_num_maps_zero_is_the_plain_recogniser():
    torch.manual_seed(0)
    model = build_model("a2o", 3, num_maps=0).eval()
    assert model.required_inputs == ("video",) and model.adapter is None
    torch.manual_seed(0)
    plain = build_model("slow_tiny", 3).eval()
    video = torch.randn(1, 3, *CLIP)
    with torch.no_grad():
        torch.testing.assert_close(model({"video": video}), plain({"video": video}))
    assert model.state_dict().keys() == {f"backbone.{k}" for k in plain.state_dict()}


def test_maps_are_checked():
    model = build_model("a2o", 3, num_maps=2)
    video = torch.randn(1, 3, *CLIP)
    with pytest.raises(ValueError, match="B x 2 x T x H x W"):
        model({"video": video, "maps": torch.rand(1, 3, *CLIP)})
    with pytest.raises(ValueError, match="does not match"):
        model({"video": video, "maps": torch.rand(1, 2, 4, 16, 16)})
    with pytest.raises(ValueError, match="float"):
        model({"video": video, "maps": torch.ones(1, 2, *CLIP, dtype=torch.uint8)})


def test_concat_mode_widens_the_stem_and_starts_as_the_backbone():
    torch.manual_seed(0)
    model = build_model("a2o", 3, num_maps=4, mode="concat").eval()
    assert model.backbone.stem.conv.in_channels == 7 and model.adapter is None
    torch.manual_seed(0)
    plain = build_model("slow_tiny", 3).eval()
    batch = example_batch(model, 2, CLIP, seed=2)
    with torch.no_grad():
        torch.testing.assert_close(model(batch), plain({"video": batch["video"]}))


def test_pretrained_backbone_checkpoint_is_loaded_before_the_adapter(tmp_path):
    torch.manual_seed(1)
    source = build_model("slow_tiny", 3)
    path = tmp_path / "slow.pt"
    torch.save(source.state_dict(), path)
    for mode in ("add", "concat"):
        torch.manual_seed(2)
        model = build_model("a2o", 3, num_maps=2, mode=mode, pretrained=path)
        assert model.pretrained_report.missing == []
        state = model.backbone.state_dict()
        for key, value in source.state_dict().items():
            if mode == "concat" and key == "stem.conv.weight":
                torch.testing.assert_close(state[key][:, :3], value)
                assert torch.count_nonzero(state[key][:, 3:]) == 0
            else:
                torch.testing.assert_close(state[key], value)


def test_a_bare_backbone_state_dict_loads_into_the_wrapper():
    torch.manual_seed(3)
    plain = build_model("slow_tiny", 3)
    model = build_model("a2o", 3, num_maps=2)
    state = model.adapt_state_dict(plain.state_dict())
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert not unexpected and all(k.startswith("adapter.") for k in missing)


def test_backbone_options_and_bad_backbones():
    model = build_model("a2o", 3, num_maps=1, width=8, depths=(1, 1, 1, 1))
    assert model.backbone.spec.width == 8
    with pytest.raises(BadInputError, match="single-stream"):
        build_model("a2o", 3, backbone="dual_sum")
    with pytest.raises(BadInputError, match="unknown model"):
        build_model("a2o", 3, backbone="nope")
    with pytest.raises(BadInputError, match="mode"):
        build_model("a2o", 3, mode="multiply")


def test_vjepa2_backbone_with_adapter():
    config = {
        "crop_size": 16,
        "frames_per_clip": 4,
        "patch_size": 8,
        "tubelet_size": 2,
        "hidden_size": 24,
        "num_attention_heads": 2,
        "num_hidden_layers": 1,
        "num_pooler_layers": 0,
    }
    torch.manual_seed(0)
    model = build_model(
        "a2o", 3, backbone="vjepa2", num_maps=2, backbone_options={"config": config}
    )
    batch = example_batch(model, 2, (4, 16, 16), seed=0)
    logits, aux = model(batch, return_aux=True)
    assert logits.shape == (2, 3) and aux["adapter_contribution"].shape == (2,)
    logits.sum().backward()
    assert model.adapter.projection.weight.grad.abs().sum() > 0
    with pytest.raises(BadInputError, match="concat"):
        build_model("a2o", 3, backbone="vjepa2", mode="concat", backbone_options={"config": config})
