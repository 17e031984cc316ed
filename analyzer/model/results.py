"""Requests and answers: Request, UserInfo, Grant, NearMiss, Decision, SubjectAccess, RulesReview; enums."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from .rbac import Binding, PolicyRule, Role, Subject

__all__ = ["Request", "UserInfo", "Grant", "NearMiss", "Decision", "SubjectAccess", "RulesReview", "Severity",
           "EdgeKind"]


@dataclass(frozen=True, kw_only=True, slots=True)
class Request:
    """Request attributes, literal as in a SubjectAccessReview (``namespace=""`` = cluster scope)."""

    verb: str
    resource: str = ""
    api_group: str = ""
    subresource: str = ""
    name: str = ""
    namespace: str = ""
    path: str = ""  # non-resource URL
    resource_request: bool = True

    @property
    def combined_resource(self) -> str:
        return f"{self.resource}/{self.subresource}" if self.subresource else self.resource

    def to_attributes(self) -> dict[str, Any]:
        """``resourceAttributes`` or ``nonResourceAttributes`` of a SubjectAccessReview spec."""
        if not self.resource_request:
            return {"nonResourceAttributes": {"path": self.path, "verb": self.verb}}
        attrs = {"namespace": self.namespace, "verb": self.verb, "group": self.api_group,
                 "resource": self.resource, "subresource": self.subresource, "name": self.name}
        return {"resourceAttributes": {k: v for k, v in attrs.items() if v or k == "verb"}}

    def describe(self) -> str:
        if not self.resource_request:
            return f"{self.verb} {self.path}"
        res = self.combined_resource
        if self.api_group:
            res = f"{self.resource}.{self.api_group}" + (f"/{self.subresource}" if self.subresource else "")
        if self.name:
            res += f" {self.name!r}"
        where = f"in namespace {self.namespace}" if self.namespace else "cluster-wide"
        return f"{self.verb} {res} {where}"


@dataclass(frozen=True, kw_only=True, slots=True)
class UserInfo:
    """The user an authorizer sees: name, groups, uid, extra (as in SubjectAccessReview)."""

    username: str
    groups: tuple[str, ...] = ()
    uid: str = ""
    extra: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"username": self.username, "groups": list(self.groups)}
        if self.uid:
            out["uid"] = self.uid
        if self.extra:
            out["extra"] = {k: list(v) for k, v in self.extra.items()}
        return out


@dataclass(frozen=True, kw_only=True)
class Grant:
    """One rule reaching a subject through one binding: the evidence chain binding → role → rule."""

    subject: Subject  # as written in the binding
    binding: Binding
    role: Role
    rule: PolicyRule
    rule_index: int  # position in the role's effective rules

    @property
    def namespace(self) -> str:
        """Where the grant applies: the RoleBinding's namespace, or "" for cluster-wide."""
        return self.binding.namespace if self.binding.kind == "RoleBinding" else ""

    def to_dict(self) -> dict[str, Any]:
        binding: dict[str, Any] = {"kind": self.binding.kind, "name": self.binding.name}
        if self.binding.namespace:
            binding["namespace"] = self.binding.namespace
        role: dict[str, Any] = {"kind": self.role.kind, "name": self.role.name}
        if self.role.namespace:
            role["namespace"] = self.role.namespace
        return {
            "binding": binding,
            "role": role,
            "rule": self.rule.to_dict(),
            "source": self.binding.source.to_dict(),
            "roleSource": self.role.source.to_dict(),
        }

    def describe(self) -> str:
        """``RoleBinding dev/edit-team → ClusterRole edit → get,list pods``."""
        b = self.binding
        where = f"{b.namespace}/{b.name}" if b.namespace else b.name
        return f"{b.kind} {where} → {self.role.kind} {self.role.name} → {self.rule.summary()}"


