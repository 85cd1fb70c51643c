"""Dual-Branch Sum/Stack fusion and Weighted Focus (Eq. 1) against hand-computed cases."""

from __future__ import annotations

import pytest
import torch

from actionbias.errors import BadInputError
from actionbias.models import (
    DualBranch,
    WeightedFocus,
    build_model,
    example_batch,
    resize_mask,
    weighted_mask,
)

CLIP = (4, 32, 32)


def _mask() -> torch.Tensor:
    mask = torch.zeros(2, 1, 2, 3, 3)
    mask[:, :, :, 1, :] = 1.0
    mask[1, 0, 1, 0, 0] = 0.25  # soft value
    return mask


def test_weighted_mask_equation_1():
    mask = _mask()
    assert torch.equal(weighted_mask(mask, 0.0), torch.ones_like(mask))
    assert torch.equal(weighted_mask(mask, 1.0), 2 * mask)
    assert torch.equal(weighted_mask(mask, -1.0), 2 * (1 - mask))
    # One alpha per clip, broadcast over that clip's mask only.
    per_clip = weighted_mask(mask, torch.tensor([1.0, -1.0]))
    assert torch.equal(per_clip[0], 2 * mask[0])
    assert torch.equal(per_clip[1], 2 * (1 - mask[1]))
    # alpha = 0.5: human x1.5, background x0.5, soft pixel in between.
    half = weighted_mask(mask, torch.tensor([0.5, 0.5]))
    assert half[0, 0, 0, 1, 0] == 1.5 and half[0, 0, 0, 0, 0] == 0.5
    assert half[1, 0, 1, 0, 0] == pytest.approx(1.5 * 0.25 + 0.5 * 0.75)


def test_resize_mask_is_area_average():
    mask = torch.zeros(1, 1, 2, 4, 4)
    mask[..., :, :2] = 1.0  # left half human
    mask[..., 0, 0, 2] = 1.0  # one extra pixel, frame 0
    small = resize_mask(mask, (2, 2, 2))
    assert small.shape == (1, 1, 2, 2, 2)
    assert torch.allclose(small[0, 0, 1], torch.tensor([[1.0, 0.0], [1.0, 0.0]]))
    assert torch.allclose(small[0, 0, 0], torch.tensor([[1.0, 0.25], [1.0, 0.0]]))
    assert resize_mask(mask, (2, 4, 4)) is mask


@pytest.fixture
def tiny_focus() -> WeightedFocus:
    torch.manual_seed(0)
    return build_model("weighted_focus", 6, backbone="slow_tiny")


def test_focus_starts_neutral_and_equals_plain_slow_only(tiny_focus):
    """alpha starts at 0, so M_weighted = 1 and the model IS its Slow-only backbone."""
    plain = build_model("slow_tiny", 6)
    missing, unexpected = plain.load_state_dict(tiny_focus.state_dict(), strict=False)
    assert not missing and all(k.startswith("focus.") for k in unexpected)
    tiny_focus.eval()
    plain.eval()
    batch = example_batch(tiny_focus, batch_size=2, clip_size=CLIP, seed=0)
    with torch.no_grad():
        logits, aux = tiny_focus(batch, return_aux=True)
        assert torch.equal(aux["alpha"], torch.zeros(2))
        assert torch.allclose(logits, plain({"video": batch["video"]}), atol=1e-6)


def test_forced_alpha_scales_human_and_scene(tiny_focus, monkeypatch):
    tiny_focus.eval()
    features = torch.rand(2, 32, 4, 8, 8)
    mask = torch.zeros(2, 1, 4, 32, 32)
    mask[..., :16] = 1.0  # left half of every frame is the person
    feature_mask = resize_mask(mask, (4, 8, 8))
    assert torch.equal(feature_mask[..., :4], torch.ones(2, 1, 4, 8, 4))
    for alpha, expected in ((0.0, features), (1.0, 2 * features * feature_mask)):
        monkeypatch.setattr(tiny_focus.focus, "forward", lambda x, a=alpha: torch.full((2,), a))
        out, got_alpha = tiny_focus.apply_focus(features, mask)
        assert torch.equal(got_alpha, torch.full((2,), alpha))
        assert torch.allclose(out, expected)
    monkeypatch.setattr(tiny_focus.focus, "forward", lambda x: torch.tensor([-1.0, -1.0]))
    out, _ = tiny_focus.apply_focus(features, mask)
    assert torch.all(out[..., :4] == 0)  # person removed
    assert torch.allclose(out[..., 4:], 2 * features[..., 4:])  # scene doubled


def test_alpha_is_exposed_bounded_and_learns(tiny_focus):
    tiny_focus.train()
    batch = example_batch(tiny_focus, batch_size=2, clip_size=CLIP, seed=1)
    logits, aux = tiny_focus(batch, return_aux=True)
    torch.nn.functional.cross_entropy(logits, torch.tensor([0, 4])).backward()
    # The zero-initialised output layer still gets a learning signal.
    assert tiny_focus.focus.fc.weight.grad.abs().sum() > 0
    assert torch.equal(tiny_focus.last_alpha, aux["alpha"].detach())
    with torch.no_grad():
        tiny_focus.focus.fc.bias.fill_(50.0)
        _, aux = tiny_focus(batch, return_aux=True)
        assert torch.allclose(aux["alpha"], torch.ones(2))
        tiny_focus.focus.fc.bias.fill_(-50.0)
        _, aux = tiny_focus(batch, return_aux=True)
        assert torch.allclose(aux["alpha"], -torch.ones(2))


