"""ActionFormer detector: shapes, exact masking, two-pyramid mode, assignment and losses."""

from __future__ import annotations

import math

import pytest
import torch

from actionbias.tal.assign import assign_targets
from actionbias.tal.detector import ActionFormer
from actionbias.tal.losses import (
    DetectionLossConfig,
    EMANormaliser,
    detection_loss,
    diou_loss_1d,
    sigmoid_focal_loss,
)


def _tiny(**kw) -> ActionFormer:
    torch.manual_seed(0)
    opts = dict(embed_dim=16, fpn_dim=16, head_dim=16, window=5, heads=2, max_seq_len=64)
    opts.update(kw)
    return ActionFormer(6, 3, **opts).eval()


def test_default_pyramid_has_six_levels_strides_1_to_32() -> None:
    model = _tiny()
    assert model.strides == [1, 2, 4, 8, 16, 32]
    out = model(torch.randn(2, 6, 64), torch.ones(2, 64, dtype=torch.bool))
    assert [x.shape for x in out.cls_logits] == [(2, 64 // s, 3) for s in model.strides]
    assert [x.shape for x in out.offsets] == [(2, 64 // s, 2) for s in model.strides]
    assert [p.shape for p in out.points] == [(64 // s, 4) for s in model.strides]
    assert out.points[2][3].tolist() == [12.0, 8.0, 16.0, 4.0]
    assert out.points[-1][0, 2] == math.inf
    assert all(bool((o >= 0).all()) for o in out.offsets)


def test_padding_does_not_change_valid_outputs() -> None:
    model = _tiny()
    x = torch.randn(1, 6, 64)
    short = model(x, torch.ones(1, 64, dtype=torch.bool))
    padded_x = torch.cat([x, torch.randn(1, 6, 64) * 50], dim=2)  # garbage in the padding
    mask = torch.zeros(1, 128, dtype=torch.bool)
    mask[:, :64] = True
    long = model(padded_x, mask)
    for level, stride in enumerate(model.strides):
        n = 64 // stride
        torch.testing.assert_close(long.cls_logits[level][:, :n], short.cls_logits[level])
        torch.testing.assert_close(long.offsets[level][:, :n], short.offsets[level])
        assert not long.masks[level][:, n:].any()


def test_length_not_multiple_of_stride_is_padded_internally() -> None:
    model = _tiny()
    out = model(torch.randn(1, 6, 50), torch.ones(1, 50, dtype=torch.bool))
    assert out.cls_logits[0].shape[1] == 64 and int(out.masks[0].sum()) == 50


def test_feats_loc_drives_regression_only() -> None:
    model = _tiny()
    x, y = torch.randn(1, 6, 64), torch.randn(1, 6, 64)
    mask = torch.ones(1, 64, dtype=torch.bool)
    both = model(x, mask, feats_loc=y)
    only_x, only_y = model(x, mask), model(y, mask)
    torch.testing.assert_close(both.cls_logits[0], only_x.cls_logits[0])
    torch.testing.assert_close(both.offsets[0], only_y.offsets[0])


def test_assignment_centre_sampling_ranges_and_multi_hot() -> None:
    model = _tiny(downsample_blocks=2)  # strides 1, 2, 4; ranges (0,4) (4,8) (8,inf)
    out = model(torch.randn(1, 6, 64), torch.ones(1, 64, dtype=torch.bool))
    points = torch.cat(out.points)
    # a 6-step segment: max distance <= 6 lands on level 1 (4, 8] only near its centre
    seg = torch.tensor([[10.0, 16.0], [10.0, 16.0]])
    cls_t, reg_t = assign_targets(points, seg, torch.tensor([0, 2]), 3, radius=1.5)
    pos = torch.nonzero(cls_t.sum(1) > 0).squeeze(1)
    assert len(pos) > 0
    for p in pos.tolist():
        pos_t, lo, hi, stride = points[p].tolist()
        assert abs(pos_t - 13.0) < 1.5 * stride and 10 < pos_t < 16
        reach = max(pos_t - 10, 16 - pos_t)
        assert lo <= reach <= hi
        assert cls_t[p].tolist() == [1.0, 0.0, 1.0]  # identical segments -> multi-hot
        torch.testing.assert_close(reg_t[p] * stride, torch.tensor([pos_t - 10, 16 - pos_t]))
    # a point inside two segments takes the shorter one
    segs = torch.tensor([[0.0, 40.0], [18.0, 22.0]])
    cls_t, _ = assign_targets(points, segs, torch.tensor([0, 1]), 3, radius=100.0)
    p20 = int(torch.nonzero((points[:, 0] == 20) & (points[:, 3] == 1)).item())
    assert cls_t[p20].tolist() == [0.0, 1.0, 0.0]


def test_losses_values() -> None:
    # perfect regression -> DIoU 0; shifted same-length segment -> 1 - IoU + centre term
    t = torch.tensor([[2.0, 3.0]])
    assert diou_loss_1d(t, t).item() == pytest.approx(0.0, abs=1e-6)
    shifted = diou_loss_1d(torch.tensor([[1.0, 4.0]]), t).item()
    # pred [-1, 4], gt [-2, 3]: IoU 4/6, enclosing 6, centre distance 1
    assert shifted == pytest.approx(1 - 4 / 6 + 1 / 36)
    # focal: confident correct predictions cost ~0, confident wrong ones a lot
    logits = torch.tensor([10.0, -10.0])
    assert sigmoid_focal_loss(logits, torch.tensor([1.0, 0.0])).sum() < 1e-6
    assert sigmoid_focal_loss(logits, torch.tensor([0.0, 1.0])).sum() > 1.0
    ema = EMANormaliser(100.0, 0.9)
    assert ema.update(10) == pytest.approx(91.0)
    with torch.no_grad():
        assert ema.update(1000) == pytest.approx(91.0)  # frozen at evaluation


def test_detection_loss_backward_and_empty_video() -> None:
    model = _tiny(downsample_blocks=2).train()
    out = model(torch.randn(2, 6, 32), torch.ones(2, 32, dtype=torch.bool))
    segs = [torch.tensor([[4.0, 12.0]]), torch.zeros(0, 2)]
    labs = [torch.tensor([1]), torch.zeros(0, dtype=torch.long)]
    losses = detection_loss(out, segs, labs, DetectionLossConfig())
    assert set(losses) == {"cls", "reg", "total"}
    assert losses["reg"] > 0 and torch.isfinite(losses["total"])
    losses["total"].backward()
    assert model.scales.grad is not None
