"""How a caller samples a chat model: the client, temperature, reply length and retries.

The A2O agent's policies and the prompt optimisers both ask a model, check the
reply and ask again on an unusable one, so both hold the same four settings with
the same check. `Sampled` holds them once; each caller gives its own defaults.
"""

from __future__ import annotations

from collections.abc import Sequence

from actionbias.llm.client import ChatClient
from actionbias.llm.messages import Message
from actionbias.llm.result import ChatResult


class Sampled:
    """A chat client plus the settings every request of its owner is sent with."""

    def __init__(
        self,
        client: ChatClient,
        *,
        temperature: float,
        max_tokens: int | None,
        attempts: int,
    ) -> None:
        if attempts < 1:
            raise ValueError(f"attempts must be >= 1, got {attempts}")
        self.client = client
        self.temperature = float(temperature)
        self.max_tokens = max_tokens
        self.attempts = int(attempts)

    def sample(self, messages: Sequence[Message], index: int) -> ChatResult:
        """One reply sent with these settings; ``index`` is both the server's seed and
        the cache's sample index, so a rerun gets the same reply from the disk cache and
        two indices asking the same thing still get distinct samples."""
        return self.client.chat(
            messages,
            temperature=self.temperature,
            max_tokens=self.max_tokens,
            seed=index,
            sample_index=index,
        )
