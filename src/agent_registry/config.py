"""Settings: one class, read from ``AGENT_REGISTRY_*`` environment variables or ``.env``.

Built once at a process boundary (CLI command, worker start) and passed in; nothing reads
the environment at import time. Temporal connection settings are Temporal's own
``TEMPORAL_*`` variables (see :mod:`agent_registry.temporal`).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from agent_registry.assets.bundle import BundleLimits

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
        max_bundle_bytes: Cap on the total size of a submitted bundle.
        max_file_bytes: Cap on any one file in a bundle.
        max_bundle_files: Cap on the number of files in a bundle.
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
    max_bundle_bytes: int = 1024 * 1024
    max_file_bytes: int = 512 * 1024
    max_bundle_files: int = 200

    @property
    def resolved_database_url(self) -> str:
        """The registry URL: the configured one, else SQLite under ``data_dir``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'registry.db').resolve()}"

    @property
    def bundle_limits(self) -> BundleLimits:
        """The bundle caps as the bundle reader takes them."""
        return BundleLimits(
            max_total_bytes=self.max_bundle_bytes,
            max_file_bytes=self.max_file_bytes,
            max_files=self.max_bundle_files,
        )
