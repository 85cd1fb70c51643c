"""SAM 2 mask refinement of OWLv2 / Grounding DINO boxes: tiny random-weight models, real code."""

from __future__ import annotations

import json
import pickle
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from actionbias.a2o.maps import MapStore, build_backend
from actionbias.a2o.maps.backend import boxes_to_map
from actionbias.a2o.maps.sam2 import Sam2Refiner
from actionbias.data import VideoRecord
from actionbias.errors import BadInputError
from actionbias.video import write_video

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1] / "models"))
import hf_tiny
from test_a2o_maps_detectors import _fake_forward, _frames, tiny_grounding_dino, tiny_owlv2

pytest.importorskip("transformers")


def tiny_sam2(seed: int = 0):
    """A `Sam2Model` with a 64-pixel input: Hiera 4 stages, FPN 32, decoder 32 (~0.1 M weights)."""
    from transformers import Sam2Config, Sam2Model
    from transformers.models.sam2.configuration_sam2 import (
        Sam2HieraDetConfig,
        Sam2MaskDecoderConfig,
        Sam2PromptEncoderConfig,
        Sam2VisionConfig,
    )

    backbone = Sam2HieraDetConfig(
        hidden_size=8,
        num_attention_heads=1,
        image_size=[64, 64],
        blocks_per_stage=[1, 2, 1, 1],
        embed_dim_per_stage=[8, 16, 32, 64],
        num_attention_heads_per_stage=[1, 1, 1, 1],
        window_size_per_stage=[2, 2, 2, 2],
        global_attention_blocks=[2],
        window_positional_embedding_background_size=[2, 2],
    )
    vision = Sam2VisionConfig(
        backbone_config=backbone,
        backbone_channel_list=[64, 32, 16, 8],
        backbone_feature_sizes=[[16, 16], [8, 8], [4, 4]],
        fpn_hidden_size=32,
    )
    config = Sam2Config(
        vision_config=vision,
        prompt_encoder_config=Sam2PromptEncoderConfig(hidden_size=32, image_size=64, patch_size=16),
        mask_decoder_config=Sam2MaskDecoderConfig(
            hidden_size=32, mlp_dim=32, num_attention_heads=2, iou_head_hidden_dim=16
        ),
    )
    return hf_tiny.seeded(seed, lambda: Sam2Model(config))


def _owl_folder(tmp_path: Path) -> Path:
    model, processor = tiny_owlv2()
    model.save_pretrained(tmp_path / "owl")
    processor.save_pretrained(tmp_path / "owl")
    return tmp_path / "owl"


def _sam_folder(tmp_path: Path, preprocessor: dict | None = None) -> Path:
    folder = tmp_path / "sam2"
    tiny_sam2().save_pretrained(folder)
    if preprocessor is not None:
        (folder / "preprocessor_config.json").write_text(json.dumps(preprocessor))
    return folder


def _confident(backend) -> None:
    """The tiny OWLv2's scores are ~0; give it three confident boxes (two balls, a net)."""
    boxes = torch.full((16, 4), 0.05)
    boxes[0] = torch.tensor([0.3, 0.3, 0.4, 0.4])
    boxes[1] = torch.tensor([0.6, 0.5, 0.5, 0.3])
    boxes[2] = torch.tensor([0.5, 0.35, 0.8, 0.6])
    logits = torch.full((16, 2), -20.0)
    logits[0, 0], logits[1, 1], logits[2, 0] = 2.0, 1.0, 0.0
    model, _ = backend.load()
    _fake_forward(model, logits, boxes)


