"""Markdown read as structure: prose, code spans, fenced code, HTML and comments apart.

Checks that work on raw lines cannot tell an instruction from an example: a path in a
"never do this" list, a URL inside a fenced sample document and a link the agent is
meant to follow all look the same. CommonMark's own parser (markdown-it-py) knows
which is which, so the checks ask it instead of guessing with more patterns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from markdown_it import MarkdownIt
from markdown_it.token import Token

_COMMENT = re.compile(r"<!--(?P<text>.*?)(?:-->|\Z)", re.DOTALL)


@dataclass(frozen=True)
class Block:
    """One block of a Markdown document, as a reader of the rendered page sees it.

    Attributes:
        kind: ``prose`` (paragraph, list item, heading, table), ``code`` (fenced or
            indented block) or ``html`` (an HTML block, comments included).
        line: 1-based line of the block's first line in the file.
        end_line: 1-based line of its last line.
        text: The prose with code spans in place (without backticks), the code, or the
            HTML as written.
        info: The fence's info string (``bash``, ``python``), for code blocks.
        code_spans: The inline code of a prose block, in order.
        links: Link and image targets of a prose block, in order.
        comments: Text of the HTML comments inside a prose block.
        heading: The text of the nearest heading above the block.
        list_item: Whether the block is (part of) a list item.
    """

    kind: str
    line: int
    end_line: int
    text: str
    info: str = ""
    code_spans: tuple[str, ...] = ()
    links: tuple[str, ...] = ()
    comments: tuple[str, ...] = ()
    heading: str = ""
    list_item: bool = False


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    # Emphasis and entities change nothing the checks read, and cost a third of a parse.
    return MarkdownIt("commonmark").enable("table").disable(["emphasis", "entity"])


def blocks(text: str, *, first_line: int = 1) -> list[Block]:
    """The blocks of a Markdown document, in order (see :func:`_blocks`)."""
    return list(_blocks(text, first_line))


def reset_cache() -> None:
    """Forget the documents parsed so far."""
    _blocks.cache_clear()


@lru_cache(maxsize=256)
def _blocks(text: str, first_line: int) -> tuple[Block, ...]:
    """The blocks of a Markdown document, in order.

    Args:
        text: The Markdown source.
        first_line: The file line the text starts on (a body after frontmatter).

    Returns:
        One block per paragraph, heading, table cell row, code block or HTML block.
    """
    tokens = _parser().parse(text)
    found: list[Block] = []
    heading = ""
    depth = 0
    in_heading = False
    for token in tokens:
        if token.type == "list_item_open":
            depth += 1
        elif token.type == "list_item_close":
            depth -= 1
        elif token.type == "heading_open":
            in_heading = True
        elif token.type == "heading_close":
            in_heading = False
        start, end = (token.map or (0, 1))[0], (token.map or (0, 1))[1]
        line, end_line = first_line + start, first_line + max(start, end - 1)
        if token.type == "inline":
            block = _inline_block(token, line, end_line, heading, depth > 0)
            if in_heading:
                heading = block.text
            found.append(block)
        elif token.type in ("fence", "code_block"):
            found.append(
                Block(
                    kind="code",
                    line=line + (1 if token.type == "fence" else 0),
                    end_line=end_line,
                    text=token.content,
                    info=token.info.strip().split(" ")[0].lower() if token.info else "",
                    heading=heading,
                    list_item=depth > 0,
                )
            )
        elif token.type == "html_block":
            found.append(
                Block(
                    kind="html",
                    line=line,
                    end_line=end_line,
                    text=token.content,
                    comments=tuple(m["text"] for m in _COMMENT.finditer(token.content)),
                    heading=heading,
                    list_item=depth > 0,
                )
            )
    return tuple(found)


def _inline_block(token: Token, line: int, end_line: int, heading: str, listed: bool) -> Block:
    parts: list[str] = []
    spans: list[str] = []
    links: list[str] = []
    comments: list[str] = []
    for child in token.children or []:
        if child.type == "text":
            parts.append(child.content)
        elif child.type == "code_inline":
            parts.append(child.content)
            spans.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif child.type == "link_open":
            href = child.attrGet("href")
            if isinstance(href, str):
                links.append(href)
        elif child.type == "image":
            src = child.attrGet("src")
            if isinstance(src, str):
                links.append(src)
            parts.append(child.content)
        elif child.type == "html_inline":
            comments.extend(m["text"] for m in _COMMENT.finditer(child.content))
    return Block(
        kind="prose",
        line=line,
        end_line=end_line,
        text="".join(parts),
        code_spans=tuple(spans),
        links=tuple(links),
        comments=tuple(comments),
        heading=heading,
        list_item=listed,
    )
