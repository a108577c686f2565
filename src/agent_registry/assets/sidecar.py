"""Registry sidecars: the ``agentreg.yaml`` file that carries what a format cannot say.

A folder asset's sidecar is ``agentreg.yaml`` inside it, a subagent's is
``<stem>.agentreg.yaml`` beside its ``.md`` file. The value readers here also read the
same keys from SKILL.md's ``metadata`` map (see :mod:`agent_registry.assets.kinds`).

``false-positives`` lists findings the submitter says are false positives::

    false-positives:
      - check: secrets.high-entropy
        file: tests/fixtures.py
        line: 12
        reason: a made-up key the tests feed to the parser
"""

from __future__ import annotations

import os
import stat
import textwrap
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from pydantic import ValidationError

from agent_registry.assets.bundle import SIDECAR_NAME, BundleFile
from agent_registry.assets.frontmatter import YamlResult, parse_yaml_mapping
from agent_registry.assets.manifests import FalsePositiveMark, RegistryMetadataDraft
from agent_registry.assets.spec_problems import decode_text, spec_problem
from agent_registry.vocabulary.findings import Finding

SIDECAR_SUFFIX = ".agentreg.yaml"
"""A subagent's sidecar is ``<stem>.agentreg.yaml`` beside its ``.md`` file."""

SIDECAR_KEYS = (
    "owner-team",
    "version",
    "changelog",
    "authors",
    "machine-authored",
    "false-positives",
)
"""Keys an ``agentreg.yaml`` sidecar may hold (the same names as in SKILL.md metadata)."""

FALSE_POSITIVES_KEY = "false-positives"
"""The key of the list of false-positive marks, in a sidecar and in SKILL.md metadata."""

MARK_KEYS = ("check", "file", "line", "reason")
"""Keys of one false-positive mark; ``line`` is optional."""

MAX_SIDECAR_BYTES = 64 * 1024
"""A sidecar holds a few lines; anything bigger is not one."""

_FIELD_OF_KEY = {
    "owner-team": "owner_team",
    "version": "version",
    "changelog": "changelog",
    "authors": "authors",
    "machine-authored": "machine_authored",
    "false-positives": "false_positives",
}

_MARK_SHAPE = (
    "{check: secrets.high-entropy, file: tests/fixtures.py, line: 12, "
    "reason: a made-up key the tests use}"
)
_MARK_EXAMPLE = f"e.g. {_MARK_SHAPE}"
_MARK_REQUIREMENTS = {
    "check": "must be the check id of the finding, e.g. secrets.high-entropy",
    "file": "must be the bundle path of the finding's file, e.g. scripts/fixtures.py",
    "line": "must be the finding's line number (1 or more), or left out for the whole file",
    "reason": "must say, in at most 500 characters, why the finding is not a problem",
}
_REQUIRED_MARK_KEYS = ("check", "file", "reason")


def text_value(value: object) -> str | None:
    """A metadata text value, stripped; None when blank or not text."""
    return (value.strip() or None) if isinstance(value, str) else None


def authors_value(value: object) -> list[str] | None:
    """Authors as a list, from a list of strings or one comma-separated string."""
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        return None
    authors = [item.strip() for item in value if item.strip()]
    return authors or None


