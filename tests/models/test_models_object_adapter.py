"""ObjectAdapter: Table 10 shapes, position independence, zero-initialised projection."""

from __future__ import annotations

import pytest
import torch

from actionbias.models.object_adapter import ObjectAdapter, widen_first_conv


@pytest.mark.parametrize("depth", [0, 1, 3])
def test_shapes_and_layer_stack_follow_table_10(depth):
    adapter = ObjectAdapter(5, features=7, depth=depth, hidden=11)
    convs = [m for m in adapter.encoder if isinstance(m, torch.nn.Conv3d)]
    relus = [m for m in adapter.encoder if isinstance(m, torch.nn.ReLU)]
    assert len(convs) == depth + 1 and len(relus) == depth
    assert all(c.kernel_size == (1, 1, 1) for c in [*convs, adapter.projection])
    assert convs[0].in_channels == 5 and convs[-1].out_channels == 7
    assert adapter.projection.in_channels == 7 and adapter.projection.out_channels == 3
    maps = torch.rand(2, 5, 3, 6, 4)
    assert adapter.feature_maps(maps).shape == (2, 7, 3, 6, 4)
    assert adapter(maps).shape == (2, 3, 3, 6, 4)


def test_projection_starts_at_zero_so_the_video_is_unchanged():
    adapter = ObjectAdapter(4, features=8, depth=2)
    maps = torch.rand(2, 4, 3, 8, 8)
    assert torch.count_nonzero(adapter(maps)) == 0
    # ... while the features are not zero, so the projection learns at the first step.
    assert adapter.feature_maps(maps).abs().sum() > 0
    loss = (adapter(maps) * torch.randn(2, 3, 3, 8, 8)).sum()
    loss.backward()
    assert adapter.projection.weight.grad.abs().sum() > 0


def test_each_pixel_is_mapped_alone():
    torch.manual_seed(0)
    adapter = ObjectAdapter(3, features=6, depth=2, hidden=9)
    torch.nn.init.normal_(adapter.projection.weight)
    maps = torch.rand(1, 3, 4, 5, 6)
    out = adapter(maps)
    # Permuting pixels (over T, H and W together) permutes the output the same way.
    perm = torch.randperm(4 * 5 * 6)
    shuffled = maps.flatten(2)[..., perm].view_as(maps)
    expected = out.flatten(2)[..., perm].view_as(out)
    torch.testing.assert_close(adapter(shuffled), expected)
    # Changing one pixel's maps changes that pixel's output only.
    poked = maps.clone()
    poked[0, :, 2, 3, 4] = torch.tensor([1.0, 0.0, 0.5])
    diff = (adapter(poked) - out).abs().sum(dim=1)
    assert diff[0, 2, 3, 4] > 0
    diff[0, 2, 3, 4] = 0
    assert torch.count_nonzero(diff) == 0


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError, match="at least one map"):
        ObjectAdapter(0)
    with pytest.raises(ValueError, match="depth"):
        ObjectAdapter(2, depth=-1)


def test_widened_conv_keeps_the_pretrained_function():
    torch.manual_seed(0)
    conv = torch.nn.Conv3d(3, 5, kernel_size=(1, 3, 3), stride=(1, 2, 2), padding=(0, 1, 1))
    wider = widen_first_conv(conv, 4)
    assert wider.in_channels == 7 and wider.stride == conv.stride
    video, maps = torch.randn(1, 3, 2, 8, 8), torch.rand(1, 4, 2, 8, 8)
    torch.testing.assert_close(wider(torch.cat([video, maps], 1)), conv(video))
    assert torch.count_nonzero(wider.weight[:, 3:]) == 0
