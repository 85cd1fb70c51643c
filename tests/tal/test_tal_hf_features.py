"""`tal features --model hf:PATH`: a transformers video encoder in the extractor's layout."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from tal_testkit import run_command

from actionbias.errors import BadInputError
from actionbias.tal.extract import window_starts
from actionbias.video import iter_frames, write_video

transformers = pytest.importorskip("transformers")

MEAN, STD = [0.4, 0.5, 0.6], [0.2, 0.25, 0.3]


@pytest.fixture(scope="module")
def tiny_videomae(tmp_path_factory):
    """A random-weight VideoMAE (4-frame 32 px clips) saved like a hub download."""
    folder = tmp_path_factory.mktemp("videomae")
    config = transformers.VideoMAEConfig(
        image_size=32, patch_size=16, num_frames=4, tubelet_size=2, hidden_size=16,
        num_hidden_layers=1, num_attention_heads=2, intermediate_size=32,
    )  # fmt: skip
    torch.manual_seed(0)
    transformers.VideoMAEModel(config).save_pretrained(folder)
    processor = {"image_mean": MEAN, "image_std": STD, "crop_size": {"height": 32, "width": 32}}
    (folder / "preprocessor_config.json").write_text(json.dumps(processor))
    return folder


def test_hf_features_match_the_extractor_layout_and_the_model(tmp_path, tiny_videomae) -> None:
    frames = np.random.default_rng(0).integers(0, 255, size=(30, 40, 40, 3), dtype=np.uint8)
    video = write_video(tmp_path / "clip.mp4", frames, fps=10.0)
    out = tmp_path / "out"
    argv = ["tal", "features", "--videos", str(video), "--out", str(out)]
    assert run_command([*argv, "--model", f"hf:{tiny_videomae}", "--batch-size", "3"]) == 0
    saved = np.load(out / "clip.npy")
    # one row per window start, as for registered models (window 16, stride 4)
    assert saved.shape == (len(window_starts(30, 16, 4)), 16) == (4, 16)
    info = json.loads((out / "features.json").read_text())
    assert info["clip_frames"] == 4 and info["size"] == [32, 32]
    assert info["mean"] == pytest.approx(MEAN) and info["std"] == pytest.approx(STD)
    assert info["feature_dim"] == 16 and info["num_frames"] == 16 and info["feat_stride"] == 4

    # row 1 by hand: frames 4..19, 4 of them evenly picked, normalised, tokens mean-pooled
    decoded = np.stack([f.rgb for f in iter_frames(video, size=(32, 32))])
    pick = 4 + np.linspace(0, 15, 4).round().astype(int)
    clip = torch.from_numpy(decoded[pick]).float() / 255.0  # T H W 3
    clip = (clip - torch.tensor(MEAN)) / torch.tensor(STD)
    model = transformers.VideoMAEModel.from_pretrained(tiny_videomae).eval()
    with torch.no_grad():
        hidden = model(pixel_values=clip.permute(0, 3, 1, 2)[None]).last_hidden_state
    np.testing.assert_allclose(saved[1], hidden.mean(dim=1)[0].numpy(), rtol=1e-4, atol=1e-5)


def test_hf_model_errors_are_one_line_input_errors(tmp_path, tiny_videomae) -> None:
    frames = np.zeros((20, 32, 32, 3), dtype=np.uint8)
    video = write_video(tmp_path / "clip.mp4", frames, fps=10.0)
    argv = ["tal", "features", "--videos", str(video), "--out", str(tmp_path / "o")]
    with pytest.raises(BadInputError, match="4-frame clips"):
        run_command([*argv, "--model", f"hf:{tiny_videomae}", "--clip-frames", "8"])
    with pytest.raises(BadInputError, match="cannot load a Hugging Face model"):
        run_command([*argv, "--model", f"hf:{tmp_path / 'missing'}"])
    with pytest.raises(BadInputError, match="registered models"):
        run_command([*argv, "--model", f"hf:{tiny_videomae}", "--checkpoint", "x.pt"])


def test_vjepa2_encoder_is_fed_pixel_values_videos_and_pooled() -> None:
    from actionbias.tal.hf_extract import IMAGENET_MEAN, HFVideoFeatures, input_spec

    config = transformers.VJEPA2Config(
        crop_size=32, frames_per_clip=4, patch_size=16, tubelet_size=2, hidden_size=16,
        num_hidden_layers=1, num_attention_heads=2, mlp_ratio=2, pred_hidden_size=16,
        pred_num_hidden_layers=1, pred_num_attention_heads=2,
    )  # fmt: skip
    torch.manual_seed(0)
    model = transformers.VJEPA2Model(config).eval()
    wrapped = HFVideoFeatures(model)
    video = torch.randn(2, 3, 4, 32, 32)
    with torch.no_grad():
        feats = wrapped({"video": video})
        ref = model(pixel_values_videos=video.transpose(1, 2), skip_predictor=True)
    torch.testing.assert_close(feats, ref.last_hidden_state.mean(dim=1))
    # no processor config: the crop size from the model config, ImageNet statistics,
    # and no fixed clip length (rotary positions take any frame count)
    spec = input_spec(config, None)
    assert spec.size == (32, 32) and spec.mean == IMAGENET_MEAN and spec.clip_frames is None
