"""Audit results: Evidence, Finding, Exclusion and Report (frozen; stable finding ids; JSON-ready dicts)."""

from __future__ import annotations

import copy
import datetime as _dt
import fnmatch
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from .rbac import PolicyRule, SourceRef, Subject
from .results import Severity

__all__ = ["Evidence", "Finding", "Exclusion", "Report", "SECTIONS", "severity_from_text", "finding_id"]

SECTIONS = ("user", "platform", "excluded")


# kinds whose node ids carry a namespace (``Kind:ns/name``); every other id is ``Kind:name``
_NAMESPACED_KINDS = frozenset({
    "ServiceAccount", "Role", "RoleBinding", "Pod", "Deployment", "DaemonSet", "StatefulSet", "ReplicaSet",
    "ReplicationController", "Job", "CronJob", "ConfigMap", "Secret",
})


def severity_from_text(text: str) -> Severity:
    """``"High"`` → ``Severity.HIGH``; ValueError on anything else."""
    return Severity(text.strip().lower())


def _object_ref(node: str) -> dict[str, str]:
    """``Kind:ns/name`` or ``Kind:name`` → ``{"kind", "name", "namespace"?}`` (cluster-scoped names may hold ':')."""
    kind, _, rest = node.partition(":")
    ns, slash, name = rest.partition("/")
    if slash and kind in _NAMESPACED_KINDS:
        return {"kind": kind, "name": name, "namespace": ns}
    return {"kind": kind, "name": rest}


@dataclass(frozen=True, kw_only=True)
class Evidence:
    """One link of a finding's evidence: a grant (binding → role → rule) or an object the finding is about."""

    permission: str = ""  # the catalog permission this grant answers, e.g. "get secrets cluster-wide"
    binding: str = ""  # node id, e.g. "RoleBinding:dev/ci-edit"
    role: str = ""  # node id of the referenced role (may be missing)
    rule: PolicyRule | None = None
    rule_index: int | None = None
    object: str = ""  # node id of another object (a workload, a role bound nowhere, a service account)
    source: SourceRef | None = None  # of the binding (or of the object)
    role_source: SourceRef | None = None
    detail: str = ""

    def describe(self) -> str:
        parts: list[str] = []
        if self.binding:
            parts.append(self.binding.replace(":", " ", 1))
        if self.role:
            parts.append(self.role.replace(":", " ", 1))
        if self.rule is not None:
            idx = f"rule #{self.rule_index + 1}: " if self.rule_index is not None else ""
            parts.append(idx + self.rule.summary())
        if self.object and not self.binding:
            parts.append(self.object.replace(":", " ", 1))
        text = " → ".join(parts)
        if self.permission:
            text = f"[{self.permission}] {text}"
        if self.detail:
            text = f"{text} ({self.detail})" if text else self.detail
        return text

    def where(self) -> str:
        """``file:line`` of the binding (or object), then of the role when it is written elsewhere."""
        places = [str(src) for src in (self.source, self.role_source) if src is not None and src.file]
        return "; role at ".join(dict.fromkeys(places))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.permission:
            out["permission"] = self.permission
        if self.binding:
            out["binding"] = _object_ref(self.binding)
        if self.role:
            out["role"] = _object_ref(self.role)
        if self.rule is not None:
            out["rule"] = self.rule.to_dict()
            if self.rule_index is not None:
                out["ruleIndex"] = self.rule_index
        if self.object:
            out["object"] = _object_ref(self.object)
        if self.source is not None:
            out["source"] = self.source.to_dict()
        if self.role_source is not None:
            out["roleSource"] = self.role_source.to_dict()
        if self.detail:
            out["detail"] = self.detail
        return out


def finding_id(rule: str, subject: str, namespace: str, obj: str) -> str:
    """Stable id: a hash of rule id, subject, scope and object (nothing run-dependent)."""
    scope = f"ns:{namespace}" if namespace else "cluster"
    digest = hashlib.sha256("\x1f".join((rule, subject, scope, obj)).encode()).hexdigest()
    return f"{rule}-{digest[:12]}"


@dataclass(frozen=True, kw_only=True)
class Exclusion:
    """An accepted risk: findings of ``rule`` for subjects matching ``subject`` (glob) in ``namespace``."""

    rule: str = "*"  # rule id or glob
    subject: str = "*"  # glob over subject ids (``ServiceAccount:monitoring/*``); "*" also matches no subject
    namespace: str = "*"  # glob over the finding's namespace; "" = cluster-scope findings only
    reason: str = ""
    owner: str = ""
    expires: _dt.date | None = None
    source: str = ""  # file:entry for messages

    def expired(self, today: _dt.date) -> bool:
        return self.expires is not None and self.expires < today

    def matches(self, finding: Finding) -> bool:
        if not fnmatch.fnmatchcase(finding.rule, self.rule):
            return False
        subject = finding.subject.id if finding.subject is not None else ""
        if not (self.subject == "*" or fnmatch.fnmatchcase(subject, self.subject)):
            return False
        return self.namespace == "*" or fnmatch.fnmatchcase(finding.namespace, self.namespace)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"rule": self.rule, "subject": self.subject, "namespace": self.namespace,
                               "reason": self.reason, "owner": self.owner,
                               "expires": self.expires.isoformat() if self.expires else None}
        if self.source:
            out["source"] = self.source
        return out


