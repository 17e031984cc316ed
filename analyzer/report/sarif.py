"""Report → SARIF 2.1.0 (GitHub code scanning): one result per finding, located at the binding's manifest line."""

from __future__ import annotations

import os
from importlib import metadata
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

from ..model import Finding, Report, Severity, SourceRef
from .json_report import dumps

__all__ = ["to_sarif", "to_sarif_dict", "SARIF_SCHEMA"]

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"

_LEVEL = {Severity.CRITICAL: "error", Severity.HIGH: "error", Severity.MEDIUM: "warning",
          Severity.LOW: "note", Severity.INFO: "note"}
# GitHub reads "security-severity" (0-10) to rank security alerts.
_SECURITY_SEVERITY = {Severity.CRITICAL: "9.5", Severity.HIGH: "8.0", Severity.MEDIUM: "5.5",
                      Severity.LOW: "3.0", Severity.INFO: "1.0"}


def _tool_version() -> str:
    try:
        return metadata.version("rbac-analyzer")
    except metadata.PackageNotFoundError:
        return "0.0.0"


def _uri(path: str) -> str:
    """A relative URI (forward slashes) when the file is under the working directory, else a file: URI."""
    p = Path(path)
    if p.is_absolute():
        try:
            p = p.relative_to(Path.cwd())
        except ValueError:
            return p.as_uri()
    return quote(str(PurePosixPath(*p.parts)) if os.sep != "/" else str(p), safe="/")


def _location(src: SourceRef) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": {"uri": _uri(src.file)}}
    if src.line:
        physical["region"] = {"startLine": src.line}
    return {"physicalLocation": physical}


def _rule(rule_id: str, doc: dict[str, Any]) -> dict[str, Any]:
    sev = Severity(doc.get("severity", "info"))
    help_text = f"{doc.get('description', '')}\n\nRemediation: {doc.get('remediation', '')}"
    out: dict[str, Any] = {
        "id": rule_id,
        "name": "".join(w.capitalize() for w in str(doc.get("title", rule_id)).replace("-", " ").split()),
        "shortDescription": {"text": doc.get("title", rule_id)},
        "fullDescription": {"text": doc.get("description", "") or doc.get("title", rule_id)},
        "help": {"text": help_text, "markdown": help_text},
        "defaultConfiguration": {"level": _LEVEL[sev]},
        "properties": {"security-severity": _SECURITY_SEVERITY[sev], "precision": "high",
                       "tags": list(dict.fromkeys(["security", "kubernetes", "rbac",
                                                   str(doc.get("category") or "rbac")]))},
    }
    refs = doc.get("references") or []
    if refs:
        out["helpUri"] = refs[0]
    return out


def _result(f: Finding, rule_index: int) -> dict[str, Any]:
    res: dict[str, Any] = {
        "ruleId": f.rule,
        "ruleIndex": rule_index,
        "level": _LEVEL[f.severity],
        "message": {"text": f.message},
        "partialFingerprints": {"rbacAnalyzerFindingId/v1": f.id},
        "properties": {"severity": f.severity.value, "section": f.section, "scope": f.scope_text,
                       "evidence": [e.describe() for e in f.evidence],
                       "blastRadius": list(f.blast_radius)},
    }
    loc = f.location
    if loc is not None:
        res["locations"] = [_location(loc)]
        related = [e.role_source for e in f.evidence if e.role_source is not None and e.role_source.file]
        if related:
            res["relatedLocations"] = [{"id": i, **_location(src), "message": {"text": "role"}}
                                       for i, src in enumerate(related[:5])]
    if f.exclusion is not None:
        res["suppressions"] = [{"kind": "external", "status": "accepted",
                                "justification": f.exclusion.reason}]
    return res


def to_sarif_dict(report: Report) -> dict[str, Any]:
    """Findings of the user and excluded sections (excluded ones carry a suppression)."""
    findings = [f for f in report.findings if f.section in ("user", "excluded")]
    rule_ids = sorted(report.rules)
    index = {rid: i for i, rid in enumerate(rule_ids)}
    notes = [{"level": "warning", "message": {"text": f"exclusion {e.source} (rule {e.rule}, subject {e.subject}) "
                                                   f"expired on {e.expires} and no longer applies"}}
             for e in report.expired_exclusions]
    notes += [{"level": "warning", "message": {"text": f"incomplete: could not read {item}"}}
              for item in report.incomplete]
    run_extra: dict[str, Any] = {}
    if notes:
        run_extra["invocations"] = [{"executionSuccessful": True, "toolExecutionNotifications": notes}]
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            **run_extra,
            "tool": {"driver": {
                "name": "rbac-analyzer",
                "version": _tool_version(),
                "informationUri": "https://kubernetes.io/docs/reference/access-authn-authz/rbac/",
                "rules": [_rule(rid, dict(report.rules[rid])) for rid in rule_ids],
            }},
            "results": [_result(f, index.get(f.rule, -1)) for f in findings if f.rule in index],
            "columnKind": "unicodeCodePoints",
        }],
    }


def to_sarif(report: Report) -> str:
    return dumps(to_sarif_dict(report), len(report.findings))
