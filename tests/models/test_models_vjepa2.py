"""V-JEPA 2 through the registry: tiny random configs, shapes, input conversion, pretrained."""

from __future__ import annotations

import pytest
import torch

from actionbias.errors import BadInputError
from actionbias.models import build_model
from actionbias.models.vjepa2 import VJEPA2_MEAN, VJEPA2_STD

TINY = {
    "crop_size": 16,
    "frames_per_clip": 4,
    "patch_size": 4,
    "tubelet_size": 2,
    "hidden_size": 32,
    "num_attention_heads": 2,
    "num_hidden_layers": 2,
    "mlp_ratio": 2.0,
    "num_pooler_layers": 1,
    "pred_hidden_size": 16,
    "pred_num_attention_heads": 2,
    "pred_num_hidden_layers": 1,
}


def tiny(num_classes: int = 5, seed: int = 0, **options) -> torch.nn.Module:
    torch.manual_seed(seed)
    return build_model("vjepa2", num_classes, config=TINY, **options)


def test_forward_backward_shapes_and_no_predictor():
    model = tiny().train()
    assert not any(name.startswith("predictor") for name, _ in model.named_parameters())
    video = torch.randn(3, 3, 4, 16, 16)
    logits = model({"video": video})
    assert logits.shape == (3, 5)
    assert model.tokens(video).shape == (3, (4 // 2) * (16 // 4) ** 2, 32)
    torch.nn.functional.cross_entropy(logits, torch.tensor([0, 1, 4])).backward()
    dead = [n for n, p in model.named_parameters() if p.grad is None or not p.grad.abs().sum()]
    assert not dead


def test_project_normalisation_becomes_vjepa2_normalisation():
    model = tiny()
    pixels = torch.rand(1, 3, 2, 16, 16)
    mean, std = torch.tensor(0.45), torch.tensor(0.225)
    ours = (pixels - mean) / std
    theirs = (pixels - torch.tensor(VJEPA2_MEAN).view(1, 3, 1, 1, 1)) / torch.tensor(
        VJEPA2_STD
    ).view(1, 3, 1, 1, 1)
    converted = model.pixel_values(ours)
    assert converted.shape == (1, 2, 3, 16, 16)  # B x T x 3 x H x W
    torch.testing.assert_close(converted, theirs.transpose(1, 2))


def test_wrong_frame_size_or_tubelet_is_refused():
    model = tiny()
    with pytest.raises(ValueError, match="crop_size to 16"):
        model({"video": torch.randn(1, 3, 4, 32, 32)})
    with pytest.raises(ValueError, match="tubelets of 2"):
        model({"video": torch.randn(1, 3, 3, 16, 16)})


def test_save_pretrained_folder_loads_through_the_registry(tmp_path):
    from transformers import VJEPA2Config, VJEPA2Model

    torch.manual_seed(7)
    source = VJEPA2Model(VJEPA2Config(**{k: v for k, v in TINY.items()})).eval()
    source.save_pretrained(tmp_path / "vjepa2")
    model = build_model("vjepa2", 3, pretrained=tmp_path / "vjepa2").eval()
    video = torch.randn(2, 3, 4, 16, 16)
    with torch.no_grad():
        expected = source(pixel_values_videos=model.pixel_values(video), skip_predictor=True)
        torch.testing.assert_close(model.tokens(video), expected.last_hidden_state)
    # A fresh build per trial: the probe is new, the encoder the same every time.
    again = build_model("vjepa2", 3, pretrained=tmp_path / "vjepa2")
    for (name, a), (_, b) in zip(
        model.encoder.state_dict().items(), again.encoder.state_dict().items(), strict=True
    ):
        torch.testing.assert_close(a, b, msg=name)
    assert not any(p.requires_grad is False for p in again.parameters())


def test_bad_pretrained_folder_is_a_one_line_error(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(BadInputError, match=r"config\.json"):
        build_model("vjepa2", 3, pretrained=tmp_path / "empty")


def test_a2o_checkpoint_of_a_non_default_vjepa2_reloads(tmp_path):
    """Trial weights rebuild the pretrained folder's architecture, not the default ViT-L."""
    from transformers import VJEPA2Config, VJEPA2Model

    from actionbias.a2o.environment import load_trial_model
    from actionbias.train.module import ClassifierModule

    torch.manual_seed(3)
    VJEPA2Model(VJEPA2Config(**TINY)).save_pretrained(tmp_path / "vjepa2")
    options = {"backbone": "vjepa2", "num_maps": 2, "pretrained": str(tmp_path / "vjepa2")}
    module = ClassifierModule("a2o", ["a", "b", "c"], model_options=options)
    path = tmp_path / "weights.ckpt"
    torch.save({"hyper_parameters": dict(module.hparams), "state_dict": module.state_dict()}, path)
    model = load_trial_model(path, 2)
    batch = {"video": torch.randn(1, 3, 4, 16, 16), "maps": torch.rand(1, 2, 4, 16, 16)}
    with torch.no_grad():
        torch.testing.assert_close(model(batch), module.model.eval()(batch))
