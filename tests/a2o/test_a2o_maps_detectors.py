"""OWLv2 and Grounding DINO backends: tiny random-weight models through the real map code."""

from __future__ import annotations

import string
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from actionbias.a2o.maps import MapStore, build_backend
from actionbias.a2o.maps.backend import boxes_to_map
from actionbias.a2o.maps.grounding_dino import build_prompt, token_spans
from actionbias.data import VideoRecord
from actionbias.video import write_video

sys.path.insert(0, str(Path(__file__).parents[1] / "models"))
import hf_tiny

pytest.importorskip("transformers")


def tiny_owlv2(seed: int = 0):
    from transformers import Owlv2Config, Owlv2ForObjectDetection, Owlv2Processor
    from transformers.models.owlv2.image_processing_pil_owlv2 import Owlv2ImageProcessorPil

    tok = hf_tiny.clip_tokenizer()
    text = hf_tiny.text_tower(tok, 77)
    vision = {**hf_tiny.TOWER, "image_size": 64, "patch_size": 16}
    config = Owlv2Config(text_config=text, vision_config=vision, projection_dim=32)
    model = hf_tiny.seeded(seed, lambda: Owlv2ForObjectDetection(config))
    processor = Owlv2Processor(
        image_processor=Owlv2ImageProcessorPil(size={"height": 64, "width": 64}), tokenizer=tok
    )
    return model, processor


def tiny_grounding_dino(workdir: Path, seed: int = 0):
    from transformers import (
        BertConfig,
        BertTokenizer,
        GroundingDinoConfig,
        GroundingDinoForObjectDetection,
        GroundingDinoProcessor,
        SwinConfig,
    )
    from transformers.models.grounding_dino.image_processing_pil_grounding_dino import (
        GroundingDinoImageProcessorPil,
    )

    letters = string.ascii_lowercase
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "."]
    vocab += list(letters) + ["##" + c for c in letters]
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "vocab.txt").write_text("\n".join(vocab) + "\n")
    tokenizer = BertTokenizer(str(workdir / "vocab.txt"))
    swin = SwinConfig(
        image_size=64,
        patch_size=4,
        embed_dim=8,
        depths=[1, 1],
        num_heads=[1, 1],
        window_size=4,
        out_features=["stage1", "stage2"],
    )
    bert = BertConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=64,
    )
    # encoder and decoder alike but for depth (one encoder layer, two decoder layers)
    alike = {"attention_heads": 2, "ffn_dim": 32, "n_points": 2}
    sides = {f"{side}_{key}": n for side in ("encoder", "decoder") for key, n in alike.items()}
    config = GroundingDinoConfig(
        backbone_config=swin,
        num_feature_levels=len(swin.out_features),
        text_config=bert,
        max_text_len=32,
        use_timm_backbone=False,
        d_model=bert.hidden_size,
        encoder_layers=1,
        decoder_layers=2,
        num_queries=10,
        **sides,
    )
    model = hf_tiny.seeded(seed, lambda: GroundingDinoForObjectDetection(config))
    image_processor = GroundingDinoImageProcessorPil(size={"shortest_edge": 64, "longest_edge": 96})
    return model, GroundingDinoProcessor(image_processor=image_processor, tokenizer=tokenizer)


def _frames(num: int = 3, height: int = 40, width: int = 60) -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, size=(num, height, width, 3), dtype=np.uint8)


def _fake_forward(model, logits: torch.Tensor, boxes: torch.Tensor):
    """Replace forward with fixed outputs (one row per image of the batch)."""

    def forward(**inputs):
        batch = inputs["pixel_values"].shape[0]
        return SimpleNamespace(
            logits=logits[None].expand(batch, *logits.shape),
            pred_boxes=boxes[None].expand(batch, *boxes.shape),
        )

    model.forward = forward
    model.__call__ = forward


# ------------------------------------------------------------------- OWLv2


def test_owlv2_tiny_model_end_to_end_from_a_folder(tmp_path: Path) -> None:
    model, processor = tiny_owlv2()
    model.save_pretrained(tmp_path / "owl")
    processor.save_pretrained(tmp_path / "owl")
    backend = build_backend("owlv2", model=str(tmp_path / "owl"), threshold=0.0, batch_size=2)
    out = backend.compute(None, _frames(), ["ball", "person"])
    assert out.shape == (2, 3, 40, 60) and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0
    # Per-query scores: a query's map does not depend on the other queries asked.
    alone = backend.compute(None, _frames(), ["ball"])
    np.testing.assert_allclose(alone[0], out[0], atol=1e-6)
    # Through the store with a real video file: one detector pass, then cached.
    video = write_video(tmp_path / "v.mp4", _frames(4, 48, 64), fps=8.0)
    store = MapStore(backend, tmp_path / "cache", map_size=16)
    maps = store.load(VideoRecord("v", str(video), None, None), [0, 3], ["ball", "net"])
    assert maps.shape == (2, 2, 16, 21) and store.calls == 1
    store.load(VideoRecord("v", str(video), None, None), [1], ["net"])
    assert store.calls == 1


