from __future__ import annotations

import base64
import string

import pytest

from agent_registry.evals import secrets
from agent_registry.secret_shapes.entropy import shannon_entropy
from agent_registry.vocabulary.findings import Finding, Severity

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


# --- random-looking strings -------------------------------------------------------------

HEX = "0123456789abcdef"
BASE64 = string.ascii_letters + string.digits + "+/"


@pytest.mark.parametrize(
    ("line", "path"),
    [
        ("service_key: {b62}", "config/settings.yaml"),
        ('"signing": "{b64}",', "config/app.json"),
        ('HMAC = "{hex}"', "scripts/sign.py"),
        ("curl -H 'X-Service: {b62}' https://api.acme.example/v1", "scripts/call.sh"),
    ],
)
def test_random_strings_warn_without_being_shown(line: str, path: str) -> None:
    values = {
        "b62": fake_token(40, seed=21),
        "b64": fake_token(44, seed=22, alphabet=BASE64),
        "hex": fake_token(64, seed=23, alphabet=HEX),
    }
    findings = in_script(line.format(**values), path=path)
    assert [(f.check_id, f.severity, f.line) for f in findings] == [
        ("secrets.high-entropy", Severity.WARN, 3)
    ]
    for value in values.values():
        assert_never_shown(findings, value)


def test_a_credential_the_generic_rule_reports_is_not_reported_twice() -> None:
    findings = in_script("api_key: " + fake_token(40, seed=21), path="config.yaml")
    assert [f.check_id for f in findings] == ["secrets.generic-assignment"]


def test_one_finding_per_line_for_random_strings() -> None:
    line = f"pair: {fake_token(40, seed=21)} {fake_token(40, seed=24)}"
    assert [f.check_id for f in in_script(line, path="config.yaml")] == ["secrets.high-entropy"]


def _image_data_uri() -> str:
    pixels = bytes((n * 37 + 11) % 256 for n in range(60))
    png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + pixels).decode()
    return f"![logo](data:image/png;base64,{png})"


@pytest.mark.parametrize(
    ("line", "path"),
    [
        ("request_id: 3f2b8c1e-9a4d-4e7b-8c2f-1a5d6e7f8091", "config.yaml"),
        (f"digest: sha256:{fake_token(64, seed=30, alphabet=HEX)}", "config.yaml"),
        (f"image: ghcr.io/acme/tool@sha256:{fake_token(64, seed=31, alphabet=HEX)}", "x.yaml"),
        (f"Pinned to commit {fake_token(40, seed=32, alphabet=HEX)} of upstream.", "README.md"),
        (f'rev = "{fake_token(40, seed=33, alphabet=HEX)}"', "deps.toml"),
        (f"- uses: actions/checkout@{fake_token(40, seed=34, alphabet=HEX)} # v4", "ci.yml"),
        ("handler = RespondActivityTaskFailedById2(request)", "scripts/run.py"),
        ("key = getUserAccountSettingsForOrganization2Id", "scripts/run.py"),
        (f"see https://files.acme.example/d/{fake_token(32, seed=35)}/report.pdf", "README.md"),
        ("| Setting | ------------------------------------ |", "README.md"),
        ('"integrity": "sha512-' + fake_token(86, seed=36, alphabet=BASE64) + '==",', "x.json"),
        ("service_key: your-api-key-here-0000000000", "config.yaml"),
        ("service_key: Xk29" + "x" * 36, "config.yaml"),
        (_image_data_uri(), "README.md"),
        ("python scripts/reports/Generate2024QuarterlyReport.py --out build/", "README.md"),
        ("Run the weekly-report-generator2 with the --include-attachments flag.", "README.md"),
        ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI" + fake_token(43, seed=37) + " ci@acme", "keys"),
        ("color: #a1b2c3; background: #0f0f0f;", "style.css"),
        (
            '"data": "eyJyZWYiOnsia2luZCI6InN1YmFnZW50IiwibmFtZSI6ImNvZGUtcmV2aWV3ZXIifX0="',
            "h.json",
        ),
        (r"b'\n9temporal\x13UpdateApiKeyRequest\x12'", "scripts/pb2.py"),
    ],
)
def test_random_for_a_known_reason_is_not_a_secret(line: str, path: str) -> None:
    assert in_script(line, path=path) == []


def test_lock_files_are_not_scanned_for_random_strings() -> None:
    line = f'"resolved": "https://registry.npmjs.org/x", "key": "{fake_token(40, seed=38)}"'
    assert in_script(line, path="package-lock.json") == []
    assert in_script(line, path="vendor/poetry.lock") == []