def test_sam2_masks_from_a_folder_through_the_store(tmp_path: Path) -> None:
    owl, sam = _owl_folder(tmp_path), _sam_folder(tmp_path)
    masked = build_backend("owlv2", model=str(owl), threshold=0.3, sam2=str(sam))
    assert masked.mask == "sam2" and masked.label == "OWLv2 + SAM 2"  # a SAM 2 model: masks
    boxes = build_backend("owlv2", model=str(owl), threshold=0.3)
    assert boxes.mask == "box" and boxes.label == "OWLv2"
    _confident(masked)
    _confident(boxes)
    frames = _frames(2, 40, 60)
    out = masked.compute(None, frames, ["ball", "net"])
    ref = boxes.compute(None, frames, ["ball", "net"])
    assert out.shape == ref.shape == (2, 2, 40, 60) and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0 and out.max() > 0
    assert not np.allclose(out, ref)  # masks, not filled boxes
    # Every painted pixel carries one detection's score (mask x score, max over detections).
    assert set(np.unique(out[0, 0])) - {0.0} <= set(np.unique(ref[0, 0]))
    # Set independence survives refinement: a query's map does not depend on the others.
    np.testing.assert_allclose(masked.compute(None, frames, ["ball"])[0], out[0], atol=1e-6)
    # Cached per mask mode: box and mask maps never share a cache folder.
    video = write_video(tmp_path / "v.mp4", _frames(3, 48, 64), fps=8.0)
    record = VideoRecord("v", str(video), None, None)
    store_mask = MapStore(masked, tmp_path / "cache", map_size=16)
    store_box = MapStore(boxes, tmp_path / "cache", map_size=16)
    assert store_mask.config()["options"]["mask"] == "sam2"
    assert store_mask.config()["options"]["sam2"] == str(sam)
    assert store_box.config()["options"]["mask"] == "box"
    assert store_mask.directory != store_box.directory
    assert store_mask.load(record, [0, 2], ["ball"]).shape == (1, 2, 16, 21)
    store_mask.load(record, [1], ["ball"])
    assert store_mask.calls == 1
    # A store sent to a loader worker leaves both models behind.
    clone = pickle.loads(pickle.dumps(store_mask))
    assert clone.backend._model is None and clone.backend.refiner._model is None


def test_grounded_sam2_is_grounding_dino_boxes_refined(tmp_path: Path) -> None:
    model, processor = tiny_grounding_dino(tmp_path / "gd")
    model.save_pretrained(tmp_path / "gd")
    processor.save_pretrained(tmp_path / "gd")
    sam = _sam_folder(tmp_path)
    backend = build_backend("grounding-dino", model=str(tmp_path / "gd"), threshold=0.0,
                            sam2=str(sam))  # fmt: skip
    assert backend.label == "Grounded SAM2" and MapStore(backend).detector == "Grounded SAM2"
    sam_model = backend.refiner.load()
    encode, encoded = sam_model.get_image_embeddings, []

    def counting(pixel_values):
        encoded.append(len(pixel_values))
        return encode(pixel_values)

    sam_model.get_image_embeddings = counting
    out = backend.compute(None, _frames(2), ["ball", "net"])  # one prompt per query
    assert out.shape == (2, 2, 40, 60) and out.min() >= 0.0 and out.max() <= 1.0
    assert out.max() > 0 and sum(encoded) == 2  # each frame encoded once for both queries


