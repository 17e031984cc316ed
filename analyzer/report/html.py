"""Report → one self-contained HTML page (no network): summary by severity, sortable findings, evidence,
and each subject's diagram inline as SVG when the caller supplies one."""

from __future__ import annotations

import re
from collections.abc import Mapping
from html import escape

from ..model import SECTIONS, Finding, Report, Severity
from .text import subject_text

__all__ = ["to_html"]

_COLORS = {"critical": "#8b0000", "high": "#d9480f", "medium": "#e8a100", "low": "#1c7ed6", "info": "#868e96"}

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem;color:#212529}
h1{margin-bottom:.2rem} .muted{color:#6c757d}
.cards{display:flex;gap:.8rem;margin:1rem 0;flex-wrap:wrap}
.card{border-radius:6px;padding:.6rem 1rem;color:#fff;min-width:6rem}
.card b{font-size:1.6rem;display:block}
table{border-collapse:collapse;width:100%;margin-top:1rem}
th,td{border-bottom:1px solid #dee2e6;padding:.4rem .5rem;text-align:left;vertical-align:top}
th{cursor:pointer;background:#f1f3f5;user-select:none} th:after{content:" \\2195";color:#adb5bd}
.sev{color:#fff;border-radius:4px;padding:0 .4rem;font-size:.85rem}
details summary{cursor:pointer} code{font-size:.85rem}
.warn{background:#fff3bf;padding:.5rem 1rem;border-radius:6px}
.diagram svg{max-width:100%;height:auto}
select,input{margin-right:1rem}
"""

# Sorting by column (severity sorts by rank) and filtering by section; no external resources.
_JS = """
(function(){
  var table=document.getElementById('findings');
  var rows=function(){return Array.prototype.slice.call(table.tBodies[0].rows);};
  Array.prototype.forEach.call(table.tHead.rows[0].cells,function(th,i){
    th.addEventListener('click',function(){
      var asc=th.getAttribute('data-asc')!=='1'; th.setAttribute('data-asc',asc?'1':'0');
      var sorted=rows().sort(function(a,b){
        var x=a.cells[i].getAttribute('data-key')||a.cells[i].textContent;
        var y=b.cells[i].getAttribute('data-key')||b.cells[i].textContent;
        return (x<y?-1:x>y?1:0)*(asc?1:-1);});
      sorted.forEach(function(r){table.tBodies[0].appendChild(r);});
    });
  });
  var filter=function(){
    var section=document.getElementById('section').value;
    var text=document.getElementById('search').value.toLowerCase();
    rows().forEach(function(r){
      var ok=(section==='all'||r.getAttribute('data-section')===section)&&
             (!text||r.textContent.toLowerCase().indexOf(text)>=0);
      r.style.display=ok?'':'none';});
  };
  document.getElementById('section').addEventListener('change',filter);
  document.getElementById('search').addEventListener('input',filter);
  filter();
})();
"""

_SVG_START = re.compile(r"<svg\b", re.IGNORECASE)
_SCRIPT = re.compile(r"<script\b.*?</script\s*>", re.IGNORECASE | re.DOTALL)


def _inline_svg(svg: str) -> str:
    """Drop the XML prolog/doctype Graphviz writes, and anything script-like, keeping the <svg> element."""
    m = _SVG_START.search(svg)
    if m is None:
        return ""
    return _SCRIPT.sub("", svg[m.start():])


def _row(f: Finding, anchors: Mapping[str, str]) -> str:
    sev = f.severity.value
    ev_items = "".join(
        f"<li>{escape(e.describe())}"
        + (f" <code>{escape(e.where())}</code>" if e.where() else "") + "</li>"
        for e in f.evidence)
    details = [f"<p>{escape(f.message)}</p>"]
    if ev_items:
        details.append(f"<p><b>Evidence</b></p><ul>{ev_items}</ul>")
    if f.blast_radius:
        details.append("<p><b>Blast radius:</b> " + escape(", ".join(f.blast_radius)) + "</p>")
    if f.exclusion is not None:
        ex = f.exclusion
        details.append(f"<p><b>Excluded:</b> {escape(ex.reason)} (owner {escape(ex.owner or '-')}, "
                       f"expires {escape(str(ex.expires or 'never'))})</p>")
    details.append(f"<p><b>Remediation:</b> {escape(f.remediation)}</p>")
    anchor = anchors.get(f.subject.id) if f.subject is not None else None
    if anchor:
        details.append(f'<p><a href="#{anchor}">Diagram of {escape(subject_text(f))}</a></p>')
    details.append(f'<p class="muted">id <code>{escape(f.id)}</code></p>')
    return (
        f'<tr data-section="{escape(f.section)}">'
        f'<td data-key="{4 - f.severity.rank}"><span class="sev" style="background:{_COLORS[sev]}">{sev}</span></td>'
        f"<td>{escape(f.rule)}</td>"
        f"<td><details><summary>{escape(f.title)}</summary>{''.join(details)}</details></td>"
        f"<td>{escape(subject_text(f))}</td><td>{escape(f.scope_text)}</td><td>{escape(f.section)}</td></tr>"
    )


def to_html(report: Report, *, diagrams: Mapping[str, str] | None = None, title: str = "RBAC audit") -> str:
    """The whole page. ``diagrams`` maps subject ids to SVG text (Graphviz output) to show inline."""
    diagrams = diagrams or {}
    s = report.summary()
    cards = "".join(
        f'<div class="card" style="background:{_COLORS[sev.value]}"><b>{s["bySeverity"][sev.value]}</b>'
        f"{sev.value}</div>" for sev in Severity)
    other = ", ".join(f"{n} {name}" for name, n in s["bySection"].items() if name != "user" and n)
    warnings = "".join(
        f'<p class="warn">Exclusion {escape(e.source)} (rule {escape(e.rule)}, subject {escape(e.subject)}) '
        f"expired on {escape(str(e.expires))} and no longer applies.</p>" for e in report.expired_exclusions)
    if report.incomplete:
        warnings += (f'<p class="warn">Incomplete: could not read {escape(", ".join(report.incomplete))} '
                     "(findings there may be missing).</p>")
    baseline = (f'<p class="muted">{report.baseline_suppressed} finding(s) already in the baseline are not '
                f"shown.</p>" if report.baseline_suppressed else "")
    options = "".join(f'<option value="{name}"{" selected" if name == "user" else ""}>{name}</option>'
                      for name in SECTIONS)
    # each subject's diagram once, at the end; findings link to it
    anchors = {sid: f"diagram-{i}" for i, sid in enumerate(diagrams)}
    rows = "".join(_row(f, anchors) for f in report.findings)
    figures = "".join(
        f'<details id="{anchors[sid]}" open><summary>{escape(sid)}</summary>'
        f'<div class="diagram">{_inline_svg(svg)}</div></details>' for sid, svg in diagrams.items())
    if figures:
        figures = f"<h2>Subjects</h2>{figures}"
    empty = "" if report.user else "<p>No findings in your policy.</p>"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>{escape(title)}</title><style>{_CSS}</style></head>
<body>
<h1>{escape(title)}</h1>
<p class="muted">Your policy's findings by severity{(' — also ' + escape(other)) if other else ''}.</p>
<div class="cards">{cards}</div>
{warnings}{baseline}{empty}
<label>Section <select id="section"><option value="all">all</option>{options}</select></label>
<label>Filter <input id="search" type="search" placeholder="subject, rule, namespace…"></label>
<table id="findings"><thead><tr><th>Severity</th><th>Rule</th><th>Finding</th><th>Subject</th><th>Scope</th>
<th>Section</th></tr></thead><tbody>{rows}</tbody></table>
{figures}
<script>{_JS}</script>
</body></html>
"""
