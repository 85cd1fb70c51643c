"""On-disk cache of chat replies: a rerun of an audit or a resumed prompt search
makes no new paid calls.

The key is a SHA-256 over the canonical JSON of everything that determines the
reply: the endpoint (host and path, never the scheme's credentials or the API
key), the model, the messages (images included, as their data URLs) and the
sampling parameters, including logprob settings and a `sample_index` so that
temperature > 0 callers can keep several distinct samples of one prompt.
One JSON file per entry, written atomically and sharded two levels deep so no
directory grows past a few thousand files. Only successful replies are stored.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from pathlib import Path
from urllib.parse import urlsplit

from actionbias.fileio import atomic_write_text

log = logging.getLogger(__name__)

CACHE_FORMAT = "actionbias.llm.cache/1"


def endpoint_id(base_url: str) -> str:
    """host[:port]/path of a base URL, without scheme, credentials, query or trailing slash."""
    parts = urlsplit(base_url)
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return f"{host}{parts.path.rstrip('/')}"


def redacted_url(base_url: str) -> str:
    """The base URL without user:password, for messages and repr."""
    parts = urlsplit(base_url)
    if parts.username is None and parts.password is None:
        return base_url
    netloc = parts.hostname or ""
    if parts.port is not None:
        netloc = f"{netloc}:{parts.port}"
    return parts._replace(netloc=netloc).geturl()


def cache_key(endpoint: str, model: str, messages: list[dict], params: dict) -> str:
    payload = {
        "format": CACHE_FORMAT,
        "endpoint": endpoint,
        "model": model,
        "messages": messages,
        "params": {k: v for k, v in params.items() if v is not None},
    }
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class ReplyCache:
    """`root/ab/cd/<key>.json` files holding the raw reply body of one request."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def path(self, key: str) -> Path:
        return self.root / key[:2] / key[2:4] / f"{key}.json"

    def get(self, key: str) -> dict | None:
        """The stored reply body, or None when absent or unreadable (then it is refetched)."""
        path = self.path(key)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.warning("LLM cache entry %s unreadable (%s); calling the server again", path, exc)
            return None
        try:
            entry = json.loads(text)
        except json.JSONDecodeError:
            log.warning("LLM cache entry %s is not valid JSON; calling the server again", path)
            return None
        if (
            not isinstance(entry, dict)
            or entry.get("format") != CACHE_FORMAT
            or entry.get("key") != key
            or not isinstance(entry.get("reply"), dict)
        ):
            log.warning(
                "LLM cache entry %s has an unexpected shape; calling the server again", path
            )
            return None
        return entry["reply"]

    def put(self, key: str, reply: dict, meta: dict) -> Path:
        entry = {
            "format": CACHE_FORMAT,
            "key": key,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            **meta,
            "reply": reply,
        }
        path = self.path(key)
        atomic_write_text(path, json.dumps(entry, ensure_ascii=False, indent=1) + "\n")
        return path

    def __len__(self) -> int:
        return sum(1 for _ in self.root.glob("??/??/*.json")) if self.root.is_dir() else 0

    def __repr__(self) -> str:
        return f"ReplyCache({str(self.root)!r})"
