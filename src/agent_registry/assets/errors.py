"""Errors that carry every problem found, so a submitter can fix them all in one go."""

from __future__ import annotations

import re

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from agent_registry.vocabulary.findings import Finding, Severity


def format_problem(problem: Finding) -> str:
    """Render one problem as a single line: where, what, and how to fix it.

    Args:
        problem: The finding to render.

    Returns:
        ``location: message (fix: …)``, leaving out the parts that are not known.
    """
    where = problem.location
    text = f"{where}: {problem.message}" if where else problem.message
    return f"{text} (fix: {problem.fix})" if problem.fix else text


class ProblemsError(Exception):
    """Base of the errors that stop an asset from being read or submitted.

    Raising one error with every problem, rather than the first one found, saves the
    submitter a fix-and-retry round trip per problem.

    Attributes:
        problems: What went wrong, each with its file and fix when known.
    """

    def __init__(self, problems: list[Finding]) -> None:
        # Passing the list to Exception keeps the error picklable (Temporal activities
        # and multiprocessing move exceptions across process boundaries).
        super().__init__(problems)
        self.problems: list[Finding] = list(problems)

    def __str__(self) -> str:
        return "\n".join(format_problem(problem) for problem in self.problems)


# Pydantic puts union member and key markers into ``loc`` (``list[str]``, ``[key]``);
# they mean nothing to a submitter, who thinks in the keys of their file.
_TYPE_LABEL = re.compile(r"[\[\](),]|^(str|int|float|bool|list|dict|none|literal|enum)$")

_MESSAGE_PREFIXES = (
    ("Value error, ", ""),
    ("Assertion failed, ", ""),
    ("Input should be", "must be"),
    ("String should", "must"),
    ("List should", "must"),
    ("Dictionary should", "must"),
    ("Value should", "must"),
)


def validation_problems(
    error: ValidationError,
    *,
    file: str,
    field_prefix: str,
    field_lines: dict[str, int],
    default_line: int | None = 1,
) -> list[Finding]:
    """Turn a pydantic validation error into one finding per invalid field.

    Pydantic's wording ("Input should be a valid string") is written for programmers;
    this says the same about the submitter's own keys, on the line where they are.

    Args:
        error: The validation error of a manifest model.
        file: The manifest's path in the bundle.
        field_prefix: Put before the field path (``frontmatter``, ``server.json``).
        field_lines: Key path to line, as :mod:`agent_registry.assets.frontmatter` records
            them; the nearest enclosing known key gives the line.
        default_line: Line when no enclosing key is known (a missing top-level field).

    Returns:
        ``spec.missing-field``, ``spec.unknown-key`` or ``spec.invalid-field`` findings
        (severity BLOCK), one per field, in the order pydantic reports them.
    """
    grouped: dict[tuple[str | int, ...], list[ErrorDetails]] = {}
    for detail in error.errors(include_url=False):
        location = tuple(part for part in detail["loc"] if not _is_type_label(part))
        grouped.setdefault(location, []).append(detail)
    return [
        _field_problem(
            location,
            details,
            file=file,
            field_prefix=field_prefix,
            line=_nearest_line(location, field_lines) or default_line,
        )
        for location, details in grouped.items()
    ]


def _field_problem(
    location: tuple[str | int, ...],
    details: list[ErrorDetails],
    *,
    file: str,
    field_prefix: str,
    line: int | None,
) -> Finding:
    dotted = ".".join(str(part) for part in location)
    kinds = {detail["type"] for detail in details}
    messages = list(dict.fromkeys(_plain_message(detail) for detail in details))
    if kinds == {"missing"}:
        check_id, fix = "spec.missing-field", f"add the field {location[-1]}"
    elif kinds == {"extra_forbidden"}:
        check_id, fix = "spec.unknown-key", "remove it, or check its spelling"
    else:
        check_id, fix = "spec.invalid-field", None
    return Finding(
        check_id=check_id,
        severity=Severity.BLOCK,
        message=f"{dotted or field_prefix}: {' or '.join(messages)}",
        file=file,
        line=line,
        field=f"{field_prefix}.{dotted}" if dotted else field_prefix,
        fix=fix,
    )


def _plain_message(detail: ErrorDetails) -> str:
    """Pydantic's message about one value, in the submitter's terms."""
    kind = detail["type"]
    value = detail["input"]
    context = detail.get("ctx", {})
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "is not a known field"
    if kind == "string_too_long" and isinstance(value, str):
        return f"must be at most {context['max_length']} characters (it has {len(value)})"
    if kind == "string_too_short" and context.get("min_length") == 1:
        return "must not be empty"
    if kind == "string_type":
        return _not_text(value)
    message = detail["msg"]
    for prefix, replacement in _MESSAGE_PREFIXES:
        if message.startswith(prefix):
            message = replacement + message[len(prefix) :]
    if kind in ("literal_error", "enum", "string_pattern_mismatch") and isinstance(value, str):
        message = f"{message} (it is '{value}')"
    return message


def _not_text(value: object) -> str:
    """YAML turns unquoted ``no``, ``1.0`` or ``2024-01-01`` into non-text values."""
    if isinstance(value, list):
        return "must be text, not a list"
    if isinstance(value, dict):
        return "must be text, not a mapping"
    return f"must be text, but it reads as {value!r}; put the value in quotes"


def _is_type_label(part: str | int) -> bool:
    return isinstance(part, str) and _TYPE_LABEL.search(part) is not None


def _nearest_line(location: tuple[str | int, ...], field_lines: dict[str, int]) -> int | None:
    """Line of the deepest key of ``location`` that the file has (``tools[2].name``…)."""
    paths: list[str] = []
    path = ""
    for part in location:
        path = f"{path}[{part}]" if isinstance(part, int) else (f"{path}.{part}" if path else part)
        paths.append(path)
    return next((field_lines[p] for p in reversed(paths) if p in field_lines), None)
