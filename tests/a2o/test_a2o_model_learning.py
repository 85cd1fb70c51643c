"""Does an oracle map let the A2O model learn what RGB alone cannot? (a tiny honest task)

Every clip shows the same two squares, one red and one green, at random places on a
noisy background. The label is the colour of the square the map marks. From the
pixels alone both classes look exactly alike (one red and one green square each),
so a recogniser without maps stays at chance; with the map it has to combine the
two: which colour sits under the marked region. The backbone is the registry's
slow_tiny, the maps go through the paper's adapter (depth 0, zero-initialised
projection), trained with AdamW from the same seed for the same steps.
"""

from __future__ import annotations

import pytest
import torch

from actionbias.models import build_model

FRAMES, SIZE, HALF = 2, 16, 3
RED = torch.tensor([1.5, -1.0, -1.0]).view(3, 1, 1, 1)
GREEN = torch.tensor([-1.0, 1.5, -1.0]).view(3, 1, 1, 1)


def make_task(count: int, seed: int) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    video = torch.randn(count, 3, FRAMES, SIZE, SIZE, generator=g) * 0.3
    maps = torch.zeros(count, 1, FRAMES, SIZE, SIZE)
    labels = torch.randint(0, 2, (count,), generator=g)
    for i in range(count):
        # One square in each half of the frame, colours in random order.
        rows = torch.randint(HALF, SIZE - HALF, (2,), generator=g).tolist()
        left = int(torch.randint(HALF, SIZE // 2 - HALF + 1, (1,), generator=g))
        right = int(torch.randint(SIZE // 2 + HALF, SIZE - HALF + 1, (1,), generator=g))
        places = [(rows[0], left), (rows[1], right)]
        colours = torch.randperm(2, generator=g).tolist()  # colours[k]: 0 red, 1 green
        for (y, x), colour in zip(places, colours, strict=True):
            video[i, :, :, y - HALF : y + HALF, x - HALF : x + HALF] = (RED, GREEN)[colour]
        y, x = places[colours.index(int(labels[i]))]
        maps[i, 0, :, y - HALF : y + HALF, x - HALF : x + HALF] = 1.0
    return {"video": video, "maps": maps}, labels


def train_and_score(num_maps: int, epochs: int = 15, batch: int = 16) -> float:
    torch.manual_seed(0)
    model = build_model("a2o", 2, backbone="slow_tiny", num_maps=num_maps, adapter_features=8)
    optimiser = torch.optim.AdamW(model.parameters(), lr=1e-2)
    train, train_labels = make_task(128, seed=1)
    val, val_labels = make_task(64, seed=2)
    count = len(train_labels)
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(count, generator=torch.Generator().manual_seed(epoch))
        for start in range(0, count, batch):
            pick = order[start : start + batch]
            logits = model({key: value[pick] for key, value in train.items()})
            loss = torch.nn.functional.cross_entropy(logits, train_labels[pick])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    model.eval()
    with torch.no_grad():
        return float((model(val).argmax(1) == val_labels).float().mean())


def test_rgb_alone_is_ambiguous_by_construction():
    batch, labels = make_task(32, seed=5)
    video = batch["video"]
    for colour in (RED, GREEN):
        # Exactly one square of each colour in every clip, whatever the label.
        hits = ((video - colour).abs().sum(dim=1) < 1e-6)[:, 0].flatten(1).sum(1)
        assert (hits == (2 * HALF) ** 2).all()
    assert 0 < int(labels.sum()) < 32
    marked = batch["maps"][:, 0, 0].bool()
    under = video[:, :, 0].permute(0, 2, 3, 1)[marked].view(32, -1, 3)[:, 0]
    assert torch.equal((under[:, 1] > under[:, 0]).long(), labels)  # green under map <=> 1


@pytest.mark.slow
def test_oracle_maps_beat_chance_where_rgb_cannot():
    with_maps = train_and_score(num_maps=1)
    without = train_and_score(num_maps=0)
    assert with_maps >= 0.85, with_maps
    assert without <= 0.7, without
