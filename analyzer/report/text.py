"""Report → plain text for a terminal: summary, then one block per finding of the user's section."""

from __future__ import annotations

from ..model import Finding, Report

__all__ = ["to_text", "subject_text"]


def subject_text(f: Finding) -> str:
    if f.subject is None:
        return f.object.replace(":", " ", 1) if f.object else "-"
    s = f.subject
    return f"{s.kind} {s.namespace + '/' if s.namespace else ''}{s.name}"


def _block(f: Finding, verbose: bool) -> list[str]:
    lines = [f"[{f.severity.value.upper()}] {f.rule} {f.title}", f"  {f.message}",
             f"  subject: {subject_text(f)}   scope: {f.scope_text}   id: {f.id}"]
    shown = f.evidence if verbose else f.evidence[:3]
    for e in shown:
        where = f"  [{e.where()}]" if e.where() else ""
        lines.append(f"  evidence: {e.describe()}{where}")
    if len(shown) < len(f.evidence):
        lines.append(f"  … {len(f.evidence) - len(shown)} more (-o json or -v lists all)")
    if f.blast_radius:
        more = f" (+{len(f.blast_radius) - 5} more)" if len(f.blast_radius) > 5 else ""
        lines.append(f"  blast radius: {', '.join(f.blast_radius[:5])}{more}")
    if f.exclusion is not None:
        ex = f.exclusion
        lines.append(f"  excluded: {ex.reason} (owner {ex.owner or '-'}, expires {ex.expires or 'never'})")
    lines.append(f"  fix: {f.remediation}")
    return lines


def to_text(report: Report, *, verbose: bool = False) -> str:
    s = report.summary()
    sev = s["bySeverity"]
    lines = [
        f"{len(report.user)} finding(s): " + ", ".join(f"{n} {k}" for k, n in sev.items() if n) if report.user
        else "No findings in your policy.",
    ]
    if report.platform:
        lines.append(f"{len(report.platform)} more about Kubernetes' own defaults (platform section; "
                     f"--include-system shows them among yours).")
    if report.excluded:
        lines.append(f"{len(report.excluded)} excluded by the exclusions file.")
    if report.baseline_suppressed:
        lines.append(f"{report.baseline_suppressed} already in the baseline (not shown).")
    if report.incomplete:
        lines.append(f"incomplete: could not read {', '.join(report.incomplete)} (findings there may be missing)")
    for e in report.expired_exclusions:
        lines.append(f"warning: exclusion expired on {e.expires} and no longer applies: rule {e.rule}, "
                     f"subject {e.subject} ({e.source})")
    sections = [("user", report.user)]
    if verbose:
        sections += [("platform", report.platform), ("excluded", report.excluded)]
    elif report.excluded:
        sections.append(("excluded", report.excluded))
    for name, findings in sections:
        if not findings:
            continue
        lines.append("")
        lines.append(f"== {name} ({len(findings)}) ==")
        for f in findings:
            lines.append("")
            lines.extend(_block(f, verbose))
    return "\n".join(lines) + "\n"
