"""InternVLChat on a tiny random-weight InternVLForConditionalGeneration.

The prompt layout is checked against transformers' own InternVL video expansion
(``InternVLProcessor.replace_video_token``), the log-probabilities against a
hand-run forward pass, and greedy generation against the log-prob argmax.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

pytest.importorskip("transformers")

sys.path.insert(0, str(Path(__file__).parent))

import hf_tiny

from actionbias.models.internvl import (
    InternVLChat,
    frames_prefix,
    sample_frame_indices,
)

LETTERS = list("ABCDE")
QUESTION = (
    "What action is the person performing?\nA. waving\nB. jumping\nC. walking\n"
    "D. sitting\nE. clapping\nAnswer with the option's letter from the given choices directly."
)


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def tiny():
    return hf_tiny.tiny_internvl(seed=0)


@pytest.fixture(scope="module")
def chat(tiny):
    return InternVLChat(tiny.model, tiny.tokenizer, tiny.image_processor, num_frames=4)


def make_frames(count: int = 10, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (count, 40, 48, 3), dtype=np.uint8)


# ---------------------------------------------------------------- prompt layout
def test_frame_sampling():
    assert sample_frame_indices(10, 4) == [1, 3, 6, 8]
    assert sample_frame_indices(8, 8) == list(range(8))
    assert sample_frame_indices(3, 8) == [0, 1, 2]
    assert sample_frame_indices(32, 1) == [16]
    assert frames_prefix(2, "<image>") == "Frame1: <image>\nFrame2: <image>\n"


def test_prompt_layout_matches_transformers_video_expansion(chat, tiny):
    from transformers import InternVLProcessor

    tokenizer = tiny.tokenizer
    frames = make_frames(10)
    inputs = chat.build_inputs(frames, QUESTION)
    text = tokenizer.decode(inputs["input_ids"][0])
    # transformers' own expansion of one <video> into per-frame image blocks
    fake_processor = SimpleNamespace(
        start_image_token="<img>",
        end_image_token="</img>",
        image_token="<IMG_CONTEXT>",
        image_seq_length=chat.image_seq_length,
    )
    video_block = InternVLProcessor.replace_video_token(
        fake_processor, {"pixel_values_videos": [torch.zeros(4, 3, 28, 28)]}, 0
    )
    expected = (
        "<|im_start|>user\n" + video_block + "\n" + QUESTION + "<|im_end|>\n<|im_start|>assistant\n"
    )
    assert text == expected
    ids = inputs["input_ids"][0].tolist()
    assert ids.count(tiny.model.config.image_token_id) == 4 * chat.image_seq_length
    assert ids.count(tokenizer.convert_tokens_to_ids("<img>")) == 4
    assert inputs["attention_mask"].shape == inputs["input_ids"].shape
    assert bool(inputs["attention_mask"].all())


def test_pixel_values_are_one_tile_per_sampled_frame(chat, tiny):
    frames = make_frames(10, seed=1)
    pixels = chat.build_inputs(frames, "Describe.")["pixel_values"]
    assert pixels.shape == (4, 3, 28, 28)
    expected = tiny.image_processor(
        images=[frames[i] for i in (1, 3, 6, 8)], crop_to_patches=False, return_tensors="pt"
    )["pixel_values"]
    torch.testing.assert_close(pixels, expected)
    # a short clip is used whole
    assert chat.build_inputs(frames[:2], "Describe.")["pixel_values"].shape[0] == 2


def test_system_prompt_goes_first(tiny):
    chat = InternVLChat(
        tiny.model, tiny.tokenizer, tiny.image_processor, num_frames=1, system_prompt="Be brief."
    )
    text = chat.prompt_text(1, "Hi")
    assert text.startswith("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nFrame1: ")


# -------------------------------------------------------------------- answers
def test_generate_returns_a_deterministic_string(chat):
    frames = make_frames(6, seed=2)
    first = chat.generate(frames, QUESTION, max_new_tokens=4)
    assert isinstance(first, str)
    assert chat.generate(frames, QUESTION, max_new_tokens=4) == first
    rebuilt = hf_tiny.tiny_internvl(seed=0)
    other = InternVLChat(rebuilt.model, rebuilt.tokenizer, rebuilt.image_processor, num_frames=4)
    assert other.generate(frames, QUESTION, max_new_tokens=4) == first


def test_option_logprobs_match_a_hand_forward(chat, tiny):
    frames = make_frames(8, seed=4)
    got = chat.option_logprobs(frames, QUESTION, LETTERS)
    assert list(got) == LETTERS
    assert all(math.isfinite(v) and v <= 0.0 for v in got.values())
    inputs = chat.build_inputs(frames, QUESTION)
    with torch.no_grad():
        logits = tiny.model(**inputs).logits[0, -1]
    full = torch.log_softmax(logits.double(), dim=-1)
    for letter in LETTERS:
        bare = tiny.tokenizer.convert_tokens_to_ids(letter)
        spaced = tiny.tokenizer.convert_tokens_to_ids("Ġ" + letter)
        assert chat.option_token_ids(letter) == [bare, spaced]
        expected = max(full[bare].item(), full[spaced].item())
        assert got[letter] == pytest.approx(expected, abs=1e-5)
    assert chat.option_logprobs(frames, QUESTION, LETTERS) == got  # deterministic


def test_option_logprobs_argmax_is_the_greedy_first_letter():
    replies = set()
    for seed in (2, 3, 4):
        # a model whose next token is always an answer letter (see hf_tiny.favour_letters)
        parts = hf_tiny.tiny_internvl(seed=seed)
        hf_tiny.favour_letters(parts.model, parts.tokenizer)
        chat = InternVLChat(parts.model, parts.tokenizer, parts.image_processor, num_frames=4)
        frames = make_frames(5, seed=10 + seed)
        reply = chat.generate(frames, QUESTION, max_new_tokens=1)
        assert reply in LETTERS, reply
        scores = chat.option_logprobs(frames, QUESTION, LETTERS)
        assert max(scores, key=scores.get) == reply
        # the letters take the bulk of the probability: the log-probs are not flat
        assert sum(math.exp(v) for v in scores.values()) > 0.5
        replies.add(reply)
    assert len(replies) == 3  # three models, three different answers: not a constant


def test_option_that_is_not_one_token_is_refused(chat):
    with pytest.raises(ValueError, match="single token"):
        chat.option_token_ids("AB")
    with pytest.raises(ValueError, match="empty"):
        chat.option_logprobs(make_frames(2), QUESTION, [])


def test_bad_frames_and_reserved_tokens(chat):
    with pytest.raises(ValueError, match="uint8"):
        chat.build_inputs(make_frames(2).astype(np.float32), QUESTION)
    with pytest.raises(ValueError, match=r"\(T, H, W, 3\)"):
        chat.build_inputs(make_frames(2)[0], QUESTION)
    with pytest.raises(ValueError, match="reserved"):
        chat.build_inputs(make_frames(2), "look: <IMG_CONTEXT>")


# ----------------------------------------------------------- dtype / loading
def test_bfloat16_option(tiny):
    parts = hf_tiny.tiny_internvl(seed=0)
    half = InternVLChat(
        parts.model, parts.tokenizer, parts.image_processor, num_frames=2, dtype="bfloat16"
    )
    assert half.model.dtype == torch.bfloat16
    inputs = half.build_inputs(make_frames(4), QUESTION)
    assert inputs["pixel_values"].dtype == torch.bfloat16
    values = half.option_logprobs(make_frames(4), QUESTION, LETTERS)
    assert all(math.isfinite(v) for v in values.values())


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_matches_cpu(chat):
    parts = hf_tiny.tiny_internvl(seed=0)
    gpu = InternVLChat(
        parts.model, parts.tokenizer, parts.image_processor, num_frames=4, device="cuda"
    )
    frames = make_frames(6, seed=5)
    cpu_values = chat.option_logprobs(frames, QUESTION, LETTERS)
    gpu_values = gpu.option_logprobs(frames, QUESTION, LETTERS)
    for letter in LETTERS:
        assert gpu_values[letter] == pytest.approx(cpu_values[letter], abs=1e-3)


def test_from_pretrained_folder_round_trip(tmp_path, tiny, chat):
    folder = tiny.save(tmp_path / "internvl")
    loaded = InternVLChat.from_pretrained(folder, num_frames=4)
    assert loaded.name == str(folder)
    assert loaded.image_seq_length == chat.image_seq_length
    frames = make_frames(7, seed=6)
    original = chat.option_logprobs(frames, QUESTION, LETTERS)
    reloaded = loaded.option_logprobs(frames, QUESTION, LETTERS)
    for letter in LETTERS:
        assert reloaded[letter] == pytest.approx(original[letter], abs=1e-5)
    assert loaded.generate(frames, QUESTION, max_new_tokens=3) == chat.generate(
        frames, QUESTION, max_new_tokens=3
    )


def test_from_pretrained_refuses_other_models(refuses_other_folders):
    refuses_other_folders(InternVLChat.from_pretrained, "not a transformers-native InternVL")


def test_tokenizer_and_model_must_agree_on_the_image_token(tiny):
    from transformers import InternVLForConditionalGeneration

    config = tiny.model.config.__class__.from_dict(tiny.model.config.to_dict())
    config.image_token_id = 5
    model = InternVLForConditionalGeneration(config)
    with pytest.raises(ValueError, match="image_token_id"):
        InternVLChat(model, tiny.tokenizer, tiny.image_processor)
