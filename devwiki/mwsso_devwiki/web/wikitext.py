"""A minimal wikitext-to-HTML renderer for the local wiki's article pages (pure, no I/O).

Enough that a page reads as a page, not as source: headings, paragraphs, ``*``/``#`` lists, indented
preformatted lines, ``----``, bold and italic, internal links ``[[Title|label]]`` and external links
``[https://… label]``. Anything else (templates, tables, tags) is shown as escaped text, never as markup.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import quote

from ..messages import html_escape as esc

_HEADING = re.compile(r"^(={1,6})\s*(.+?)\s*\1\s*$")
_LIST = re.compile(r"^([*#]+)\s*(.*)$")
_INLINE = re.compile(
    r"\[\[(?P<target>[^\[\]|]+)(?:\|(?P<label>[^\[\]]*))?\]\]"
    r"|\[(?P<url>(?:https?:)?//[^\s\[\]<>\"]+)(?:\s+(?P<text>[^\[\]]*))?\]"
    r"|(?P<quotes>'{5}|'{3}|'{2})"
)


def article_url(server: str, title: str) -> str:
    """``/wiki/Title_with_underscores``, as MediaWiki's article path writes it."""
    name = title.strip().replace(" ", "_")
    if name:
        name = name[0].upper() + name[1:]
    return f"{server}/wiki/{quote(name, safe='/:~!$()*,;@')}"


def inline(text: str, server: str, exists: Callable[[str], bool] | None = None) -> str:
    """One line's inline markup; bold and italic left open are closed at the end of the line."""
    out: list[str] = []
    open_tags: list[str] = []
    numbered = 0
    pos = 0

    def toggle(tag: str) -> None:
        if tag in open_tags:
            # Close inner tags first, then reopen them, so the HTML stays well nested.
            inner = open_tags[open_tags.index(tag) + 1 :]
            out.extend(f"</{t}>" for t in reversed(inner))
            out.append(f"</{tag}>")
            open_tags.remove(tag)
            out.extend(f"<{t}>" for t in inner)
        else:
            out.append(f"<{tag}>")
            open_tags.append(tag)

    for match in _INLINE.finditer(text):
        out.append(esc(text[pos : match.start()]))
        pos = match.end()
        if match.group("target"):
            target = match.group("target").strip()
            label = match.group("label")
            missing = exists is not None and not exists(target)
            css = ' class="new"' if missing else ""
            shown = esc(label if label else target)
            out.append(f'<a href="{esc(article_url(server, target))}"{css} title="{esc(target)}">{shown}</a>')
        elif match.group("url"):
            url, label = match.group("url"), match.group("text")
            if not label:
                numbered += 1
                label = f"[{numbered}]"
            out.append(f'<a rel="nofollow" class="external" href="{esc(url)}">{esc(label)}</a>')
        else:
            quotes = match.group("quotes")
            if len(quotes) == 5:
                # Opens both, or closes both innermost first, so that bold-italic ends cleanly.
                both_open = {"b", "i"} <= set(open_tags)
                for tag in reversed(list(open_tags)) if both_open else ("b", "i"):
                    toggle(tag)
            else:
                toggle("b" if len(quotes) == 3 else "i")
    out.append(esc(text[pos:]))
    out.extend(f"</{t}>" for t in reversed(open_tags))
    return "".join(out)


def to_html(text: str, server: str, exists: Callable[[str], bool] | None = None) -> str:
    """The page's HTML; ``exists(title)`` marks links to missing pages (class ``new``) when given."""
    blocks: list[str] = []
    paragraph: list[str] = []
    pre: list[str] = []
    lists: list[str] = []  # the open list tags, outermost first ("ul"/"ol")

    def close_paragraph() -> None:
        if paragraph:
            blocks.append("<p>" + "<br>\n".join(paragraph) + "</p>")
            paragraph.clear()

    def close_pre() -> None:
        if pre:
            blocks.append("<pre>" + "\n".join(pre) + "</pre>")
            pre.clear()

    def close_lists(depth: int = 0) -> None:
        while len(lists) > depth:
            blocks.append(f"</li></{lists.pop()}>")

    for line in text.replace("\r\n", "\n").split("\n"):
        listed = _LIST.match(line)
        if not listed:
            close_lists()
        if not line.startswith(" ") or not line.strip():
            close_pre()
        heading = _HEADING.match(line)
        if not line.strip():
            close_paragraph()
        elif heading:
            close_paragraph()
            level = len(heading.group(1))
            blocks.append(f"<h{level}>{inline(heading.group(2), server, exists)}</h{level}>")
        elif line.strip() == "----" or re.fullmatch(r"-{4,}\s*", line):
            close_paragraph()
            blocks.append("<hr>")
        elif listed:
            close_paragraph()
            marks, item = listed.groups()
            tags = ["ul" if m == "*" else "ol" for m in marks]
            # Keep the common, same-kind prefix open; close what differs, open what is new.
            keep = 0
            while keep < min(len(lists), len(tags)) and lists[keep] == tags[keep]:
                keep += 1
            close_lists(max(keep, 1) if keep == len(tags) else keep)
            if len(lists) == len(tags):
                blocks.append("</li>")
            for tag in tags[len(lists) :]:
                blocks.append(f"<{tag}>")
                lists.append(tag)
            blocks.append(f"<li>{inline(item, server, exists)}")
        elif line.startswith(" "):
            close_paragraph()
            pre.append(inline(line[1:], server, exists))
        else:
            paragraph.append(inline(line, server, exists))
    close_lists()
    close_pre()
    close_paragraph()
    return "\n".join(blocks)
