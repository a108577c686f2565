"""``agentreg setup``: make a cluster ready for the registry, once per deployment.

Three steps, each idempotent, each reporting what it did and what was already in place:

1. The Temporal namespace (``TEMPORAL_NAMESPACE``) must exist: setup never creates it,
   it names the command that does.
2. Our search attributes (:data:`agent_registry.temporal.ALL_SEARCH_ATTRIBUTES`) are
   registered through the operator API, only the missing ones. An attribute that exists
   with another type is a refusal: a type cannot be changed in place. Temporal Cloud does
   not let API keys manage search attributes; there the step names the attributes and
   types to add in the Cloud UI or with ``tcld``.
3. The registry database is migrated (``agentreg db upgrade``). A role without the right
   to create tables, or a database that cannot be reached, is a refusal naming the
   database (never its password).

A refused step does not stop the others; any refusal makes the exit code 1.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Annotated, Any

import typer
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.client import Client
from temporalio.common import SearchAttributeIndexedValueType
from temporalio.envconfig import ClientConfig
from temporalio.service import RPCError, RPCStatusCode

from agent_registry.cli.render import err, plain
from agent_registry.config import Settings, redact_url
from agent_registry.registry.db import alembic_config, make_engine, upgrade_database
from agent_registry.temporal import ALL_SEARCH_ATTRIBUTES, DEFAULT_ADDRESS, connect

INSUFFICIENT_PRIVILEGE = "42501"
"""PostgreSQL's SQLSTATE for "permission denied" (psycopg's ``InsufficientPrivilege``)."""

TYPE_NAMES: dict[IndexedValueType.ValueType, str] = {
    IndexedValueType.INDEXED_VALUE_TYPE_TEXT: "Text",
    IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD: "Keyword",
    IndexedValueType.INDEXED_VALUE_TYPE_INT: "Int",
    IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE: "Double",
    IndexedValueType.INDEXED_VALUE_TYPE_BOOL: "Bool",
    IndexedValueType.INDEXED_VALUE_TYPE_DATETIME: "Datetime",
    IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST: "KeywordList",
}
"""Search-attribute types as the ``temporal`` CLI, the Cloud UI and ``tcld`` spell them."""

_SDK_TO_API = {
    SearchAttributeIndexedValueType.KEYWORD: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    SearchAttributeIndexedValueType.DATETIME: IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
}

CLOUD_ONLY_STATUSES = (RPCStatusCode.PERMISSION_DENIED, RPCStatusCode.UNIMPLEMENTED)
"""How a server says the operator API is not for this caller (Temporal Cloud, API keys)."""


def required_search_attributes() -> dict[str, IndexedValueType.ValueType]:
    """Every attribute the registry uses, with its API type."""
    return {key.name: _SDK_TO_API[key.indexed_value_type] for key in ALL_SEARCH_ATTRIBUTES}


@dataclass
class StepResult:
    """What one setup step did.

    Attributes:
        title: The step, as a heading (e.g. ``Temporal localhost:7233, namespace default``).
        done: Changes made this run.
        in_place: What was already as needed.
        refusal: Why the step refused, phrased for the operator; None when it succeeded.
    """

    title: str
    done: list[str] = field(default_factory=list)
    in_place: list[str] = field(default_factory=list)
    refusal: str | None = None


def setup(
    skip_temporal: Annotated[
        bool,
        typer.Option(
            "--skip-temporal",
            help="Leave Temporal alone (e.g. Temporal Cloud, attributes added in its UI).",
        ),
    ] = False,
    skip_database: Annotated[
        bool, typer.Option("--skip-database", help="Leave the registry database alone.")
    ] = False,
) -> None:
    """Make the cluster ready: namespace check, search attributes, database migrations.

    Safe to run again; it says what it did and what was already in place, and exits 1
    when a step refuses.
    """
    results: list[StepResult] = []
    if not skip_temporal:
        results.append(asyncio.run(setup_temporal()))
    if not skip_database:
        results.append(setup_database(Settings().resolved_database_url))
    for result in results:
        print_result(result)
    if not results:
        plain("nothing to do: both steps skipped")
    for line in access_advice(Settings(), temporal=not skip_temporal):
        plain(line)
    if any(result.refusal for result in results):
        raise typer.Exit(1)


NAMESPACE_ACCESS = (
    "namespace access: give write access (mTLS certificates or API keys) to the registry "
    "server and the workers only, and the Temporal UI read-only access; people and CI "
    "write through agentreg serve, which verifies who they are "
    '(docs/deploy.md, "Who may reach the namespace")'
)
LOCAL_IDENTITY = (
    "identity mode: local (--as on trust, loopback only); a shared registry sets "
    "AGENT_REGISTRY_IDENTITY_MODE=oidc with AGENT_REGISTRY_OIDC_ISSUER and "
    'AGENT_REGISTRY_OIDC_AUDIENCE (docs/security.md, "Verified identities")'
)


def access_advice(settings: Settings, *, temporal: bool) -> list[str]:
    """What a cluster's operator must still do that setup cannot: who may reach what.

    Setup runs with the namespace's credentials, so it is the moment to say who else
    must not hold them, and whether the server would verify the people who decide.
    """
    lines = [NAMESPACE_ACCESS] if temporal else []
    if settings.identity_mode == "local":
        lines.append(LOCAL_IDENTITY)
    elif settings.oidc_issuer:
        lines.append(f"identity mode: oidc, issuer {settings.oidc_issuer}")
    return lines


def print_result(result: StepResult) -> None:
    """One step's outcome: its title, then a line per change, item in place or refusal."""
    plain(result.title)
    for line in result.in_place:
        plain(f"  already in place: {line}")
    for line in result.done:
        plain(f"  done: {line}")
    if result.refusal:
        err.print(f"  refused: {result.refusal}", markup=False, highlight=False)


