from __future__ import annotations

import string

import pytest

from agent_registry.evals import secrets
from agent_registry.evals.findings import Finding, Severity

from .builders import DEFAULT_SERVER, fake_token, mcp_server, skill

UPPER_DIGITS = string.ascii_uppercase + string.digits

# Assembled at run time from a prefix and random characters, so that no credential-shaped
# literal sits in this repository.
TOKENS: dict[str, str] = {
    "aws-access-key": "AKIA" + fake_token(16, alphabet=UPPER_DIGITS),
    "github-token": "ghp_" + fake_token(36),
    "slack-token": "xoxb-" + "-".join([fake_token(12, seed=1), fake_token(13, seed=2)]),
    "anthropic-key": "sk-ant-api03-" + fake_token(80),
    "openai-key": "sk-proj-" + fake_token(48),
    "google-api-key": "AIza" + fake_token(35),
    "stripe-live-key": "sk_live_" + fake_token(24),
}
MORE_TOKENS: list[tuple[str, str]] = [
    ("aws-access-key", "ASIA" + fake_token(16, seed=3, alphabet=UPPER_DIGITS)),
    ("github-token", "gho_" + fake_token(36, seed=4)),
    ("github-token", "github_pat_" + fake_token(22, seed=5) + "_" + fake_token(59, seed=6)),
    ("slack-token", "xoxp-" + fake_token(30, seed=8)),
    ("openai-key", "sk-" + fake_token(48, seed=9)),
    ("stripe-live-key", "rk_live_" + fake_token(24, seed=10)),
]


def in_script(line: str, *, path: str = "scripts/deploy.sh") -> list[Finding]:
    """Scan a skill whose script holds ``line`` on line 3."""
    asset = skill(files={path: f"#!/bin/sh\nset -eu\n{line}\necho done\n"})
    return secrets.check(asset)


def assert_never_shown(findings: list[Finding], secret: str) -> None:
    for finding in findings:
        for text in (finding.message, finding.fix or "", finding.field or ""):
            assert secret not in text
            assert secret[4:] not in text  # not even without its public prefix


@pytest.mark.parametrize(("kind", "token"), [*TOKENS.items(), *MORE_TOKENS])
def test_each_token_format_blocks_at_its_line_without_repeating_it(kind: str, token: str) -> None:
    findings = in_script(f'export TOKEN="{token}"')
    assert [f.check_id for f in findings] == [f"secrets.{kind}"]
    finding = findings[0]
    assert finding.severity is Severity.BLOCK
    assert (finding.file, finding.line) == ("scripts/deploy.sh", 3)
    assert f"({token[:4]}…)" in finding.message
    assert_never_shown(findings, token)


def test_a_secret_in_skill_md_is_found_at_its_file_line() -> None:
    token = TOKENS["github-token"]
    asset = skill(body=f"# Deploy\n\nUse the token {token} to push.\n")
    finding = secrets.check(asset)[0]
    assert (finding.file, finding.line) == ("SKILL.md", 7)


@pytest.mark.parametrize(
    "template",
    ["aws_secret_access_key = {}", "AWS_SECRET_ACCESS_KEY={}", '"aws_secret": "{}",'],
)
def test_aws_secret_access_key_next_to_its_label(template: str) -> None:
    secret = fake_token(40, seed=11)
    findings = in_script(template.format(secret), path="config/aws.ini")
    assert [f.check_id for f in findings] == ["secrets.aws-secret-key"]
    assert findings[0].line == 3
    assert_never_shown(findings, secret)


def test_forty_characters_without_an_aws_label_are_not_an_aws_secret() -> None:
    assert in_script(f"checksum {fake_token(40, seed=11)}") == []


def test_slack_webhook_url() -> None:
    team, channel = fake_token(8, alphabet=UPPER_DIGITS), fake_token(10, alphabet=UPPER_DIGITS)
    url = f"https://hooks.slack.com/services/T{team}/B{channel}/{fake_token(24)}"
    findings = in_script(f"curl -X POST {url}")
    assert [f.check_id for f in findings] == ["secrets.slack-webhook"]
    assert_never_shown(findings, url)
    assert url.split("/")[-1] not in findings[0].message


def test_private_key_block() -> None:
    findings = in_script("-----BEGIN OPENSSH PRIVATE KEY-----", path="keys/deploy")
    assert [f.check_id for f in findings] == ["secrets.private-key"]
    assert (findings[0].file, findings[0].line) == ("keys/deploy", 3)


def test_public_key_and_certificate_blocks_are_not_private_keys() -> None:
    assert in_script("-----BEGIN PUBLIC KEY-----") == []
    assert in_script("-----BEGIN CERTIFICATE-----") == []


def test_password_in_url_is_blocked_and_not_shown() -> None:
    password = fake_token(16, seed=12)
    findings = in_script(f"psql postgres://app:{password}@db.internal:5432/app")
    assert [f.check_id for f in findings] == ["secrets.url-password"]
    assert "postgres://…@db.internal" in findings[0].message
    assert password not in findings[0].message
    assert password[:4] not in findings[0].message


