"""The alerting rules and the Grafana dashboard in deploy/, checked by the tools that own
their formats, and every metric they use checked against what is actually exported.

- Prometheus' ``promtool`` checks the rules and the scrape config, and runs the rules'
  unit tests (``deploy/prometheus/alerts_test.yml``): each alert fires on the series it
  is written for, with the annotations it promises.
- The dashboard is read through Grafana's own typed models (``grafana-foundation-sdk``,
  generated from Grafana's schema, with every panel plugin's options and the Prometheus
  query type registered): a key the model does not know is dropped on the way, so a
  round trip that loses anything is a panel Grafana would not understand.
- Every ``agent_registry_*`` name must be one :mod:`agent_registry.metrics` defines, and
  every ``temporal_*`` name one a real worker exported in this test run.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import Engine
from temporalio.testing import WorkflowEnvironment

from agent_registry import metrics
from agent_registry.lifecycle.stages import Stage
from tests.observability.test_metrics import metrics_client, scrape
from tests.ports import free_port
from tests.support import (
    approve_until_published,
    copy_example,
    make_settings,
    running_worker,
    submit_path,
    wait_for_stage,
)

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS = ROOT / "deploy" / "prometheus"
GRAFANA = ROOT / "deploy" / "grafana"
DASHBOARD = GRAFANA / "dashboards" / "agent-registry.json"
COMPOSE = ROOT / "deploy" / "compose.yaml"
PROMTOOL = shutil.which("promtool")

needs_promtool = pytest.mark.skipif(
    PROMTOOL is None,
    reason="promtool is not installed (apt-get install -y prometheus; .ci/run does it as root)",
)

_NAME = re.compile(r"\b(?:agent_registry|temporal)_[a-z0-9_]+\b")
_HISTOGRAM_SUFFIXES = ("_bucket", "_count", "_sum")


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL is not None
    return subprocess.run(
        [PROMTOOL, *args], cwd=PROMETHEUS, capture_output=True, text=True, timeout=60
    )


def rule_expressions() -> dict[str, str]:
    loaded = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text(encoding="utf-8"))
    return {rule["alert"]: rule["expr"] for group in loaded["groups"] for rule in group["rules"]}


def dashboard() -> dict[str, Any]:
    loaded = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def panel_expressions() -> dict[str, str]:
    return {
        f"{panel['title']} [{target['refId']}]": target["expr"]
        for panel in dashboard()["panels"]
        for target in panel.get("targets", [])
    }


def used_names(expressions: dict[str, str]) -> dict[str, set[str]]:
    """Each metric name the expressions use, and where."""
    found: dict[str, set[str]] = {}
    for where, expr in expressions.items():
        for name in _NAME.findall(expr):
            found.setdefault(name, set()).add(where)
    return found


def registry_names() -> set[str]:
    """Every series name the registry's worker counters and server metrics produce."""
    names = {counter.name for counter in metrics.ALL_COUNTERS}
    for metric in metrics.ALL_SERVER_METRICS:
        names.add(metric.name)
        if metric.type == "histogram":
            names |= {metric.name + suffix for suffix in _HISTOGRAM_SUFFIXES}
    return names


# ----- promtool ------------------------------------------------------------------------


@needs_promtool
def test_promtool_accepts_the_rules_and_the_scrape_config() -> None:
    rules = promtool("check", "rules", "alerts.yml")
    assert rules.returncode == 0, rules.stdout + rules.stderr
    config = promtool("check", "config", "prometheus.yml")
    assert config.returncode == 0, config.stdout + config.stderr


@needs_promtool
def test_each_alert_fires_on_the_series_it_is_written_for() -> None:
    ran = promtool("test", "rules", "alerts_test.yml")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "SUCCESS" in ran.stdout + ran.stderr


def test_the_issue_s_alerts_exist_and_each_names_its_runbook() -> None:
    loaded = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text(encoding="utf-8"))
    rules = [rule for group in loaded["groups"] for rule in group["rules"]]
    operations = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    anchors = {
        re.sub(r"[^a-z0-9 -]", "", line[3:].strip().lower()).replace(" ", "-")
        for line in operations.splitlines()
        if line.startswith("## ")
    }
    for rule in rules:
        runbook = rule["annotations"]["runbook"]
        page, _, anchor = runbook.partition("#")
        assert page == "docs/operations.md", rule["alert"]
        assert anchor in anchors, f"{rule['alert']}: no section #{anchor} in {page}"
        assert rule["labels"]["severity"] in {"warning", "critical"}
    uses = used_names(rule_expressions())
    for needed in (
        metrics.REVIEWS_PAST_SLA.name,  # reviews past SLA
        metrics.RECERTIFICATION_LAPSES.name,  # re-certification lapses
        metrics.EVAL_RUNS.name,  # eval failure rate
        metrics.PROBE_FAILURES.name,  # probe failures
        metrics.TASK_QUEUE_POLLERS.name,  # worker down, as Temporal sees it
        "temporal_workflow_task_schedule_to_start_latency_bucket",
    ):
        assert needed in uses, f"no alert uses {needed}"
    assert any('up{job="agent-registry-worker"}' in expr for expr in rule_expressions().values())


# ----- grafana -------------------------------------------------------------------------


