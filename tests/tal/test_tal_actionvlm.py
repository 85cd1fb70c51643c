"""Model specs, saving and loading every TAL variant, and the paper's learning-rate groups."""

from __future__ import annotations

import pytest
import torch
from tal_testkit import padded_features

from actionbias.errors import BadInputError
from actionbias.tal.actionvlm import build_tal_model, load_tal_model, model_spec, save_tal_model
from actionbias.tal.language.ablations import ablation_config
from actionbias.tal.language.inputs import CompactInputs
from actionbias.tal.train import build_detector, parameter_groups, save_detector

DETECTOR = {"embed_dim": 8, "fpn_dim": 8, "head_dim": 8, "window": 3, "heads": 2,
            "stem_blocks": 1, "downsample_blocks": 1, "max_seq_len": 32}  # fmt: skip


def _batch():
    return padded_features(channels=6, steps=16, valid=12, seed=1)


def test_compact_model_round_trips_with_its_prompt(tmp_path) -> None:
    spec = model_spec(6, 3, DETECTOR, language="compact", compact={"width": 8, "heads": 2})
    assert spec["ablation"] == "full"
    torch.manual_seed(0)
    model = build_tal_model(spec).eval()
    inputs = CompactInputs(torch.randn(3, 384))
    save_tal_model(tmp_path / "m.pt", model, inputs=inputs, extra={"classes": ["a", "b", "c"]})
    loaded, loaded_inputs, extra = load_tal_model(tmp_path / "m.pt")
    assert extra["classes"] == ["a", "b", "c"]
    torch.testing.assert_close(loaded_inputs.prompt, inputs.prompt)
    feats, mask = _batch()
    batch = {"feats": feats}
    a = model(feats, mask, **inputs(batch, False))
    b = loaded(feats, mask, **loaded_inputs(batch, False))
    torch.testing.assert_close(a.det.cls_logits[0], b.det.cls_logits[0])
    torch.testing.assert_close(a.lam, b.lam)


def test_old_detector_checkpoints_load_as_vision_only(tmp_path) -> None:
    torch.manual_seed(0)
    detector = build_detector(6, 3, **DETECTOR).eval()
    save_detector(tmp_path / "det.pt", detector, extra={"classes": ["a", "b", "c"]})
    model, inputs, extra = load_tal_model(tmp_path / "det.pt")
    assert extra["classes"] == ["a", "b", "c"]
    assert inputs is None and model.language is None and model.ablation.name == "vision-only"
    feats, mask = _batch()
    torch.testing.assert_close(
        model(feats, mask).det.cls_logits[1], detector(feats, mask).cls_logits[1]
    )


def test_bad_checkpoints_are_one_line_errors(tmp_path) -> None:
    with pytest.raises(BadInputError, match=r"m\.pt: checkpoint not found"):
        load_tal_model(tmp_path / "m.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(BadInputError, match=r"junk\.pt: not a readable checkpoint"):
        load_tal_model(tmp_path / "junk.pt")
    torch.save({"format": "actionbias.tal.model/1", "spec": {}}, tmp_path / "bad.pt")
    with pytest.raises(BadInputError, match=r"bad\.pt: not a TAL model checkpoint"):
        load_tal_model(tmp_path / "bad.pt")


def test_specs_refuse_inconsistent_choices() -> None:
    with pytest.raises(ValueError, match="needs --lm"):
        model_spec(6, 3, DETECTOR, language="lm")
    with pytest.raises(ValueError, match="unknown ablation"):
        model_spec(6, 3, DETECTOR, language="compact", ablation="half")
    with pytest.raises(ValueError, match="needs a language model"):
        build_tal_model(model_spec(6, 3, DETECTOR, language="none", ablation="full"))
    assert ablation_config("fixed-0.35").fixed_lambda == 0.35
    with pytest.raises(ValueError):
        ablation_config("fixed-1.5")


def test_lora_adapters_get_the_language_lr_and_only_they_are_saved(tmp_path) -> None:
    transformers = pytest.importorskip("transformers")
    pytest.importorskip("peft")
    config = transformers.Qwen2Config(
        vocab_size=64, hidden_size=16, intermediate_size=32, num_hidden_layers=1,
        num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=128,
    )  # fmt: skip
    spec = model_spec(6, 3, DETECTOR, language="lm", lm="unused", lm_options={"lora_rank": 4})
    spec["language"]["config"] = config.to_dict()
    torch.manual_seed(0)
    model = build_tal_model(spec)
    groups = parameter_groups(model, lr=1e-4, weight_decay=0.05, language_lr=5e-6)
    by_name = {g["name"]: g for g in groups}
    lora = {id(p) for p in model.language.lora_parameters()}
    assert lora and {id(p) for p in by_name["language"]["params"]} <= lora
    assert sum(len(g["params"]) for g in groups if g["name"].startswith("language")) == len(lora)
    assert all(g["lr"] == 5e-6 for g in groups if g["name"].startswith("language"))
    assert all(g["lr"] == 1e-4 for g in groups if g["name"].startswith("head"))
    frozen = {id(p) for p in model.parameters() if not p.requires_grad}
    assert frozen and not frozen & {id(p) for g in groups for p in g["params"]}
    # a pretrained LM's checkpoint keeps the adapters and new layers, not the frozen base
    spec_pretrained = dict(
        spec, language={k: v for k, v in spec["language"].items() if k != "config"}
    )
    model._spec = spec_pretrained
    save_tal_model(tmp_path / "lm.pt", model)
    keys = torch.load(tmp_path / "lm.pt", weights_only=False)["state_dict"].keys()
    assert any("lora_" in k for k in keys) and "language.vis_proj.0.weight" in keys
    assert not [k for k in keys if k.startswith("language.lm.") and "lora_" not in k]
