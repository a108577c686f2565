"""How a route describes itself: one description registers the handler and documents it.

An :class:`Endpoint` carries everything the OpenAPI document says about a route (its
parameters, body and replies) next to the handler that serves it, and
:func:`add_endpoints` is the only way the API's routes are added. So a route cannot be
served without being documented, nor documented with parameters it does not read:
:func:`add_endpoints` also refuses query parameters the endpoint does not declare.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from aiohttp import web
from pydantic import BaseModel

from agent_registry.api.params import Param, refuse_unknown
from agent_registry.wire.schemas import ErrorBody

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
"""An aiohttp request handler."""


@dataclass(frozen=True)
class Content:
    """What a request or reply body holds.

    Attributes:
        model: The pydantic model of a JSON body (or of its items, with ``many``).
        many: The body is a JSON array of ``model``.
        max_items: With ``many``: the most items accepted.
        media_type: The body's media type.
        schema: The JSON schema of a body that is not a model (an archive, a form).
    """

    model: type[BaseModel] | None = None
    many: bool = False
    max_items: int | None = None
    media_type: str = "application/json"
    schema: Mapping[str, object] | None = None


@dataclass(frozen=True)
class Reply:
    """One documented reply of a route.

    Attributes:
        status: The HTTP status, or ``default`` for every status not listed.
        description: When this reply is given.
        content: Its body, if it has one.
        headers: Reply headers worth documenting, name to description.
    """

    status: int | Literal["default"]
    description: str
    content: Content | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


def error_reply(status: int | Literal["default"], description: str) -> Reply:
    """A reply with the API's error body."""
    return Reply(status, description, Content(ErrorBody))


@dataclass(frozen=True)
class Endpoint:
    """One route: how aiohttp matches it, how it is served, how it is documented.

    Attributes:
        method: The HTTP method (GET routes also answer HEAD).
        path: The path as OpenAPI writes it, e.g. ``/api/v1/assets/{kind}/{name}``.
        route: The path as aiohttp matches it, regular expressions included.
        handler: The handler.
        operation_id: OpenAPI's name for the operation.
        summary: One line on what it does.
        description: More, when one line is not enough.
        tags: OpenAPI tags, grouping operations in a viewer.
        params: Its query and path parameters.
        body: Its request body, if it takes one.
        replies: Its replies; an error reply for ``default`` is added when missing.
        strict_query: Refuse query parameters not in ``params`` (off for endpoints
            whose callers are not ours to hold to it, such as Slack's).
    """

    method: str
    path: str
    route: str
    handler: Handler
    operation_id: str
    summary: str
    description: str = ""
    tags: tuple[str, ...] = ()
    params: tuple[Param, ...] = ()
    body: Content | None = None
    replies: tuple[Reply, ...] = ()
    strict_query: bool = True


ENDPOINTS: web.AppKey[list[Endpoint]] = web.AppKey("agent_registry.endpoints")
"""Every endpoint added to an application, in order: what ``/openapi.json`` lists."""


def add_endpoints(app: web.Application, endpoints: Iterable[Endpoint]) -> None:
    """Register ``endpoints`` on ``app`` and list them for the OpenAPI document.

    Args:
        app: The application; it must not be running yet.
        endpoints: The routes to add.
    """
    listed = app.setdefault(ENDPOINTS, [])
    for endpoint in endpoints:
        handler = _strict(endpoint) if endpoint.strict_query else endpoint.handler
        if endpoint.method == "GET":  # HEAD too, for probes that want the status alone
            app.router.add_get(endpoint.route, handler)
        else:
            app.router.add_route(endpoint.method, endpoint.route, handler)
        listed.append(endpoint)


def _strict(endpoint: Endpoint) -> Handler:
    """The endpoint's handler, refusing query parameters it does not declare first."""

    async def handle(request: web.Request) -> web.StreamResponse:
        refuse_unknown(request, endpoint.params)
        return await endpoint.handler(request)

    return handle


def model_reply(
    model: BaseModel, *, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    """A JSON reply holding ``model``, serialized as its schema documents it."""
    return web.Response(
        status=status,
        body=model.model_dump_json(),
        content_type="application/json",
        headers=headers,
    )
