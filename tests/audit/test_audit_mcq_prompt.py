from __future__ import annotations

import math

import pytest

from actionbias.audit.mcq_prompt import (
    ANSWER_INSTRUCTION,
    MCQPrompt,
    display_name,
    letter_from_logprobs,
    parse_answer,
)
from actionbias.metrics import MCQuestion

OPTIONS = ["eating ice cream", "running", "running on treadmill", "playing basketball", "waving"]
LETTERS = "ABCDE"

REPLIES = [
    ("B", 1),
    ("b", 1),
    (" C\n", 2),
    ("(B)", 1),
    ("[d]", 3),
    ("B.", 1),
    ("B)", 1),
    ("**B**", 1),
    ("**B.** running", 1),
    ("Answer: B", 1),
    ("answer: b", 1),
    ("The answer is B) running", 1),
    ("The answer is (D).", 3),
    ("The correct option is E", 4),
    ("Option C: running on treadmill", 2),
    ("B. running", 1),
    ("B - running", 1),
    ("I think it's B", 1),
    ("The person runs on a treadmill, so C.", 2),
    ("running", 1),
    ("Running.", 1),
    ("running on treadmill", 2),  # the longer option, not "running" inside it
    ("Playing Basketball", 3),
    ("playing_basketball", 3),
    ("A person is waving their hand.", 4),  # "A" is an article here
    ("A", 0),
    ("A.", 0),
    ("The answer is A.", 0),
    # ambiguous or unusable: never a guess
    ("", None),
    ("   ", None),
    ("I don't know", None),
    ("A or B", None),
    ("B, or maybe C", None),
    ("A. eating ice cream\nB. running", None),
    ("B. waving", None),  # letter and option text disagree
    ("The person is running on a treadmill, so C.", None),  # names B's text and letter C
    ("F", None),  # not an option
    ("The answer is (F)", None),
    ("running or waving", None),
    ("The video shows someone dancing.", None),
]


@pytest.mark.parametrize(("reply", "expected"), REPLIES)
def test_parse_answer_reply_styles(reply, expected):
    assert parse_answer(reply, LETTERS, OPTIONS) == expected


def test_parse_answer_accepts_several_spellings_per_option():
    options = [["a video of a human running", "running"], ["a video of a human waving", "waving"]]
    assert parse_answer("waving", "AB", options) == 1
    assert parse_answer("a video of a human running", "AB", options) == 0
    with pytest.raises(ValueError):
        parse_answer("A", "ABC", options)


def test_render_neutral_prompt_is_the_papers_question():
    question = MCQuestion("v1", choices=[3, 0, 2, 1, 4], answer=1, background=0)
    names = ["ice_skating", "running", "playing_basketball", "eating_ice_cream", "waving"]
    text = MCQPrompt().render(question, names)
    assert text == (
        "What is the action being performed?\n"
        "A. eating ice cream\n"
        "B. ice skating\n"
        "C. playing basketball\n"
        "D. running\n"
        "E. waving\n" + ANSWER_INSTRUCTION
    )
    bare = MCQPrompt(instruction=None).render(question, names)
    assert bare.splitlines()[-1] == "E. waving"
    prefixed = MCQPrompt.from_style("prefixed")
    assert (
        prefixed.render(question, names).splitlines()[1] == "A. a video of a human eating ice cream"
    )
    assert prefixed.answer_texts(question, names)[0] == [
        "a video of a human eating ice cream",
        "eating ice cream",
    ]
    human = MCQPrompt.from_style("human", instruction=None).render(question, names)
    assert human.startswith("Focus only on the person and their motion.")
    assert MCQPrompt.from_style("background").question.startswith(
        "Please just look at the background"
    )
    with pytest.raises(ValueError):
        MCQPrompt.from_style("nope")


def test_display_name():
    assert display_name("playing__guitar") == "playing guitar"
    assert display_name(" jumping  jacks ") == "jumping jacks"


def test_letter_from_logprobs():
    assert letter_from_logprobs({"B": -0.1, "A": -2.5, "The": -3.0}, LETTERS) == 1
    # " C" and "C" are the same letter: probabilities add up (0.3 + 0.3 > 0.5)
    top = [("A", math.log(0.4)), (" C", math.log(0.3)), ("C", math.log(0.3))]
    assert letter_from_logprobs(top, LETTERS) == 2
    assert letter_from_logprobs({"(D": -0.2, "F": -0.01}, LETTERS) == 3  # F is not an option
    assert letter_from_logprobs({"Running": -0.1, "a": -0.5}, LETTERS) is None
    assert letter_from_logprobs({}, LETTERS) is None
