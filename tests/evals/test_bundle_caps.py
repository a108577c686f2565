"""Bundle size caps are a policy choice per kind and tier, with defaults public skills fit."""

from __future__ import annotations

from pathlib import Path

from agent_registry.assets.bundle import BundleLimits
from agent_registry.assets.loader import load_path
from agent_registry.evals.runner import evaluate
from agent_registry.policy.loader import load_policy, parse_policy
from tests.evals.builders import DEFAULT_SKILL, skill

MIB = 1024 * 1024
DEFAULT_POLICY = Path(__file__).resolve().parents[2] / "src/agent_registry/default_policy.toml"


def _fonts(total: int, count: int) -> dict[str, str | bytes]:
    size = total // count
    # A TrueType file starts 00 01 00 00: binary, as real fonts are.
    return {
        f"canvas-fonts/Font{i}-Regular.ttf": b"\x00\x01\x00\x00" + bytes([i % 251]) * size
        for i in range(count)
    }


def caps(report_findings: list[object]) -> list[object]:
    return [f for f in report_findings if getattr(f, "check_id", "") == "hygiene.bundle-over-cap"]


def test_a_document_skill_of_1_1_mb_passes_the_default_policy() -> None:
    element = '<xsd:element name="paragraph" type="CT_P" minOccurs="0"/>\n'
    files = {"ooxml/schemas/wml.xsd": element * (1_130_000 // len(element))}
    report = evaluate(skill(files=files), load_policy(None))
    assert report.blocking == []


def test_a_skill_that_ships_5_5_mb_of_fonts_passes_the_default_policy() -> None:
    report = evaluate(skill(files=_fonts(5_500_000, 40)), load_policy(None))
    assert caps(report.findings) == []
    assert report.blocking == []


def test_the_reader_reads_such_a_skill_within_its_default_limits(tmp_path: Path) -> None:
    folder = tmp_path / "canvas-design"
    (folder / "canvas-fonts").mkdir(parents=True)
    (folder / "SKILL.md").write_text(
        "---\nname: canvas-design\ndescription: Creates posters and art as PNG and PDF "
        "files.\n---\n\nDesign with the fonts in canvas-fonts/.\n"
    )
    for name, data in _fonts(5_500_000, 40).items():
        (folder / name).write_bytes(data if isinstance(data, bytes) else data.encode())
    asset = load_path(folder, limits=BundleLimits())
    assert asset.problems == []
    assert asset.bundle.total_bytes >= 5_400_000


def test_a_tier_can_hold_its_assets_to_a_smaller_cap() -> None:
    text = DEFAULT_POLICY.read_text() + '\n[bundles.skill.tiers.high]\nmax_total = "1MiB"\n'
    policy = parse_policy(text, source="test")
    files = {"assets/data.bin": b"\x00" * 1_200_000}
    low = evaluate(skill(files=files), policy)
    assert caps(low.findings) == []
    shell = {**DEFAULT_SKILL, "allowed-tools": "Bash"}
    high = evaluate(skill(frontmatter=shell, files=files), policy)
    assert high.risk_tier.value == "high"
    [finding] = caps(high.blocking)
    assert "for a high-risk skill" in finding.message  # type: ignore[attr-defined]


def test_a_kind_cap_blocks_what_exceeds_it() -> None:
    files = {f"assets/f{i}.txt": "x\n" for i in range(501)}
    report = evaluate(skill(files=files), load_policy(None))
    [finding] = caps(report.blocking)
    assert "502 files" in finding.message  # type: ignore[attr-defined]
