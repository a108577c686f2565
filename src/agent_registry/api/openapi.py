"""``GET /openapi.json``: an OpenAPI 3.1 document built from the routes themselves.

Schemas come from the pydantic models the routes serve and take
(:func:`pydantic.json_schema.models_json_schema`, the many-model form of
``model_json_schema``, with every ``$defs`` entry collected under
``#/components/schemas``); paths, parameters and replies come from each
:class:`~agent_registry.api.endpoint.Endpoint`. Nothing is written by hand, so the
document cannot fall behind the code. Replies are described as the server writes them
(serialization mode) and bodies as it reads them (validation mode).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from aiohttp import web
from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from agent_registry import __version__
from agent_registry.api.endpoint import ENDPOINTS, Content, Endpoint, Reply, add_endpoints
from agent_registry.wire.paths import OPENAPI_PATH
from agent_registry.wire.schemas import ErrorBody

OPENAPI_VERSION = "3.1.0"
REF_TEMPLATE = "#/components/schemas/{model}"
TITLE = "Agent Registry API"

DESCRIPTION = (
    "Read-only access to the Agent Registry's catalog: search, versions, bundles and "
    "the org report. Asset state changes only through the lifecycle workflows (the "
    "agentreg CLI and the Slack review app); the two POST routes record telemetry. "
    'Every error is JSON: {"error": "...", "detail": ...}.'
)

DEFAULT_ERROR = Reply(
    "default",
    "Any other failure, in the error shape: an unknown path (404), a method the path "
    "does not take (405, with Allow), or a server error (500).",
    Content(ErrorBody),
)

Models = dict[tuple[type[BaseModel], JsonSchemaMode], dict[str, Any]]

_DOCUMENT: web.AppKey[dict[str, bytes]] = web.AppKey("agent_registry.openapi_document")


def openapi_document(endpoints: Sequence[Endpoint]) -> dict[str, Any]:
    """The OpenAPI 3.1 document of ``endpoints``.

    Args:
        endpoints: The routes, in the order they were added.

    Returns:
        The document, as a JSON-ready dict.
    """
    wanted: list[tuple[type[BaseModel], JsonSchemaMode]] = [(ErrorBody, "serialization")]
    for endpoint in endpoints:
        if endpoint.body is not None and endpoint.body.model is not None:
            wanted.append((endpoint.body.model, "validation"))
        for reply in (*endpoint.replies, DEFAULT_ERROR):
            if reply.content is not None and reply.content.model is not None:
                wanted.append((reply.content.model, "serialization"))
    unique = list(dict.fromkeys(wanted))
    refs, definitions = models_json_schema(unique, ref_template=REF_TEMPLATE)
    models: Models = {key: refs[key] for key in unique}
    paths: dict[str, dict[str, Any]] = {}
    for endpoint in endpoints:
        paths.setdefault(endpoint.path, {})[endpoint.method.lower()] = _operation(endpoint, models)
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": TITLE, "version": __version__, "description": DESCRIPTION},
        "paths": paths,
        "components": {"schemas": definitions.get("$defs", {})},
    }


def _operation(endpoint: Endpoint, models: Models) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": endpoint.operation_id,
        "summary": endpoint.summary,
    }
    if endpoint.description:
        operation["description"] = endpoint.description
    if endpoint.tags:
        operation["tags"] = list(endpoint.tags)
    if endpoint.params:
        operation["parameters"] = [
            {
                "name": param.name,
                "in": param.where,
                "required": param.required,
                "description": param.description,
                "schema": param.schema(),
            }
            for param in endpoint.params
        ]
    if endpoint.body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {
                endpoint.body.media_type: {
                    "schema": _schema(endpoint.body, models, mode="validation")
                }
            },
        }
    replies = list(endpoint.replies)
    if not any(reply.status == "default" for reply in replies):
        replies.append(DEFAULT_ERROR)
    operation["responses"] = {str(reply.status): _reply(reply, models) for reply in replies}
    return operation


def _reply(reply: Reply, models: Models) -> dict[str, Any]:
    described: dict[str, Any] = {"description": reply.description}
    if reply.headers:
        described["headers"] = {
            name: {"description": text, "schema": {"type": "string"}}
            for name, text in reply.headers.items()
        }
    if reply.content is not None:
        described["content"] = {
            reply.content.media_type: {
                "schema": _schema(reply.content, models, mode="serialization")
            }
        }
    return described


def _schema(content: Content, models: Models, *, mode: JsonSchemaMode) -> dict[str, Any]:
    if content.model is None:
        return dict(content.schema or {})
    ref = models[(content.model, mode)]
    if not content.many:
        return ref
    array: dict[str, Any] = {"type": "array", "items": ref}
    if content.max_items is not None:
        array["maxItems"] = content.max_items
    return array


async def openapi_json(request: web.Request) -> web.StreamResponse:
    """The document of every endpoint on this application, built at the first request.

    Built late because routes may be added after the application is built (the
    dashboard's); by the first request the application is frozen, so it stays right.
    """
    cache = request.app[_DOCUMENT]
    if "json" not in cache:
        endpoints: list[Endpoint] = request.app[ENDPOINTS]
        document = openapi_document(endpoints)
        cache["json"] = json.dumps(document, indent=2).encode()
    return web.Response(body=cache["json"], content_type="application/json")


ENDPOINT = Endpoint(
    "GET",
    OPENAPI_PATH,
    OPENAPI_PATH,
    openapi_json,
    "openapi",
    "This document",
    tags=("operations",),
    replies=(
        Reply(
            200,
            "The OpenAPI 3.1 document of every route.",
            Content(schema={"type": "object"}),
        ),
    ),
)


def add_routes(app: web.Application) -> None:
    """Add ``/openapi.json``, documenting every endpoint the application has."""
    app[_DOCUMENT] = {}
    add_endpoints(app, [ENDPOINT])
