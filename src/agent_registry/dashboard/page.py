"""The whole dashboard document: head, stylesheet, navigation and the sections.

One string, no external resource: the stylesheet is inline and the charts are inline
SVG, so the page renders the same offline, behind a proxy, or saved to a file.
"""

from __future__ import annotations

from agent_registry.catalog.models import OrgReport
from agent_registry.config import Settings
from agent_registry.dashboard import sections
from agent_registry.dashboard.markup import esc
from agent_registry.lifecycle.visibility import ALL_LIFECYCLES, TemporalConsole

DEFAULT_UI_URL: str = Settings.model_fields["ui_url"].default

REFRESH_SECONDS = 60
"""How often the open page reloads itself (a meta refresh: the page runs no script)."""

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
"""Nothing but inline style may load: the page has no script, so none may run."""

STYLE = """
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
 color:#1f2430;background:#f4f6fa}
header{background:#1f2a44;color:#fff;padding:18px 32px}
header h1{margin:0;font-size:22px}
header p{margin:4px 0 0;color:#c8d0e0}
header a.ui{color:#fff}
nav{display:flex;gap:18px;padding:10px 32px;background:#fff;border-bottom:1px solid #e3e6ee}
nav a{color:#2f4fb0;text-decoration:none;font-weight:600}
main{padding:20px 32px 48px;max-width:1320px}
section{background:#fff;border:1px solid #e3e6ee;border-radius:8px;padding:18px 22px;
 margin:0 0 20px}
section h2{margin:0 0 2px;font-size:19px}
section h3{margin:20px 0 8px;font-size:15px}
.lead{margin:0 0 10px;color:#5d6678}
.cards{display:grid;grid-template-columns:repeat(6,1fr);gap:12px;background:none;border:0;
 padding:0}
.card{display:flex;flex-direction:column;background:#fff;border:1px solid #e3e6ee;
 border-radius:8px;padding:14px 16px;color:inherit;text-decoration:none}
.card .value{font-size:28px;font-weight:700}
.card .label{font-weight:600}
.card .note{color:#5d6678;font-size:12px}
.card.alarm{border-color:#d9534f;background:#fff5f5}
.card.alarm .note{color:#b0302c;font-weight:600}
.grid{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:16px}
.panel h3{margin-top:4px}
.panel.wide{overflow-x:auto}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:6px 10px;border-bottom:1px solid #edf0f5;vertical-align:top}
th{font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:#5d6678}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
tr.breach td{background:#fff5f5}
code{font:12.5px ui-monospace,SFMono-Regular,Menlo,monospace;word-break:break-all}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600}
.tier-low,.ok{background:#e5f6ee;color:#176b45}
.tier-medium,.warn{background:#fff3d6;color:#8a5a00}
.tier-high,.bad{background:#fde4e3;color:#a12622}
.tier-other{background:#eceff4;color:#3b4252}
.chip{display:inline-block;margin:0 4px 4px 0;padding:1px 7px;border-radius:4px;
 background:#eef1f8;font-size:12px}
.muted,.empty{color:#8a93a5}
.unused{columns:3;margin:0;padding-left:18px}
svg.chart{max-width:100%;height:auto}
svg.chart.wide{width:100%}
a.wf{text-decoration:none}
a.wf code{color:#2f4fb0}
ul.views{list-style:none;margin:0 0 8px;padding:0;font-size:12.5px}
ul.views li{margin:2px 0}
ul.views a{color:#2f4fb0;font-weight:600;margin-right:6px}
ul.views code{color:#5d6678}
p.more{color:#5d6678;font-size:12.5px;margin:6px 0 0}
"""


def render_dashboard(report: OrgReport, *, console: TemporalConsole | None = None) -> str:
    """The dashboard page for ``report``, as one self-contained HTML document.

    Args:
        report: The numbers.
        console: Where the Temporal UI is, for the links from versions and sections;
            the settings' default UI address on the default namespace when None.
    """
    console = console or TemporalConsole(ui_url=DEFAULT_UI_URL)
    generated = f"{report.generated_at:%Y-%m-%d %H:%M:%S} UTC"
    stamp = esc(report.generated_at.isoformat())
    body = "".join(
        (
            sections.summary(report),
            sections.inventory(report),
            sections.scope(report),
            sections.governance(report, console),
            sections.reuse(report),
        )
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta http-equiv="refresh" content="{REFRESH_SECONDS}">'
        "<title>Agent Registry: org dashboard</title>"
        f"<style>{STYLE}</style></head><body>"
        "<header><h1>Agent Registry</h1>"
        f'<p>Org dashboard &middot; generated <time datetime="{stamp}">'
        f"{esc(generated)}</time> &middot; refreshes every {REFRESH_SECONDS} s &middot; "
        f'<a class="ui" href="{esc(console.workflow_list(ALL_LIFECYCLES))}">'
        "all lifecycles in Temporal</a></p></header>"
        '<nav><a href="#inventory">Inventory</a><a href="#scope">Scope</a>'
        '<a href="#governance">Governance</a><a href="#reuse">Reuse</a></nav>'
        f"<main>{body}</main></body></html>\n"
    )