def test_map_is_score_times_sam2_mask_with_the_processor_geometry(tmp_path: Path) -> None:
    """Fixed detections and fixed mask logits: the map is exactly score x upsampled mask."""
    owl, owl_processor = tiny_owlv2()
    boxes = torch.full((16, 4), 0.05)
    boxes[0] = torch.tensor([0.25, 0.25, 0.2, 0.2])  # ball (relative to the padded 60x60)
    boxes[1] = torch.tensor([0.5, 0.5, 0.4, 0.1])  # net
    logits = torch.full((16, 2), -20.0)
    logits[0, 0], logits[1, 1] = 2.0, 0.5
    _fake_forward(owl, logits, boxes)
    sam = tiny_sam2()
    seen: dict[str, list] = {"boxes": [], "pixels": []}
    low = torch.full((16, 16), -5.0)
    low[2:6, 3:9] = 5.0  # the mask SAM 2 "predicts" for every box, on its 16x16 grid
    encode = sam.get_image_embeddings

    def embeddings(pixel_values):
        seen["pixels"].append(pixel_values.clone())
        return encode(pixel_values)

    def forward(image_embeddings=None, input_boxes=None, multimask_output=True, **_):
        assert multimask_output is False and len(image_embeddings) == 3
        seen["boxes"].append(input_boxes.clone())
        count = input_boxes.shape[1]
        return SimpleNamespace(pred_masks=low.expand(1, count, 1, 16, 16))

    sam.get_image_embeddings = embeddings
    sam.forward = forward
    backend = build_backend("owlv2", threshold=0.3, mask="sam2")
    backend.set_model(owl, owl_processor)
    backend.refiner.set_model(sam)
    height, width = 40, 60
    frames = _frames(2, height, width)
    out = backend.compute(None, frames, ["ball", "net"])
    # Boxes go to SAM 2 in its 64x64 input's coordinates (x * 64/60, y * 64/40).
    b0 = np.array([0.15, 0.15, 0.35, 0.35]) * 60
    b1 = np.array([0.3, 0.45, 0.7, 0.55]) * 60
    scale = np.array([64 / width, 64 / height, 64 / width, 64 / height])
    np.testing.assert_allclose(seen["boxes"][0][0].numpy(), np.stack([b0, b1]) * scale, atol=1e-4)
    # Pixels: resized to 64x64 (bilinear, antialiased), /255, ImageNet-normalised.
    x = torch.from_numpy(frames).permute(0, 3, 1, 2).float()
    x = torch.nn.functional.interpolate(x, (64, 64), mode="bilinear", antialias=True) / 255
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    torch.testing.assert_close(seen["pixels"][0], (x - mean) / std)
    # The mask: low-res logits resized to the frame, > 0; the map: score x mask.
    up = torch.nn.functional.interpolate(low[None, None], (height, width), mode="bilinear")
    mask = (up[0, 0] > 0).numpy()
    assert 0 < mask.sum() < mask.size / 4
    sig = torch.sigmoid
    ball = boxes_to_map(b0[None], np.array([float(sig(torch.tensor(2.0)))]), height, width,
                        masks=mask[None])  # fmt: skip
    np.testing.assert_allclose(out[0, 1], ball, atol=1e-6)
    np.testing.assert_allclose(out[1, 0], mask * float(sig(torch.tensor(0.5))), atol=1e-6)
    # Pixels outside the mask but inside the box are background: zero, unlike the box map.
    box_map = boxes_to_map(b0[None], np.array([1.0]), height, width)
    background = (box_map > 0) & ~mask
    assert background.any() and (out[0, 0][background] == 0).all()


def test_mask_options_and_preprocessor_settings(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="mask must be one of box, sam2"):
        build_backend("owlv2", mask="polygon")
    with pytest.raises(BadInputError, match="no use with mask=box"):
        build_backend("grounding-dino", mask="box", sam2="facebook/sam2.1-hiera-small")
    default = build_backend("grounding-dino", mask="sam2")  # the paper's small SAM 2.1
    assert default.refiner.model_id == "facebook/sam2.1-hiera-small"
    assert default.label == "Grounded SAM2"
    # A folder's preprocessor_config.json decides the input size and normalisation.
    settings = {"size": {"height": 64, "width": 64}, "image_mean": [0.5] * 3,
                "image_std": [0.5] * 3}  # fmt: skip
    refiner = Sam2Refiner(str(_sam_folder(tmp_path, settings)))
    frames = _frames(1, 40, 60)
    pixels = refiner.pixel_values(frames)
    assert pixels.shape == (1, 3, 64, 64)
    assert float(pixels.min()) >= -1.0 - 1e-6 and float(pixels.max()) <= 1.0 + 1e-6
    masks = refiner.refine(frames, [np.array([[5.0, 5.0, 30.0, 30.0], [0, 0, 60, 40]])])
    assert masks[0].shape == (2, 40, 60) and masks[0].dtype == bool
    assert refiner.refine(frames, [np.zeros((0, 4))])[0].shape == (0, 40, 60)
