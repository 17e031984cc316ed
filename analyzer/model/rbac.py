"""RBAC inputs: rules, subjects, roles, bindings, service accounts, other objects, the Inventory; node ids."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import UsageError

__all__ = [
    "RBAC_GROUP", "SourceRef", "PolicyRule", "LabelRequirement", "LabelSelector", "Subject", "RoleRef", "Role",
    "Binding", "ServiceAccount", "KubeObject", "LoadIssue", "Notice", "Inventory", "node_id", "parse_subject_id",
]

RBAC_GROUP = "rbac.authorization.k8s.io"


def node_id(kind: str, name: str, namespace: str = "") -> str:
    """The readable id of an object or subject: ``Kind:ns/name`` or ``Kind:name``.

    >>> node_id("ServiceAccount", "builder", "ci")
    'ServiceAccount:ci/builder'
    >>> node_id("ClusterRole", "admin")
    'ClusterRole:admin'
    """
    return f"{kind}:{namespace}/{name}" if namespace else f"{kind}:{name}"


@dataclass(frozen=True, kw_only=True, slots=True)
class SourceRef:
    """Where an object came from: file (or ``<stdin>``, ``cluster``), 1-based document number and line."""

    file: str
    document: int = 0
    line: int | None = None

    def __str__(self) -> str:
        if self.line:
            return f"{self.file}:{self.line}"
        if self.document:
            return f"{self.file} (document {self.document})"
        return self.file

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "document": self.document, "line": self.line}


@dataclass(frozen=True, kw_only=True, slots=True)
class PolicyRule:
    """One RBAC PolicyRule, as written (no normalisation: matching is literal)."""

    verbs: tuple[str, ...] = ()
    api_groups: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    resource_names: tuple[str, ...] = ()
    non_resource_urls: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, list[str]]:
        """The rule in Kubernetes' JSON shape, empty lists left out."""
        out: dict[str, list[str]] = {"verbs": list(self.verbs)}
        if self.api_groups:
            out["apiGroups"] = list(self.api_groups)
        if self.resources:
            out["resources"] = list(self.resources)
        if self.resource_names:
            out["resourceNames"] = list(self.resource_names)
        if self.non_resource_urls:
            out["nonResourceURLs"] = list(self.non_resource_urls)
        return out

    def summary(self) -> str:
        """A compact one-line form, e.g. ``get,list pods,secrets [apps] names=a,b``."""
        verbs = ",".join(self.verbs) or "-"
        if self.non_resource_urls and not self.resources:
            return f"{verbs} {','.join(self.non_resource_urls)}"
        groups = ",".join(g if g else '""' for g in self.api_groups)
        text = f"{verbs} {','.join(self.resources) or '-'}"
        if groups:
            text += f" [{groups}]"
        if self.resource_names:
            text += f" names={','.join(self.resource_names)}"
        if self.non_resource_urls:
            text += f" urls={','.join(self.non_resource_urls)}"
        return text


@dataclass(frozen=True, kw_only=True, slots=True)
class LabelRequirement:
    key: str
    operator: str  # In, NotIn, Exists, DoesNotExist
    values: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class LabelSelector:
    match_labels: tuple[tuple[str, str], ...] = ()
    match_expressions: tuple[LabelRequirement, ...] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class Subject:
    """A binding subject as written: kind User, Group or ServiceAccount (other kinds match nothing)."""

    kind: str
    name: str
    namespace: str = ""
    api_group: str = ""

    @property
    def id(self) -> str:
        return node_id(self.kind, self.name, self.namespace if self.kind == "ServiceAccount" else "")

    def to_dict(self) -> dict[str, str]:
        api_group = self.api_group
        if not api_group and self.kind in ("User", "Group"):
            api_group = RBAC_GROUP
        out = {"kind": self.kind, "apiGroup": api_group, "name": self.name}
        if self.namespace:
            out["namespace"] = self.namespace
        return out


def parse_subject_id(text: str) -> Subject:
    """Parse ``KIND:REST`` (split at the first ``:``): ``User:alice``, ``Group:system:masters``,
    ``ServiceAccount:ns/name``.

    >>> parse_subject_id("Group:system:masters").name
    'system:masters'
    >>> parse_subject_id("ServiceAccount:ci/builder").namespace
    'ci'
    """
    kind, sep, rest = text.partition(":")
    aliases = {"user": "User", "group": "Group", "serviceaccount": "ServiceAccount", "sa": "ServiceAccount"}
    kind = aliases.get(kind.lower(), kind)
    if not sep or not rest or kind not in ("User", "Group", "ServiceAccount"):
        raise UsageError(
            f"subject {text!r}: write KIND:NAME, e.g. User:alice, Group:dev, ServiceAccount:NAMESPACE/NAME"
        )
    if kind == "ServiceAccount":
        ns, slash, name = rest.partition("/")
        if not slash or not ns or not name:
            raise UsageError(f"subject {text!r}: a ServiceAccount is written ServiceAccount:NAMESPACE/NAME")
        return Subject(kind=kind, name=name, namespace=ns)
    return Subject(kind=kind, name=rest, api_group=RBAC_GROUP)


@dataclass(frozen=True, kw_only=True, slots=True)
class RoleRef:
    kind: str
    name: str
    api_group: str = RBAC_GROUP


