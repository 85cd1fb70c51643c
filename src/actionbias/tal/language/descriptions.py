"""Action descriptions T_desc: the paper's THUMOS14 set, loading, LLM generation, mismatching.

ActionVLM feeds one sentence per class, describing the action from its start pose
to its end pose, to the language model as prior knowledge. The 20 THUMOS14
descriptions the paper used (appendix B.1) ship with the package as data; for a
new class vocabulary (SynthAct, ActivityNet) they are generated with any
OpenAI-compatible chat model using the paper's prompt and cached in a JSON file
so a rerun neither pays nor changes them. The mismatched set for LAP (descriptions
permuted across classes so that no class keeps its own) is built here as well.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterable, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from actionbias.errors import BadInputError
from actionbias.fileio import atomic_write_text

if TYPE_CHECKING:  # the LLM client pulls in `openai`; only generation needs it
    from actionbias.llm import ChatClient

# Appendix B.1, verbatim: the instruction and its one worked example.
DESCRIPTION_PROMPT = (
    "Describe the action from the start pose to the end pose: e.g. BasketballDunk: The "
    "individual starts to jump towards the hoop while holding the basketball and ends when "
    "the ball is forcefully pushed through the basket."
)
# Appendix B.2: the instruction T_ins that precedes the descriptions in the language model.
INSTRUCTION_PROMPT = (
    "This is a video reasoning for the action localization task. You should identify the "
    "start and end frames of each action in the given video and output the ranked list of "
    "action proposals according to their confidence. The candidate actions include: "
)
_MAX_DESCRIPTION_CHARS = 1000


def thumos14_descriptions() -> dict[str, str]:
    """The paper's 20 THUMOS14 descriptions, keyed by the THUMOS14 class name."""
    text = resources.files(__package__).joinpath("thumos14_descriptions.json").read_text("utf-8")
    return dict(json.loads(text)["descriptions"])


def description_request(class_name: str) -> str:
    """The user message that asks an LLM for one class's description (paper prompt + class)."""
    return f"{DESCRIPTION_PROMPT}\n{class_name}:"


def clean_description(class_name: str, reply: str) -> str:
    """The description in an LLM reply, or ValueError when the reply is not one.

    Models often echo the "ClassName:" prefix of the example, wrap the sentence
    in quotes or add line breaks; all of that is removed so the stored text is
    the sentence alone, as in the paper's table.
    """
    text = " ".join(reply.split())
    text = re.sub(rf"^\**{re.escape(class_name)}\**\s*:\s*", "", text, flags=re.IGNORECASE)
    text = text.strip().strip('"').strip("\u201c\u201d").strip()
    if not text:
        raise ValueError(f"empty description for class {class_name!r}")
    if len(text) > _MAX_DESCRIPTION_CHARS:
        raise ValueError(
            f"description for class {class_name!r} is {len(text)} characters "
            f"(limit {_MAX_DESCRIPTION_CHARS}); the model did not answer with one description"
        )
    return text


def load_descriptions(path: str | Path) -> dict[str, str]:
    """Descriptions from a JSON or YAML mapping {class: text} (or {"descriptions": {...}})."""
    path = Path(path)
    try:
        raw = path.read_text("utf-8")
    except OSError as exc:
        raise BadInputError(f"cannot read descriptions: {exc.strerror}", source=path) from None
    try:
        data = json.loads(raw) if path.suffix == ".json" else yaml.safe_load(raw)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise BadInputError(f"not valid JSON/YAML: {exc}", source=path) from None
    if isinstance(data, dict) and isinstance(data.get("descriptions"), dict):
        data = data["descriptions"]
    if not isinstance(data, dict):
        raise BadInputError("expected a mapping of class name to description", source=path)
    out: dict[str, str] = {}
    for name, text in data.items():
        if not isinstance(text, str) or not text.strip():
            raise BadInputError("description must be a non-empty string", path, f"field {name}")
        out[str(name)] = " ".join(text.split())
    return out


