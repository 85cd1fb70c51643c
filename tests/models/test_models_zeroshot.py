"""CLIP / SigLIP / SigLIP 2 zero-shot video classification on tiny random-weight models.

The checks recompute every figure independently from the transformers model
(per-prompt text features, the model's own forward logits) rather than trusting
the classifier's code path.
"""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

pytest.importorskip("transformers")

sys.path.insert(0, str(Path(__file__).parent))

import hf_tiny

from actionbias.models.zeroshot import (
    CLIP_KINETICS700_TEMPLATES,
    SIGLIP_TEMPLATES,
    ZeroShotVideoClassifier,
    frame_indices,
)

CLASSES = ["playing_guitar", "jumping jacks", "Waving_Hands", "walking the dog"]


def make_clips(count: int, frames: int = 5, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (frames, 40, 48, 3), dtype=np.uint8) for _ in range(count)]


def normalize(x: torch.Tensor) -> torch.Tensor:
    return x / x.norm(dim=-1, keepdim=True)


def features(output) -> torch.Tensor:
    return output if isinstance(output, torch.Tensor) else output.pooler_output


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def clip_parts():
    return hf_tiny.tiny_clip(seed=0)


@pytest.fixture(scope="module")
def siglip_parts(tmp_path_factory):
    pytest.importorskip("sentencepiece")
    return hf_tiny.tiny_siglip(tmp_path_factory.mktemp("siglip_tok"), seed=1)


@pytest.fixture(scope="module")
def siglip2_parts():
    return hf_tiny.tiny_siglip2(seed=2)


@pytest.fixture(scope="module")
def clip_clf(clip_parts):
    model, processor = clip_parts
    return ZeroShotVideoClassifier(model, processor)


# ------------------------------------------------------------------ templates
def test_default_templates_follow_the_authors(clip_clf, siglip_parts, siglip2_parts):
    assert clip_clf.templates == CLIP_KINETICS700_TEMPLATES
    assert len(CLIP_KINETICS700_TEMPLATES) == 28
    assert all(t.count("{}") == 1 for t in CLIP_KINETICS700_TEMPLATES)
    assert len(set(CLIP_KINETICS700_TEMPLATES)) == 28
    assert clip_clf.score_kind == "softmax"
    for parts in (siglip_parts, siglip2_parts):
        clf = ZeroShotVideoClassifier(*parts)
        assert clf.templates == SIGLIP_TEMPLATES == ("This is a photo of {}.",)
        assert clf.score_kind == "sigmoid"


def test_prompts_turn_underscores_into_spaces(clip_clf):
    prompts = clip_clf.prompts("playing_guitar")
    assert prompts[0] == "a photo of playing guitar."
    assert prompts[-1] == "a demonstration of a person practicing playing guitar."
    assert len(prompts) == 28


def test_template_ensemble_matches_hand_computation(clip_parts, clip_clf):
    model, processor = clip_parts
    got = clip_clf.encode_classes(CLASSES)
    assert got.shape == (len(CLASSES), model.config.projection_dim)
    with torch.no_grad():
        for row, name in enumerate(CLASSES):
            words = name.replace("_", " ")
            per_template = []
            for template in CLIP_KINETICS700_TEMPLATES:
                tokens = processor.tokenizer([template.format(words)], return_tensors="pt")
                per_template.append(normalize(features(model.get_text_features(**tokens))[0]))
            expected = normalize(torch.stack(per_template).mean(dim=0))
            torch.testing.assert_close(got[row], expected, atol=1e-5, rtol=1e-5)
    # the ensemble is not just the first template
    single = ZeroShotVideoClassifier(model, processor, templates=CLIP_KINETICS700_TEMPLATES[:1])
    assert not torch.allclose(single.encode_classes(CLASSES), got, atol=1e-4)


