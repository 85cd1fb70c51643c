"""The multiple-choice prompt shown to video LLMs, and reading their answers back.

The question is the paper's, word for word (Sec. 3.2 and appendix A.5): the
neutral "What is the action being performed?" followed by the five action
labels, one per line as ``A. class name``. The other hand-crafted prompts of
Sec. 4.2 are available as styles (``prefixed``, ``human``, ``background``).

The paper does not print how the model was told to reply; the default adds
InternVL's own multiple-choice instruction ("Answer with the option's letter
from the given choices directly."), which makes the first answer token a letter
so the letter log-probabilities are meaningful. ``instruction=None`` gives the
bare paper prompt.

Replies are data: `parse_answer` accepts the usual ways a model names an option
("B", "(B)", "B.", "Answer: B", "The answer is B) running", the option text
itself) and returns None for anything ambiguous (two different letters, a letter
contradicting the option text named, no option at all). It never guesses: an
unparseable reply is counted as "no answer", which is wrong for accuracy and
for SHAcc and is neither human nor background for SBErr.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass

from actionbias.metrics.mcq import LETTERS, MCQuestion

NEUTRAL_QUESTION = "What is the action being performed?"
HUMAN_QUESTION = (
    "Focus only on the person and their motion. Ignore the background, scene, or "
    "surroundings. Based on the person's posture, appearance, and movement, what is the "
    "action being performed?"
)
BACKGROUND_QUESTION = (
    "Please just look at the background and not the person. Based on the background scene, "
    "what is the action being performed?"
)
HUMAN_PREFIX = "a video of a human "
"""Prefix of every choice in the paper's "prefixed-choices" prompt."""
ANSWER_INSTRUCTION = "Answer with the option's letter from the given choices directly."

PROMPT_STYLES = ("neutral", "prefixed", "human", "background")


def display_name(class_name: str) -> str:
    """How a class is shown to a language model: ``playing_guitar`` -> ``playing guitar``."""
    return " ".join(class_name.replace("_", " ").split())


@dataclass(frozen=True)
class MCQPrompt:
    """A multiple-choice prompt: question, lettered options, optional reply instruction."""

    question: str = NEUTRAL_QUESTION
    choice_prefix: str = ""
    instruction: str | None = ANSWER_INSTRUCTION

    @classmethod
    def from_style(cls, style: str = "neutral", instruction: str | None = ANSWER_INSTRUCTION):
        """One of the paper's hand-crafted prompts (`PROMPT_STYLES`)."""
        if style == "neutral":
            return cls(NEUTRAL_QUESTION, "", instruction)
        if style == "prefixed":
            return cls(NEUTRAL_QUESTION, HUMAN_PREFIX, instruction)
        if style == "human":
            return cls(HUMAN_QUESTION, "", instruction)
        if style == "background":
            return cls(BACKGROUND_QUESTION, "", instruction)
        raise ValueError(f"unknown prompt style {style!r}; choose from {', '.join(PROMPT_STYLES)}")

    def option_texts(self, question: MCQuestion, class_names: Sequence[str]) -> list[str]:
        """The text of each option as shown (prefix included)."""
        return [self.choice_prefix + display_name(class_names[c]) for c in question.choices]

    def answer_texts(self, question: MCQuestion, class_names: Sequence[str]) -> list[list[str]]:
        """Texts that name each option in a reply: as shown and, if prefixed, the bare name."""
        out = []
        for shown, c in zip(
            self.option_texts(question, class_names), question.choices, strict=True
        ):
            names = [shown]
            bare = display_name(class_names[c])
            if bare != shown:
                names.append(bare)
            out.append(names)
        return out

    def render(self, question: MCQuestion, class_names: Sequence[str]) -> str:
        letters = question.letters()
        lines = [self.question]
        lines += [
            f"{letter}. {text}"
            for letter, text in zip(letters, self.option_texts(question, class_names), strict=True)
        ]
        if self.instruction:
            lines.append(self.instruction)
        return "\n".join(lines)

    def to_dict(self) -> dict[str, str | None]:
        return asdict(self)


# ------------------------------------------------------------------------- parsing


def _option_spans(text: str, texts: Sequence[Sequence[str]]) -> dict[int, list[range]]:
    """Where each option's text occurs in ``text`` (word-bounded, any case, any spacing).

    An option whose every occurrence lies inside a longer matched option's text
    ("running" inside "running on treadmill") is not counted as named.
    """
    spans: dict[int, list[range]] = {}
    for index, names in enumerate(texts):
        for name in names:
            words = display_name(name).split()
            if not words:
                continue
            body = r"[\s_]+".join(re.escape(w) for w in words)
            for match in re.finditer(r"(?<![^\W_])" + body + r"(?![^\W_])", text, re.IGNORECASE):
                spans.setdefault(index, []).append(range(match.start(), match.end()))
    named: dict[int, list[range]] = {}
    for index, own in spans.items():
        others = [r for j, rs in spans.items() if j != index for r in rs]
        free = [
            r
            for r in own
            if not any(o.start <= r.start and r.stop <= o.stop and len(o) > len(r) for o in others)
        ]
        if free:
            named[index] = free
    return named


