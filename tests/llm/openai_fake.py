"""The fake OpenAI server for tests in other directories.

The server lives in the package (`actionbias.llm.testing`) so that any test,
and users' own tests, can import it directly; prefer
`from actionbias.llm.testing import FakeOpenAIServer`. This module re-exports
it under the name the audit contract mentions.
"""

from __future__ import annotations

from actionbias.llm.testing import (
    ALL_FAULTS,
    TRANSIENT_FAULTS,
    FakeHTTPError,
    FakeOpenAIServer,
    RecordedRequest,
    echo_handler,
    last_user_text,
    request_images,
    request_text,
)

__all__ = [
    "ALL_FAULTS",
    "TRANSIENT_FAULTS",
    "FakeHTTPError",
    "FakeOpenAIServer",
    "RecordedRequest",
    "echo_handler",
    "last_user_text",
    "request_images",
    "request_text",
]