def _configured_target() -> tuple[str, str]:
    config = ClientConfig.load_client_connect_config()
    return str(config.get("target_host") or DEFAULT_ADDRESS), str(
        config.get("namespace") or "default"
    )


async def setup_temporal(*, address: str | None = None, namespace: str | None = None) -> StepResult:
    """Connect the way every process does (``TEMPORAL_*``), then ensure the namespace set-up.

    Args:
        address: Overrides ``TEMPORAL_ADDRESS`` (tests).
        namespace: Overrides ``TEMPORAL_NAMESPACE`` (tests).

    Returns:
        The step's outcome.
    """
    target, configured_namespace = _configured_target()
    target = address or target
    shown_namespace = namespace or configured_namespace
    try:
        client = await connect(address=address, namespace=namespace)
    except RuntimeError as error:
        return StepResult(
            title=f"Temporal {target}, namespace {shown_namespace}",
            refusal=(
                f"cannot reach Temporal at {target} ({error}). Set TEMPORAL_ADDRESS (and "
                "TEMPORAL_API_KEY or TEMPORAL_TLS_CLIENT_CERT_PATH/KEY_PATH for a secured "
                "cluster) to the cluster's frontend."
            ),
        )
    return await ensure_temporal(client)


async def ensure_temporal(client: Client) -> StepResult:
    """Check the client's namespace exists and register the missing search attributes.

    Args:
        client: Connected to the cluster and namespace to set up.

    Returns:
        The step's outcome.
    """
    namespace = client.namespace
    result = StepResult(
        title=f"Temporal {client.service_client.config.target_host}, namespace {namespace}"
    )
    try:
        await client.workflow_service.describe_namespace(
            DescribeNamespaceRequest(namespace=namespace)
        )
        result.in_place.append(f"namespace {namespace} exists")
    except RPCError as error:
        if error.status is RPCStatusCode.NOT_FOUND:
            result.refusal = (
                f"namespace {namespace} does not exist on this cluster. Create it, then run "
                f"`agentreg setup` again:\n"
                f"    temporal operator namespace create --namespace {namespace} "
                f"--address {client.service_client.config.target_host}\n"
                "  (on Temporal Cloud, create it in the Cloud UI or with "
                "`tcld namespace create`)."
            )
            return result
        if error.status not in CLOUD_ONLY_STATUSES:
            result.refusal = f"cannot describe namespace {namespace}: {_rpc_reason(error)}"
            return result
        # An API key may lack DescribeNamespace; the attributes step still tells.
        result.in_place.append(f"namespace {namespace} (not checked: {_rpc_reason(error)})")
    await _ensure_search_attributes(client, result)
    return result


