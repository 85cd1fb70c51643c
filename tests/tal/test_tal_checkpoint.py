"""Resumable detector training: an interrupted run, resumed, ends with the uninterrupted weights."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from tal_testkit import tiny_detector

from actionbias.errors import BadInputError
from actionbias.tal.features import FeatureGrid, TALSample
from actionbias.tal.train import TALTrainConfig, torch_threads, train_detector

GRID = FeatureGrid(feat_stride=4, num_frames=16, fps=30.0)


class _Videos(torch.utils.data.Dataset):
    """Samples with a truncation-style NumPy generator that every item draws from."""

    def __init__(self, n: int, length: int, classes: int, seed: int):
        self.rng = np.random.default_rng(seed)
        self.classes = [f"c{i}" for i in range(classes)]
        gen = np.random.default_rng(seed + 1)
        self.samples = []
        for v in range(n):
            feats = gen.normal(0, 0.1, size=(classes + 1, length)).astype(np.float32)
            start = int(gen.integers(2, length // 2))
            c = v % classes
            feats[c, start : start + 6] += 1.0
            self.samples.append(
                TALSample(
                    f"v{v}",
                    torch.from_numpy(feats),
                    torch.tensor([[start - 0.5, start + 5.5]]),
                    torch.tensor([c]),
                    GRID,
                    None,
                )
            )

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, i: int) -> TALSample:
        s = self.samples[i]
        noise = torch.from_numpy(self.rng.normal(0, 0.01, size=s.feats.shape).astype(np.float32))
        return dataclasses.replace(s, feats=s.feats + noise)


def _detector(seed: int):
    torch.manual_seed(seed)
    return tiny_detector(4, 3, dropout=0.1)


CFG = TALTrainConfig(epochs=4, batch_size=2, lr=1e-3, warmup_epochs=1, seed=3, ema_decay=0.9)


def _assert_same(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


def test_interrupted_then_resumed_run_equals_uninterrupted(tmp_path) -> None:
    with torch_threads(1):
        full = train_detector(_detector(0), _Videos(5, 32, 3, 0), CFG, state_path=tmp_path / "a.pt")

        class Killed(Exception):
            pass

        def kill_after_second(epoch: int, _row: dict) -> None:
            if epoch == 1:
                raise Killed

        with pytest.raises(Killed):
            train_detector(
                _detector(0),
                _Videos(5, 32, 3, 0),
                CFG,
                on_epoch=kill_after_second,
                state_path=tmp_path / "b.pt",
            )
        # a fresh process: other initial weights and a fresh data generator; the state file decides
        resumed = train_detector(
            _detector(7), _Videos(5, 32, 3, 0), CFG, state_path=tmp_path / "b.pt"
        )
    _assert_same(full.model.state_dict(), resumed.model.state_dict())
    _assert_same(full.ema_model.state_dict(), resumed.ema_model.state_dict())
    assert [r["total"] for r in full.history] == [r["total"] for r in resumed.history]
    assert len(resumed.history) == CFG.epochs


def test_stop_after_and_a_finished_run_is_not_retrained(tmp_path) -> None:
    with torch_threads(1):
        part = train_detector(
            _detector(0), _Videos(4, 32, 3, 0), CFG, state_path=tmp_path / "s.pt", stop_after=1
        )
        assert len(part.history) == 1
        done = train_detector(_detector(0), _Videos(4, 32, 3, 0), CFG, state_path=tmp_path / "s.pt")
        calls = []
        again = train_detector(
            _detector(5),
            _Videos(4, 32, 3, 0),
            CFG,
            on_epoch=lambda e, r: calls.append(e),
            state_path=tmp_path / "s.pt",
        )
    assert calls == [] and len(again.history) == CFG.epochs
    _assert_same(done.model.state_dict(), again.model.state_dict())


def test_resume_with_other_settings_is_refused_naming_the_keys(tmp_path) -> None:
    with torch_threads(1):
        train_detector(
            _detector(0), _Videos(4, 32, 3, 0), CFG, state_path=tmp_path / "s.pt", stop_after=1
        )
        other = dataclasses.replace(CFG, lr=5e-4, num_threads=1)  # threads alone would be fine
        with pytest.raises(BadInputError, match=r"train\.lr"):
            train_detector(_detector(0), _Videos(4, 32, 3, 0), other, state_path=tmp_path / "s.pt")
        with pytest.raises(BadInputError, match=r"features"):
            train_detector(
                _detector(0),
                _Videos(4, 32, 3, 0),
                CFG,
                state_path=tmp_path / "s.pt",
                settings={"features": "/elsewhere"},
            )


def test_actionvlm_training_resumes_with_its_vision_loss_table(tmp_path) -> None:
    """The demo's alternating vision / vision-language loop: stop after an odd epoch count
    (the next epoch is vision-language and needs the class-wise table), resume, compare."""
    from actionbias.tal.demo_settings import TALDemoSettings
    from actionbias.tal.demo_training import build_demo_model, train_model

    settings = TALDemoSettings(
        "tiny", {}, recogniser_epochs=1, width=8, downsample_blocks=1, attn_window=3, epochs=4,
        batch_size=2, lm_width=8,
    )  # fmt: skip
    prompt = torch.randn(3, 384, generator=torch.Generator().manual_seed(0))

    def run(stop_after: int | None, path) -> tuple[dict, list]:
        model = build_demo_model("actionvlm", 4, 3, settings, seed=1)
        data = _Videos(4, 32, 3, 0)
        history = train_model(
            model, data, settings, prompt, 1, state_path=path, stop_after=stop_after
        )
        return model.state_dict(), history

    with torch_threads(1):
        full, full_history = run(None, tmp_path / "full.pt")
        _, part = run(1, tmp_path / "part.pt")
        assert [r["mode"] for r in part] == ["vision"]
        state = torch.load(tmp_path / "part.pt", weights_only=False)
        assert state["trainer"]["meter"]["means"] is not None
        resumed, history = run(None, tmp_path / "part.pt")
    _assert_same(full, resumed)
    assert [r["mode"] for r in history] == ["vision", "vision_language"] * 2
    assert [r["total"] for r in history] == [r["total"] for r in full_history]
    assert "advantage" in history[1] and "per_bucket" in history[1]["advantage"]
