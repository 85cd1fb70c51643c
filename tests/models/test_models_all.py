"""One parametrised suite over EVERY registered model: shapes, gradients, modes, determinism."""

from __future__ import annotations

import pytest
import torch

from actionbias.models import build_model, example_batch, list_models, model_entry

NUM_CLASSES = 7
SMALL_CLIP = (4, 32, 32)
"""T x H x W for shape/gradient tests: every stage still has >= 1 spatial cell."""


TINY_VJEPA2 = {
    "crop_size": SMALL_CLIP[1],
    "frames_per_clip": SMALL_CLIP[0],
    "patch_size": 8,
    "tubelet_size": 2,
    "hidden_size": 24,
    "num_attention_heads": 2,
    "num_hidden_layers": 1,
    "mlp_ratio": 2.0,
    "num_pooler_layers": 1,
    "pred_hidden_size": 12,
    "pred_num_attention_heads": 2,
    "pred_num_hidden_layers": 1,
}
"""A random-weight V-JEPA 2 config at SMALL_CLIP (models built from a transformers config)."""


def small_options(name: str) -> dict:
    """Options that turn any registered model into a ~0.2 M parameter CPU model."""
    options = model_entry(name).options()
    if "backbone" in options:
        return {"backbone": "slow_tiny"}
    if "config" in options:
        return {"config": TINY_VJEPA2, "dropout": 0.5}
    return {"depths": (1, 1, 1, 1), "width": 8}


def without_zero_init(name: str) -> dict:
    """``zero_init_final_bn=False`` for the models that have that option (ResNets)."""
    return (
        {"zero_init_final_bn": False} if "zero_init_final_bn" in model_entry(name).options() else {}
    )


def build_small(name: str, seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return build_model(name, NUM_CLASSES, **small_options(name))


def test_registry_holds_the_paper_models():
    expected = {"slow_r50", "slow_small", "segmented", "dual_sum", "dual_stack", "weighted_focus"}
    assert expected <= set(list_models())


@pytest.mark.parametrize("name", list_models())
def test_forward_shapes_and_declared_inputs(name):
    model = build_small(name)
    assert model.required_inputs == model_entry(name).required_inputs
    batch = example_batch(model, batch_size=2, clip_size=SMALL_CLIP, seed=1)
    assert set(batch) == set(model.required_inputs)
    logits, aux = model(batch, return_aux=True)
    assert logits.shape == (2, NUM_CLASSES)
    assert torch.isfinite(logits).all()
    for value in aux.values():
        assert value.shape[0] == 2
    # A batch without one of the declared inputs is refused with the key named.
    for key in model.required_inputs:
        partial = {k: v for k, v in batch.items() if k != key}
        with pytest.raises(ValueError, match=key):
            model(partial)


@pytest.mark.parametrize("name", list_models())
def test_backward_reaches_every_parameter(name):
    model = build_small(name).train()
    batch = example_batch(model, batch_size=2, clip_size=SMALL_CLIP, seed=2)
    torch.nn.functional.cross_entropy(model(batch), torch.tensor([1, 3])).backward()
    for param_name, param in model.named_parameters():
        assert param.grad is not None, f"{name}: no gradient reaches {param_name}"
        assert torch.isfinite(param.grad).all(), f"{name}: non-finite gradient in {param_name}"
    # Zero-initialised final BNs (PySlowFast's default) zero the gradients inside each
    # residual branch at step 0, but the shortcuts, stems and head must learn at once.
    grads = dict(model.named_parameters())
    for param_name, param in grads.items():
        if param_name.endswith(("stem.conv.weight", "c_bn.weight", "head.fc.weight")):
            assert param.grad.abs().sum() > 0, f"{name}: zero gradient in {param_name}"


@pytest.mark.parametrize("name", list_models())
def test_every_parameter_gets_a_nonzero_gradient_when_nothing_is_zero_initialised(name):
    torch.manual_seed(0)
    model = build_model(name, NUM_CLASSES, **without_zero_init(name), **small_options(name))
    if hasattr(model, "focus"):
        # alpha's output layer starts at 0 on purpose; randomise it to test the wiring.
        torch.nn.init.normal_(model.focus.fc.weight, std=0.5)
    if getattr(model, "adapter", None) is not None:
        # A2O's adapter projection starts at 0 on purpose (the plain video at step 0).
        torch.nn.init.normal_(model.adapter.projection.weight, std=0.5)
    model.train()
    batch = example_batch(model, batch_size=2, clip_size=SMALL_CLIP, seed=2)
    torch.nn.functional.cross_entropy(model(batch), torch.tensor([1, 3])).backward()
    dead = [n for n, p in model.named_parameters() if not p.grad.abs().sum() > 0]
    assert not dead, f"{name}: parameters without gradient signal: {dead}"


@pytest.mark.parametrize("name", list_models())
def test_eval_is_deterministic_and_leaves_bn_statistics(name):
    model = build_small(name).eval()
    batch = example_batch(model, batch_size=2, clip_size=SMALL_CLIP, seed=3)
    stats_before = {k: v.clone() for k, v in model.state_dict().items() if "running" in k}
    with torch.no_grad():
        first = model(batch)
        second = model(batch)
    assert torch.equal(first, second)
    for key, value in model.state_dict().items():
        if "running" in key:
            assert torch.equal(value, stats_before[key]), key


@pytest.mark.parametrize("name", list_models())
def test_single_clip_batches_work_in_train_and_eval(name):
    model = build_small(name)
    batch = example_batch(model, batch_size=1, clip_size=SMALL_CLIP, seed=4)
    model.train()
    train_logits = model(batch)
    model.eval()
    with torch.no_grad():
        eval_logits = model(batch)
    assert train_logits.shape == eval_logits.shape == (1, NUM_CLASSES)
    assert torch.isfinite(train_logits).all() and torch.isfinite(eval_logits).all()
    # Train mode normalises with the clip's own statistics and drops out features.
    assert not torch.allclose(train_logits, eval_logits)


@pytest.mark.parametrize("name", list_models())
def test_same_seed_same_weights(name):
    first = build_small(name, seed=5).state_dict()
    second = build_small(name, seed=5).state_dict()
    other = build_small(name, seed=6).state_dict()
    assert all(torch.equal(first[k], second[k]) for k in first)
    assert any(not torch.equal(first[k], other[k]) for k in first)