async def _ensure_search_attributes(client: Client, result: StepResult) -> None:
    namespace = client.namespace
    wanted = required_search_attributes()
    try:
        listed = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=namespace)
        )
    except RPCError as error:
        result.refusal = _operator_refusal(error, namespace, wanted)
        return
    existing: dict[str, IndexedValueType.ValueType] = dict(listed.custom_attributes)
    existing.update(listed.system_attributes)
    conflicts = {
        name: existing[name]
        for name, kind in wanted.items()
        if name in existing and existing[name] != kind
    }
    if conflicts:
        lines = [
            f"    {name} is {_type_name(found)}, the registry needs {_type_name(wanted[name])}"
            for name, found in conflicts.items()
        ]
        first = next(iter(conflicts))
        result.refusal = (
            f"search attributes in namespace {namespace} exist with another type:\n"
            + "\n".join(lines)
            + "\n  A search attribute's type cannot be changed. If nothing else uses it, remove "
            f"it (e.g. `temporal operator search-attribute remove --namespace {namespace} "
            f"--name {first}`) and run `agentreg setup` again; otherwise give the registry a "
            "namespace of its own. Nothing was added."
        )
        return
    missing = {name: kind for name, kind in wanted.items() if name not in existing}
    result.in_place += [
        f"search attribute {name} ({_type_name(kind)})"
        for name, kind in wanted.items()
        if name not in missing
    ]
    if not missing:
        return
    try:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=namespace, search_attributes=missing)
        )
    except RPCError as error:
        result.refusal = _operator_refusal(error, namespace, missing)
        return
    result.done += [
        f"added search attribute {name} ({_type_name(kind)})" for name, kind in missing.items()
    ]


def _operator_refusal(
    error: RPCError, namespace: str, attributes: dict[str, IndexedValueType.ValueType]
) -> str:
    """The refusal when the operator API is refused: on Cloud, say what to add by hand."""
    if error.status not in CLOUD_ONLY_STATUSES:
        return f"cannot manage search attributes in namespace {namespace}: {_rpc_reason(error)}"
    listed = "\n".join(f"    {name}  {_type_name(kind)}" for name, kind in attributes.items())
    flags = " ".join(
        f"--search-attribute {name}={_type_name(kind)}" for name, kind in attributes.items()
    )
    return (
        f"this cluster does not let these credentials manage search attributes "
        f"({_rpc_reason(error)}); on Temporal Cloud API keys cannot. Add these to namespace "
        f"{namespace} in the Cloud UI (Namespaces → {namespace} → Custom Search Attributes) "
        f"or with tcld, then run `agentreg setup --skip-temporal`:\n{listed}\n"
        f"    tcld namespace search-attributes add --namespace {namespace} {flags}"
    )


def _rpc_reason(error: RPCError) -> str:
    return f"{error.status.name}: {error.message}"


def _type_name(kind: IndexedValueType.ValueType) -> str:
    return TYPE_NAMES.get(kind, IndexedValueType.Name(kind))


def setup_database(url: str) -> StepResult:
    """Apply the registry's migrations, as ``agentreg db upgrade`` does.

    Args:
        url: The registry URL (``Settings.resolved_database_url``).

    Returns:
        The step's outcome; a refusal names the database without its password.
    """
    shown = redact_url(url)
    result = StepResult(title=f"registry database {shown}")
    try:
        before = _current_revision(url)
        head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
        if before == head:
            result.in_place.append(f"schema at the newest migration ({head})")
            return result
        upgrade_database(url)
    except DBAPIError as error:
        result.refusal = _database_refusal(error, shown)
        return result
    except (ArgumentError, ValueError) as error:
        result.refusal = f"AGENT_REGISTRY_DATABASE_URL is not usable ({shown}): {error}"
        return result
    start = f"from {before}" if before else "from an empty database"
    result.done.append(f"migrated the schema {start} to {head}")
    return result


def _current_revision(url: str) -> str | None:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            context: Any = MigrationContext.configure(connection)
            revision = context.get_current_revision()
            return None if revision is None else str(revision)
    finally:
        engine.dispose()


def _database_refusal(error: DBAPIError, shown: str) -> str:
    reason = _first_line(error.orig) if error.orig is not None else _first_line(error)
    if getattr(error.orig, "sqlstate", None) == INSUFFICIENT_PRIVILEGE:
        return (
            f"the database user may not create the registry's tables in {shown}: {reason}. "
            "Run `agentreg setup` with a role that owns the schema, or grant this one "
            "`GRANT USAGE, CREATE ON SCHEMA <schema> TO <user>` (PostgreSQL 15 and later no "
            "longer let every user create in `public`)."
        )
    if isinstance(error, OperationalError):
        return f"cannot reach or open the registry database {shown}: {reason}"
    return f"the registry database {shown} refused the migration: {reason}"


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]
