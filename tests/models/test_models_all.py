"""One parametrised suite over EVERY registered model: shapes, gradients, modes, determinism."""

from __future__ import annotations

import hashlib

import pytest
import torch

from actionbias.models import (
    build_model,
    count_parameters,
    example_batch,
    list_models,
    model_entry,
)

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


SMALL_FINGERPRINTS = {
    "a2o": (150863, 107, "fc017e3438c057ad"),
    "dual_stack": (173719, 158, "46c443c522e98a0f"),
    "dual_sum": (159383, 158, "58e4aefd2e36bb32"),
    "segmented": (150671, 104, "bc1fdde5e3a90ad8"),
    "slow_r50": (150671, 104, "bc1fdde5e3a90ad8"),
    "slow_small": (150671, 104, "bc1fdde5e3a90ad8"),
    "slow_tiny": (150671, 104, "bc1fdde5e3a90ad8"),
    "vjepa2": (28207, 53, "1f9e841f7d890efc"),
    "weighted_focus": (165120, 124, "99371406a406c039"),
}
"""(parameters, state-dict tensors, weight digest) of ``build_small(name, seed=0)``.

Recorded before the factories were rewritten around one option spec: a refactor of
how options reach the networks must give the very same networks, weights included.
The digests hold for the pinned torch/transformers; a new model adds its row."""

OPTION_FINGERPRINTS = [
    ("slow_r50", {}, 31648839, 320, "b324f08c31c10e9b"),
    ("slow_small", {}, 1128535, 176, "bd0c14a477b06c92"),
    (
        "slow_tiny",
        {"head_pool_kernel": (4, 2, 2), "dropout": 0.2, "zero_init_final_bn": False},
        150671,
        104,
        "d56944bd9772587a",
    ),
    (
        "segmented",
        {"backbone": "slow_small", "stem_kernel": 5, "temporal_kernels": (1, 3, 3, 1)},
        943063,
        176,
        "b5d1ed55091aa6e2",
    ),
    ("dual_sum", {"backbone": "slow_tiny", "width": 4}, 41615, 158, "e7df8703aa8ff095"),
    (
        "dual_stack",
        {"backbone": "slow_small", "depths": (1, 2, 1, 1)},
        716327,
        194,
        "7843a95f76b95dcf",
    ),
    (
        "weighted_focus",
        {"backbone": "slow_tiny", "focus_at": "res3", "clip_size": (4, 32, 32)},
        165632,
        124,
        "fae6f30c746e0b87",
    ),
    (
        "a2o",
        {"num_maps": 3, "mode": "concat", "width": 8, "depths": (1, 1, 1, 1)},
        151847,
        104,
        "344c3a7b9fab1d96",
    ),
]
"""The same record for presets and for each backbone option set on some model."""


def weight_digest(model: torch.nn.Module) -> str:
    """First 16 hex digits of a SHA-256 over every state-dict name and tensor, in order."""
    digest = hashlib.sha256()
    for key, value in model.state_dict().items():
        digest.update(key.encode())
        digest.update(value.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]


def fingerprint(model: torch.nn.Module) -> tuple[int, int, str]:
    return count_parameters(model), len(model.state_dict()), weight_digest(model)


def test_every_registered_model_has_a_recorded_fingerprint():
    assert set(SMALL_FINGERPRINTS) == set(list_models())


@pytest.mark.parametrize("name", list_models())
def test_small_models_keep_their_recorded_weights(name):
    assert fingerprint(build_small(name, seed=0)) == SMALL_FINGERPRINTS[name]


@pytest.mark.parametrize(
    ("name", "options", "parameters", "tensors", "digest"),
    OPTION_FINGERPRINTS,
    ids=[f"{case[0]}-{i}" for i, case in enumerate(OPTION_FINGERPRINTS)],
)
def test_option_sets_keep_their_recorded_weights(name, options, parameters, tensors, digest):
    torch.manual_seed(0)
    model = build_model(name, NUM_CLASSES, **options)
    assert fingerprint(model) == (parameters, tensors, digest)