def test_clip_scores_equal_the_models_own_logits(clip_parts):
    model, processor = clip_parts
    template = "a video of {}."
    clf = ZeroShotVideoClassifier(model, processor, templates=[template])
    clips = make_clips(3)
    scores = clf.class_scores(clips, CLASSES)
    texts = [template.format(c.replace("_", " ")) for c in CLASSES]
    centre = [clip[clip.shape[0] // 2] for clip in clips]
    inputs = processor(text=texts, images=centre, padding=True, return_tensors="pt")
    with torch.no_grad():
        expected = model(**inputs).logits_per_image.numpy()
    assert scores.shape == (3, len(CLASSES))
    assert scores.dtype == np.float32
    np.testing.assert_allclose(scores, expected, atol=1e-4, rtol=1e-4)
    probs = clf.probabilities(scores)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-9)
    np.testing.assert_allclose(
        probs, torch.softmax(torch.from_numpy(expected), 1).numpy(), atol=1e-5
    )


def test_scores_follow_class_and_clip_order(clip_clf):
    clips = make_clips(3, seed=3)
    scores = clip_clf.class_scores(clips, CLASSES)
    order = [2, 0, 3, 1]
    permuted = clip_clf.class_scores(clips, [CLASSES[i] for i in order])
    np.testing.assert_allclose(permuted, scores[:, order], atol=1e-5)
    reversed_clips = clip_clf.class_scores(clips[::-1], CLASSES)
    np.testing.assert_allclose(reversed_clips, scores[::-1], atol=1e-5)


# -------------------------------------------------------------------- pooling
def test_frame_indices():
    assert frame_indices(5, "center", None) == [2]
    assert frame_indices(8, "center", 4) == [4]
    assert frame_indices(1, "center", None) == [0]
    assert frame_indices(6, "mean", None) == [0, 1, 2, 3, 4, 5]
    assert frame_indices(8, "mean", 4) == [1, 3, 5, 7]
    assert frame_indices(10, "mean", 3) == [1, 5, 8]
    assert frame_indices(3, "mean", 8) == [0, 1, 2]


def test_center_pooling_uses_the_middle_frame(clip_clf):
    clip = make_clips(1, frames=7, seed=4)[0]
    whole = clip_clf.class_scores([clip], CLASSES)
    middle = clip_clf.class_scores([clip[3:4]], CLASSES)
    first = clip_clf.class_scores([clip[0:1]], CLASSES)
    np.testing.assert_allclose(whole, middle, atol=1e-5)
    assert not np.allclose(whole, first, atol=1e-4)


def test_mean_pooling_is_the_renormalised_mean_of_normalised_frames(clip_parts, clip_clf):
    model, processor = clip_parts
    clip = make_clips(1, frames=8, seed=5)[0]
    mean_all = ZeroShotVideoClassifier(model, processor, frame_pooling="mean")
    mean_four = ZeroShotVideoClassifier(model, processor, frame_pooling="mean", pool_frames=4)
    with torch.no_grad():
        pixels = processor.image_processor(images=list(clip), return_tensors="pt")["pixel_values"]
        per_frame = normalize(features(model.get_image_features(pixel_values=pixels)))
    expected_all = normalize(per_frame.mean(dim=0))
    expected_four = normalize(per_frame[[1, 3, 5, 7]].mean(dim=0))
    torch.testing.assert_close(mean_all.encode_clips([clip])[0], expected_all, atol=1e-5, rtol=0)
    torch.testing.assert_close(mean_four.encode_clips([clip])[0], expected_four, atol=1e-5, rtol=0)
    torch.testing.assert_close(clip_clf.encode_clips([clip])[0], per_frame[4], atol=1e-5, rtol=0)
    # scores of mean pooling = scale * cosine with the pooled embedding
    scale = model.logit_scale.exp().item()
    text = mean_all.encode_classes(CLASSES)
    np.testing.assert_allclose(
        mean_all.class_scores([clip], CLASSES)[0],
        (scale * text @ expected_all).numpy(),
        atol=1e-4,
    )


def test_batch_size_does_not_change_scores(clip_parts):
    model, processor = clip_parts
    clips = make_clips(4, frames=3, seed=6)
    big = ZeroShotVideoClassifier(model, processor, frame_pooling="mean", batch_size=64)
    small = ZeroShotVideoClassifier(model, processor, frame_pooling="mean", batch_size=1)
    np.testing.assert_allclose(
        big.class_scores(clips, CLASSES), small.class_scores(clips, CLASSES), atol=1e-4
    )


# --------------------------------------------------------------------- SigLIP
def siglip_run(parts, seed: int) -> SimpleNamespace:
    """A SigLIP-family classifier's scores on two clips, checked against the model's own
    logits on what it should be given: prompts padded to 64 tokens, middle frames."""
    model, processor = parts
    clf = ZeroShotVideoClassifier(model, processor)
    clips = make_clips(2, seed=seed)
    scores = clf.class_scores(clips, CLASSES)
    texts = [f"This is a photo of {c.replace('_', ' ')}." for c in CLASSES]
    tokens = processor.tokenizer(texts, padding="max_length", max_length=64, return_tensors="pt")
    middle = [c[c.shape[0] // 2] for c in clips]
    images = processor.image_processor(images=middle, return_tensors="pt")
    with torch.no_grad():
        logits = model(input_ids=tokens["input_ids"], **images).logits_per_image
    np.testing.assert_allclose(scores, logits.numpy(), atol=1e-4, rtol=1e-4)
    return SimpleNamespace(clf=clf, scores=scores, logits=logits, tokens=tokens, images=images)


def test_siglip_sigmoid_path_matches_the_model(siglip_parts):
    run = siglip_run(siglip_parts, seed=7)
    assert run.tokens["input_ids"].shape == (len(CLASSES), 64)
    model = siglip_parts[0]
    scale, bias = run.clf.logit_parameters()
    assert bias == pytest.approx(model.logit_bias.item())
    assert scale == pytest.approx(model.logit_scale.exp().item())
    probs = run.clf.probabilities(run.scores)
    np.testing.assert_allclose(probs, torch.sigmoid(run.logits.double()).numpy(), atol=1e-5)
    assert not np.allclose(probs.sum(axis=1), 1.0)  # independent per class, not a softmax


def test_siglip_padding_to_64_changes_the_embedding(siglip_parts):
    model, processor = siglip_parts
    clf = ZeroShotVideoClassifier(model, processor)
    text = "This is a photo of playing guitar."
    short = processor.tokenizer([text], return_tensors="pt")
    with torch.no_grad():
        unpadded = normalize(features(model.get_text_features(input_ids=short["input_ids"])))[0]
    padded = clf.encode_texts([text])[0]
    # the text tower pools the last position: without max_length padding it is another vector
    assert not torch.allclose(padded, unpadded, atol=1e-3)


def test_siglip2_naflex_inputs_reach_the_model(siglip2_parts):
    # the image processor's own settings (4x4 patches): Siglip2Processor's call-time
    # defaults would force the released models' 16x16 / 256 patches
    run = siglip_run(siglip2_parts, seed=8)
    assert "spatial_shapes" in run.images and "pixel_attention_mask" in run.images
    assert run.clf.family == "siglip"


# ------------------------------------------------------- determinism, caching
def test_deterministic_and_cached(clip_parts):
    model, processor = clip_parts
    clips = make_clips(2, seed=9)
    a = ZeroShotVideoClassifier(model, processor)
    calls = []
    original = a.encode_texts

    def counting(texts):
        calls.append(len(texts))
        return original(texts)

    a.encode_texts = counting  # type: ignore[method-assign]
    first = a.class_scores(clips, CLASSES)
    second = a.class_scores(clips, CLASSES)
    np.testing.assert_array_equal(first, second)
    assert calls == [len(CLASSES) * 28]  # text encoded once for this class list
    a.class_scores(clips, CLASSES[:2])
    assert calls == [len(CLASSES) * 28, 2 * 28]
    assert a.encode_classes(CLASSES) is a.encode_classes(list(CLASSES))
    rebuilt_model, rebuilt_processor = hf_tiny.tiny_clip(seed=0)
    b = ZeroShotVideoClassifier(rebuilt_model, rebuilt_processor)
    np.testing.assert_array_equal(b.class_scores(clips, CLASSES), first)


# ----------------------------------------------------------- device and dtype
def test_bfloat16_option(clip_parts):
    model, processor = hf_tiny.tiny_clip(seed=0)
    reference = ZeroShotVideoClassifier(*clip_parts, templates=["a video of {}."])
    half = ZeroShotVideoClassifier(
        model, processor, templates=["a video of {}."], dtype="bfloat16", device="cpu"
    )
    assert next(half.model.parameters()).dtype == torch.bfloat16
    clips = make_clips(2, seed=10)
    got = half.class_scores(clips, CLASSES)
    assert got.dtype == np.float32 and np.isfinite(got).all()
    np.testing.assert_allclose(got, reference.class_scores(clips, CLASSES), atol=0.15)
    with pytest.raises(ValueError, match="dtype"):
        ZeroShotVideoClassifier(model, processor, dtype="int8")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_matches_cpu(clip_parts):
    model, processor = hf_tiny.tiny_clip(seed=0)
    cpu = ZeroShotVideoClassifier(*clip_parts)
    gpu = ZeroShotVideoClassifier(model, processor, device="cuda")
    clips = make_clips(2, seed=11)
    np.testing.assert_allclose(
        gpu.class_scores(clips, CLASSES), cpu.class_scores(clips, CLASSES), atol=1e-3
    )


# ------------------------------------------------------------- from_pretrained
def test_from_pretrained_folder_round_trip(tmp_path, clip_parts, clip_clf):
    model, processor = clip_parts
    model.save_pretrained(tmp_path)
    processor.save_pretrained(tmp_path)
    loaded = ZeroShotVideoClassifier.from_pretrained(tmp_path, frame_pooling="center")
    assert loaded.family == "clip" and loaded.name == str(tmp_path)
    clips = make_clips(2, seed=12)
    np.testing.assert_allclose(
        loaded.class_scores(clips, CLASSES), clip_clf.class_scores(clips, CLASSES), atol=1e-4
    )


def test_from_pretrained_rejects_other_models(refuses_other_folders):
    refuses_other_folders(ZeroShotVideoClassifier.from_pretrained, "not CLIP")


# ---------------------------------------------------------------- bad inputs
def test_bad_inputs_are_refused(clip_clf, clip_parts):
    good = make_clips(1)[0]
    with pytest.raises(ValueError, match="uint8"):
        clip_clf.class_scores([good.astype(np.float32)], CLASSES)
    with pytest.raises(ValueError, match=r"\(T, H, W, 3\)"):
        clip_clf.class_scores([good[0]], CLASSES)
    with pytest.raises(ValueError, match="clip 1"):
        clip_clf.class_scores([good, good[..., :2]], CLASSES)
    with pytest.raises(ValueError, match="empty"):
        clip_clf.class_scores([good], [])
    with pytest.raises(ValueError, match="empty"):
        clip_clf.class_scores([], CLASSES)
    with pytest.raises(ValueError, match="exactly one"):
        ZeroShotVideoClassifier(*clip_parts, templates=["no slot"])
    with pytest.raises(ValueError, match="frame_pooling"):
        ZeroShotVideoClassifier(*clip_parts, frame_pooling="max")  # type: ignore[arg-type]