_WHOLE_REPLY_LETTER = re.compile(r"^[\W_]*([A-Za-z])[\W_]*$")
"""The whole reply is one letter, maybe decorated: "B", "**B**", "'b'", "B."."""

_LETTER_PATTERNS = (
    # bracketed: "(B)", "[B]", "(b)"
    re.compile(r"[(\[]\s*([A-Za-z])\s*[)\]]"),
    # after a keyword: "Answer: B", "the answer is b.", "Option C", "choice (D)"
    re.compile(
        r"(?i:answer|option|choice|letter)\s*(?:is|would be|:|-)?\s*[:\-]?\s*[*\"'(\[]*"
        r"([A-Z](?!\s+[a-z])|[a-z](?=[\W_]*$|[.):\]]))(?![\w'])"
    ),
    # a capital letter followed by ".", ")" or ":" : "B. running", "B) running", "B:"
    re.compile(r"(?<![\w'.])([A-Z])[.):](?=\s|$|\*)"),
    # a standalone capital letter not starting a lower-case phrase ("A person..." is an article)
    # ("A or B" still names two letters)
    re.compile(r"(?<![\w'\-])([A-Z])(?![\w'\-])(?!\s+(?!(?:or|and|vs|nor)\b)[a-z])"),
)


def _letters_named(text: str) -> set[str]:
    found: set[str] = set()
    for pattern in _LETTER_PATTERNS:
        for match in pattern.finditer(text):
            found.add(match.group(1).upper())
    return found


def _mask(text: str, spans: Iterable[range]) -> str:
    chars = list(text)
    for span in spans:
        for i in span:
            chars[i] = " "
    return "".join(chars)


def parse_answer(
    text: str, letters: str | Sequence[str], option_texts: Sequence[str | Sequence[str]]
) -> int | None:
    """The option position a reply names, or None when it names none or several.

    ``letters`` are the option letters in order ("ABCDE"); ``option_texts`` the
    option texts in the same order (a string, or several accepted spellings per
    option). Matching of option texts ignores case, underscores and spacing.
    """
    letters = list(letters)
    texts = [[t] if isinstance(t, str) else list(t) for t in option_texts]
    if len(texts) != len(letters):
        raise ValueError(f"{len(letters)} letters for {len(texts)} options")
    if not text or not text.strip():
        return None
    raw = text.replace("\u2019", "'").replace("\u2018", "'")
    named = _option_spans(raw, texts)
    remainder = _mask(raw, (r for spans in named.values() for r in spans))
    found = _letters_named(remainder)
    whole = _WHOLE_REPLY_LETTER.match(raw)
    if whole:
        found.add(whole.group(1).upper())
    if found:
        if len(found) > 1 or next(iter(found)) not in letters:
            return None
        choice = letters.index(next(iter(found)))
        if named and choice not in named:
            return None  # the letter and the option text disagree
        return choice
    if len(named) == 1:
        return next(iter(named))
    return None


def letter_from_logprobs(
    top_logprobs: Mapping[str, float] | Iterable[tuple[str, float]], letters: str | Sequence[str]
) -> int | None:
    """The valid option letter with the highest log-probability among the candidates.

    ``top_logprobs`` maps candidate first tokens to log-probabilities (as an
    OpenAI-compatible server returns them). Tokens are compared after stripping
    spaces and decoration (" B", "B", "(B" all mean B); a letter reached by
    several tokens gets the log of their summed probabilities. None when no
    valid letter is among the candidates.
    """
    letters = list(letters)
    items = top_logprobs.items() if isinstance(top_logprobs, Mapping) else top_logprobs
    mass: dict[str, float] = {}
    for token, logprob in items:
        key = re.sub(r"[\W_]", "", str(token))
        if len(key) != 1 or key.upper() not in letters or key != key.upper():
            continue
        if logprob is None or not math.isfinite(float(logprob)):
            continue
        mass[key] = mass.get(key, 0.0) + math.exp(float(logprob))
    if not mass:
        return None
    best = max(mass, key=lambda k: (mass[k], -letters.index(k)))
    return letters.index(best)


__all__ = [
    "ANSWER_INSTRUCTION",
    "BACKGROUND_QUESTION",
    "HUMAN_PREFIX",
    "HUMAN_QUESTION",
    "LETTERS",
    "NEUTRAL_QUESTION",
    "PROMPT_STYLES",
    "MCQPrompt",
    "display_name",
    "letter_from_logprobs",
    "parse_answer",
]
