"""Settings as an operator writes them: in the environment, an env file or a compose file."""

from __future__ import annotations

import pytest

from agent_registry.config import Settings, redact_url


def test_an_empty_variable_means_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
        "AGENT_REGISTRY_DATABASE_URL",
        "AGENT_REGISTRY_API_URL",
        "AGENT_REGISTRY_BUILD_ID",
    ):
        monkeypatch.setenv(name, " ")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]

    assert settings.slack_bot_token is None and settings.slack_signing_secret is None
    assert settings.database_url is None and settings.api_url is None
    assert settings.build_id is None
    assert settings.cli_reviews_allowed  # Slack is not configured, so the CLI reviews


def test_a_set_token_still_configures_slack(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]

    assert settings.slack_bot_token is not None
    assert not settings.cli_reviews_allowed


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "postgresql+psycopg://app:s3cret@db:5432/registry",
            "postgresql+psycopg://app:***@db:5432/registry",
        ),
        ("postgresql+psycopg://app@db/registry", "postgresql+psycopg://app@db/registry"),
        ("sqlite:///tmp/registry.db", "sqlite:///tmp/registry.db"),
    ],
)
def test_a_url_is_shown_without_its_password(url: str, shown: str) -> None:
    assert redact_url(url) == shown
