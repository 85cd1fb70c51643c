"""Hugging Face video classifiers (VideoMAE, TimeSformer, ViViT) from tiny random-weight folders."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))
import hf_tiny

from actionbias.errors import BadInputError
from actionbias.models.hf_video import HFVideoClassifier, label_key, match_labels

LABELS = ["abseiling", "air_drumming", "skiing (not slalom or crosscountry)", "yoga"]


def _saved(tmp_path: Path, kind: str, labels=LABELS, seed: int = 0) -> tuple[Path, object, object]:
    model, processor = hf_tiny.tiny_video_classifier(kind, labels, seed=seed)
    folder = tmp_path / kind
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder, model, processor


def _clips(count: int, frames: int = 4, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (frames, 40, 52, 3), dtype=np.uint8) for _ in range(count)]


@pytest.mark.parametrize("kind", hf_tiny.VIDEO_CLASSIFIER_KINDS)
def test_folder_loads_with_its_own_processor(tmp_path, kind):
    folder, model, processor = _saved(tmp_path, kind)
    wrapper = HFVideoClassifier.from_pretrained(folder)
    assert wrapper.labels == LABELS and wrapper.num_frames == 4
    assert wrapper.model_type == kind
    clips = _clips(3)
    logits = wrapper.logits(clips)
    assert logits.shape == (3, len(LABELS))
    with torch.no_grad():
        pixels = processor([list(c) for c in clips], return_tensors="pt")["pixel_values"]
        expected = model(pixel_values=pixels).logits.numpy()
    assert pixels.shape[1:] == (4, 3, 32, 32)  # the model's frames and crop
    np.testing.assert_allclose(logits, expected, rtol=1e-5, atol=1e-6)
    # the stored preprocessing is what is used: other statistics, other logits
    config_path = folder / "preprocessor_config.json"
    config = json.loads(config_path.read_text())
    config["image_mean"] = [0.9, 0.1, 0.5]
    config_path.write_text(json.dumps(config))
    shifted = HFVideoClassifier.from_pretrained(folder).logits(clips)
    assert np.abs(shifted - logits).max() > 1e-4


def test_clips_of_another_length_are_resampled_to_the_models_frames(tmp_path):
    folder, _, _ = _saved(tmp_path, "videomae")
    wrapper = HFVideoClassifier.from_pretrained(folder)
    long = _clips(1, frames=16, seed=3)
    picked = [long[0][[2, 6, 10, 14]]]  # centres of 4 equal segments of 16 frames
    np.testing.assert_allclose(wrapper.logits(long), wrapper.logits(picked), rtol=1e-6)


def test_unusable_models_are_one_line_errors(tmp_path):
    folder, _, _ = _saved(tmp_path, "timesformer", labels=["LABEL_0", "LABEL_1"])
    with pytest.raises(BadInputError, match="no class names"):
        HFVideoClassifier.from_pretrained(folder)
    from transformers import VideoMAEConfig, VideoMAEModel

    encoder = tmp_path / "encoder"
    VideoMAEModel(
        VideoMAEConfig(
            hidden_size=32,
            num_hidden_layers=1,
            num_attention_heads=2,
            intermediate_size=64,
            image_size=32,
            patch_size=8,
            num_frames=4,
        )
    ).save_pretrained(encoder)
    config = json.loads((encoder / "config.json").read_text())
    config["model_type"] = "clip_text_model"
    (tmp_path / "text").mkdir()
    (tmp_path / "text" / "config.json").write_text(json.dumps(config))
    with pytest.raises(BadInputError, match="not a video classifier") as err:
        HFVideoClassifier.from_pretrained(tmp_path / "text")
    assert "\n" not in str(err.value)
    with pytest.raises(BadInputError, match="cannot load a model config"):
        HFVideoClassifier.from_pretrained(tmp_path / "missing")


def test_match_labels_by_normalised_name():
    labels = ["Air Drumming", '"passing American football (in game)"', "abseiling", "robot"]
    data = ["abseiling", "air_drumming", "passing American football (in game)", "yoga"]
    match = match_labels(labels, data)
    assert match.classes == [
        "air_drumming",
        "passing American football (in game)",
        "abseiling",
        "robot",
    ]
    assert match.matched == 3 and match.model_only == ["robot"] and match.data_only == ["yoga"]
    assert match.describe()["model_labels_not_in_data_examples"] == ["robot"]
    assert label_key("Skiing_(not slalom)") == label_key("skiing not slalom")
    # two labels for one class: the first wins, the second keeps a distinct name
    twice = match_labels(["yoga", "Yoga"], ["yoga"])
    assert twice.classes == ["yoga", "Yoga"] and twice.model_only == ["Yoga"]
    clash = match_labels(["yoga", "yoga"], ["yoga"])
    assert clash.classes == ["yoga", "yoga #1"]


def test_xclip_zero_shot_scores_templates_and_errors(tmp_path):
    from actionbias.models.hf_video import XCLIPZeroShot

    model, processor = hf_tiny.tiny_xclip(seed=1)
    folder = tmp_path / "xclip"
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    names = ["air_drumming", "yoga", "bowling"]
    plain = XCLIPZeroShot.from_pretrained(folder)
    clips = _clips(2, frames=4, seed=5)
    scores = plain.class_scores(clips, names)

    def logits(texts):
        with torch.no_grad():
            videos = [list(c) for c in clips]
            inputs = processor(text=texts, videos=videos, return_tensors="pt", padding=True)
            return model(**inputs).logits_per_video.numpy()

    expected = logits(["air drumming", "yoga", "bowling"])
    np.testing.assert_allclose(scores, expected, rtol=1e-5, atol=1e-5)
    # two templates: the mean of their logits; one text batch or several, the same
    templated = XCLIPZeroShot(model, processor, templates=("a video of {}.", "{}"), text_batch=2)
    both = templated.class_scores(clips, names)
    first = logits(["a video of air drumming.", "a video of yoga.", "a video of bowling."])
    np.testing.assert_allclose(both, (first + expected) / 2, rtol=1e-4, atol=1e-4)
    # clips of another length are resampled to the model's frames
    long = _clips(1, frames=12, seed=6)
    np.testing.assert_allclose(
        plain.class_scores(long, names), plain.class_scores([long[0][[1, 4, 7, 10]]], names)
    )
    videomae, _, _ = _saved(tmp_path, "videomae")
    with pytest.raises(BadInputError, match="not X-CLIP"):
        XCLIPZeroShot.from_pretrained(videomae)
