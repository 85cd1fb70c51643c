"""OpenAI-compatible chat client for video-LLM audits, prompt tuning and LLM agents.

`ChatClient` talks to any server with the OpenAI chat API (OpenAI, vLLM,
Ollama, llama.cpp) through `base_url`, with bounded jittered retries, a disk
cache that makes reruns free, a concurrency limit and token/cost accounting;
keys come from the environment only. `frames_to_image_parts` and
`user_message` turn video frames into inline image parts.
`actionbias.llm.testing.FakeOpenAIServer` is a local fault-injecting server
for tests.
"""

from __future__ import annotations

from actionbias.llm.cache import ReplyCache, cache_key, endpoint_id
from actionbias.llm.client import ChatClient
from actionbias.llm.errors import LLMError
from actionbias.llm.images import decode_data_url, encode_jpeg, frames_to_image_parts
from actionbias.llm.messages import system_message, text_preview, user_message, validate_messages
from actionbias.llm.result import ChatResult, TokenLogprob, parse_reply
from actionbias.llm.retry import Backoff, parse_retry_after
from actionbias.llm.stats import ClientStats, PriceTable
from actionbias.llm.testing import FakeHTTPError, FakeOpenAIServer

__all__ = [
    "Backoff",
    "ChatClient",
    "ChatResult",
    "ClientStats",
    "FakeHTTPError",
    "FakeOpenAIServer",
    "LLMError",
    "PriceTable",
    "ReplyCache",
    "TokenLogprob",
    "cache_key",
    "decode_data_url",
    "encode_jpeg",
    "endpoint_id",
    "frames_to_image_parts",
    "parse_reply",
    "parse_retry_after",
    "system_message",
    "text_preview",
    "user_message",
    "validate_messages",
]
