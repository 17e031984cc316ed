"""Report → the JSON document ``audit -o json`` writes (and ``--baseline`` reads back)."""

from __future__ import annotations

import json
from typing import Any

from ..model import Report

__all__ = ["SCHEMA_VERSION", "to_dict", "to_json"]

SCHEMA_VERSION = 1


def to_dict(report: Report) -> dict[str, Any]:
    """``{"findings": [...], "summary": {...}}`` plus the rules used and the exclusions that shaped it."""
    used = sorted({f.rule for f in report.findings})
    return {
        "schemaVersion": SCHEMA_VERSION,
        "findings": [f.to_dict() for f in report.findings],
        "summary": report.summary(),
        "rules": {rid: dict(report.rules[rid]) for rid in used if rid in report.rules},
        "exclusions": {
            "expired": [e.to_dict() for e in report.expired_exclusions],
            "unused": [e.to_dict() for e in report.unused_exclusions],
        },
        "inputs": list(report.inputs),
        "incomplete": list(report.incomplete),
    }


# Above this many findings the report is written compactly: indented output goes through the json
# module's pure-Python encoder, five times slower (a 200,000-object cluster gives 220,000 findings).
PRETTY_UP_TO = 10_000


def dumps(data: object, findings: int) -> str:
    """JSON text of a report: indented for people, compact (one line) for very large reports."""
    if findings <= PRETTY_UP_TO:
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n"


def to_json(report: Report) -> str:
    return dumps(to_dict(report), len(report.findings))
