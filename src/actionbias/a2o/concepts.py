"""Reading an object set out of an LLM reply: one atomic visual concept per line.

The detector gets each line as a text query, and open-vocabulary detectors
only recognise short single concepts (Listing 2's output rules), so a line that
is really two concepts ("ball, net"), a logic expression ("ball or net") or a
sentence would silently become a useless query. Such lines are rejected with a
reason (fed back to the LLM when it is re-asked) rather than repaired, because
any repair (splitting at a comma, dropping "and") guesses at what was meant.

Normalisations that are allowed, because what remains is exactly what the
model meant: surrounding whitespace; a leading bullet (``-``, ``*``, ``+``,
``•``, ``·``, ``–``, ``—``); leading numbering (``1.``, ``1)``, ``(1)``,
``1:``, ``1 -``); markdown emphasis or code marks (``**ball**``, `` `ball` ``);
matching quotes around the line (straight or curly); one trailing ``.``, ``,``
or ``;`` (list punctuation, e.g. a Python-style ``"ball",``); case (lowercased)
and inner runs of spaces. Code fences (```` ``` ````) and blank lines are
skipped silently. A reply that is a JSON list of strings (optionally after
``Prompts:``, the history's own format) is read item by item with the same
rules. Letters may be any script's; underscores are refused (identifiers are
not detector queries).

Text an LLM returns is data: nothing here evaluates it.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field

from actionbias.errors import ActionBiasError

DEFAULT_MAX_WORDS = 4
LOGIC_WORDS = frozenset({"and", "or", "not", "with", "without", "vs", "versus", "nor", "but"})

_BULLET = re.compile(r"^(?:[-*+](?:\s+|$)|[•·–—]\s*)")
_NUMBER = re.compile(r"^(?:\(\d{1,3}\)|\d{1,3}[.):]|\d{1,3}\s+-)\s*")
_QUOTES = (('"', '"'), ("'", "'"), ("\u201c", "\u201d"), ("\u2018", "\u2019"), ("`", "`"))
_EMPHASIS = re.compile(r"^(\*\*|__|\*|_)(.+)\1$")
_ALLOWED = re.compile(r"^[^\W_][\w' \-]*$")
_PROMPTS_LINE = re.compile(r"(?is)^\s*(?:prompts\s*:\s*)?(\[.*\])\s*$")


class ConceptParseError(ActionBiasError):
    """A reply without a single usable concept; `rejected` says why each line failed."""

    def __init__(self, message: str, rejected: list[Rejected] | None = None):
        self.rejected = list(rejected or [])
        super().__init__(" ".join(message.split()))


@dataclass(frozen=True)
class Rejected:
    """One reply line that is not a usable concept (line numbers are 1-based)."""

    line: int
    text: str
    reason: str

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class ConceptList:
    """The validated concepts (lowercase, unique, in reply order, at most `max_objects`).

    `rejected`: unusable lines; `duplicates`: concepts repeated (kept once);
    `dropped`: valid concepts beyond `max_objects` (Algorithm 1 line 6).
    """

    concepts: list[str]
    rejected: list[Rejected] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "concepts": list(self.concepts),
            "rejected": [r.to_dict() for r in self.rejected],
            "duplicates": list(self.duplicates),
            "dropped": list(self.dropped),
        }


def describe_rejections(rejected: list[Rejected], limit: int = 8) -> str:
    """The rejection reasons as short lines (what a re-ask tells the LLM)."""
    lines = [f"- {r.text!r}: {r.reason}" for r in rejected[:limit]]
    if len(rejected) > limit:
        lines.append(f"- ... and {len(rejected) - limit} more")
    return "\n".join(lines)


def _strip_wrappers(text: str) -> str:
    """Remove bullets, numbering, emphasis, quotes and one trailing list mark (repeatedly)."""
    previous = None
    while text != previous:
        previous = text
        text = text.strip()
        text = _BULLET.sub("", text, count=1)
        text = _NUMBER.sub("", text, count=1)
        if text and text[-1] in ".,;" and not text.endswith("..."):
            text = text[:-1].rstrip()
        match = _EMPHASIS.match(text)
        if match:
            text = match.group(2)
        for left, right in _QUOTES:
            if len(text) >= 2 and text.startswith(left) and text.endswith(right):
                text = text[1:-1]
                break
    return text.strip()


def check_concept(raw: str, max_words: int = DEFAULT_MAX_WORDS) -> tuple[str | None, str]:
    """(concept, "") for a usable line, (None, reason) otherwise."""
    line = raw.strip()
    if line.startswith("#"):
        return None, "a header line"
    if line.endswith(":"):
        return None, "a header or lead-in (ends with ':')"
    text = _strip_wrappers(line)
    if not text:
        return None, "empty once bullets, numbering and quotes are removed"
    lowered = " ".join(text.lower().split())
    if "," in lowered:
        return None, "has a comma (one concept per line)"
    if "/" in lowered or "\\" in lowered:
        return None, "has a slash (one concept per line)"
    if "&" in lowered or "+" in lowered or "|" in lowered:
        return None, "has a logic symbol (one concept per line)"
    words = lowered.split()
    logic = [w for w in words if w in LOGIC_WORDS]
    if logic:
        return None, f"has the logic word {logic[0]!r} (one concept per line)"
    if any(mark in lowered for mark in (".", ":", "!", "?", ";")):
        return None, "reads like a sentence or an explanation"
    if "(" in lowered or ")" in lowered or "[" in lowered or "]" in lowered:
        return None, "has brackets (an explanation?)"
    if len(words) > max_words:
        return None, f"{len(words)} words (at most {max_words}: a short noun phrase)"
    if not _ALLOWED.match(lowered):
        return None, "has characters other than letters, digits, spaces, hyphens, apostrophes"
    if "_" in lowered:
        return None, "has an underscore (write words with spaces)"
    return lowered, ""


def _json_items(text: str) -> list[str] | None:
    """The items of a reply that is a JSON list of strings (fences allowed), else None."""
    body = text.strip()
    if body.startswith("```"):
        body = re.sub(r"^```[a-zA-Z]*\s*|\s*```$", "", body).strip()
    match = _PROMPTS_LINE.match(body)  # a bare list, or one copied from the history's format
    if match is None:
        return None
    try:
        value = json.loads(match.group(1))
    except ValueError:
        return None
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return value
    return None


def parse_concepts(
    text: str | None, max_objects: int, *, max_words: int = DEFAULT_MAX_WORDS
) -> ConceptList:
    """The object set in an LLM reply; `ConceptParseError` when no line is usable.

    Lowercased, deduplicated keeping the first occurrence, truncated to
    `max_objects` (the first ones kept, as the reply's order is the LLM's).
    """
    if max_objects < 1:
        raise ValueError(f"max_objects must be >= 1, got {max_objects}")
    if text is None or not text.strip():
        raise ConceptParseError("the reply is empty")
    items = _json_items(text)
    lines = items if items is not None else text.splitlines()
    kept: list[str] = []
    seen: set[str] = set()
    out = ConceptList([])
    for number, raw in enumerate(lines, start=1):
        if not raw.strip() or raw.strip().startswith("```"):
            continue
        concept, reason = check_concept(raw, max_words)
        if concept is None:
            out.rejected.append(Rejected(number, raw.strip()[:200], reason))
        elif concept in seen:
            out.duplicates.append(concept)
        else:
            seen.add(concept)
            kept.append(concept)
    if not kept:
        detail = "; ".join(f"{r.text!r}: {r.reason}" for r in out.rejected[:3])
        raise ConceptParseError(
            f"no usable concept in the reply ({len(out.rejected)} lines rejected"
            + (f"; e.g. {detail}" if detail else "")
            + ")",
            out.rejected,
        )
    out.concepts = kept[:max_objects]
    out.dropped = kept[max_objects:]
    return out


__all__ = [
    "DEFAULT_MAX_WORDS",
    "LOGIC_WORDS",
    "ConceptList",
    "ConceptParseError",
    "Rejected",
    "check_concept",
    "describe_rejections",
    "parse_concepts",
]
