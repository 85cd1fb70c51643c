"""Escaping by construction: HTML is either `Markup` we built or text that gets escaped.

Class names, model ids, config values and VLM replies all end up on the page,
and any of them may contain `<`, `&` or quotes (a user's class list, a model
reply). Rather than remembering to escape at every call site, every helper
here escapes whatever is not already `Markup`, and `Markup` is only produced
by these helpers from escaped parts.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


class Markup(str):
    """A string of HTML that is safe to insert as is."""

    __slots__ = ()


def esc(value: object) -> Markup:
    """Escape text for element content and quoted attribute values (quotes included)."""
    if isinstance(value, Markup):
        return value
    return Markup(html.escape(str(value), quote=True))


def join(parts: Iterable[object], sep: str = "") -> Markup:
    return Markup(esc(sep).join(esc(p) for p in parts))


def tag(name: str, *children: object, **attrs: object) -> Markup:
    """`<name attr="...">children</name>`; attribute names use `_` for `-`, `cls` for class."""
    rendered = []
    for key, value in attrs.items():
        if value is None or value is False:
            continue
        attr = "class" if key == "cls" else key.rstrip("_").replace("_", "-")
        rendered.append(attr if value is True else f'{attr}="{esc(value)}"')
    opening = " ".join([name, *rendered])
    return Markup(f"<{opening}>{join(children)}</{name}>")


@dataclass(frozen=True)
class Column:
    title: object  # text or Markup
    numeric: bool = False
    tooltip: str | None = None


def table(
    columns: Sequence[Column],
    rows: Sequence[Sequence[object]],
    cls: str = "data",
    caption: object | None = None,
    header_rows: Sequence[Sequence[tuple[object, int]]] = (),
) -> Markup:
    """A table in a scrolling wrapper (so the sticky header sticks within it).

    `header_rows` are extra header rows above the column titles, each a list of
    (title, colspan), for grouped columns (metric over with/without augment).
    """
    head = [
        tag("tr", *(tag("th", title, colspan=span if span > 1 else None) for title, span in row))
        for row in header_rows
    ]
    head.append(
        tag(
            "tr",
            *(
                tag("th", c.title, cls="num" if c.numeric else None, title=c.tooltip)
                for c in columns
            ),
        )
    )
    body = [
        tag(
            "tr",
            *(
                tag("td", cell, cls="num" if col.numeric else None)
                for col, cell in zip(columns, row, strict=True)
            ),
        )
        for row in rows
    ]
    parts: list[object] = []
    if caption is not None:
        parts.append(tag("caption", caption))
    parts += [tag("thead", *head), tag("tbody", *body)]
    return tag("div", tag("table", *parts, cls=cls), cls="table-wrap")


def figure(uri: str, alt: str, caption: object | None = None, cls: str | None = None) -> Markup:
    """An inline PNG (a data: URI, never a link) with its caption."""
    if not uri.startswith("data:image/png;base64,"):
        raise ValueError("report images must be inline PNG data URIs")
    parts: list[object] = [Markup(f'<img src="{esc(uri)}" alt="{esc(alt)}">')]
    if caption is not None:
        parts.append(tag("figcaption", caption))
    return tag("figure", *parts, cls=cls)


@dataclass(frozen=True)
class Section:
    """One titled part of a report page; ``id`` is its anchor."""

    id: str
    title: str
    body: Markup


def how(text: object) -> Markup:
    """The "how to read this" line a section opens with: readers arrive without the paper."""
    return tag("p", tag("strong", "How to read this: "), text, cls="how")
