"""`llm.failures`: one-line details, and secrets scrubbed from whatever a server says."""

from __future__ import annotations

from actionbias.llm.failures import DETAIL_LIMIT, make_scrubber, one_line


def test_one_line_folds_white_space_and_cuts_long_text():
    assert one_line("a\n  b\tc") == "a b c"
    long = one_line("x" * (DETAIL_LIMIT + 50))
    assert len(long) == DETAIL_LIMIT and long.endswith("...")


def test_scrubber_removes_the_key_and_any_bearer_token():
    scrub = make_scrubber("sk-secret-123", "")
    text = scrub("Incorrect API key provided: sk-secret-123. Authorization: Bearer abc.def")
    assert "sk-secret-123" not in text and "abc.def" not in text
    assert text.count("[redacted]") == 2


def test_short_secrets_are_not_scrubbed():
    # A one- to three-letter "secret" would redact ordinary words.
    assert make_scrubber("ab")("a cab") == "a cab"