def flag_value(value: object) -> bool | None:
    """A metadata flag from a boolean or the text ``true``/``false``; None otherwise."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def sidecar_path(path: Path) -> Path:
    """Where the registry sidecar of the asset at ``path`` lives.

    Args:
        path: A folder asset or a subagent file.

    Returns:
        ``<folder>/agentreg.yaml`` or ``<dir>/<stem>.agentreg.yaml``.
    """
    if path.is_dir():
        return path / SIDECAR_NAME
    return path.with_name(path.stem + SIDECAR_SUFFIX)


def read_sidecar(path: Path) -> tuple[RegistryMetadataDraft, list[Finding]]:
    """Read the registry sidecar of the asset at ``path``, if it has one.

    Args:
        path: A folder asset or a subagent file.

    Returns:
        The metadata it holds (empty when there is no sidecar) and its problems
        (``spec.unknown-key``, ``spec.invalid-field``, YAML problems, all BLOCK).
    """
    sidecar = sidecar_path(path)
    name = sidecar.name
    try:
        sidecar_stat = os.stat(sidecar)
    except FileNotFoundError:
        return RegistryMetadataDraft(), []
    except OSError as error:
        return RegistryMetadataDraft(), [_sidecar_unreadable(name, error.strerror or "")]
    # Checked before opening: a FIFO named like a sidecar would hang the open.
    if not stat.S_ISREG(sidecar_stat.st_mode):
        return RegistryMetadataDraft(), [_sidecar_unreadable(name, "it is not a regular file")]
    if sidecar_stat.st_size > MAX_SIDECAR_BYTES:
        reason = f"it is {sidecar_stat.st_size:,} bytes; a sidecar is a few lines"
        return RegistryMetadataDraft(), [_sidecar_unreadable(name, reason)]
    problems: list[Finding] = []
    text = decode_text(BundleFile(path=name, data=sidecar.read_bytes()), problems)
    if text is None:
        return RegistryMetadataDraft(), problems
    result = parse_yaml_mapping(text, file=name, field_prefix=name)
    if not result.readable:
        return RegistryMetadataDraft(), result.problems
    return _sidecar_draft(result, file=name)


def _sidecar_unreadable(name: str, reason: str) -> Finding:
    return spec_problem(
        "spec.sidecar-unreadable", f"cannot read the sidecar: {reason}", file=name, fix=None
    )


_SIDECAR_READERS: dict[str, tuple[Callable[[object], object], str]] = {
    "owner-team": (text_value, "must be text, e.g. platform-tools"),
    "version": (text_value, "must be text like 1.2.0; put the value in quotes"),
    "changelog": (text_value, "must be text"),
    "authors": (authors_value, "must be a list of names or one comma-separated string"),
    "machine-authored": (flag_value, "must be true or false"),
}


def _sidecar_draft(result: YamlResult, *, file: str) -> tuple[RegistryMetadataDraft, list[Finding]]:
    values: dict[str, object] = {}
    problems = list(result.problems)
    for key, raw in result.data.items():
        line = result.field_lines.get(key)
        if key == FALSE_POSITIVES_KEY:
            source = MarkSource(
                file=file, key_path=key, field_prefix=file, field_lines=result.field_lines
            )
            values["false_positives"], mark_problems = false_positive_marks(raw, source)
            problems.extend(mark_problems)
            continue
        if key not in _SIDECAR_READERS:
            problems.append(
                spec_problem(
                    "spec.unknown-key",
                    f"{key} is not a sidecar key; known keys: {', '.join(SIDECAR_KEYS)}",
                    file=file,
                    line=line,
                    field=f"{file}.{key}",
                    fix="remove it, or check its spelling",
                )
            )
            continue
        read, requirement = _SIDECAR_READERS[key]
        value = read(raw)
        if value is None and raw not in (None, "", []):  # Blank means "not set here".
            problems.append(
                spec_problem(
                    "spec.invalid-field",
                    f"{key}: {requirement} (it is {raw!r})",
                    file=file,
                    line=line,
                    field=f"{file}.{key}",
                )
            )
        values[_FIELD_OF_KEY[key]] = value
    return RegistryMetadataDraft.model_validate(values), problems


@dataclass(frozen=True)
class MarkSource:
    """Where a ``false-positives`` list is written, for the marks' lines and problems.

    Attributes:
        file: The file, e.g. ``agentreg.yaml`` or ``SKILL.md``.
        key_path: The list's key path in ``field_lines``: ``false-positives`` in a
            sidecar, ``metadata.false-positives`` in SKILL.md.
        field_prefix: Put before key paths in the problems' ``field`` (``agentreg.yaml``,
            ``frontmatter``), as the file's other problems do.
        field_lines: Key path to its 1-based line in ``file``.
    """

    file: str
    key_path: str
    field_prefix: str
    field_lines: Mapping[str, int]


def false_positive_marks(
    raw: object, source: MarkSource
) -> tuple[list[FalsePositiveMark] | None, list[Finding]]:
    """Read a ``false-positives`` value into marks, each bad entry a spec problem.

    The value is a list of marks, or text holding that list in YAML: SKILL.md metadata
    values must be strings, so a skill writes the list as a ``|`` block. A bad entry is
    left out and reported at its own line; the good ones are kept, so one problem does
    not hide the others.

    Args:
        raw: The value as parsed.
        source: Where it is written.

    Returns:
        The marks (None when there are none) and the problems: ``spec.invalid-field``
        for a value or entry of the wrong shape, ``spec.unknown-key`` for a key a mark
        does not have.
    """
    if raw is None or (isinstance(raw, str | list) and not raw):
        return None, []  # Blank means "not set here".
    if isinstance(raw, str):
        parsed = _embedded_list(raw, source)
        if isinstance(parsed, Finding):
            return None, [parsed]
        raw, source = parsed
    key_line = source.field_lines.get(source.key_path)
    if not isinstance(raw, list):
        message = f"{source.key_path}: must be a list of marks, {_MARK_EXAMPLE}"
        return None, [_mark_problem(message, source, source.key_path, key_line)]
    marks: list[FalsePositiveMark] = []
    problems: list[Finding] = []
    for index, entry in enumerate(raw):
        path = f"{source.key_path}[{index}]"
        line = source.field_lines.get(path, key_line)
        mark, entry_problems = _mark(entry, source, path=path, line=line)
        problems.extend(entry_problems)
        if mark is not None:
            marks.append(mark)
    return marks or None, problems


def _mark(
    entry: object, source: MarkSource, *, path: str, line: int | None
) -> tuple[FalsePositiveMark | None, list[Finding]]:
    """One mark from one list entry, or the problems that stop it being one."""
    if not isinstance(entry, dict):
        message = (
            f"{path}: must be a mark with check, file, reason and optionally line, {_MARK_EXAMPLE}"
        )
        return None, [_mark_problem(message, source, path, line)]
    problems = [
        spec_problem(
            "spec.unknown-key",
            f"{path}: {key} is not a key of a mark; known keys: {', '.join(MARK_KEYS)}",
            file=source.file,
            line=line,
            field=f"{source.field_prefix}.{path}.{key}",
            fix="remove it, or check its spelling",
        )
        for key in entry
        if key not in MARK_KEYS
    ]
    problems.extend(
        _mark_problem(f"{path}: {key} is missing; it {_MARK_REQUIREMENTS[key]}", source, path, line)
        for key in _REQUIRED_MARK_KEYS
        if entry.get(key) is None
    )
    if problems:
        return None, problems
    given = {key: entry[key] for key in MARK_KEYS if entry.get(key) is not None}
    try:
        mark = FalsePositiveMark.model_validate(
            {**given, "source_file": source.file, "source_line": line}
        )
    except ValidationError as error:
        bad = dict.fromkeys(str(detail["loc"][0]) for detail in error.errors() if detail["loc"])
        return None, [
            _mark_problem(
                f"{path}.{key}: {_MARK_REQUIREMENTS[key]}{_shown(key, given.get(key))}",
                source,
                f"{path}.{key}",
                line,
            )
            for key in bad
        ]
    return mark, []


def _shown(key: str, value: object) -> str:
    """`` (it is …)`` for a short value; a reason is prose and is not repeated."""
    shown = repr(value)
    if key == "reason" or len(shown) > 60:
        return ""
    return f" (it is {shown})"


def _mark_problem(message: str, source: MarkSource, path: str, line: int | None) -> Finding:
    return spec_problem(
        "spec.invalid-field",
        message,
        file=source.file,
        line=line,
        field=f"{source.field_prefix}.{path}",
        fix=f"write each mark like {_MARK_SHAPE}",
    )


def _embedded_list(text: str, source: MarkSource) -> tuple[object, MarkSource] | Finding:
    """Read marks written as YAML text, with each entry's line in the enclosing file.

    The text is parsed as the value of a mapping key, so that it gets the same guards as
    any YAML the registry reads (aliases, duplicate keys). Text with a line break is a
    ``|`` block, whose first line follows the key's line; quoted one-line text sits on
    the key's line.
    """
    key_line = source.field_lines.get(source.key_path)
    wrapper = f"{FALSE_POSITIVES_KEY}:\n" + textwrap.indent(text, "  ")
    result = parse_yaml_mapping(wrapper, file=source.file)
    if result.problems:
        said = result.problems[0].message
        message = f"{source.key_path}: cannot be read as a YAML list of marks ({said})"
        return _mark_problem(message, source, source.key_path, key_line)
    first = (key_line or 1) + (1 if "\n" in text else 0)
    lines = dict(source.field_lines)
    for path, line in result.field_lines.items():
        if path.startswith(f"{FALSE_POSITIVES_KEY}["):
            # Line 2 of the wrapper is the text's first line.
            lines[source.key_path + path.removeprefix(FALSE_POSITIVES_KEY)] = first + line - 2
    return result.data.get(FALSE_POSITIVES_KEY), replace(source, field_lines=lines)