def test_owlv2_map_is_score_times_box_and_matches_the_processor(monkeypatch) -> None:
    model, processor = tiny_owlv2()
    # 16 predicted boxes (cx, cy, w, h relative to the padded square); queries: ball, net.
    boxes = torch.full((16, 4), 0.05)
    boxes[0] = torch.tensor([0.25, 0.25, 0.2, 0.2])  # ball, strong
    boxes[1] = torch.tensor([0.5, 0.5, 0.4, 0.1])  # net
    boxes[2] = torch.tensor([0.3, 0.3, 0.2, 0.2])  # ball, weaker, overlapping box 0
    logits = torch.full((16, 2), -20.0)
    logits[0, 0], logits[1, 1], logits[2, 0] = 2.0, 0.5, 0.0
    logits[1, 0] = -1.0  # the net box is a weak "ball" too, below the threshold
    _fake_forward(model, logits, boxes)
    backend = build_backend("owlv2", threshold=0.3)
    backend.set_model(model, processor)
    height, width = 40, 60  # padded to 60 x 60 at the bottom
    out = backend.compute(None, _frames(2, height, width), ["ball", "net"])
    sig = torch.sigmoid
    side = 60
    b0 = np.array([0.15, 0.15, 0.35, 0.35]) * side
    b2 = np.array([0.2, 0.2, 0.4, 0.4]) * side
    b1 = np.array([0.3, 0.45, 0.7, 0.55]) * side
    ball = boxes_to_map(np.stack([b0, b2]), np.array([sig(torch.tensor(2.0)), 0.5]), height, width)
    net = boxes_to_map(b1[None], np.array([sig(torch.tensor(0.5))]), height, width)
    for t in range(2):
        np.testing.assert_allclose(out[0, t], ball, atol=1e-6)
        np.testing.assert_allclose(out[1, t], net, atol=1e-6)
    # boxes_to_map itself: the hand-set box is an exact indicator times the score.
    expected = np.zeros((height, width), np.float32)
    expected[9:21, 9:21] = float(sig(torch.tensor(2.0)))
    expected[12:24, 12:24] = np.maximum(expected[12:24, 12:24], 0.5)
    np.testing.assert_allclose(ball, expected, atol=1e-6)
    # Same boxes as the processor's own post-processing (argmax label per box).
    outputs = SimpleNamespace(logits=logits[None], pred_boxes=boxes[None])
    ref = processor.post_process_grounded_object_detection(
        outputs, threshold=0.3, target_sizes=[(height, width)]
    )[0]
    np.testing.assert_allclose(ref["boxes"][0].numpy(), b0, atol=1e-4)
    np.testing.assert_allclose(ref["boxes"][1].numpy(), b1, atol=1e-4)


# ---------------------------------------------------------- Grounding DINO


def test_grounding_dino_token_spans(tmp_path: Path) -> None:
    _, processor = tiny_grounding_dino(tmp_path / "gd")
    queries = ["Ball", "tennis net", "a.b"]
    assert build_prompt(queries) == "ball. tennis net. a b."
    ids, spans = token_spans(processor.tokenizer, queries)
    tok = processor.tokenizer
    for query, (a, b) in zip(["ball", "tennis net", "a b"], spans, strict=True):
        assert ids[a:b] == tok(query, add_special_tokens=False)["input_ids"]
    assert ids == processor(images=[_frames(1)[0]], text=[build_prompt(queries)])["input_ids"][0]


def test_grounding_dino_tiny_end_to_end_from_a_folder(tmp_path: Path) -> None:
    model, processor = tiny_grounding_dino(tmp_path / "gd")
    model.save_pretrained(tmp_path / "gd")
    processor.save_pretrained(tmp_path / "gd")
    backend = build_backend("grounding-dino", model=str(tmp_path / "gd"), threshold=0.0, joint=True)
    out = backend.compute(None, _frames(3), ["ball", "net"])
    assert out.shape == (2, 3, 40, 60) and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0 and out.max() > 0
    single = build_backend("grounding-dino", model=str(tmp_path / "gd"))  # one prompt per query
    assert single.compute(None, _frames(1), ["ball", "net"]).shape == (2, 1, 40, 60)


def test_grounding_dino_scores_come_from_each_query_span(tmp_path: Path) -> None:
    model, processor = tiny_grounding_dino(tmp_path / "gd")
    queries = ["ball", "net"]
    _ids, spans = token_spans(processor.tokenizer, queries)
    logits = torch.full((10, 32), -30.0)
    boxes = torch.full((10, 4), 0.1)
    boxes[0] = torch.tensor([0.5, 0.5, 0.5, 0.5])
    boxes[1] = torch.tensor([0.2, 0.8, 0.2, 0.2])
    (a0, b0), (a1, _b1) = spans
    logits[0, a0:b0] = torch.linspace(-1.0, 1.5, b0 - a0)  # ball: max 1.5 on its last token
    logits[1, a1] = 0.8  # net: one token
    logits[1, a0] = -2.0  # below threshold for ball
    _fake_forward(model, logits, boxes)
    backend = build_backend("grounding-dino", threshold=0.2, joint=True)  # spans of one prompt
    backend.set_model(model, processor)
    height, width = 40, 60
    out = backend.compute(None, _frames(2, height, width), queries)
    scale = np.array([width, height, width, height])
    ball = boxes_to_map(
        (np.array([0.25, 0.25, 0.75, 0.75]) * scale)[None],
        np.array([torch.sigmoid(torch.tensor(1.5)).item()]),
        height,
        width,
    )
    net = boxes_to_map(
        (np.array([0.1, 0.7, 0.3, 0.9]) * scale)[None],
        np.array([torch.sigmoid(torch.tensor(0.8)).item()]),
        height,
        width,
    )
    np.testing.assert_allclose(out[0, 1], ball, atol=1e-6)
    np.testing.assert_allclose(out[1, 0], net, atol=1e-6)
    assert ball[20, 30] == pytest.approx(float(torch.sigmoid(torch.tensor(1.5))), abs=1e-6)