@pytest.mark.parametrize("focus_at", ["stem", "res2", "res3", "res4"])
def test_focus_points(focus_at):
    model = build_model("weighted_focus", 3, backbone="slow_tiny", focus_at=focus_at)
    widths = {"stem": 8, "res2": 32, "res3": 64, "res4": 128}
    assert model.focus.reduce.in_channels == widths[focus_at]
    with torch.no_grad():
        logits = model.eval()(example_batch(model, batch_size=1, clip_size=CLIP, seed=2))
    assert logits.shape == (1, 3)


def test_focus_option_and_mask_checks():
    with pytest.raises(BadInputError, match="field focus_at"):
        build_model("weighted_focus", 3, backbone="slow_tiny", focus_at="res5")
    model = build_model("weighted_focus", 3, backbone="slow_tiny").eval()
    video = torch.randn(1, 3, 4, 32, 32)
    mask = torch.rand(1, 4, 32, 32) > 0.5
    with torch.no_grad():
        by_bool = model({"video": video, "mask": mask})  # B x T x H x W bool is accepted
        by_float = model({"video": video, "mask": mask.float().unsqueeze(1)})
    assert torch.equal(by_bool, by_float)
    with pytest.raises(ValueError, match="does not match"):
        model({"video": video, "mask": torch.ones(1, 1, 4, 16, 16)})
    with pytest.raises(ValueError, match="255"):
        model({"video": video, "mask": torch.ones(1, 1, 4, 32, 32, dtype=torch.uint8)})


def _twin_branches(model: DualBranch) -> None:
    model.branches["human"].load_state_dict(model.branches["video"].state_dict())


def test_dual_sum_of_identical_streams_is_twice_one_stream():
    torch.manual_seed(0)
    model = build_model("dual_sum", 4, backbone="slow_tiny").eval()
    # Fresh streams are independent networks, not shared weights.
    video_w = model.branches["video"].stem.conv.weight
    human_w = model.branches["human"].stem.conv.weight
    assert video_w.data_ptr() != human_w.data_ptr() and not torch.equal(video_w, human_w)
    _twin_branches(model)
    clip = torch.randn(2, 3, 4, 32, 32)
    with torch.no_grad():
        one = model.branches["video"](clip)
        fused = model.fused_features(clip, clip)
    assert one.shape == (2, 64, 4, 4, 4)  # res3 of slow_tiny: 64 channels, 1/8 size
    assert torch.allclose(fused, 2 * one)


def test_dual_stack_concatenates_and_widens_res4():
    torch.manual_seed(0)
    model = build_model("dual_stack", 4, backbone="slow_tiny").eval()
    _twin_branches(model)
    clip = torch.randn(2, 3, 4, 32, 32)
    with torch.no_grad():
        one = model.branches["video"](clip)
        fused = model.fused_features(clip, clip)
    assert torch.equal(fused, torch.cat([one, one], dim=1))
    first = model.res4[0]
    assert first.a.in_channels == 128 and first.proj.in_channels == 128
    assert all(block.a.in_channels == 128 for block in model.res4)  # later blocks: own width
    summed = build_model("dual_sum", 4, backbone="slow_tiny")
    assert summed.res4[0].a.in_channels == 64 and summed.res4[0].proj.in_channels == 64


def test_dual_stack_r50_shapes():
    with torch.device("meta"):
        model = build_model("dual_stack", 50)
    assert tuple(model.res4[0].a.weight.shape) == (256, 1024, 3, 1, 1)
    assert tuple(model.res4[0].proj.weight.shape) == (1024, 1024, 1, 1, 1)
    assert tuple(model.res4[1].a.weight.shape) == (256, 1024, 3, 1, 1)


@pytest.mark.parametrize("name", ["dual_sum", "dual_stack"])
def test_dual_models_use_both_streams(name):
    torch.manual_seed(0)
    model = build_model(name, 4, backbone="slow_tiny", zero_init_final_bn=False).eval()
    video = torch.randn(1, 3, 4, 32, 32)
    human = torch.randn(1, 3, 4, 32, 32)
    with torch.no_grad():
        base = model({"video": video, "human": human})
        other_human = model({"video": video, "human": torch.randn(1, 3, 4, 32, 32)})
        other_video = model({"video": torch.randn(1, 3, 4, 32, 32), "human": human})
    assert not torch.allclose(base, other_human)
    assert not torch.allclose(base, other_video)
    with pytest.raises(ValueError, match="shape"):
        model({"video": video, "human": torch.randn(1, 3, 4, 16, 16)})


def test_segmented_reads_only_the_human_clip():
    torch.manual_seed(0)
    model = build_model("segmented", 4, backbone="slow_tiny").eval()
    human = torch.randn(1, 3, 4, 32, 32)
    with torch.no_grad():
        a = model({"human": human, "video": torch.randn(1, 3, 4, 32, 32)})
        b = model({"human": human})
    assert torch.equal(a, b)
    with pytest.raises(ValueError, match="human"):
        model({"video": human})