def test_a_digest_label_on_the_line_before_counts() -> None:
    text = f'{{"alg": "SHA-256",\n "content": "{fake_token(64, seed=39, alphabet=HEX)}"}}\n'
    assert secrets.check(skill(files={"sbom.json": text})) == []


def test_pem_blocks_are_left_to_the_private_key_check() -> None:
    body = "\n".join(fake_token(64, seed=40 + n, alphabet=BASE64) for n in range(3))
    certificate = f"-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n"
    key = certificate.replace("CERTIFICATE", "PRIVATE KEY")
    assert secrets.check(skill(files={"certs/ca.pem": certificate})) == []
    findings = secrets.check(skill(files={"certs/key.pem": key}))
    assert [(f.check_id, f.line) for f in findings] == [("secrets.private-key", 1)]


def test_an_mcp_secret_value_is_reported_once() -> None:
    value = fake_token(40, seed=21)
    variable = {"name": "ACME_TOKEN", "isSecret": True, "value": value}
    package = {**DEFAULT_SERVER["packages"][0], "environmentVariables": [variable]}
    findings = secrets.check(mcp_server(server={**DEFAULT_SERVER, "packages": [package]}))
    assert [f.check_id for f in findings] == ["secrets.mcp-secret-value"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 0.0),
        ("aaaa", 0.0),
        ("abab", 1.0),
        ("abcd", 2.0),
    ],
)
def test_shannon_entropy(text: str, expected: float) -> None:
    assert shannon_entropy(text) == pytest.approx(expected)


# --- tokens split into string pieces ----------------------------------------------------

GITHUB_BODY = fake_token(36, seed=50)


@pytest.mark.parametrize(
    ("path", "text", "line"),
    [
        (
            "run.py",
            f'TOKEN = (\n    "ghp_"\n    "{GITHUB_BODY[:18]}"\n    "{GITHUB_BODY[18:]}"\n)\n',
            2,
        ),
        ("run.py", f'TOKEN = "ghp_" + \\\n    "{GITHUB_BODY}"\n', 1),
        ("run.py", f'TOKEN = "ghp_" + "{GITHUB_BODY}"\n', 1),
        ("run.js", f"const token = 'ghp_' +\n  '{GITHUB_BODY}';\n", 1),
        ("run.sh", f'TOKEN="ghp_"\\\n"{GITHUB_BODY}"\n', 1),
        ("run.sh", f'TOKEN="ghp_{GITHUB_BODY[:9]}\\\n{GITHUB_BODY[9:]}"\n', 1),
        (
            "app.yaml",
            f"auth:\n  token: >-\n    ghp_{GITHUB_BODY[:20]}\n    {GITHUB_BODY[20:]}\n",
            3,
        ),
    ],
)
def test_a_token_split_into_pieces_blocks_at_its_first_line(
    path: str, text: str, line: int
) -> None:
    findings = secrets.check(skill(files={path: text}))
    assert [(f.check_id, f.severity, f.file, f.line) for f in findings] == [
        ("secrets.split-token", Severity.BLOCK, path, line)
    ]
    assert "GitHub token (ghp_…)" in findings[0].message
    assert_never_shown(findings, "ghp_" + GITHUB_BODY)
    assert_never_shown(findings, GITHUB_BODY[:18])


def test_each_known_format_is_found_when_split() -> None:
    for kind, token in TOKENS.items():
        text = f'value = ("{token[:6]}"\n         "{token[6:]}")\n'
        findings = secrets.check(skill(files={"run.py": text}))
        assert [f.check_id for f in findings] == ["secrets.split-token"], kind


def test_a_token_whole_on_one_line_is_not_reported_as_split() -> None:
    text = f'TOKEN = ("ghp_{GITHUB_BODY}"\n         "{fake_token(8, seed=51)}")\n'
    findings = secrets.check(skill(files={"run.py": text}))
    assert [f.check_id for f in findings] == ["secrets.github-token"]


@pytest.mark.parametrize(
    "text",
    [
        'TOKEN = ("ghp_"\n         "' + "x" * 36 + '")\n',  # a placeholder
        'PREFIXES = ["ghp_", "gho_"]\nNAMES = ["alpha", "beta"]\n',
        'print("ghp_")\n\n\nprint("' + "ab" * 20 + '")\n',  # not adjacent
    ],
)
def test_pieces_that_do_not_make_a_token(text: str) -> None:
    assert secrets.check(skill(files={"run.py": text})) == []
