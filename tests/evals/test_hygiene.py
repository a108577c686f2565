from __future__ import annotations

import pytest

from agent_registry.evals import hygiene
from agent_registry.vocabulary.findings import Finding, Severity

from .builders import mcp_server, skill, subagent

FILES = {
    "scripts/extract.py": "print('tables')\n",
    "references/api.md": "# API\n",
    "assets/template.md": "# Template\n",
}


def missing(findings: list[Finding]) -> list[tuple[int | None, str]]:
    return [(f.line, f.message) for f in findings if f.check_id == "hygiene.missing-reference"]


def test_clean_assets_have_no_hygiene_findings() -> None:
    body = (
        "# PDF report\n\n"
        "Read [the API notes](references/api.md) and [the guide](https://example.com/guide).\n"
        "Run `python scripts/extract.py --pdf in.pdf`, fill `assets/template.md`.\n"
        "See [below](#usage) and [the folder](scripts/).\n"
    )
    assert hygiene.check(skill(body=body, files=FILES)) == []
    assert hygiene.check(subagent()) == []
    assert hygiene.check(mcp_server()) == []


def test_markdown_link_to_a_missing_file_blocks_at_its_line() -> None:
    body = "# PDF report\n\nFirst read [the API notes](references/api-v2.md#auth).\n"
    [finding] = hygiene.check(skill(body=body, files=FILES))
    assert finding.check_id == "hygiene.missing-reference"
    assert finding.severity is Severity.BLOCK
    assert (finding.file, finding.line) == ("SKILL.md", 7)
    assert "'references/api-v2.md#auth'" in finding.message


@pytest.mark.parametrize(
    "line",
    [
        "Run `scripts/convert.py` on the file.",
        "Run `python ./scripts/convert.py --in a.pdf`.",
        "Fill in `assets/report.docx`.",
        "![diagram](assets/flow.png)",
        "[api]: references/missing.md",
    ],
)
def test_paths_to_missing_bundle_files_block(line: str) -> None:
    findings = hygiene.check(skill(body=f"# PDF\n\n{line}\n", files=FILES))
    assert [f.line for f in findings] == [7]


def test_link_out_of_the_bundle_is_missing_too() -> None:
    findings = hygiene.check(skill(body="See [the repo readme](../README.md).\n", files=FILES))
    assert missing(findings) == [
        (5, "SKILL.md refers to '../README.md', which points outside the bundle")
    ]


def test_urls_anchors_and_fenced_examples_are_not_references() -> None:
    body = (
        "Mail [us](mailto:team@example.com) or open [docs](https://docs.example.com/x.md).\n"
        "Jump to [usage](#usage).\n"
        "```sh\n"
        "python scripts/not-shipped.py [out](out/result.md)\n"
        "```\n"
    )
    assert missing(hygiene.check(skill(body=body, files=FILES))) == []


def test_subagent_links_into_its_project_are_not_bundle_references() -> None:
    body = "Follow [the contributing guide](docs/CONTRIBUTING.md).\n"
    assert missing(hygiene.check(subagent(body=body))) == []


def test_subagent_pointing_at_a_bundle_script_it_lacks_blocks() -> None:
    body = "You are a reviewer.\n\nRun `scripts/lint.sh` before answering.\n"
    assert [line for line, _ in missing(hygiene.check(subagent(body=body)))] == [8]


def test_binary_file_warns() -> None:
    asset = skill(files={"assets/logo.png": b"\x89PNG\r\n\x1a\n\x00\x00", "notes.txt": "fine\n"})
    [finding] = hygiene.check(asset)
    assert (finding.check_id, finding.severity, finding.file) == (
        "hygiene.binary-file",
        Severity.WARN,
        "assets/logo.png",
    )


def test_latin1_text_is_binary_for_review() -> None:
    [finding] = hygiene.check(skill(files={"notes.txt": "caf\xe9\n".encode("latin-1")}))
    assert finding.check_id == "hygiene.binary-file"


def test_file_over_256_kib_warns_and_one_at_the_limit_does_not() -> None:
    asset = skill(
        files={"references/big.md": "a" * (256 * 1024 + 1), "references/ok.md": "b" * 256 * 1024}
    )
    [finding] = hygiene.check(asset)
    assert (finding.check_id, finding.file) == ("hygiene.large-file", "references/big.md")
    assert finding.severity is Severity.WARN


@pytest.mark.parametrize(
    "path", [".env", "config/.env.production", "id_rsa", "keys/server.pem", "tls/site.key"]
)
def test_sensitive_files_block(path: str) -> None:
    [finding] = hygiene.check(skill(files={path: "x\n"}))
    assert (finding.check_id, finding.severity, finding.file) == (
        "hygiene.sensitive-file",
        Severity.BLOCK,
        path,
    )


@pytest.mark.parametrize("path", [".env.example", "id_rsa.pub", "docs/keys.md", "monkey.txt"])
def test_similar_names_are_not_sensitive(path: str) -> None:
    assert hygiene.check(skill(files={path: "x\n"})) == []
