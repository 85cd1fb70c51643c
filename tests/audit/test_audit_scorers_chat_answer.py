"""Reading a chat reply: letter log-probabilities first, the text otherwise."""

from __future__ import annotations

from actionbias.audit.scorers import read_chat_answer
from actionbias.llm import TokenLogprob

OPTIONS = [["eating ice cream"], ["running"], ["jumping"], ["playing basketball"], ["waving"]]


def _tok(token, logprob, *top):
    return TokenLogprob(token, logprob, tuple(top))


def test_read_chat_answer_prefers_letter_logprobs():
    letters = "ABCDE"
    # greedy "B" but the alternatives are read: B is still the most probable letter
    reply = read_chat_answer(
        "B", [_tok("B", -0.4, ("B", -0.4), ("A", -1.2), ("x", -3))], letters, OPTIONS
    )
    assert (reply.choice, reply.source) == (1, "logprobs")
    assert reply.logprobs == {"B": -0.4, "A": -1.2}
    # spelled " C" and "C": merged; decoration tokens are skipped
    tokens = [_tok("(", -0.1), _tok("C", -0.9, ("C", -0.9), (" C", -1.0), ("D", -0.8))]
    assert read_chat_answer("(C) jumping", tokens, letters, OPTIONS).choice == 2
    # "A person is waving": the first token is the article, the text names E
    tokens = [_tok("A", -0.1, ("A", -0.1)), _tok(" person", -0.2)]
    reply = read_chat_answer("A person is waving", tokens, letters, OPTIONS)
    assert (reply.choice, reply.source) == (4, "text")
    # no logprobs, or a reply that does not start with a letter: the text decides
    assert read_chat_answer("Answer: D", None, letters, OPTIONS).source == "text"
    tokens = [_tok("Answer", -0.1, ("Answer", -0.1), ("B", -2.0))]
    reply = read_chat_answer("Answer: D", tokens, letters, OPTIONS)
    assert (reply.choice, reply.source) == (3, "text")
    reply = read_chat_answer("no idea", [_tok("no", -0.1)], letters, OPTIONS)
    assert (reply.choice, reply.source) == (None, "none")
