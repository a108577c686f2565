"""The published ``server.json`` schema, and the check every upstream document passes.

An upstream registry is not ours to trust: what it serves is checked against the
schema the MCP Registry project publishes (kept beside this module, see
``SOURCE.md``) before anything is written or submitted, and refused with the first
problems named by their JSON path.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any

from jsonschema import Draft7Validator  # type: ignore[import-untyped]
from jsonschema.exceptions import ValidationError  # type: ignore[import-untyped]

SCHEMA_FILE = "server.schema.json"
MAX_PROBLEMS_SHOWN = 3
"""How many schema problems a message names before counting the rest."""


@functools.cache
def _validator() -> Draft7Validator:
    text = resources.files(__package__).joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return Draft7Validator(schema, format_checker=Draft7Validator.FORMAT_CHECKER)


def schema_problems(document: object) -> list[str]:
    """What in ``document`` the ``server.json`` schema refuses, one line each.

    Args:
        document: A parsed ``server.json``.

    Returns:
        ``"<json path>: <message>"`` lines, shortest path first; empty when valid.
    """
    errors = sorted(_validator().iter_errors(document), key=_order)
    return [f"{_where(error)}: {_short(error.message)}" for error in errors]


def describe_problems(problems: list[str]) -> str:
    """The first problems joined for a one-line message, with a count of the rest."""
    shown = "; ".join(problems[:MAX_PROBLEMS_SHOWN])
    rest = len(problems) - MAX_PROBLEMS_SHOWN
    return shown + (f" (and {rest} more)" if rest > 0 else "")


def _order(error: ValidationError) -> tuple[int, str]:
    return (len(error.absolute_path), _where(error))


def _where(error: ValidationError) -> str:
    path = "".join(
        f"[{part}]" if isinstance(part, int) else f".{part}" for part in error.absolute_path
    )
    return f"server.json{path}" if path else "server.json"


def _short(message: str) -> str:
    return message if len(message) <= 200 else f"{message[:200]}…"
