"""Reading bundle files as text, and walking a Markdown body with its file line numbers."""

from __future__ import annotations

from collections.abc import Iterator

from agent_registry.assets.bundle import BundleFile
from agent_registry.assets.parsed import ParsedAsset


def decode_text(data: bytes) -> str | None:
    """The file's text, or None when it is binary.

    A NUL byte counts as binary even when the bytes happen to decode: text formats never
    contain one, and reviewers cannot read such a file in a diff.

    Args:
        data: The file's bytes.

    Returns:
        The decoded text (a leading UTF-8 byte order mark removed), or None.
    """
    if b"\x00" in data:
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None


def text_files(asset: ParsedAsset) -> Iterator[tuple[BundleFile, str]]:
    """Each file of the bundle that is text, with its text."""
    for bundle_file in asset.bundle.files:
        text = decode_text(bundle_file.data)
        if text is not None:
            yield bundle_file, text


def split_lines(text: str) -> list[str]:
    """Split on newlines only, the way editors number lines.

    ``str.splitlines`` also splits on form feeds and Unicode separators, which would put
    reported line numbers out of step with what the submitter sees.
    """
    lines = [line.removesuffix("\r") for line in text.split("\n")]
    if lines and lines[-1] == "":
        lines.pop()  # a final newline ends the last line; it does not start another
    return lines


def body_lines(asset: ParsedAsset) -> Iterator[tuple[int, str]]:
    """The Markdown body's lines with their 1-based line numbers in the manifest file."""
    for offset, line in enumerate(split_lines(asset.body)):
        yield asset.body_line + offset, line


def prose_lines(asset: ParsedAsset) -> Iterator[tuple[int, str, bool]]:
    """The body's lines, each flagged True when it sits inside a fenced code block.

    Links and paths inside fenced code are examples, not references, so checks that
    follow references need to tell the two apart.
    """
    fence: str | None = None
    for number, line in body_lines(asset):
        stripped = line.lstrip()
        marker = stripped[:3]
        if marker in ("```", "~~~"):
            if fence is None:
                fence = marker
                yield number, line, True
                continue
            if marker == fence:
                fence = None
                yield number, line, True
                continue
        yield number, line, fence is not None
