"""The API's one error shape, and the middleware that gives it to every failure.

A client should never have to parse HTML or guess: an unknown path, a wrong method, a
bad parameter, a missing ref and a bug all answer ``{"error": ..., "detail": ...}``
with the status that says which. Handlers raise :class:`ApiError` (or let a
:class:`~agent_registry.catalog.models.CatalogNotFoundError` or
:class:`~agent_registry.assets.refs.InvalidRefError` through); the middleware writes
the reply.
"""

from __future__ import annotations

import json
import logging

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler
from pydantic import JsonValue

from agent_registry.assets.refs import InvalidRefError
from agent_registry.catalog.models import CatalogNotFoundError
from agent_registry.wire.schemas import ErrorBody

logger = logging.getLogger(__name__)

INTERNAL_ERROR = "the registry failed to answer this request; its log says why"
"""What a client is told about a bug: the cause stays in the server's log."""


class ApiError(Exception):
    """A failure to answer with a status and an :class:`ErrorBody`.

    Attributes:
        status: The HTTP status.
        error: The sentence for :attr:`ErrorBody.error`.
        detail: The value for :attr:`ErrorBody.detail`.
        headers: Extra reply headers (``Allow`` on a 405).
    """

    def __init__(
        self,
        status: int,
        error: str,
        detail: JsonValue = None,
        *,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(error)
        self.status = status
        self.error = error
        self.detail = detail
        self.headers = headers or {}


def bad_parameter(name: str, problem: str) -> ApiError:
    """A 400 for parameter ``name``: the sentence and the detail both name it."""
    return ApiError(400, f"parameter '{name}': {problem}", {"parameter": name})


def too_large(problem: str, *, limit: int) -> ApiError:
    """A 413: the request carries more than one request may."""
    return ApiError(413, problem, {"limit": limit})


def error_response(
    status: int, error: str, detail: JsonValue = None, *, headers: dict[str, str] | None = None
) -> web.Response:
    """The JSON reply for an error.

    Written with ``ensure_ascii`` so that text quoted from a request (an unknown
    parameter's name) is escaped rather than able to break the encoding of the reply.
    """
    body = json.dumps(ErrorBody(error=error, detail=detail).model_dump(mode="json"))
    return web.Response(status=status, body=body, content_type="application/json", headers=headers)


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Answer every failure of ``handler`` with the API's error shape.

    Replies a handler returns pass untouched (the Slack endpoint's 401s, a 304), as do
    aiohttp's non-error statuses (redirects, 304) raised as exceptions.
    """
    try:
        return await handler(request)
    except ApiError as error:
        return error_response(error.status, error.error, error.detail, headers=error.headers)
    except CatalogNotFoundError as error:
        return error_response(404, str(error))
    except InvalidRefError as error:
        return error_response(400, str(error))
    except web.HTTPException as error:
        if error.status < 400:
            raise
        return _from_aiohttp(request, error)
    except Exception:  # the boundary: a bug becomes a 500 here and a traceback in the log
        logger.exception("api request %s %s failed", request.method, request.path)
        return error_response(500, INTERNAL_ERROR)


def _from_aiohttp(request: web.Request, error: web.HTTPException) -> web.Response:
    """The refusals aiohttp makes itself (no route, wrong method, too large) in our shape."""
    if isinstance(error, web.HTTPMethodNotAllowed):
        allowed = sorted(error.allowed_methods)
        listed: list[JsonValue] = list(allowed)
        return error_response(
            405,
            f"{request.method} is not allowed on {request.path}; use {', '.join(allowed)}",
            {"allowed": listed},
            headers={hdrs.ALLOW: ", ".join(allowed)},
        )
    if isinstance(error, web.HTTPNotFound):
        return error_response(404, f"no route {request.path}; see /openapi.json")
    return error_response(error.status, error.reason)