@pytest.mark.parametrize(
    "url",
    [
        "postgres://app:${DB_PASSWORD}@db.internal/app",
        "postgres://app:$DB_PASSWORD@db.internal/app",
        "postgres://app:<password>@db.internal/app",
        "postgres://app:****@db.internal/app",
        "postgres://app:password@db.internal/app",
        "https://example.com/path",
        "git+ssh://git@github.com/acme/repo.git",
    ],
)
def test_urls_without_a_real_password_are_fine(url: str) -> None:
    assert in_script(f"DATABASE_URL={url}") == []


def test_generic_password_assignment_warns() -> None:
    findings = in_script('db_password = "' + fake_token(12, seed=13) + '"', path="scripts/db.py")
    assert [f.check_id for f in findings] == ["secrets.generic-assignment"]
    assert findings[0].severity is Severity.WARN
    assert "'db_password'" in findings[0].message
    assert_never_shown(findings, fake_token(12, seed=13))


def test_generic_api_key_in_yaml_config_warns() -> None:
    findings = in_script("api_key: " + fake_token(20, seed=14), path="config.yaml")
    assert [f.check_id for f in findings] == ["secrets.generic-assignment"]


@pytest.mark.parametrize(
    ("line", "path"),
    [
        ('password = os.environ["DB_PASSWORD"]', "scripts/db.py"),
        ("password: str", "scripts/db.py"),
        ("api_key = settings.api_key", "config.yaml"),
        ('password = "${DB_PASSWORD}"', "scripts/db.py"),
        ("password: <your password>", "config.yaml"),
        ("isSecret: true", "config.yaml"),
        ('password_hint = "ask the admin"', "scripts/db.py"),
        ("max_tokens = 1000", "config.toml"),
        ("api_key: hunter2hunter2", "README.md"),  # prose, not configuration
    ],
)
def test_references_types_and_prose_are_not_generic_secrets(line: str, path: str) -> None:
    assert in_script(line, path=path) == []


def test_a_known_token_in_an_assignment_is_reported_once() -> None:
    findings = in_script(f'ANTHROPIC_API_KEY = "{TOKENS["anthropic-key"]}"', path="run.py")
    assert [f.check_id for f in findings] == ["secrets.anthropic-key"]


@pytest.mark.parametrize(
    "line",
    [
        "aws_access_key_id = AKIAIOSFODNN7EXAMPLE",
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "token: ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "token: ghp_000000000000000000000000000000000000",
        "ANTHROPIC_API_KEY=sk-ant-your-key-goes-here-0000000000",
        "OPENAI_API_KEY=<sk-your-openai-key-here-123456>",
        "use sk-learn-compatible-estimators-for-this-task",
        "key = AIzaXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
    ],
)
def test_placeholders_and_examples_are_ignored(line: str) -> None:
    assert in_script(line, path="config.env.example") == []


def test_binary_files_are_not_scanned() -> None:
    data = b"\x00\x01" + TOKENS["github-token"].encode()
    assert secrets.check(skill(files={"assets/blob.bin": data})) == []


def test_mcp_secret_env_var_with_a_value_blocks_without_showing_it() -> None:
    value = fake_token(32, seed=15)
    server = {
        **DEFAULT_SERVER,
        "packages": [
            {
                **DEFAULT_SERVER["packages"][0],
                "environmentVariables": [
                    {"name": "ACME_TOKEN", "isSecret": True, "value": value},
                ],
            }
        ],
    }
    asset = mcp_server(server=server)
    findings = [f for f in secrets.check(asset) if f.check_id == "secrets.mcp-secret-value"]
    assert len(findings) == 1
    finding = findings[0]
    assert finding.severity is Severity.BLOCK
    assert "'ACME_TOKEN'" in finding.message
    assert finding.field == "packages[0].environmentVariables[0].value"
    assert (finding.file, finding.line) == ("server.json", asset.line_of("packages"))
    assert_never_shown(findings, value)


def test_mcp_secret_header_default_blocks_too() -> None:
    server = {
        **DEFAULT_SERVER,
        "remotes": [
            {
                "type": "streamable-http",
                "url": "https://mcp.acme.example/mcp",
                "headers": [{"name": "X-Api-Key", "isSecret": True, "default": "k3y-" + "v4lue"}],
            }
        ],
    }
    findings = secrets.check(mcp_server(server=server))
    assert [f.field for f in findings] == ["remotes[0].headers[0].default"]


def test_mcp_secrets_declared_without_value_or_as_a_template_are_fine() -> None:
    server = {
        **DEFAULT_SERVER,
        "remotes": [
            {
                "type": "streamable-http",
                "url": "https://mcp.acme.example/mcp",
                "headers": [
                    {"name": "Authorization", "isSecret": True, "value": "Bearer {api_key}"},
                    {"name": "X-Region", "isSecret": False, "value": "eu-west-1"},
                ],
            }
        ],
    }
    assert secrets.check(mcp_server(server=server)) == []


def test_clean_assets_have_no_secret_findings() -> None:
    assert secrets.check(skill()) == []
    assert secrets.check(mcp_server()) == []


@pytest.mark.parametrize(("kind", "token"), TOKENS.items())
def test_tokens_are_found_right_after_an_equals_sign(kind: str, token: str) -> None:
    assert [f.check_id for f in in_script(f"KEY={token}")] == [f"secrets.{kind}"]
