"""Slow-only R50 against PySlowFast's SLOW_8x8_R50: layout, parameter count, compute."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from actionbias.errors import BadInputError
from actionbias.models import (
    SlowOnly,
    backbone_spec,
    build_model,
    count_macs,
    count_parameters,
    example_batch,
)
from actionbias.models.backbone import Bottleneck


def expected_slow_params(depths, width, temporal_kernels, num_classes, stem_kernel=7):
    """Parameter count written out from the architecture description (not from the code)."""
    total = 3 * width * stem_kernel**2 + 2 * width  # stem conv + BN (gamma, beta)
    dim_in = width
    for stage in range(4):
        inner = width * 2**stage
        out = 4 * inner
        for block in range(depths[stage]):
            cin = dim_in if block == 0 else out
            total += cin * inner * temporal_kernels[stage] + 2 * inner  # a: Tx1x1
            total += inner * inner * 9 + 2 * inner  # b: 1x3x3
            total += inner * out + 2 * out  # c: 1x1x1
            if block == 0:
                total += cin * out + 2 * out  # projection shortcut
        dim_in = out
    return total + dim_in * num_classes + num_classes


@pytest.fixture(scope="module")
def meta_r50() -> SlowOnly:
    with torch.device("meta"):
        return build_model("slow_r50", 50)


def test_r50_parameter_count_is_pyslowfast_slow_8x8(meta_r50):
    count = count_parameters(meta_r50)
    assert count == expected_slow_params((3, 4, 6, 3), 64, (1, 1, 3, 3), 50)
    assert count == 31_736_946
    assert round(count / 1e6, 1) == 31.7


def test_r50_macs_match_published_41_7_g(meta_r50):
    macs = count_macs(meta_r50, example_batch(meta_r50, batch_size=1, device="meta"))
    assert abs(macs - 41.7e9) / 41.7e9 < 0.02
    # Batch size scales compute linearly (the counter sees every clip).
    macs2 = count_macs(meta_r50, example_batch(meta_r50, batch_size=2, device="meta"))
    assert macs2 == 2 * macs


def test_r50_layout(meta_r50):
    model = meta_r50
    stem = model.stem
    assert stem.conv.kernel_size == (1, 7, 7)
    assert stem.conv.stride == (1, 2, 2) and stem.conv.padding == (0, 3, 3)
    assert stem.conv.out_channels == 64
    assert stem.pool.kernel_size == (1, 3, 3)
    assert stem.pool.stride == (1, 2, 2) and stem.pool.padding == (0, 1, 1)
    stages = [model.res2, model.res3, model.res4, model.res5]
    assert [len(s) for s in stages] == [3, 4, 6, 3]
    for stage, width, kt, stride in zip(
        stages, (256, 512, 1024, 2048), (1, 1, 3, 3), (1, 2, 2, 2), strict=True
    ):
        for i, block in enumerate(stage):
            assert isinstance(block, Bottleneck)
            assert block.a.kernel_size == (kt, 1, 1) and block.a.padding == (kt // 2, 0, 0)
            assert block.a.stride == (1, 1, 1)
            assert block.b.kernel_size == (1, 3, 3)
            assert block.b.stride == ((1, stride, stride) if i == 0 else (1, 1, 1))
            assert block.c.out_channels == width and block.a.out_channels == width // 4
            assert (block.proj is not None) == (i == 0)
            if i == 0:
                assert block.proj.kernel_size == (1, 1, 1)
                assert block.proj.stride == (1, stride, stride)
    # No temporal stride or temporal pooling anywhere (Slow pathway keeps T).
    for module in model.modules():
        if isinstance(module, (nn.Conv3d, nn.MaxPool3d)):
            stride = module.stride if isinstance(module.stride, tuple) else (module.stride,) * 3
            assert stride[0] == 1
        if isinstance(module, nn.BatchNorm3d):
            assert module.eps == 1e-5 and module.momentum == 0.1
    assert model.head.dropout.p == 0.5
    assert model.head.fc.in_features == 2048 and model.head.fc.out_features == 50
    assert not any(m.bias is not None for m in model.modules() if isinstance(m, nn.Conv3d))


def test_r50_feature_map_sizes(meta_r50):
    shapes = {}
    for name in ("stem", "res2", "res3", "res4", "res5"):
        getattr(meta_r50, name).register_forward_hook(
            lambda _m, _i, out, name=name: shapes.__setitem__(name, tuple(out.shape))
        )
    meta_r50.eval()
    logits = meta_r50({"video": torch.empty(1, 3, 8, 224, 224, device="meta")})
    assert logits.shape == (1, 50)
    assert shapes == {
        "stem": (1, 64, 8, 56, 56),
        "res2": (1, 256, 8, 56, 56),
        "res3": (1, 512, 8, 28, 28),
        "res4": (1, 1024, 8, 14, 14),
        "res5": (1, 2048, 8, 7, 7),
    }


def test_zero_init_final_bn_is_default_and_optional():
    torch.manual_seed(0)
    model = build_model("slow_r50", 10, depths=(1, 1, 1, 1), width=8)
    blocks = [m for m in model.modules() if isinstance(m, Bottleneck)]
    assert all(torch.all(b.c_bn.weight == 0) for b in blocks)
    assert all(torch.all(b.a_bn.weight == 1) for b in blocks)
    plain = build_model("slow_r50", 10, depths=(1, 1, 1, 1), width=8, zero_init_final_bn=False)
    assert all(torch.all(m.c_bn.weight == 1) for m in plain.modules() if isinstance(m, Bottleneck))
    # With gamma = 0 a block is its shortcut: an identity-shortcut block returns
    # relu(x) = x for non-negative inputs.
    block = Bottleneck(32, 32, 8, 3, 1)
    nn.init.zeros_(block.c_bn.weight)
    nn.init.zeros_(block.c_bn.bias)
    block.eval()
    x = torch.rand(1, 32, 2, 4, 4)
    assert torch.equal(block(x), x)


def test_head_init_follows_pyslowfast():
    torch.manual_seed(0)
    model = build_model("slow_r50", 400, depths=(1, 1, 1, 1), width=8)
    weight = model.head.fc.weight
    assert torch.all(model.head.fc.bias == 0)
    assert 0.008 < weight.std().item() < 0.012


def test_real_size_forward_r50():
    torch.manual_seed(0)
    model = build_model("slow_r50", 50).eval()
    batch = example_batch(model, batch_size=1, seed=0)
    assert batch["video"].shape == (1, 3, 8, 224, 224)
    with torch.no_grad():
        logits = model(batch)
    assert logits.shape == (1, 50)
    assert torch.isfinite(logits).all()


def test_small_family_keeps_the_topology():
    small = backbone_spec("slow_small")
    assert small.stage_widths == (64, 128, 256, 512)
    assert small.inner_widths == (16, 32, 64, 128)
    assert small.temporal_kernels == (1, 1, 3, 3)
    assert small.clip_size == (8, 112, 112)
    with torch.device("meta"):
        model = build_model("slow_small", 50)
    assert count_parameters(model) == expected_slow_params((2, 2, 2, 2), 16, (1, 1, 3, 3), 50)
    macs = count_macs(model, example_batch(model, device="meta"))
    assert macs < 41.7e9 / 50  # at 8x112x112 it is ~100x cheaper than R50 at 8x224x224


def test_stem_kernel_option():
    model = build_model("slow_tiny", 5, stem_kernel=3)
    assert model.stem.conv.kernel_size == (1, 3, 3) and model.stem.conv.padding == (0, 1, 1)
    assert count_parameters(model) == expected_slow_params(
        (1, 1, 1, 1), 8, (1, 1, 3, 3), 5, stem_kernel=3
    )


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"depths": (3, 4, 6)}, "depths"),
        ({"depths": "3463"}, "depths"),
        ({"depths": (3, 0, 6, 3)}, "depths"),
        ({"temporal_kernels": (1, 1, 2, 3)}, "temporal_kernels"),
        ({"width": 0}, "width"),
        ({"stem_kernel": 4}, "stem_kernel"),
        ({"dropout": 1.0}, "dropout"),
        ({"dropout": "0.5"}, "dropout"),
        ({"zero_init_final_bn": "false"}, "zero_init_final_bn"),
        ({"clip_size": (8, 112)}, "clip_size"),
    ],
)
def test_bad_backbone_options_name_the_field(options, field):
    with pytest.raises(BadInputError, match=f"field {field}"):
        build_model("slow_tiny", 5, **options)


def test_wrong_clip_shapes_are_refused():
    model = build_model("slow_tiny", 5)
    with pytest.raises(ValueError, match=r"B x 3 x T x H x W"):
        model({"video": torch.zeros(1, 8, 3, 32, 32)})
    with pytest.raises(ValueError, match="float"):
        model({"video": torch.zeros(1, 3, 4, 32, 32, dtype=torch.uint8)})
    with pytest.raises(TypeError, match="dict of tensors"):
        model(torch.zeros(1, 3, 4, 32, 32))
