"""Fixtures shared by the model tests."""

from __future__ import annotations

import pytest
import torch

from actionbias.errors import BadInputError


@pytest.fixture(scope="module")
def one_torch_thread():
    """Tiny models gain nothing from threads; on a busy 2-core machine the pool costs ms per op.

    Modules of tiny Hugging Face models opt in with
    ``pytestmark = pytest.mark.usefixtures("one_torch_thread")``.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def refuses_other_folders(tmp_path):
    """Check a ``from_pretrained``: it refuses a saved model of another kind (a tiny BERT)
    with an error matching `message`, and a missing folder as one it cannot load."""

    def check(from_pretrained, message: str) -> None:
        from transformers import BertConfig

        config = BertConfig(hidden_size=8, num_hidden_layers=1, num_attention_heads=2)
        config.save_pretrained(tmp_path)
        with pytest.raises(BadInputError, match=message):
            from_pretrained(tmp_path)
        with pytest.raises(BadInputError, match="cannot load"):
            from_pretrained(tmp_path / "missing")

    return check