@dataclass(frozen=True, kw_only=True)
class Role:
    """A Role (namespaced) or ClusterRole. ``rules`` are the effective rules after aggregation."""

    kind: str  # "Role" or "ClusterRole"
    name: str
    namespace: str = ""
    rules: tuple[PolicyRule, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict, compare=False)
    annotations: Mapping[str, str] = field(default_factory=dict, compare=False)
    aggregation_rule: tuple[LabelSelector, ...] | None = None
    source: SourceRef = field(default_factory=lambda: SourceRef(file=""), compare=False)
    written_rules: tuple[PolicyRule, ...] | None = None  # the manifest's own rules when aggregation replaced them

    @property
    def id(self) -> str:
        return node_id(self.kind, self.name, self.namespace)

    @property
    def is_bootstrap(self) -> bool:
        return self.labels.get("kubernetes.io/bootstrapping") == "rbac-defaults"


@dataclass(frozen=True, kw_only=True)
class Binding:
    """A RoleBinding or ClusterRoleBinding."""

    kind: str  # "RoleBinding" or "ClusterRoleBinding"
    name: str
    namespace: str = ""
    role_ref: RoleRef
    subjects: tuple[Subject, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict, compare=False)
    annotations: Mapping[str, str] = field(default_factory=dict, compare=False)
    source: SourceRef = field(default_factory=lambda: SourceRef(file=""), compare=False)

    @property
    def id(self) -> str:
        return node_id(self.kind, self.name, self.namespace)

    @property
    def role_id(self) -> str:
        """The node id of the referenced role (a Role lives in the binding's namespace)."""
        ns = self.namespace if self.role_ref.kind == "Role" else ""
        return node_id(self.role_ref.kind, self.role_ref.name, ns)

    @property
    def is_bootstrap(self) -> bool:
        return self.labels.get("kubernetes.io/bootstrapping") == "rbac-defaults"


@dataclass(frozen=True, kw_only=True)
class ServiceAccount:
    name: str
    namespace: str
    automount_token: bool | None = None
    secrets: tuple[str, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict, compare=False)
    source: SourceRef = field(default_factory=lambda: SourceRef(file=""), compare=False)

    @property
    def id(self) -> str:
        return node_id("ServiceAccount", self.name, self.namespace)

    @property
    def username(self) -> str:
        return f"system:serviceaccount:{self.namespace}:{self.name}"


@dataclass(frozen=True, kw_only=True)
class KubeObject:
    """Any other object (Namespace, workloads, CRDs, Secrets, ...), kept whole for later analysis."""

    kind: str
    api_version: str
    name: str
    namespace: str = ""
    labels: Mapping[str, str] = field(default_factory=dict, compare=False)
    body: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)
    source: SourceRef = field(default_factory=lambda: SourceRef(file=""), compare=False)

    @property
    def id(self) -> str:
        return node_id(self.kind, self.name, self.namespace)

    @property
    def api_group(self) -> str:
        return self.api_version.rpartition("/")[0]


@dataclass(frozen=True, kw_only=True, slots=True)
class LoadIssue:
    """A document that cannot be read as its kind: it was dropped. One line: file, document, field."""

    file: str
    document: int
    field: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        doc = f" document {self.document}" if self.document else ""
        fld = f" {self.field}:" if self.field else ""
        return f"{where}:{doc}{fld} {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "document": self.document, "line": self.line, "field": self.field,
                "message": self.message}


@dataclass(frozen=True, kw_only=True, slots=True)
class Notice:
    """Something loaded as written that the API server would reject or that cannot be resolved."""

    code: str  # e.g. missing-name, unknown-kind, missing-role, duplicate, aggregation-cycle
    message: str
    file: str = ""
    document: int = 0
    field: str = ""
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        doc = f" document {self.document}" if self.document else ""
        fld = f" {self.field}:" if self.field else ""
        prefix = f"{where}:{doc}{fld} " if where else (f"{fld.strip()} " if fld else "")
        return f"{prefix}{self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "file": self.file, "document": self.document, "line": self.line,
                "field": self.field, "message": self.message}


@dataclass(kw_only=True)
class Inventory:
    """Everything loaded. Built by the loaders; treated as read-only afterwards."""

    roles: list[Role] = field(default_factory=list)
    bindings: list[Binding] = field(default_factory=list)
    service_accounts: list[ServiceAccount] = field(default_factory=list)
    objects: list[KubeObject] = field(default_factory=list)  # every other kind, Namespaces included
    load_issues: list[LoadIssue] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    incomplete: list[str] = field(default_factory=list)  # what could not be read (live sources)
    metadata: dict[str, Any] = field(default_factory=dict)  # e.g. snapshot header

    @property
    def namespaces(self) -> set[str]:
        """Namespaces named by Namespace objects or used by any namespaced object."""
        out = {o.name for o in self.objects if o.kind == "Namespace" and o.name}
        out.update(r.namespace for r in self.roles if r.namespace)
        out.update(b.namespace for b in self.bindings if b.namespace)
        out.update(s.namespace for s in self.service_accounts)
        out.update(o.namespace for o in self.objects if o.namespace)
        return out

    def kind_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for r in self.roles:
            counts[r.kind] = counts.get(r.kind, 0) + 1
        for b in self.bindings:
            counts[b.kind] = counts.get(b.kind, 0) + 1
        if self.service_accounts:
            counts["ServiceAccount"] = len(self.service_accounts)
        for o in self.objects:
            counts[o.kind] = counts.get(o.kind, 0) + 1
        return dict(sorted(counts.items()))

    @property
    def object_count(self) -> int:
        return len(self.roles) + len(self.bindings) + len(self.service_accounts) + len(self.objects)


