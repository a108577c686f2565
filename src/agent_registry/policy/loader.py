"""Loading the policy file: strict TOML parsing, and errors an operator can act on.

Loading is strict (unknown keys are errors) because a typo in a governance file must not
silently relax the bar; every problem is reported with its field path, as the key is
written in the TOML file.
"""

from __future__ import annotations

import functools
import importlib.resources
import re
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, get_args, get_origin

from pydantic import BaseModel, ValidationError

from agent_registry.policy.model import Policy

DEFAULT_POLICY_RESOURCE = "default_policy.toml"
"""Name of the packaged default policy inside the ``agent_registry`` package."""


class PolicyError(Exception):
    """A policy file that cannot be read or does not validate.

    The message names the file, the field path and what is wrong, one problem per line,
    ready to show to the operator as is.

    Attributes:
        source: The file (or other source) the policy came from.
        problems: One ``field: what is wrong`` line per problem.
    """

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        self.source = source
        self.problems = list(problems)
        super().__init__("\n".join(f"{source}: {problem}" for problem in self.problems))


def parse_policy(text: str, *, source: str) -> Policy:
    """Parse and validate policy TOML text; the same text parses once per process.

    Every eval and every review message reads the policy file afresh, so a raised bar
    applies at once; parsing and validating it each time cost a busy worker a few
    milliseconds of CPU per call. The text is the key, so an edited file parses anew.
    Each caller gets its own copy: :class:`Policy` is frozen, but its dicts and lists
    are not, and a change one caller made must not reach the next. Errors are not
    remembered: a broken file is reported on every read.

    Args:
        text: The TOML text.
        source: Where the text came from (a path), named in every error.

    Returns:
        The validated policy.

    Raises:
        PolicyError: If the text is not TOML or does not validate.
    """
    return _parsed_policy(text, source).model_copy(deep=True)


@functools.lru_cache(maxsize=8)
def _parsed_policy(text: str, source: str) -> Policy:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # tomllib's message carries "(at line N, column M)", which is what the operator needs.
        raise PolicyError(source, [f"not valid TOML: {exc}"]) from None
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        raise PolicyError(source, _describe(exc)) from None


def load_policy(path: Path | None) -> Policy:
    """Load the policy file, or the packaged default when no path is configured.

    Args:
        path: The policy file; None for the default shipped with the package.

    Returns:
        The validated policy.

    Raises:
        PolicyError: If the file cannot be read, is not TOML or does not validate; the
            message names the file, the field path and what is wrong.
    """
    if path is None:
        resource = importlib.resources.files("agent_registry").joinpath(DEFAULT_POLICY_RESOURCE)
        return parse_policy(
            resource.read_text(encoding="utf-8"), source=f"{DEFAULT_POLICY_RESOURCE} (packaged)"
        )
    source = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise PolicyError(source, ["policy file not found"]) from None
    except OSError as exc:
        raise PolicyError(source, [f"cannot read the policy file ({exc.strerror})"]) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise PolicyError(source, ["not valid TOML: the file is not UTF-8 text"]) from None
    return parse_policy(text, source=source)


def _describe(exc: ValidationError) -> list[str]:
    """Turn pydantic's errors into ``field.path: what is wrong`` lines."""
    problems = []
    for error in exc.errors(include_url=False):
        loc = tuple(part for part in error["loc"] if part != "[key]")
        where, what = _field_path(loc), _error_message(error, loc)
        problems.append(f"{where}: {what}" if where else what)
    return problems


def _error_message(error: Mapping[str, Any], loc: tuple[int | str, ...]) -> str:
    kind = error["type"]
    if kind == "value_error":
        # Our own validators' messages, without pydantic's "Value error, " prefix.
        return str(error["ctx"]["error"])
    if kind == "extra_forbidden":
        known = _known_keys(loc[:-1])
        hint = f" (known keys here: {', '.join(known)})" if known else ""
        return f"unknown key{hint}; check the spelling"
    if kind == "missing":
        return "is required but missing"
    return str(error["msg"])


def _field_path(loc: tuple[int | str, ...]) -> str:
    """``('checks', 'secrets.*')`` → ``checks."secrets.*"``, like the key is written in TOML."""
    parts = []
    for part in loc:
        text = str(part)
        if isinstance(part, int):
            parts.append(f"[{part}]")
        elif re.fullmatch(r"[A-Za-z0-9_-]+", text):
            parts.append(f".{text}")
        else:
            parts.append(f'."{text}"')
    return "".join(parts).lstrip(".")


def _known_keys(loc: tuple[int | str, ...]) -> list[str]:
    """The keys the policy model accepts at ``loc``, for "did you mean" hints."""
    model: type[BaseModel] = Policy
    index = 0
    while index < len(loc):
        field = model.model_fields.get(str(loc[index]))
        if field is None:
            return []
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            model, index = annotation, index + 1
            continue
        args = get_args(annotation)
        value_type = args[1] if get_origin(annotation) is dict and len(args) == 2 else None
        if isinstance(value_type, type) and issubclass(value_type, BaseModel):
            # A table of models, e.g. [tiers.high]: skip the table key.
            model, index = value_type, index + 2
            continue
        return []
    return sorted(model.model_fields)
