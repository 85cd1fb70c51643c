"""The shared sampling settings of the A2O policies and the prompt optimisers."""

from __future__ import annotations

import pytest

from actionbias.a2o.policy_base import LLMPolicyBase
from actionbias.llm import ChatClient
from actionbias.llm.sampling import Sampled
from actionbias.prompting.optimizer import OptimizerBase


def test_settings_are_checked_and_kept_once():
    client = ChatClient("http://127.0.0.1:9/v1", "m", api_key_env=None)
    sampled = Sampled(client, temperature=0.5, max_tokens=None, attempts=2)
    assert (sampled.client, sampled.temperature, sampled.max_tokens, sampled.attempts) == (
        client,
        0.5,
        None,
        2,
    )
    with pytest.raises(ValueError, match="attempts must be >= 1"):
        Sampled(client, temperature=1.0, max_tokens=10, attempts=0)
    # Each caller keeps its own defaults on the one base.
    assert issubclass(LLMPolicyBase, Sampled) and issubclass(OptimizerBase, Sampled)
    assert OptimizerBase(client).max_tokens == 300