@dataclass(frozen=True, kw_only=True)
class NearMiss:
    """A rule of one of the asker's bindings that would match but for ``reasons``; or a missing role."""

    binding: Binding
    subject: Subject
    reasons: tuple[str, ...]  # namespace, apiGroup, resourceNames, subresource, verb, missing-role
    role: Role | None = None
    rule: PolicyRule | None = None
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        binding: dict[str, Any] = {"kind": self.binding.kind, "name": self.binding.name}
        if self.binding.namespace:
            binding["namespace"] = self.binding.namespace
        out: dict[str, Any] = {
            "binding": binding,
            "roleRef": {"kind": self.binding.role_ref.kind, "name": self.binding.role_ref.name},
            "subject": self.subject.to_dict(),
            "reasons": list(self.reasons),
            "detail": self.detail,
            "source": self.binding.source.to_dict(),
        }
        if self.rule is not None:
            out["rule"] = self.rule.to_dict()
        return out


@dataclass(frozen=True, kw_only=True)
class Decision:
    """The answer to one request, as the API server gives it, with our evidence."""

    request: Request
    user: UserInfo
    allowed: bool
    reason: str
    authorizer: str = ""  # "system:masters", "RBAC" or "" when not allowed
    evidence: tuple[Grant, ...] = ()
    near_misses: tuple[NearMiss, ...] = ()
    errors: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class SubjectAccess:
    """One subject of a who-can answer, once, with every grant that reaches it."""

    subject: Subject  # ServiceAccount namespace filled from a RoleBinding when written without one
    grants: tuple[Grant, ...] = ()
    authorizer: str = ""  # "system:masters" for the privileged group (needs no binding)

    def to_dict(self) -> dict[str, Any]:
        out = self.subject.to_dict()
        if self.authorizer:
            out["grants"] = [{"authorizer": self.authorizer}]
        else:
            out["grants"] = [g.to_dict() for g in self.grants]
        return out


@dataclass(frozen=True, kw_only=True)
class RulesReview:
    """What a user may do in one namespace (SubjectRulesReview status), with the grants behind it."""

    namespace: str
    grants: tuple[Grant, ...] = ()
    incomplete: bool = False
    evaluation_error: str = ""
    all_powerful: bool = False  # system:masters: every request is allowed, no rule needed

    @property
    def resource_rules(self) -> list[PolicyRule]:
        return [g.rule for g in self.grants if g.rule.resources]

    @property
    def non_resource_rules(self) -> list[PolicyRule]:
        return [g.rule for g in self.grants if g.rule.non_resource_urls]

    def to_status(self) -> dict[str, Any]:
        """The SubjectRulesReview ``status`` shape."""
        resource_rules: list[dict[str, Any]] = []
        non_resource: list[dict[str, Any]] = []
        if self.all_powerful:
            resource_rules.append({"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]})
            non_resource.append({"verbs": ["*"], "nonResourceURLs": ["*"]})
        for g in self.grants:
            r = g.rule
            if r.resources:
                d: dict[str, Any] = {"verbs": list(r.verbs), "apiGroups": list(r.api_groups),
                                     "resources": list(r.resources)}
                if r.resource_names:
                    d["resourceNames"] = list(r.resource_names)
                resource_rules.append(d)
            if r.non_resource_urls:
                non_resource.append({"verbs": list(r.verbs), "nonResourceURLs": list(r.non_resource_urls)})
        status: dict[str, Any] = {"resourceRules": resource_rules, "nonResourceRules": non_resource,
                                  "incomplete": self.incomplete}
        if self.evaluation_error:
            status["evaluationError"] = self.evaluation_error
        return status


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        return ["info", "low", "medium", "high", "critical"].index(self.value)


class EdgeKind(StrEnum):
    MEMBER_OF = "MEMBER_OF"
    SUBJECT_OF = "SUBJECT_OF"
    GRANTS = "GRANTS"
    AGGREGATES = "AGGREGATES"
    RUNS_AS = "RUNS_AS"
    ESCALATES_TO = "ESCALATES_TO"
