"""The one error the LLM client raises on purpose.

Callers (the audit, prompt tuning, the A2O agent) catch a single type: a
request that could not be completed after the retry budget was spent, or one
the server rejected outright. The message is one line and is scrubbed of the
API key before the exception is built, so it is safe to log, print or store.
"""

from __future__ import annotations

from actionbias.errors import ActionBiasError


class LLMError(ActionBiasError):
    """A chat request failed for good.

    `reason` is a short machine-readable tag of the last failure ("http_429",
    "http_503", "timeout", "connection", "malformed", "http_400", ...),
    `status` the last HTTP status when there was one, `attempts` the number of
    HTTP requests made for this call and `retryable` whether the last failure
    was of a transient kind (so the caller knows a later rerun may succeed).
    """

    def __init__(
        self,
        message: str,
        *,
        reason: str,
        status: int | None = None,
        attempts: int = 0,
        retryable: bool = False,
    ):
        self.reason = reason
        self.status = status
        self.attempts = attempts
        self.retryable = retryable
        super().__init__(" ".join(message.split()))

    def __reduce__(self):  # keep the keyword-only fields across pickling (thread/process pools)
        return (
            _rebuild,
            (str(self), self.reason, self.status, self.attempts, self.retryable),
        )


def _rebuild(message: str, reason: str, status: int | None, attempts: int, retryable: bool):
    return LLMError(message, reason=reason, status=status, attempts=attempts, retryable=retryable)
