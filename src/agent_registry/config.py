"""Settings: one class, read from ``AGENT_REGISTRY_*`` environment variables or ``.env``.

Built once at a process boundary (CLI command, worker start) and passed in; nothing reads
the environment at import time. Temporal connection settings are Temporal's own
``TEMPORAL_*`` variables (see :mod:`agent_registry.temporal`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from agent_registry.assets.bundle import BundleLimits
from agent_registry.mcp_registry.allowed_upstreams import (
    OFFICIAL_UPSTREAM,
    UpstreamNotAllowedError,
    allowed_entry,
)

DEFAULT_TASK_QUEUE = "agent-registry"


class Settings(BaseSettings):
    """Agent Registry settings.

    Attributes:
        data_dir: Folder for the embedded defaults (SQLite registry, dev-server state).
        database_url: SQLAlchemy URL of the registry; SQLite in ``data_dir`` by default.
        policy: Path of the policy file; the packaged default policy when unset.
        task_queue: Temporal task queue the worker polls and the CLI starts work on.
        ui_url: Base URL of the Temporal Web UI, for links printed and posted.
        slack_bot_token: Bot token; without it notices go to the log.
        slack_signing_secret: Verifies Slack interaction requests.
        slack_app_token: App-level token for Socket Mode.
        slack_api_url: Slack Web API base URL (a staging proxy or a test double).
        api_url: Root URL of the registry's JSON API (``agentreg serve``), e.g.
            ``http://registry.internal:3000``; lets a machine without database access
            read the catalog and report installs and uses through the API.
        max_bundle_bytes: Cap on the total size of a submitted bundle.
        max_file_bytes: Cap on any one file in a bundle.
        max_bundle_files: Cap on the number of files in a bundle.
        build_id: This worker build's id (e.g. the release tag or image digest). Set, the
            worker runs under Worker Versioning in deployment ``deployment_name``: new
            lifecycles start on the deployment's current build, a lifecycle stays on the
            build it started on, and a published one moves to the current build at its
            next re-certification (continue-as-new). Unset (the embedded default), the
            worker is unversioned.
        deployment_name: The Worker Deployment that builds of this worker belong to.
        cli_reviews: Whether ``agentreg review`` votes count: ``auto`` (the default)
            allows them only while Slack is not configured (the embedded default, where
            the CLI is the only way to review); ``on`` and ``off`` decide outright. With
            them off, the only review identities are the ones Slack verified.
        metrics_address: ``host:port`` on which the worker serves Prometheus metrics at
            ``/metrics`` (the Temporal SDK's and the registry's own counters, see
            :mod:`agent_registry.metrics`), e.g. ``0.0.0.0:9464``; unset, none are served.
        log_format: ``text`` (the default) for people, ``json`` for a log pipeline: one
            JSON object per line, with ``workflow_id`` and ``asset_ref`` on every line
            logged inside a lifecycle's workflow or activities (see :mod:`agent_registry.logs`).
        eval_processes: How many processes the worker runs the eval bar's checks in,
            beside its own (``activities/check_pool.py``); unset, one per core up to
            two; ``0`` runs them in the worker's activity threads.
        probe_cache_dir: Where a probe worker keeps the pinned package installs and venvs
            of probed MCP servers; unset, ``/var/cache/agent-registry/probe`` for root
            and ``~/.cache/agent-registry/probe`` otherwise.
        signing_key: Path of the registry's Ed25519 private key (PEM, PKCS#8), which signs
            every publication and the guard's snapshot; a secret manager mounting it as a
            file serves as well. Held by the worker and the registry server only.
        trusted_keys: Path of a keyring (JSON) of public keys whose signatures are
            accepted: on clients, the registry's keys; on the registry, the keys the
            current one replaced (rotation), served with it at ``/api/v1/keys``.
        audit_key: Path of the secret (32 bytes or more) the audit chain is keyed with
            (HMAC-SHA256). Kept outside the database, so a database writer cannot
            recompute the chain after rewriting it.
        model_api_key: The organisation's model credential, with which probe workers
            run behavioural evals (``claude plugin eval``); unset, those evals are not
            run and each version with cases gets an ``evals.not-run`` finding.
        model_base_url: The Messages API endpoint for those runs, when not Anthropic's
            (an organisation's gateway).
        claude_binary: The ``claude`` executable probe workers run evals with; unset,
            ``claude`` on ``PATH``.
        identity_mode: How the registry server learns who writes (see
            :mod:`agent_registry.identity`): ``local`` (the embedded default) takes
            ``--as EMAIL`` from loopback clients on trust and marks every reply
            unverified, and the server refuses to bind beyond loopback; ``oidc`` verifies
            a bearer token from the identity provider on every write.
        oidc_issuer: The identity provider's issuer URL (``oidc`` mode).
        oidc_audience: The audience tokens must be issued for: the registry's API.
        oidc_groups_claim: The token claim that lists the caller's groups.
        oidc_jwks_url: The provider's key set; read from its discovery document if unset.
        oidc_client_id: The CLI's public client id for device-flow login
            (``agentreg login``).
        oidc_client_secret: A CI bot's client secret: with it, the CLI logs in with the
            client-credentials grant and the registry sees a machine principal.
        oidc_scope: The scopes ``agentreg login`` asks for.
        oidc_token_type: ``at+jwt`` (RFC 9068) takes only tokens typed as access
            tokens; ``any`` for providers whose access tokens are untyped (a token with
            an ID token's ``nonce``/``at_hash``/``c_hash`` is still refused).
        mcp_upstreams: The upstream MCP registries scheduled imports may read, named by
            the platform team (a JSON list in ``AGENT_REGISTRY_MCP_UPSTREAMS``): the
            worker fetches them from inside the network, so a watch on any other URL is
            refused (see :mod:`agent_registry.mcp_registry.allowed_upstreams`). https
            only, except http on a loopback host listed itself. The official registry
            alone by default.
    """

    model_config = SettingsConfigDict(
        env_prefix="AGENT_REGISTRY_",
        env_file=".env",
        extra="ignore",
        populate_by_name=True,
    )

    data_dir: Path = Path(".agent-registry")
    database_url: str | None = None
    policy: Path | None = None
    task_queue: str = DEFAULT_TASK_QUEUE
    ui_url: str = "http://localhost:8233"
    slack_bot_token: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("AGENT_REGISTRY_SLACK_BOT_TOKEN", "SLACK_BOT_TOKEN"),
    )
    slack_signing_secret: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices(
            "AGENT_REGISTRY_SLACK_SIGNING_SECRET", "SLACK_SIGNING_SECRET"
        ),
    )
    slack_app_token: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("AGENT_REGISTRY_SLACK_APP_TOKEN", "SLACK_APP_TOKEN"),
    )
    slack_api_url: str = "https://slack.com/api/"
    api_url: str | None = None
    cli_reviews: Literal["auto", "on", "off"] = "auto"
    build_id: str | None = None
    deployment_name: str = "agent-registry"
    # What is read at all; the policy's [bundles] caps (per kind and tier) decide what
    # passes, so these only bound the reading and sit above every default cap.
    max_bundle_bytes: int = 16 * 1024 * 1024
    max_file_bytes: int = 8 * 1024 * 1024
    max_bundle_files: int = 500
    metrics_address: str | None = None
    log_format: Literal["text", "json"] = "text"
    eval_processes: int | None = Field(default=None, ge=0)
    probe_cache_dir: Path | None = None
    identity_mode: Literal["local", "oidc"] = "local"
    oidc_issuer: str | None = None
    oidc_audience: str | None = None
    oidc_groups_claim: str = "groups"
    oidc_jwks_url: str | None = None
    oidc_client_id: str = "agentreg-cli"
    oidc_client_secret: SecretStr | None = None
    oidc_scope: str = "openid offline_access email profile groups"
    oidc_token_type: Literal["at+jwt", "any"] = "at+jwt"  # noqa: S105 - a JWT type, no secret
    signing_key: Path | None = None
    trusted_keys: Path | None = None
    audit_key: Path | None = None
    model_api_key: SecretStr | None = None
    model_base_url: str | None = None
    claude_binary: Path | None = None
    mcp_upstreams: list[str] = Field(default_factory=lambda: [OFFICIAL_UPSTREAM])

    @field_validator("mcp_upstreams")
    @classmethod
    def _usable_upstreams(cls, values: list[str]) -> list[str]:
        """Each entry normalized; a plain-http non-loopback entry stops the process."""
        try:
            return [allowed_entry(value) for value in values]
        except UpstreamNotAllowedError as error:
            raise ValueError(str(error)) from None

    @field_validator(
        "database_url",
        "slack_bot_token",
        "slack_signing_secret",
        "slack_app_token",
        "api_url",
        "build_id",
        "signing_key",
        "trusted_keys",
        "audit_key",
        "model_api_key",
        "model_base_url",
        "claude_binary",
        "oidc_issuer",
        "oidc_audience",
        "oidc_jwks_url",
        "oidc_client_secret",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        """``VAR=`` means unset, as a compose file or an env file writes an optional value.

        Without this an empty ``SLACK_BOT_TOKEN`` would count as Slack being configured
        (turning CLI reviews off) and an empty build id would version the worker.
        """
        if isinstance(value, str) and not value.strip():
            return None
        return value

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        """Fields as ``repr`` and ``str`` show them: the database URL without its password.

        Settings get logged and land in exception reports; the ``SecretStr`` fields hide
        themselves, and the database URL is the one plain string that can carry a
        credential.
        """
        for name, value in super().__repr_args__():
            if name == "database_url" and isinstance(value, str):
                value = redact_url(value)
            yield name, value

    @property
    def probe_task_queue(self) -> str:
        """The task queue probe workers poll: the lifecycle queue's name plus ``-probe``."""
        return f"{self.task_queue}-probe"

    @property
    def resolved_database_url(self) -> str:
        """The registry URL: the configured one, else SQLite under ``data_dir``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.embedded_database}"

    @property
    def embedded_database(self) -> Path:
        """The embedded SQLite registry's file, used when no database URL is set."""
        return (self.data_dir / "registry.db").resolve()

    @property
    def embedded_database_missing(self) -> bool:
        """True when the registry is the embedded one and its file does not exist yet.

        Read-only commands check this first: opening the file would create an empty
        registry wherever the command runs, and every answer would be "not found".
        """
        return not self.database_url and not self.embedded_database.is_file()

    @property
    def cli_reviews_allowed(self) -> bool:
        """Whether votes from the CLI count in reviews this worker plans (see ``cli_reviews``)."""
        if self.cli_reviews == "auto":
            return self.slack_bot_token is None
        return self.cli_reviews == "on"

    @property
    def bundle_limits(self) -> BundleLimits:
        """The bundle caps as the bundle reader takes them."""
        return BundleLimits(
            max_total_bytes=self.max_bundle_bytes,
            max_file_bytes=self.max_file_bytes,
            max_files=self.max_bundle_files,
        )


def redact_url(url: str) -> str:
    """``url`` with any password replaced by ``***``, for showing it to people."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))
