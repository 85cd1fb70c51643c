"""What a fake server's handler reads from a chat request: its text and its images.

Handlers answer from the request's JSON body; these pull out the parts they
decide on, in the shapes the OpenAI API allows (a string or a list of parts).
"""

from __future__ import annotations


def request_text(request: dict) -> str:
    """All text of a chat request's messages, in order, newline-separated."""
    texts = []
    for msg in request.get("messages") or ():
        content = msg.get("content") if isinstance(msg, dict) else None
        if isinstance(content, str):
            texts.append(content)
        elif isinstance(content, list):
            texts.extend(
                p["text"]
                for p in content
                if isinstance(p, dict)
                and p.get("type") == "text"
                and isinstance(p.get("text"), str)
            )
    return "\n".join(texts)


def last_user_text(request: dict) -> str:
    """The text of the request's last user message."""
    for msg in reversed(request.get("messages") or []):
        if isinstance(msg, dict) and msg.get("role") == "user":
            return request_text({"messages": [msg]})
    return ""


def request_images(request: dict) -> list[str]:
    """The image URLs (data URLs when sent inline) of a chat request, in order."""
    urls = []
    for msg in request.get("messages") or ():
        content = msg.get("content") if isinstance(msg, dict) else None
        if not isinstance(content, list):
            continue
        for part in content:
            if isinstance(part, dict) and part.get("type") == "image_url":
                image_url = part.get("image_url")
                url = image_url.get("url") if isinstance(image_url, dict) else image_url
                if isinstance(url, str):
                    urls.append(url)
    return urls


def echo_handler(request: dict) -> str:
    """Default handler: reply with the last user message's text."""
    return last_user_text(request)
