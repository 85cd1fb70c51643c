"""Parameter and MAC counting: the FlopCounterMode convention, checked by hand."""

from __future__ import annotations

import torch
from torch import nn

from actionbias.models import build_model, count_macs, count_parameters, example_batch


class ConvThenLinear(nn.Module):
    required_inputs = ("video",)

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv3d(3, 8, (3, 3, 3), stride=(1, 2, 2), padding=1)
        self.fc = nn.Linear(8, 5)

    def forward(self, batch):
        return self.fc(self.conv(batch["video"]).mean(dim=(2, 3, 4)))


def test_macs_are_half_the_flop_counter_total():
    model = ConvThenLinear()
    video = torch.zeros(2, 3, 4, 10, 10)
    conv_macs = 2 * (4 * 5 * 5) * 8 * (3 * 27)  # B * outputs * C_out * (C_in * k^3)
    fc_macs = 2 * 8 * 5
    assert count_macs(model, {"video": video}) == conv_macs + fc_macs  # biases not counted
    assert model.training  # restored after the eval-mode count


def test_count_parameters():
    model = ConvThenLinear()
    assert count_parameters(model) == (3 * 27 * 8 + 8) + (8 * 5 + 5)
    model.fc.requires_grad_(False)
    assert count_parameters(model, trainable_only=True) == 3 * 27 * 8 + 8


def test_example_batch_matches_the_model():
    model = build_model("weighted_focus", 4, backbone="slow_tiny")
    batch = example_batch(model, batch_size=3, seed=0)
    assert batch["video"].shape == (3, 3, 8, 64, 64)  # slow_tiny's intended clip
    assert batch["mask"].shape == (3, 1, 8, 64, 64)
    assert set(batch["mask"].unique().tolist()) <= {0.0, 1.0}
    again = example_batch(model, batch_size=3, seed=0)
    assert all(torch.equal(batch[k], again[k]) for k in batch)
    meta = example_batch(model, clip_size=(2, 16, 16), device="meta")
    assert meta["video"].is_meta and meta["video"].shape == (1, 3, 2, 16, 16)
