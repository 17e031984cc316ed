"""Report → Markdown (for pull-request comments, wikis and tickets)."""

from __future__ import annotations

from ..model import SECTIONS, Finding, Report, Severity
from .text import subject_text

__all__ = ["to_markdown"]

_SECTION_TITLES = {
    "user": "Findings",
    "platform": "Kubernetes' own defaults (platform)",
    "excluded": "Excluded (accepted risks)",
}


def _md(text: str) -> str:
    """Escape what Markdown would otherwise interpret in names and messages."""
    for ch in "\\`*_[]<>|":
        text = text.replace(ch, "\\" + ch)
    return text


def _finding(f: Finding) -> list[str]:
    out = [f"### {f.severity.value.upper()} · {f.rule} · {_md(f.title)}", "",
           f"- **Subject:** {_md(subject_text(f))}", f"- **Scope:** {f.scope_text}", f"- **Id:** `{f.id}`", "",
           _md(f.message), ""]
    if f.evidence:
        out.append("**Evidence**")
        out.append("")
        for e in f.evidence:
            where = f" — `{e.where()}`" if e.where() else ""
            out.append(f"- {_md(e.describe())}{where}")
        out.append("")
    if f.blast_radius:
        out.append("**Blast radius:** " + ", ".join(_md(w) for w in f.blast_radius))
        out.append("")
    if f.exclusion is not None:
        ex = f.exclusion
        out.append(f"**Excluded:** {_md(ex.reason)} (owner: {_md(ex.owner or '-')}, expires: {ex.expires or 'never'})")
        out.append("")
    out.append(f"**Remediation:** {_md(f.remediation)}")
    out.append("")
    return out


def to_markdown(report: Report) -> str:
    s = report.summary()
    lines = ["# RBAC audit", ""]
    lines.append("| section | " + " | ".join(sev.value for sev in Severity) + " |")
    lines.append("|---|" + "---|" * len(Severity))
    for name in SECTIONS:
        counts = s["bySectionAndSeverity"][name]
        lines.append(f"| {name} | " + " | ".join(str(counts[sev.value]) for sev in Severity) + " |")
    lines.append("")
    if report.baseline_suppressed:
        lines.append(f"{report.baseline_suppressed} finding(s) already in the baseline are not shown.")
        lines.append("")
    if report.incomplete:
        lines.append(f"> **Incomplete:** could not read {_md(', '.join(report.incomplete))} "
                     "(findings there may be missing)")
        lines.append("")
    for e in report.expired_exclusions:
        lines.append(f"> **Warning:** exclusion `{e.source}` (rule {_md(e.rule)}, subject {_md(e.subject)}) "
                     f"expired on {e.expires} and no longer applies.")
        lines.append("")
    for name in SECTIONS:
        findings = report.section(name)
        if not findings:
            continue
        lines.append(f"## {_SECTION_TITLES[name]} ({len(findings)})")
        lines.append("")
        for f in findings:
            lines.extend(_finding(f))
    if not report.user:
        lines.append("No findings in your policy.")
        lines.append("")
    return "\n".join(lines)
