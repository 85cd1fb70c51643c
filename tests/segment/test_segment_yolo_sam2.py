"""The yolo-sam2 backend with tiny randomly initialised YOLOS and SAM2 video models.

Random weights say nothing about mask quality; these tests check the wiring: label
lookup, box selection, prompt geometry, propagation over every frame (forward and
backward), output shapes and ranges, the no-person path and the lazy import.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from actionbias.errors import BadInputError
from actionbias.segment import build_segmenter, segmenter_names
from actionbias.segment.yolo_sam2 import (
    PersonBox,
    best_person_box,
    box_prompt,
    logits_to_masks,
    person_label_ids,
    transformers_available,
)

transformers = pytest.importorskip(
    "transformers", reason="the yolo-sam2 backend needs transformers"
)
torch = pytest.importorskip("torch")
if not hasattr(transformers, "Sam2VideoModel"):
    pytest.skip("transformers without Sam2VideoModel", allow_module_level=True)

SAM_SIZE = 64  # tiny SAM2 input resolution


def _save_tiny_yolos(path: Path) -> None:
    from transformers import YolosConfig, YolosForObjectDetection
    from transformers.models.yolos.image_processing_pil_yolos import YolosImageProcessorPil

    torch.manual_seed(0)
    config = YolosConfig(
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=37,
        image_size=[64, 64],
        patch_size=16,
        num_detection_tokens=5,
        id2label={0: "car", 1: "Person"},
        label2id={"car": 0, "Person": 1},
    )
    YolosForObjectDetection(config).save_pretrained(path)
    YolosImageProcessorPil(size={"shortest_edge": 64, "longest_edge": 64}).save_pretrained(path)


def _save_tiny_sam2(path: Path) -> None:
    # Constraints found in transformers 5.23: the memory attention's cross attention
    # expects 64-channel memories, and object pointers are split into memory-sized
    # tokens only when the hidden size is a larger multiple of 64; the Hiera blocks
    # that start a stage must use windowed (not global) attention.
    from transformers import Sam2VideoConfig, Sam2VideoModel

    torch.manual_seed(0)
    s = SAM_SIZE
    config = Sam2VideoConfig(
        vision_config={
            "model_type": "sam2_vision_model",
            "backbone_config": {
                "model_type": "sam2_hiera_det_model",
                "hidden_size": 8,
                "image_size": [s, s],
                "blocks_per_stage": [1, 1, 2, 1],
                "embed_dim_per_stage": [8, 16, 32, 64],
                "num_attention_heads_per_stage": [1, 1, 1, 1],
                "window_size_per_stage": [4, 4, 4, 4],
                "global_attention_blocks": [3],
                "window_positional_embedding_background_size": [2, 2],
            },
            "backbone_channel_list": [64, 32, 16, 8],
            "backbone_feature_sizes": [[s // 4, s // 4], [s // 8, s // 8], [s // 16, s // 16]],
            "fpn_hidden_size": 128,
        },
        prompt_encoder_config={
            "hidden_size": 128,
            "image_size": s,
            "patch_size": 16,
            "mask_input_channels": 4,
        },
        mask_decoder_config={
            "hidden_size": 128,
            "mlp_dim": 32,
            "num_attention_heads": 2,
            "iou_head_hidden_dim": 16,
        },
        image_size=s,
        num_maskmem=3,
        memory_attention_hidden_size=128,
        memory_attention_num_layers=1,
        memory_attention_feed_forward_hidden_size=32,
        memory_attention_rope_feat_sizes=[s // 16, s // 16],
        memory_encoder_hidden_size=128,
        memory_encoder_output_channels=64,
        mask_downsampler_embed_dim=128,
        memory_fuser_embed_dim=128,
        memory_fuser_intermediate_dim=32,
        max_object_pointers_in_encoder=4,
    )
    model = Sam2VideoModel(config)
    with torch.no_grad():
        # Random weights put the object-presence logit near 0, where SAM2 blanks the
        # mask half the time; bias it so the person is "present" and masks are soft.
        model.mask_decoder.pred_obj_score_head.proj_out.bias.fill_(10.0)
    model.save_pretrained(path)


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    root = tmp_path_factory.mktemp("yolo_sam2")
    _save_tiny_yolos(root / "yolos")
    _save_tiny_sam2(root / "sam2")
    return str(root / "yolos"), str(root / "sam2")


@pytest.fixture(scope="module")
def clip() -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, size=(4, 48, 64, 3), dtype=np.uint8)


def test_person_label_lookup_ignores_case_and_names_the_labels_when_missing() -> None:
    assert person_label_ids({0: "car", 1: " Person", 7: "person"}) == [1, 7]
    assert person_label_ids({"3": "pedestrian"}, "Pedestrian") == [3]
    with pytest.raises(BadInputError, match=r"det-dir.*no 'person' class.*car, dog"):
        person_label_ids({0: "car", 1: "dog"}, source="det-dir")


def test_best_box_is_the_top_scoring_person_of_the_first_frame_with_one() -> None:
    person = [1]
    detections = [
        {"scores": np.array([0.99]), "labels": np.array([0]), "boxes": np.array([[0, 0, 5, 5]])},
        {
            "scores": torch.tensor([0.6, 0.9, 0.99, 0.3]),
            "labels": torch.tensor([1, 1, 0, 1]),
            "boxes": torch.tensor([[1, 1, 2, 2], [3, 4, 30, 40], [0, 0, 9, 9], [5, 5, 6, 6]]),
        },
        {"scores": np.array([0.95]), "labels": np.array([1]), "boxes": np.array([[7, 7, 8, 8]])},
    ]
    best = best_person_box(detections, person, first_frame=10)
    assert best == PersonBox(11, pytest.approx(0.9), (3.0, 4.0, 30.0, 40.0))
    # Above the threshold only frame 2's person remains.
    assert best_person_box(detections, person, score_threshold=0.92).frame == 2
    assert best_person_box(detections, person, score_threshold=0.999) is None
    assert best_person_box(detections, [5]) is None
    empty = {"scores": np.zeros(0), "labels": np.zeros(0), "boxes": np.zeros((0, 4))}
    assert best_person_box([empty, empty], person) is None


def test_prompt_and_mask_geometry_follow_the_frame_size() -> None:
    # A 200x100 (W x H) frame into a 64-pixel SAM2 input; the box overshoots the right edge.
    corners = box_prompt((50, 10, 250, 90), height=100, width=200, image_size=64)
    np.testing.assert_allclose(corners, [[16.0, 6.4], [64.0, 57.6]])
    # Positive logits in the left half of the low-resolution grid -> left half of the frame.
    logits = torch.full((1, 1, 16, 16), -20.0)
    logits[..., :8] = 20.0
    masks = logits_to_masks(logits, height=30, width=40, image_size=64)
    assert masks.shape == (1, 30, 40) and masks.dtype == np.float32
    assert masks[0, :, :18].min() > 0.99 and masks[0, :, 22:].max() < 0.01


def _segmenter(tiny_models: tuple[str, str], **options: Any) -> Any:
    """The yolo-sam2 backend on the tiny random-weight models."""
    detector, sam2 = tiny_models
    return build_segmenter("yolo-sam2", detector=detector, sam2=sam2, **options)


def test_tiny_detector_finds_a_box_inside_the_frame(
    tiny_models: tuple[str, str], clip: np.ndarray
) -> None:
    segmenter = _segmenter(tiny_models, score_threshold=0.0)
    found = segmenter.detect_first_person(clip)
    assert found is not None and found.frame == 0
    x0, y0, x1, y1 = found.box
    assert -1 <= x0 <= x1 <= 65 and -1 <= y0 <= y1 <= 49
    assert 0.0 <= found.score <= 1.0


def test_segment_tracks_every_frame_and_returns_soft_masks(
    tiny_models: tuple[str, str], clip: np.ndarray
) -> None:
    with _segmenter(tiny_models, score_threshold=0.0) as seg:
        masks = seg.segment(clip)
        assert seg.last_detection is not None and seg.last_detection.frame == 0
        assert seg.last_tracked_frames == len(clip)
    assert masks.shape == (4, 48, 64) and masks.dtype == np.float32
    assert masks.min() >= 0.0 and masks.max() <= 1.0
    # The presence head says "person" on every frame, so no frame is blanked.
    assert (masks.reshape(4, -1).max(axis=1) > 0.0).all()


def test_a_person_found_late_is_propagated_back_to_the_first_frame(
    tiny_models: tuple[str, str], clip: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    seg = _segmenter(tiny_models)
    prompt = PersonBox(2, 0.8, (10.0, 5.0, 40.0, 45.0))
    monkeypatch.setattr(seg, "detect_first_person", lambda frames: prompt)
    masks = seg.segment(clip)
    assert seg.last_detection == prompt
    assert seg.last_tracked_frames == 4  # frames 2, 3 forward and 1, 0 backward
    assert (masks.reshape(4, -1).max(axis=1) > 0.0).all()
    with pytest.raises(ValueError, match="prompt frame 7"):
        seg.track(clip, PersonBox(7, 0.8, (0.0, 0.0, 1.0, 1.0)))


def test_no_person_detected_gives_all_zero_masks(
    tiny_models: tuple[str, str], clip: np.ndarray
) -> None:
    # Random YOLOS scores sit near 1/3: nothing clears a 0.99 threshold.
    seg = _segmenter(tiny_models, score_threshold=0.99)
    masks = seg.segment(clip)
    assert seg.last_detection is None and seg.last_tracked_frames == 0
    assert masks.shape == (4, 48, 64) and masks.dtype == np.float32 and not masks.any()


def test_options_and_configuration_errors(tiny_models: tuple[str, str], tmp_path: Path) -> None:
    detector, sam2 = tiny_models
    assert "yolo-sam2" in segmenter_names()
    a = build_segmenter("yolo-sam2", detector=detector, sam2=sam2)
    b = build_segmenter("yolo-sam2", detector=detector, sam2=sam2, score_threshold=0.3)
    assert a.options()["detector"] == detector and a.options()["sam2"] == sam2
    assert a.options()["transformers"] == transformers.__version__
    assert a.options() != b.options()
    with pytest.raises(BadInputError, match="detector="):
        build_segmenter("yolo-sam2", sam2=sam2)
    with pytest.raises(BadInputError, match="no 'pedestrian' class"):
        build_segmenter("yolo-sam2", detector=detector, sam2=sam2, person_label="pedestrian")
    with pytest.raises(BadInputError, match="cannot load the SAM2 video model"):
        build_segmenter("yolo-sam2", detector=detector, sam2=str(tmp_path / "missing"))
    with pytest.raises(BadInputError, match="dtype"):
        build_segmenter("yolo-sam2", detector=detector, sam2=sam2, dtype="float64")


def test_importing_the_segment_package_does_not_import_transformers() -> None:
    code = (
        "import sys\n"
        "import actionbias.segment as s\n"
        "assert 'yolo-sam2' in s.segmenter_names()\n"
        "print('transformers' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False"], out.stdout + out.stderr


def test_missing_transformers_is_explained(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "transformers", None)  # makes `import transformers` fail
    with pytest.raises(ImportError, match="pip install transformers"):
        build_segmenter("yolo-sam2", detector="d", sam2="s")
    assert not transformers_available()
