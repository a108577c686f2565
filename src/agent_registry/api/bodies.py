"""Request bodies: read under a size cap, parsed as strict JSON, validated into models.

The telemetry routes take bodies from every machine that runs the usage hook, so a body
is refused (413) as soon as it exceeds its cap, before it is all read, and anything the
database could not store is refused here (400) rather than failing there (500): text
with NUL or unpaired surrogates, and timestamps without a timezone, whose meaning
(local time? UTC?) cannot be known.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TypeVar

from aiohttp import web
from pydantic import BaseModel, JsonValue, ValidationError

from agent_registry.api.errors import ApiError, too_large

Model = TypeVar("Model", bound=BaseModel)

_CHUNK_BYTES = 64 * 1024

MAX_REPORTED_PROBLEMS = 20
"""A batch of 500 broken events gets the first problems, not a reply larger than itself."""


async def read_json(request: web.Request, *, max_bytes: int) -> object:
    """The request's body parsed as JSON (RFC 8259: no NaN or Infinity).

    Args:
        request: The request.
        max_bytes: The largest body accepted.

    Returns:
        The parsed value, its text checked storable.

    Raises:
        ApiError: 413 when the body is larger than ``max_bytes`` (declared or sent);
            400 when it is empty, not JSON, or holds text no database can store.
    """
    data = await read_bytes(request, max_bytes=max_bytes)
    if not data.strip():
        raise ApiError(400, "the body is empty; send JSON")
    try:
        parsed: object = json.loads(data, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as error:
        raise ApiError(400, f"the body is not JSON: {_first_line(error)}") from None
    _check_storable(parsed)
    return parsed


async def read_bytes(request: web.Request, *, max_bytes: int) -> bytes:
    """The request's raw body, refused (413) as soon as it is over ``max_bytes``.

    Raises:
        ApiError: 413 when the body is larger than ``max_bytes`` (declared or sent).
    """
    declared = request.content_length
    if declared is not None and declared > max_bytes:
        raise too_large(
            f"the body is {declared} bytes; at most {max_bytes} are accepted", limit=max_bytes
        )
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(_CHUNK_BYTES):
        size += len(chunk)
        if size > max_bytes:
            raise too_large(f"the body is over {max_bytes} bytes", limit=max_bytes)
        chunks.append(chunk)
    return b"".join(chunks)


def validate(data: object, model: type[Model], *, what: str) -> Model:
    """``data`` as ``model``, or a 400 listing what is wrong with it.

    Args:
        data: Parsed JSON.
        model: The model the route takes.
        what: How the error names the body, e.g. ``the install event``.

    Raises:
        ApiError: 400 with pydantic's errors (locations and messages, never the input,
            which may be large) as the detail.
    """
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise _invalid(what, _problems(error, prefix=())) from None


def validate_list(data: object, model: type[Model], *, what: str, max_items: int) -> list[Model]:
    """``data`` as a list of ``model``, refusing more than ``max_items`` before validating.

    Every item is validated, so one reply lists every bad item (up to
    :data:`MAX_REPORTED_PROBLEMS`), each located by its index.

    Raises:
        ApiError: 400 when not a list or an item is invalid; 413 when longer than
            ``max_items``.
    """
    if not isinstance(data, list):
        raise ApiError(400, f"{what} must be a JSON array", {"expected": "array"})
    if len(data) > max_items:
        raise too_large(
            f"{what} holds {len(data)} items; send at most {max_items} per request",
            limit=max_items,
        )
    items: list[Model] = []
    problems: list[dict[str, JsonValue]] = []
    for index, item in enumerate(data):
        try:
            items.append(model.model_validate(item))
        except ValidationError as error:
            problems.extend(_problems(error, prefix=(index,)))
    if problems:
        raise _invalid(what, problems)
    return items


def require_aware(moment: datetime, *, field: str) -> None:
    """Refuse a timestamp without a timezone, or one that cannot be put in UTC.

    Raises:
        ApiError: 400 naming ``field``.
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ApiError(
            400,
            f"{field} has no timezone; send it in UTC, e.g. 2025-01-31T12:00:00Z",
            {"field": field},
        )
    try:
        moment.astimezone(UTC)
    except OverflowError:
        raise ApiError(400, f"{field} is out of range", {"field": field}) from None


def _problems(error: ValidationError, *, prefix: tuple[int, ...]) -> list[dict[str, JsonValue]]:
    return [
        {
            "loc": [*prefix, *problem["loc"]],
            "msg": problem["msg"],
            "type": problem["type"],
        }
        for problem in error.errors(include_url=False, include_context=False, include_input=False)
    ]


def _invalid(what: str, problems: list[dict[str, JsonValue]]) -> ApiError:
    first = problems[0]
    location = first["loc"]
    where = ".".join(str(part) for part in location) if isinstance(location, list) else ""
    return ApiError(
        400,
        f"{what} is not valid: {where or 'body'}: {first['msg']}",
        {"errors": list(problems[:MAX_REPORTED_PROBLEMS])},
    )


def _refuse_constant(name: str) -> object:
    raise ValueError(f"{name} is not a JSON number")


def _first_line(error: BaseException) -> str:
    return (str(error).splitlines() or [type(error).__name__])[0]


def _check_storable(value: object) -> None:
    """Refuse NUL and unpaired surrogates anywhere in the parsed body, keys included."""
    for text in _strings(value):
        if "\x00" in text:
            raise ApiError(400, "the body contains a NUL character, which no field may hold")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise ApiError(400, "the body contains text that is not valid UTF-8") from None


def _strings(value: object) -> Iterator[str]:
    """Every string in a parsed JSON value; iterative, so deep nesting cannot overflow."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
