"""Vectorised soft-NMS against a one-segment-at-a-time loop."""

from __future__ import annotations

import math

import torch

from actionbias.tal.nms import soft_nms


def _loop_soft_nms(segs, scores, labels, sigma, min_score, max_segments):
    kept = []
    for c in sorted(set(labels)):
        items = [[s, sc] for s, sc, lab in zip(segs, scores, labels, strict=True) if lab == c]
        items = [it for it in items if it[1] >= min_score]
        while items:
            best = max(range(len(items)), key=lambda i: items[i][1])
            seg, sc = items.pop(best)
            kept.append((sc, seg, c))
            for it in items:
                inter = max(0.0, min(it[0][1], seg[1]) - max(it[0][0], seg[0]))
                union = (it[0][1] - it[0][0]) + (seg[1] - seg[0]) - inter
                iou = inter / union if union > 0 else 0.0
                it[1] *= math.exp(-(iou**2) / sigma)
            items = [it for it in items if it[1] >= min_score]
    kept.sort(key=lambda k: -k[0])
    return kept[:max_segments]


def test_matches_loop_on_random_inputs() -> None:
    g = torch.Generator().manual_seed(0)
    for trial in range(30):
        n = int(torch.randint(1, 60, (1,), generator=g))
        start = torch.rand(n, generator=g, dtype=torch.float64) * 50
        seg = torch.stack([start, start + 0.5 + torch.rand(n, generator=g) * 10], 1)
        scores = torch.rand(n, generator=g, dtype=torch.float64)
        labels = torch.randint(0, 4, (n,), generator=g)
        max_seg = 5 if trial % 3 == 0 else 200
        s, sc, lab = soft_nms(seg, scores, labels, sigma=0.5, min_score=0.05, max_segments=max_seg)
        ref = _loop_soft_nms(seg.tolist(), scores.tolist(), labels.tolist(), 0.5, 0.05, max_seg)
        assert len(ref) == len(sc)
        for (r_sc, r_seg, r_lab), a, b, c in zip(ref, sc, s, lab, strict=True):
            assert abs(r_sc - float(a)) < 1e-9
            assert r_seg == b.tolist() and r_lab == int(c)


def test_identical_segments_decay_to_low_scores_and_classes_are_independent() -> None:
    seg = torch.tensor([[0.0, 10.0], [0.0, 10.0], [0.0, 10.0]])
    _, sc, lab = soft_nms(seg, torch.tensor([0.9, 0.8, 0.7]), torch.tensor([0, 0, 1]))
    assert lab.tolist() == [0, 1, 0]
    assert sc[:2].tolist() == [0.8999999761581421, 0.699999988079071]
    assert abs(float(sc[2]) - 0.8 * math.exp(-2.0)) < 1e-6
    empty = soft_nms(torch.zeros(0, 2), torch.zeros(0), torch.zeros(0, dtype=torch.long))
    assert empty[0].shape == (0, 2)