def save_descriptions(path: str | Path, descriptions: Mapping[str, str]) -> None:
    """Write {class: description} as JSON, atomically (the generation cache format)."""
    payload = {"descriptions": dict(descriptions)}
    atomic_write_text(path, json.dumps(payload, indent=2, ensure_ascii=False) + "\n")


def generate_descriptions(
    class_names: Sequence[str],
    client: ChatClient | None = None,
    *,
    cache_path: str | Path | None = None,
    known: Mapping[str, str] | None = None,
    max_tokens: int = 200,
) -> dict[str, str]:
    """A description for every class: cached, known (paper), or asked of `client`.

    Order of preference per class: the cache file, then `known` (the paper's
    THUMOS14 set by default, so THUMOS14 never costs a request), then the LLM.
    New descriptions are written to `cache_path` after each reply, so an
    interrupted run keeps what it paid for. Greedy decoding (temperature 0)
    keeps the output reproducible across servers that honour it.
    """
    names = [str(c) for c in class_names]
    if len(set(names)) != len(names):
        raise ValueError("class_names has duplicates")
    cached = load_descriptions(cache_path) if cache_path and Path(cache_path).exists() else {}
    known = thumos14_descriptions() if known is None else dict(known)
    out: dict[str, str] = {}
    missing: list[str] = []
    for name in names:
        if name in cached:
            out[name] = cached[name]
        elif name in known:
            out[name] = known[name]
        else:
            missing.append(name)
    if missing and client is None:
        raise ValueError(
            f"no description for {len(missing)} classes (first: {missing[0]!r}) and no LLM "
            "client to generate them"
        )
    from actionbias.llm import user_message  # deferred: only generation needs the LLM stack

    for name in missing:
        result = client.chat([user_message(description_request(name))], max_tokens=max_tokens)
        out[name] = clean_description(name, result.text)
        if cache_path is not None:
            save_descriptions(cache_path, {**cached, **out})
    if cache_path is not None and not Path(cache_path).exists():
        save_descriptions(cache_path, out)
    return {name: out[name] for name in names}


def descriptions_for(class_names: Sequence[str], descriptions: Mapping[str, str]) -> list[str]:
    """Descriptions in class-index order; ValueError naming the first class without one."""
    missing = [c for c in class_names if c not in descriptions]
    if missing:
        raise ValueError(f"no description for class {missing[0]!r} ({len(missing)} missing)")
    return [descriptions[c] for c in class_names]


def mismatched_descriptions(descriptions: Sequence[str], seed: int = 0) -> list[str]:
    """The same descriptions permuted so that no class keeps its own (a derangement).

    LAP injects conflicting language priors; a plain shuffle would leave some
    classes aligned and understate the bias. Deterministic for a given seed.
    Needs at least two distinct descriptions.
    """
    items = list(descriptions)
    n = len(items)
    if n < 2:
        raise ValueError("need at least two descriptions to mismatch them")
    rng = random.Random(seed)
    # Sattolo's algorithm gives a uniformly random cyclic permutation: no fixed points.
    perm = list(range(n))
    for i in range(n - 1, 0, -1):
        j = rng.randrange(i)
        perm[i], perm[j] = perm[j], perm[i]
    return [items[perm[i]] for i in range(n)]


def instruction_text(class_names: Iterable[str], descriptions: Sequence[str]) -> str:
    """T_ins followed by the candidate actions and their descriptions (appendix B.2)."""
    lines = [f"{name}: {text}" for name, text in zip(class_names, descriptions, strict=True)]
    return INSTRUCTION_PROMPT + " ".join(lines)


def proposals_text(
    segments: Sequence[Sequence[float]], labels: Sequence[int], class_names: Sequence[str]
) -> str:
    """The structured textual template of the ground truth, target of the text-generation loss.

    One "<class> from <start> to <end>." clause per segment in time order, frame
    indices rounded to integers (the language model predicts frames, B.2).
    """
    order = sorted(range(len(labels)), key=lambda i: (segments[i][0], segments[i][1]))
    parts = [
        f"{class_names[int(labels[i])]} from {round(float(segments[i][0]))} "
        f"to {round(float(segments[i][1]))}."
        for i in order
    ]
    return " ".join(parts) if parts else "No action."
