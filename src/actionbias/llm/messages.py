"""Building and checking chat messages in the OpenAI wire format.

Messages stay plain dicts (what the HTTP API takes and what the cache hashes)
rather than a class hierarchy, so callers can pass anything a server accepts;
these helpers only cover the common shapes and catch malformed input before
it costs a request.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from actionbias.llm.images import DEFAULT_MAX_SIDE, DEFAULT_QUALITY, frames_to_image_parts

Message = dict
ROLES = ("system", "developer", "user", "assistant", "tool")


def system_message(text: str) -> Message:
    return {"role": "system", "content": text}


def user_message(
    text: str,
    frames: np.ndarray | Sequence[np.ndarray] | None = None,
    *,
    max_side: int = DEFAULT_MAX_SIDE,
    quality: int = DEFAULT_QUALITY,
    detail: str | None = None,
    images_first: bool = True,
) -> Message:
    """A user turn with optional video frames as image parts.

    Images come before the question by default: VLMs are usually prompted (and
    the paper's prompts are written) as "<frames> question".
    """
    if frames is None:
        return {"role": "user", "content": text}
    images = frames_to_image_parts(frames, max_side=max_side, quality=quality, detail=detail)
    text_part = {"type": "text", "text": text}
    content = [*images, text_part] if images_first else [text_part, *images]
    return {"role": "user", "content": content}


def validate_messages(messages: object) -> list[Message]:
    """The messages as a list, or ValueError naming the first bad item."""
    if isinstance(messages, (str, bytes)) or not isinstance(messages, Sequence):
        raise ValueError("messages: expected a list of {'role': ..., 'content': ...} dicts")
    if not messages:
        raise ValueError("messages: empty list")
    out = []
    for i, msg in enumerate(messages):
        if not isinstance(msg, dict):
            raise ValueError(f"messages[{i}]: expected a dict, got {type(msg).__name__}")
        role = msg.get("role")
        if role not in ROLES:
            raise ValueError(f"messages[{i}].role: expected one of {ROLES}, got {role!r}")
        content = msg.get("content")
        if isinstance(content, list):
            for j, part in enumerate(content):
                if not isinstance(part, dict) or not isinstance(part.get("type"), str):
                    raise ValueError(f"messages[{i}].content[{j}]: expected a dict with a 'type'")
        elif content is not None and not isinstance(content, str):
            raise ValueError(
                f"messages[{i}].content: expected a string or a list of parts, "
                f"got {type(content).__name__}"
            )
        out.append(msg)
    return out


def text_preview(messages: Sequence[Message], limit: int = 2000) -> str:
    """The messages' text with images as `<image>`: a readable label for cache files and logs."""
    lines = []
    for msg in messages:
        content = msg.get("content")
        if isinstance(content, str):
            body = content
        elif isinstance(content, list):
            body = " ".join(
                part.get("text", "") if part.get("type") == "text" else f"<{part.get('type')}>"
                for part in content
            )
        else:
            body = ""
        lines.append(f"{msg.get('role')}: {body}")
    text = "\n".join(lines)
    return text if len(text) <= limit else text[: limit - 3] + "..."
