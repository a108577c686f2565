"""Hygiene checks: the bundle's files are complete, readable, small and free of key files."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from pathlib import PurePosixPath
from urllib.parse import unquote

from agent_registry.assets.parsed import ParsedAsset
from agent_registry.assets.refs import AssetKind
from agent_registry.evals import structure
from agent_registry.evals.base import CheckFunction, run_checks
from agent_registry.evals.text import decode_text, prose_lines
from agent_registry.policy.model import BundleCap
from agent_registry.vocabulary.findings import Finding, Severity, make_finding

LARGE_FILE_BYTES = 256 * 1024
"""Files above this are too big to review line by line."""

BUNDLE_FOLDERS = ("scripts", "references", "assets")
"""The Agent Skills folders; a path starting with one of them is a reference to a file."""

_MARKDOWN_LINK = re.compile(
    r"!?\[[^\]]*\]\(\s*<?(?P<target>[^)\s>]+)>?(?:\s+[\"'][^\"']*[\"'])?\s*\)"
)
_REFERENCE_DEFINITION = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(?P<target>[^\s>]+)>?")
_SIBLING = re.compile(r"^\.\./[a-z0-9][a-z0-9-]*/[^/].*")
_PROHIBITION = re.compile(
    r"^\W*(?:never|don'?t|do\s+not|avoid|must\s+not|should\s+not|no\b|not\b)"
    r"|\b(?:never|don'?t|do\s+not|avoid|anti-?patterns?|mistakes|pitfalls)\b",
    re.IGNORECASE,
)
_BUNDLE_PATH = re.compile(
    r"(?<![\w/.-])(?P<path>(?:\./)?(?:" + "|".join(BUNDLE_FOLDERS) + r")/[\w.-]+(?:/[\w.-]+)*)"
)
_URL_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")

_KEY_FILE_NAMES = frozenset(
    {"id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", ".netrc", ".pgpass", ".git-credentials"}
)
_KEY_FILE_SUFFIXES = frozenset({".pem", ".key", ".p12", ".pfx"})
# ``.env.example`` and friends document variables without values; they belong in a bundle.
_ENV_TEMPLATE_SUFFIXES = frozenset({".example", ".sample", ".template", ".dist"})

CATALOG: dict[str, Severity] = {
    "hygiene.missing-reference": Severity.BLOCK,
    "hygiene.sibling-reference": Severity.WARN,
    "hygiene.binary-file": Severity.WARN,
    "hygiene.large-file": Severity.WARN,
    "hygiene.sensitive-file": Severity.BLOCK,
    "hygiene.bundle-over-cap": Severity.BLOCK,
}
"""Check ids this family raises and the severity each proposes."""


def missing_references(asset: ParsedAsset) -> list[Finding]:
    """Links and file mentions in the instructions that point at files the bundle lacks.

    The agent follows these when it uses the asset; a missing file fails only then, in
    front of a user. The body is read as Markdown (markdown-it-py), so only real links
    (links, images, reference definitions) and explicit file mentions (a code span
    naming a path under ``scripts/``, ``references/`` or ``assets/``) count: a path in
    prose, in a fenced example, in a comment, or in a "never do this" sentence or list
    is not a reference. A subagent is a single file whose relative links usually point
    into the project it runs in, so only paths under the Agent Skills folders count. A
    link to a sibling skill's file (``../pdf/reference.md``) is installed next to this
    one when both are, so it only warns.
    """
    if asset.kind is AssetKind.MCP_SERVER:
        return []
    base = posixpath.dirname(asset.manifest_file)
    findings = []
    for number, target in _references(asset):
        path = _resolve(base, target)
        if path is None:
            continue
        if asset.kind is AssetKind.SUBAGENT and not path.startswith(
            tuple(f"{folder}/" for folder in BUNDLE_FOLDERS)
        ):
            continue
        if _exists(asset, path):
            continue
        outside = path == ".." or path.startswith("../")
        sibling = _SIBLING.match(path) is not None and asset.kind is AssetKind.SKILL
        if sibling:
            findings.append(
                make_finding(
                    CATALOG,
                    "hygiene.sibling-reference",
                    message=f"{asset.manifest_file} refers to '{target}', a file of the "
                    "sibling skill it names; it resolves only where both are installed",
                    file=asset.manifest_file,
                    line=number,
                    fix="Copy what is needed into this skill, or say in the description "
                    "that the other skill is required.",
                )
            )
            continue
        why = "points outside the bundle" if outside else "is not in the bundle"
        findings.append(
            make_finding(
                CATALOG,
                "hygiene.missing-reference",
                message=f"{asset.manifest_file} refers to '{target}', which {why}",
                file=asset.manifest_file,
                line=number,
                fix=f"Add '{path}' to the bundle, or correct the path (relative to "
                f"{asset.manifest_file}).",
            )
        )
    return findings


def binary_files(asset: ParsedAsset) -> list[Finding]:
    """Files that are not UTF-8 text: reviewers cannot read them and scanners cannot check them."""
    return [
        make_finding(
            CATALOG,
            "hygiene.binary-file",
            message=f"{bundle_file.path} is a binary file, so it cannot be reviewed or scanned",
            file=bundle_file.path,
            fix="Remove it, or replace it with a text form; if it must stay (an image), "
            "say why in the changelog.",
        )
        for bundle_file in asset.bundle.files
        if decode_text(bundle_file.data) is None
    ]


def large_files(asset: ParsedAsset) -> list[Finding]:
    """Files over 256 KiB: too long to review, and costly if the agent reads them."""
    return [
        make_finding(
            CATALOG,
            "hygiene.large-file",
            message=(
                f"{bundle_file.path} is {len(bundle_file.data) // 1024} KiB, over the "
                f"{LARGE_FILE_BYTES // 1024} KiB a reviewer can read"
            ),
            file=bundle_file.path,
            fix="Split it into smaller files the instructions point to, or fetch the data "
            "at run time from where it lives.",
        )
        for bundle_file in asset.bundle.files
        if len(bundle_file.data) > LARGE_FILE_BYTES
    ]


def sensitive_files(asset: ParsedAsset) -> list[Finding]:
    """Files that hold credentials by their nature: ``.env``, SSH keys, ``*.pem``, ``*.key``."""
    return [
        make_finding(
            CATALOG,
            "hygiene.sensitive-file",
            message=f"{bundle_file.path} is a kind of file that holds credentials",
            file=bundle_file.path,
            fix="Remove it from the bundle and rotate whatever it held; document needed "
            "variables in a .env.example without values instead.",
        )
        for bundle_file in asset.bundle.files
        if is_sensitive_file(bundle_file.path)
    ]


def over_cap(asset: ParsedAsset, cap: BundleCap, *, tier: str) -> list[Finding]:
    """A bundle bigger than the policy allows for its kind and tier.

    The cap is a policy choice, so it is judged here, after the tier is known, rather
    than by the bundle reader (whose limits only bound what is read at all).
    """
    kind = asset.kind.value
    fix = (
        "Ship less (fetch large data at run time from where it lives), or ask the "
        f"registry's owners to raise [bundles.{kind}] in the policy."
    )
    findings = []
    total = asset.bundle.total_bytes
    if total > cap.max_total:
        findings.append(
            make_finding(
                CATALOG,
                "hygiene.bundle-over-cap",
                message=f"the bundle is {total:,} bytes; the policy allows {cap.max_total:,} "
                f"for a {tier}-risk {kind}",
                fix=fix,
            )
        )
    if len(asset.bundle.files) > cap.max_files:
        findings.append(
            make_finding(
                CATALOG,
                "hygiene.bundle-over-cap",
                message=f"the bundle has {len(asset.bundle.files)} files; the policy allows "
                f"{cap.max_files} for a {tier}-risk {kind}",
                fix=fix,
            )
        )
    findings.extend(
        make_finding(
            CATALOG,
            "hygiene.bundle-over-cap",
            message=f"{bundle_file.path} is {len(bundle_file.data):,} bytes; the policy "
            f"allows {cap.max_file:,} for one file of a {tier}-risk {kind}",
            file=bundle_file.path,
            fix=fix,
        )
        for bundle_file in asset.bundle.files
        if len(bundle_file.data) > cap.max_file
    )
    return findings


CHECKS: tuple[CheckFunction, ...] = (
    missing_references,
    binary_files,
    large_files,
    sensitive_files,
)


def check(asset: ParsedAsset) -> list[Finding]:
    """Run every hygiene check."""
    return run_checks(CHECKS, asset)


def is_sensitive_file(path: str) -> bool:
    """Tell whether a bundle path names a file that holds credentials by its nature."""
    pure = PurePosixPath(path)
    name = pure.name.lower()
    if name == ".env" or (
        name.startswith(".env.") and pure.suffix.lower() not in _ENV_TEMPLATE_SUFFIXES
    ):
        return True
    return name in _KEY_FILE_NAMES or pure.suffix.lower() in _KEY_FILE_SUFFIXES


def _references(asset: ParsedAsset) -> Iterator[tuple[int, str]]:
    """(line, target) for each link and explicit bundle-file mention in the body."""
    seen: set[tuple[int, str]] = set()
    for block in structure.blocks(asset.body, first_line=asset.body_line):
        if block.kind != "prose":
            continue
        targets = list(block.links)
        if not _forbids(block):
            for span in block.code_spans:
                targets.extend(m["path"] for m in _BUNDLE_PATH.finditer(span))
        for target in targets:
            if (block.line, target) not in seen:
                seen.add((block.line, target))
                yield block.line, target
    for number, line, in_fence in prose_lines(asset):
        definition = None if in_fence else _REFERENCE_DEFINITION.match(line)
        if definition is not None and (number, definition["target"]) not in seen:
            seen.add((number, definition["target"]))
            yield number, definition["target"]


def _forbids(block: structure.Block) -> bool:
    """A sentence or list that says what not to do names files as examples of it."""
    return bool(_PROHIBITION.search(block.text[:80])) or bool(
        block.list_item and block.heading and _PROHIBITION.search(block.heading)
    )


def _resolve(base: str, target: str) -> str | None:
    """The bundle path a link target names, or None when it is not a bundle file link."""
    if (
        not target
        or target.startswith(("#", "/", "~"))
        or _URL_SCHEME.match(target)
        or any(marker in target for marker in ("{", "$", "<"))
    ):
        return None
    path = unquote(re.split(r"[#?]", target, maxsplit=1)[0])
    if not path:
        return None
    return posixpath.normpath(posixpath.join(base, path)).removeprefix("./")


def _exists(asset: ParsedAsset, path: str) -> bool:
    """A file of the bundle, or a folder some file of the bundle is in."""
    if path in ("", "."):
        return True
    folder = path.rstrip("/") + "/"
    return asset.bundle.get(path) is not None or any(
        bundle_file.path.startswith(folder) for bundle_file in asset.bundle.files
    )
