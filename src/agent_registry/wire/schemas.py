"""The API's own reply models: errors, telemetry counts and health.

The catalog's read models (:mod:`agent_registry.catalog.models`) are what the API
serves; these are the few shapes that exist only because there is an API.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, JsonValue


class ErrorBody(BaseModel):
    """Every error the API answers with, whatever the status.

    Attributes:
        error: What went wrong, in one sentence that names the parameter or ref at fault.
        detail: Machine-readable specifics: the parameter's name, validation errors, the
            allowed methods; null when the sentence says it all.
    """

    error: str = Field(description="What went wrong, naming the parameter or ref at fault")
    detail: JsonValue = Field(
        default=None, description="Specifics for programs: parameter, errors, allowed methods"
    )


class Recorded(BaseModel):
    """How many telemetry events a POST recorded."""

    recorded: int = Field(ge=0, description="Events recorded by this request")


class Staged(BaseModel):
    """The claim check of a staged bundle."""

    content_hash: str = Field(
        description="sha256 of the staged archive: start the lifecycle with it"
    )


class Health(BaseModel):
    """Whether the server can answer catalog requests, and if not, why not."""

    status: Literal["ok", "unavailable"]
    database: str = Field(description="'ok', or why the database did not answer")
