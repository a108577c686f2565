"""Content an asset carries encoded or packed, decoded so the checks can read it too.

A credential in base64, or an instruction inside a gzip member, reads as noise to a
reviewer and to a line scanner, but an agent decodes it in one step. Decoding is
bounded (depth, bytes, blobs per file) so that a hostile bundle cannot make the eval
bar expand a bomb.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import io
import re
import tarfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

from agent_registry.assets.parsed import ParsedAsset
from agent_registry.evals.text import decode_text

MAX_DEPTH = 2
"""Encodings inside encodings followed: base64 of base64 is common, deeper is not."""

MAX_DECODED_BYTES = 512 * 1024
"""Bytes decoded per asset, all blobs and members together."""

MAX_BLOBS_PER_FILE = 200
"""Encoded blobs examined per file; a file of nothing but blobs stops there."""

MAX_MEMBER_BYTES = 256 * 1024
"""Bytes read from one member of a packed file."""

_BASE64 = re.compile(r"(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{24,}={0,2}(?![A-Za-z0-9+/=_-])")
_HEX = re.compile(r"(?<![0-9A-Fa-f])(?:[0-9A-Fa-f]{2}){20,}(?![0-9A-Fa-f])")
_PRINTABLE = 0.95


@dataclass(frozen=True)
class Decoded:
    """Text found by decoding something the asset carries.

    Attributes:
        file: The bundle file it was found in.
        line: The line of the encoded blob (1 for a packed member).
        how: How it was hidden, for messages: ``base64``, ``hex``, ``gzip member x``.
        text: The decoded text.
    """

    file: str
    line: int
    how: str
    text: str


def decoded_texts(asset: ParsedAsset) -> list[Decoded]:
    """Every decodable blob and packed member of the bundle, as text, within the bounds.

    Cached for the asset last asked about: the secret and intent checks both read them.
    """
    cached = _CACHE.get("last")
    if cached is not None and cached[0] is asset:
        return cached[1]
    found = _decoded_texts(asset)
    _CACHE["last"] = (asset, found)
    return found


_CACHE: dict[str, tuple[ParsedAsset, list[Decoded]]] = {}


def reset_cache() -> None:
    """Forget the last asset's decoded texts."""
    _CACHE.clear()


def _decoded_texts(asset: ParsedAsset) -> list[Decoded]:
    budget = [MAX_DECODED_BYTES]
    found: list[Decoded] = []
    for bundle_file in asset.bundle.files:
        text = decode_text(bundle_file.data)
        if text is None:
            for how, member in _members(bundle_file.path, bundle_file.data, budget):
                found.append(Decoded(bundle_file.path, 1, how, member))
                found.extend(_blobs(bundle_file.path, member, how, budget, depth=1))
            continue
        found.extend(_blobs(bundle_file.path, text, "", budget, depth=0))
    return found


def _blobs(path: str, text: str, outer: str, budget: list[int], *, depth: int) -> list[Decoded]:
    if depth >= MAX_DEPTH or budget[0] <= 0:
        return []
    found: list[Decoded] = []
    seen = 0
    for how, pattern in (("base64", _BASE64), ("hex", _HEX)):
        for match in pattern.finditer(text):
            seen += 1
            if seen > MAX_BLOBS_PER_FILE or budget[0] <= 0:
                return found
            decoded = _decode(match[0], how)
            if decoded is None:
                continue
            budget[0] -= len(decoded)
            label = f"{outer}, then {how}" if outer else how
            number = text.count("\n", 0, match.start()) + 1
            found.append(Decoded(path, number, label, decoded))
            found.extend(_blobs(path, decoded, label, budget, depth=depth + 1))
    return found


def _decode(blob: str, how: str) -> str | None:
    """The blob's text when it decodes to readable text, else None."""
    try:
        if how == "hex":
            raw = bytes.fromhex(blob)
        else:
            core = blob.rstrip("=")
            alphabet = (
                base64.urlsafe_b64decode if ("-" in core or "_" in core) else base64.b64decode
            )
            raw = alphabet(core + "=" * (-len(core) % 4))
    except (binascii.Error, ValueError):
        return None
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)[:MAX_MEMBER_BYTES]
        except (OSError, EOFError, zlib.error):
            return None
    text = decode_text(raw)
    if not text or len(text) < 8:
        return None
    printable = sum(c.isprintable() or c in "\n\r\t" for c in text)
    return text if printable >= _PRINTABLE * len(text) else None


def _members(path: str, data: bytes, budget: list[int]) -> Iterator[tuple[str, str]]:
    """The text members of a gzip, zip or tar file, bounded by the budget."""
    lowered = path.lower()
    try:
        if zipfile.is_zipfile(io.BytesIO(data)):
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                for info in archive.infolist()[:MAX_BLOBS_PER_FILE]:
                    if info.is_dir() or budget[0] <= 0:
                        continue
                    with archive.open(info) as handle:
                        raw = handle.read(min(MAX_MEMBER_BYTES, budget[0]))
                    yield from _text_member(f"zip member {info.filename}", raw, budget)
            return
        if data[:2] == b"\x1f\x8b" or lowered.endswith((".tar", ".tgz", ".tar.gz")):
            yield from _tar_or_gzip(data, budget)
    except (
        OSError,
        EOFError,
        zlib.error,
        zipfile.BadZipFile,
        tarfile.TarError,
        ValueError,
        NotImplementedError,
        RuntimeError,
    ):
        return


def _tar_or_gzip(data: bytes, budget: list[int]) -> Iterator[tuple[str, str]]:
    try:
        with tarfile.open(fileobj=io.BytesIO(data)) as archive:
            for member in archive.getmembers()[:MAX_BLOBS_PER_FILE]:
                if not member.isfile() or budget[0] <= 0:
                    continue
                handle = archive.extractfile(member)
                if handle is None:
                    continue
                raw = handle.read(min(MAX_MEMBER_BYTES, budget[0]))
                yield from _text_member(f"tar member {member.name}", raw, budget)
        return
    except tarfile.TarError:
        pass
    with gzip.GzipFile(fileobj=io.BytesIO(data)) as packed:
        raw = packed.read(min(MAX_MEMBER_BYTES, budget[0]))
    yield from _text_member("gzip content", raw, budget)


def _text_member(how: str, raw: bytes, budget: list[int]) -> Iterator[tuple[str, str]]:
    budget[0] -= len(raw)
    text = decode_text(raw)
    if text is not None:
        yield how, text