def lost_in_round_trip(original: Any, parsed: Any, path: str = "") -> Iterator[str]:
    """Paths in ``original`` that the typed model did not keep, or changed."""
    if isinstance(original, dict):
        if not isinstance(parsed, dict):
            yield f"{path} is not an object in the model"
            return
        for key, value in original.items():
            if key not in parsed:
                yield f"{path}.{key}"
            else:
                yield from lost_in_round_trip(value, parsed[key], f"{path}.{key}")
    elif isinstance(original, list):
        if not isinstance(parsed, list) or len(parsed) != len(original):
            yield f"{path} has another length in the model"
            return
        for index, (left, right) in enumerate(zip(original, parsed, strict=True)):
            yield from lost_in_round_trip(left, right, f"{path}[{index}]")
    elif original != parsed:
        yield f"{path}: {original!r} became {parsed!r}"


def grafana_round_trip(data: dict[str, Any]) -> dict[str, Any]:
    sdk = pytest.importorskip(
        "grafana_foundation_sdk",
        reason="grafana-foundation-sdk is not installed (pip install -e '.[test]')",
    )
    from grafana_foundation_sdk.cog import plugins
    from grafana_foundation_sdk.cog.encoder import JSONEncoder
    from grafana_foundation_sdk.models.dashboard import Dashboard

    assert sdk is not None
    plugins.register_default_plugins()
    parsed: dict[str, Any] = json.loads(json.dumps(Dashboard.from_json(data), cls=JSONEncoder))
    return parsed


def test_the_dashboard_is_what_grafana_s_own_model_reads() -> None:
    data = dashboard()
    assert list(lost_in_round_trip(data, grafana_round_trip(data))) == []


def test_the_round_trip_catches_what_grafana_would_not_read() -> None:
    data = dashboard()
    stat = next(p for p in data["panels"] if p["type"] == "stat")
    stat["options"]["colourMode"] = "background"
    stat["targets"][0]["query"] = stat["targets"][0].pop("expr")
    lost = set(lost_in_round_trip(data, grafana_round_trip(data)))
    index = data["panels"].index(stat)
    assert {f".panels[{index}].options.colourMode", f".panels[{index}].targets[0].query"} <= lost


def test_the_dashboard_layout_and_datasource_are_sound() -> None:
    data = dashboard()
    panels = data["panels"]
    ids = [panel["id"] for panel in panels]
    assert len(ids) == len(set(ids))
    cells: set[tuple[int, int]] = set()
    for panel in panels:
        grid = panel["gridPos"]
        assert grid["x"] >= 0 and grid["x"] + grid["w"] <= 24, panel["title"]
        covered = {
            (x, y)
            for x in range(grid["x"], grid["x"] + grid["w"])
            for y in range(grid["y"], grid["y"] + grid["h"])
        }
        assert not covered & cells, f"{panel['title']} overlaps another panel"
        cells |= covered
    provisioned = yaml.safe_load(
        (GRAFANA / "provisioning" / "datasources" / "prometheus.yml").read_text(encoding="utf-8")
    )
    uid = provisioned["datasources"][0]["uid"]
    for panel in panels:
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == {"type": "prometheus", "uid": uid}, panel["title"]
        assert panel["targets"], panel["title"]
    assert data["refresh"] and data["uid"] == "agent-registry"


def test_compose_provisions_prometheus_and_grafana_with_these_files() -> None:
    services = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))["services"]
    prometheus, grafana = services["prometheus"], services["grafana"]
    assert "./prometheus:/etc/prometheus:ro" in prometheus["volumes"]
    assert "--config.file=/etc/prometheus/prometheus.yml" in prometheus["command"]
    assert "./grafana/provisioning:/etc/grafana/provisioning:ro" in grafana["volumes"]
    assert "./grafana/dashboards:/var/lib/grafana/dashboards:ro" in grafana["volumes"]
    provider = yaml.safe_load(
        (GRAFANA / "provisioning" / "dashboards" / "agent-registry.yml").read_text(encoding="utf-8")
    )
    assert provider["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards"
    scrape = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text(encoding="utf-8"))
    jobs = {job["job_name"]: job for job in scrape["scrape_configs"]}
    worker_port = services["worker"]["environment"]["AGENT_REGISTRY_METRICS_ADDRESS"]
    assert jobs["agent-registry-worker"]["dns_sd_configs"][0]["port"] == int(
        worker_port.rpartition(":")[2]
    )
    assert jobs["agent-registry-server"]["static_configs"][0]["targets"] == ["server:3000"]


# ----- every metric used is exported -----------------------------------------------------


@pytest.fixture(scope="module")
def rules_and_panels() -> dict[str, set[str]]:
    return used_names({**rule_expressions(), **panel_expressions()})


def test_every_registry_metric_used_is_defined(rules_and_panels: dict[str, set[str]]) -> None:
    ours = {name: where for name, where in rules_and_panels.items() if name.startswith("agent_")}
    unknown = {name: sorted(where) for name, where in ours.items() if name not in registry_names()}
    assert unknown == {}


async def test_every_sdk_metric_used_is_one_a_real_worker_exports(
    rules_and_panels: dict[str, set[str]],
    dev_env: WorkflowEnvironment,
    sqlite_url: str,
    sqlite_engine: Engine,
    tmp_path: Path,
) -> None:
    port = free_port()
    settings = make_settings(tmp_path, sqlite_url)
    client = await metrics_client(dev_env, port)
    async with running_worker(client, settings, sqlite_engine):
        handle = await submit_path(client, settings, copy_example("skills/release-notes", tmp_path))
        await wait_for_stage(await approve_until_published(client, handle), Stage.PUBLISHED)
        text = await asyncio.to_thread(scrape, port)

    exported = set(re.findall(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)", text, flags=re.MULTILINE))
    sdk = {name: where for name, where in rules_and_panels.items() if name.startswith("temporal_")}
    assert sdk, "the alerts and panels use no SDK metric"
    missing = {name: sorted(where) for name, where in sdk.items() if name not in exported}
    assert missing == {}