@dataclass(frozen=True, kw_only=True)
class Finding:
    """One risk: which rule, about whom (or which object), where, why (evidence) and what it reaches."""

    rule: str  # "RBAC-101"
    title: str
    severity: Severity
    message: str
    subject: Subject | None = None  # None for findings about an object with no subject (a role bound nowhere)
    namespace: str = ""  # scope: "" = cluster-wide
    object: str = ""  # node id of the object the finding is about, when not (only) a subject
    evidence: tuple[Evidence, ...] = ()
    blast_radius: tuple[str, ...] = ()  # workload node ids carrying the subject's token
    remediation: str = ""
    section: str = "user"  # "user" | "platform" | "excluded" (set by the audit)
    exclusion: Exclusion | None = field(default=None, compare=False)

    @cached_property
    def id(self) -> str:
        return finding_id(self.rule, self.subject.id if self.subject else "", self.namespace, self.object)

    @property
    def scope(self) -> str | dict[str, str]:
        return {"namespace": self.namespace} if self.namespace else "cluster"

    @property
    def scope_text(self) -> str:
        return f"namespace {self.namespace}" if self.namespace else "cluster-wide"

    @property
    def location(self) -> SourceRef | None:
        """The manifest place to point at: the first binding of the evidence, else the first source."""
        for e in self.evidence:
            if e.binding and e.source is not None and e.source.file:
                return e.source
        for e in self.evidence:
            if e.source is not None and e.source.file:
                return e.source
        return None

    def as_row(self) -> dict[str, str]:
        """One flat row for tables (CLI, dashboard)."""
        if self.subject is not None:
            s = self.subject
            subject = f"{s.kind}:{s.namespace + '/' if s.namespace else ''}{s.name}"
        else:
            subject = self.object
        return {"severity": self.severity.value, "rule": self.rule, "title": self.title, "subject": subject,
                "scope": self.scope_text, "section": self.section, "message": self.message, "id": self.id}

    def with_section(self, section: str, exclusion: Exclusion | None = None) -> Finding:
        """The same finding in another report section (an audit sorts hundreds of thousands: a shallow
        copy, which also keeps the computed ``id``, instead of ``dataclasses.replace``)."""
        if section == self.section and exclusion is self.exclusion:
            return self
        out = copy.copy(self)
        object.__setattr__(out, "section", section)
        object.__setattr__(out, "exclusion", exclusion)
        return out

    def to_dict(self) -> dict[str, Any]:
        subject: dict[str, str] | None = None
        if self.subject is not None:
            subject = {"kind": self.subject.kind, "name": self.subject.name}
            if self.subject.namespace:
                subject["namespace"] = self.subject.namespace
        out: dict[str, Any] = {
            "id": self.id, "rule": self.rule, "title": self.title, "severity": self.severity.value,
            "section": self.section, "subject": subject,
        }
        if self.object:
            out["object"] = _object_ref(self.object)
        out.update({
            "scope": self.scope, "message": self.message, "evidence": [e.to_dict() for e in self.evidence],
            "blastRadius": [_object_ref(w) for w in self.blast_radius], "remediation": self.remediation,
        })
        if self.exclusion is not None:
            out["exclusion"] = self.exclusion.to_dict()
        return out


@dataclass(frozen=True, kw_only=True)
class Report:
    """Every finding of one audit, in sections, and what shaped it (exclusions, baseline)."""

    findings: tuple[Finding, ...] = ()
    rules: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # id → title/severity/description/...
    expired_exclusions: tuple[Exclusion, ...] = ()
    unused_exclusions: tuple[Exclusion, ...] = ()
    baseline_suppressed: int = 0
    include_system: bool = False
    inputs: tuple[str, ...] = ()
    incomplete: tuple[str, ...] = ()  # what a live read could not list: findings there may be missing

    def section(self, name: str) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.section == name)

    @property
    def user(self) -> tuple[Finding, ...]:
        return self.section("user")

    @property
    def platform(self) -> tuple[Finding, ...]:
        return self.section("platform")

    @property
    def excluded(self) -> tuple[Finding, ...]:
        return self.section("excluded")

    def failing(self, threshold: Severity) -> tuple[Finding, ...]:
        """User-section findings at or above ``threshold`` (what ``--fail-on`` counts)."""
        return tuple(f for f in self.user if f.severity.rank >= threshold.rank)

    def summary(self) -> dict[str, Any]:
        by_section: dict[str, dict[str, int]] = {}
        for name in SECTIONS:
            counts = {s.value: 0 for s in Severity}
            for f in self.section(name):
                counts[f.severity.value] += 1
            by_section[name] = counts
        return {
            "total": len(self.findings),
            "bySection": {name: sum(c.values()) for name, c in by_section.items()},
            "bySeverity": by_section["user"],
            "bySectionAndSeverity": by_section,
            "rulesRun": len(self.rules),
            "baselineSuppressed": self.baseline_suppressed,
            "expiredExclusions": [e.to_dict() for e in self.expired_exclusions],
            "includeSystem": self.include_system,
        }
