"""The advantage signal: class-wise vision-loss means, targets, per-frame losses, buckets."""

from __future__ import annotations

import math

import pytest
import torch
from tal_testkit import NUM_CLASSES, T, language_batches, small_actionformer

from actionbias.tal.assign import assign_targets
from actionbias.tal.language.advantage import (
    ClassLossMeter,
    advantage_by_class,
    advantage_loss,
    advantage_targets,
    frame_buckets,
    per_frame_detection_loss,
)
from actionbias.tal.losses import sigmoid_focal_loss


def test_class_meter_and_advantage_target_by_hand():
    meter = ClassLossMeter(num_classes=2)  # buckets 0, 1 and background 2
    loss = torch.tensor([[1.0, 3.0, 0.5, 9.0], [2.0, 4.0, 1.5, 7.0]])
    bucket = torch.tensor([[0, 0, 2, 1], [0, 2, 2, 1]])
    mask = torch.tensor([[True, True, True, True], [True, True, True, False]])
    meter.update(loss, bucket, mask)
    with pytest.raises(RuntimeError):
        meter.means()
    means = meter.finish()
    # class 0: (1 + 3 + 2) / 3 = 2; class 1: 9 (the masked 7 is ignored);
    # background: (0.5 + 4 + 1.5) / 3 = 2
    torch.testing.assert_close(means, torch.tensor([2.0, 9.0, 2.0]))
    vl = torch.tensor([[1.5, 2.5, 3.0, 4.0]])
    target = advantage_targets(means, torch.tensor([[0, 0, 2, 1]]), vl)
    torch.testing.assert_close(target, torch.tensor([[0.5, -0.5, -1.0, 5.0]]))
    a_hat = torch.tensor([[0.5, 0.5, 0.0, 0.0]])
    l_adv = advantage_loss(a_hat, target, torch.tensor([[True, True, True, False]]))
    assert math.isclose(float(l_adv), (0 + 1 + 1) / 3, rel_tol=1e-6)
    # a class unseen in the vision epoch falls back to the overall mean
    m2 = ClassLossMeter(num_classes=3)
    m2.update(torch.tensor([[1.0, 3.0]]), torch.tensor([[0, 3]]), torch.ones(1, 2, dtype=bool))
    torch.testing.assert_close(m2.finish(), torch.tensor([1.0, 2.0, 2.0, 3.0]))


def test_frame_buckets_prefer_the_shortest_action():
    b = frame_buckets([torch.tensor([[1.0, 6.0], [3.0, 4.0]])], [torch.tensor([0, 1])], 8, 2)
    assert b.tolist() == [[2, 0, 0, 1, 1, 0, 0, 2]]


def test_per_frame_detection_loss_with_realsmall_actionformer():
    det = small_actionformer()
    batch = language_batches(1)[0]
    out = det(batch.feats, batch.mask)
    loss, bucket = per_frame_detection_loss(out, batch.segments, batch.labels, batch.mask)
    assert loss.shape == (2, T) and torch.all(loss[1, 26:] == 0) and torch.all(loss[:, :26] > 0)
    assert bucket[0, 5] == 0 and bucket[0, 20] == 2 and bucket[0, 10] == NUM_CLASSES
    # every point's loss lands on its frames: totals agree
    no_reg, _ = per_frame_detection_loss(
        out, batch.segments, batch.labels, torch.ones(2, T, dtype=torch.bool), loc_weight=0.0
    )
    points = torch.cat(out.points)
    stride = points[:, 3]
    logits = torch.cat(out.cls_logits, 1)
    per_point = []
    for i in range(2):
        cls_t, _ = assign_targets(points, batch.segments[i], batch.labels[i], NUM_CLASSES)
        valid = torch.cat(out.masks, 1)[i]
        per_point.append(sigmoid_focal_loss(logits[i], cls_t).sum(-1) * valid)
    expected = (torch.stack(per_point) * stride).sum(1)
    torch.testing.assert_close(no_reg.sum(1), expected, rtol=1e-5, atol=1e-4)


def test_advantage_by_class_leaves_out_background_and_padding():
    values = torch.tensor([[0.1, 0.2, 0.3, 0.4]])
    bucket = torch.tensor([[0, 2, 1, 0]])  # 2 = background with two classes
    mask = torch.tensor([[True, True, True, False]])
    out = advantage_by_class(values, bucket, mask, ["a", "b"])
    torch.testing.assert_close(out["a"], torch.tensor([0.1]))
    torch.testing.assert_close(out["b"], torch.tensor([0.3]))
