"""Query and path parameters: each one documents itself and reads itself, strictly.

A parameter is declared once, as a module-level constant of the route that takes it;
the same object gives the OpenAPI document its schema and reads the request, so what
is documented is what is enforced. Reading refuses, with a 400 naming the parameter:
a value of the wrong type or out of range, a parameter given twice, text the database
could not store (NUL, unpaired surrogates), and parameters the route does not take (a
typo like ``?qurey=`` would otherwise silently search for everything).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from aiohttp import web

from agent_registry.api.errors import bad_parameter

Where = Literal["query", "path"]

_INTEGER = re.compile(r"[+-]?[0-9]{1,19}")


@dataclass(frozen=True)
class Param:
    """One parameter of a route.

    Attributes:
        name: Its name in the query string or the route pattern.
        description: What it means, for the OpenAPI document.
        where: ``query`` or ``path``; path parameters are required.
    """

    name: str
    description: str
    where: Where = "query"

    @property
    def required(self) -> bool:
        """Path parameters always are; query parameters never are (they have defaults)."""
        return self.where == "path"

    def schema(self) -> dict[str, object]:
        """The JSON schema of the value, for the OpenAPI document."""
        return {"type": "string"}

    def raw(self, request: web.Request) -> str | None:
        """The value as sent, decoded, or None when absent.

        Raises:
            ApiError: 400 when a query parameter is given more than once, or when the
                text is not storable.
        """
        if self.where == "path":
            value: str | None = request.match_info.get(self.name)
        else:
            values = request.query.getall(self.name, [])
            if len(values) > 1:
                raise bad_parameter(self.name, f"given {len(values)} times; give it once")
            value = values[0] if values else None
        if value is not None:
            _check_storable(self.name, value)
        return value


@dataclass(frozen=True)
class TextParam(Param):
    """Free text, capped in length; empty counts as absent."""

    max_chars: int = 300

    def schema(self) -> dict[str, object]:
        """A string of at most ``max_chars`` characters."""
        return {"type": "string", "maxLength": self.max_chars}

    def read(self, request: web.Request) -> str | None:
        """The text, or None when absent or empty.

        Raises:
            ApiError: 400 when longer than ``max_chars`` (see also :meth:`Param.raw`).
        """
        value = self.raw(request)
        if value is not None and len(value) > self.max_chars:
            raise bad_parameter(self.name, f"longer than {self.max_chars} characters")
        return value or None


@dataclass(frozen=True)
class IntParam(Param):
    """A whole number within bounds, with a default when absent."""

    default: int = 0
    minimum: int = 0
    maximum: int = 2**31 - 1

    def schema(self) -> dict[str, object]:
        """An integer with its bounds and default."""
        return {
            "type": "integer",
            "minimum": self.minimum,
            "maximum": self.maximum,
            "default": self.default,
        }

    def read(self, request: web.Request) -> int:
        """The number, or the default when absent or empty.

        Raises:
            ApiError: 400 when not a whole number or out of bounds.
        """
        value = self.raw(request)
        if value is None or value == "":
            return self.default
        if not _INTEGER.fullmatch(value):
            raise bad_parameter(self.name, f"'{_shown(value)}' is not a whole number")
        number = int(value)
        if not self.minimum <= number <= self.maximum:
            raise bad_parameter(self.name, f"{number} is outside {self.minimum}..{self.maximum}")
        return number


@dataclass(frozen=True)
class ChoiceParam(Param):
    """One of a fixed set of values (a kind, a stage); empty counts as absent."""

    choices: tuple[str, ...] = ()

    def schema(self) -> dict[str, object]:
        """A string enumerating the choices."""
        return {"type": "string", "enum": list(self.choices)}

    def read(self, request: web.Request) -> str | None:
        """The chosen value, or None when absent or empty.

        Raises:
            ApiError: 400 naming the known values when the value is not one of them.
        """
        value = self.raw(request)
        if not value:
            return None
        if value not in self.choices:
            raise bad_parameter(
                self.name,
                f"unknown value '{_shown(value)}'; known: {', '.join(self.choices)}",
            )
        return value


@dataclass(frozen=True)
class PatternParam(Param):
    """Text that must match a pattern exactly (a content hash).

    Attributes:
        pattern: A regular expression, anchored with ``^`` and ``$`` so that JSON
            Schema (which searches rather than matches) documents what is enforced.
        expected: What the error says was expected instead.
    """

    pattern: str = ".*"
    expected: str = "a value"

    def schema(self) -> dict[str, object]:
        """A string with its pattern."""
        return {"type": "string", "pattern": self.pattern}

    def read(self, request: web.Request) -> str:
        """The value.

        Raises:
            ApiError: 400 saying what was expected when it does not match or is absent.
        """
        value = self.raw(request)
        if value is None or not re.fullmatch(self.pattern, value):
            raise bad_parameter(self.name, f"expected {self.expected}")
        return value


def refuse_unknown(request: web.Request, params: Iterable[Param]) -> None:
    """Refuse query parameters the route does not take, naming them and the known ones.

    Raises:
        ApiError: 400 naming the first unknown parameter.
    """
    known = [param.name for param in params if param.where == "query"]
    for name in request.query:
        if name not in known:
            listed = ", ".join(known) if known else "none"
            raise bad_parameter(_shown(name), f"not a parameter of this route (it takes: {listed})")


def _check_storable(name: str, value: str) -> None:
    """Refuse text no database column can hold, rather than fail at the database."""
    if "\x00" in value:
        raise bad_parameter(name, "contains a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise bad_parameter(name, "is not valid UTF-8 text") from None


def _shown(value: str) -> str:
    """A value as an error message quotes it: short enough to read, always encodable."""
    short = value if len(value) <= 40 else f"{value[:40]}…"
    return short.encode("utf-8", "backslashreplace").decode("utf-8")
