"""What a rule is (Rule, RiskyPermission, Perm) and what it may ask (RuleContext: the policy, workloads, caches)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, TypeVar

from .. import queries
from ..model import (
    Evidence,
    Finding,
    Grant,
    Inventory,
    Request,
    Severity,
    Subject,
    SubjectAccess,
)
from ..semantics import ALL_SERVICE_ACCOUNTS, AUTHENTICATED, PolicyIndex, ResourceCatalog
from ..workloads import Workload

__all__ = ["Rule", "RuleContext", "Perm", "RiskyPermission", "Scope", "Holding"]

logger = logging.getLogger(__name__)

T = TypeVar("T")
_NOTHING: Mapping[str, Any] = MappingProxyType({})


class Scope:
    """Where a catalog row looks. A namespace name (e.g. ``kube-system``) means only that namespace."""

    CLUSTER = "cluster"  # ClusterRoleBindings: cluster-wide (all namespaces, or cluster-scoped resources)
    NAMESPACE = "namespace"  # each namespace with RoleBindings, when not already held cluster-wide
    ANY = "any"  # both of the above, one finding per scope


@dataclass(frozen=True, kw_only=True, slots=True, eq=False)
class Perm:
    """One request shape the policy is asked about: VERB RESOURCE[/SUB] [NAME] in API group."""

    verb: str
    resource: str
    api_group: str = ""
    subresource: str = ""
    name: str = ""
    # bind/escalate on clusterroles are checked with the namespace of the binding being written (a
    # RoleBinding-granted "bind clusterroles" works inside that namespace), although clusterroles are
    # cluster-scoped
    namespaced_check: bool = False
    _hash: int = field(default=0, init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        # Perms key every cache of an audit: hash the fields once, not on every lookup
        object.__setattr__(self, "_hash", hash((self.verb, self.resource, self.api_group, self.subresource,
                                                 self.name, self.namespaced_check)))

    def __hash__(self) -> int:
        return self._hash

    def request(self, namespace: str) -> Request:
        return Request(verb=self.verb, resource=self.resource, api_group=self.api_group,
                       subresource=self.subresource, name=self.name, namespace=namespace)

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if not isinstance(other, Perm):
            return NotImplemented
        return (self.verb, self.resource, self.api_group, self.subresource, self.name, self.namespaced_check) == \
            (other.verb, other.resource, other.api_group, other.subresource, other.name, other.namespaced_check)

    def describe(self) -> str:
        if self.verb == "*" and self.resource == "*" and self.api_group == "*":
            return "do anything (every verb, resource and API group)"
        res = f"{self.resource}/{self.subresource}" if self.subresource else self.resource
        if self.api_group and self.api_group != "*":
            res = f"{res}.{self.api_group}" if not self.subresource else \
                f"{self.resource}.{self.api_group}/{self.subresource}"
        elif self.api_group == "*":
            res = f"{res} (any group)"
        if self.name:
            res += f" {self.name!r}"
        return f"{self.verb} {res}"


def perms(verbs: Sequence[str], resources: Sequence[str], api_group: str = "", *, subresource: str = "",
          name: str = "", namespaced_check: bool = False) -> tuple[Perm, ...]:
    """Every (verb, resource) pair as Perms: the alternatives of one requirement."""
    return tuple(_interned(Perm(verb=v, resource=r, api_group=api_group, subresource=subresource, name=name,
                                namespaced_check=namespaced_check))
                 for r in resources for v in verbs)


_PERMS: dict[Perm, Perm] = {}


def _interned(perm: Perm) -> Perm:
    # rows share Perms: one object per request shape, so the audit's caches find them by identity
    return _PERMS.setdefault(perm, perm)


@dataclass(frozen=True, kw_only=True)
class Rule:
    """A risk check with a stable id; its text is the report's text and the source of the rule docs."""

    id: str  # RBAC-###
    title: str
    severity: Severity
    description: str
    remediation: str
    check: Callable[[RuleContext], Iterable[Finding]]
    references: tuple[str, ...] = ()
    category: str = ""
    always_user: bool = False  # findings never move to the platform section (system-group bindings)

    def run(self, ctx: RuleContext) -> list[Finding]:
        return list(self.check(ctx))

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "severity": self.severity.value, "category": self.category,
                "description": self.description, "remediation": self.remediation,
                "references": list(self.references)}


@dataclass(frozen=True, kw_only=True)
class RiskyPermission:
    """A catalog row: who can do ALL of ``requires`` (each: ANY of its Perms) at ``scope``."""

    id: str
    title: str
    severity: Severity
    description: str
    remediation: str
    requires: tuple[tuple[Perm, ...], ...]
    scope: str = Scope.ANY
    skip_namespaces: tuple[str, ...] = ()  # namespaces a dedicated row covers (e.g. kube-system)
    # a row for one namespace leaves out subjects holding it cluster-wide when another row reports those
    cluster_holders_reported_elsewhere: bool = True
    references: tuple[str, ...] = ()
    category: str = "permissions"


@dataclass(frozen=True, kw_only=True)
class Holding:
    """A subject that can do one Perm in one scope, with the grants that allow it."""

    subject: Subject
    perm: Perm
    grants: tuple[Grant, ...]


@dataclass(kw_only=True)
class RuleContext:
    """What rules may ask: the inventory, the policy index, the workloads; caches shared by all rules."""

    inventory: Inventory
    index: PolicyIndex
    catalog: ResourceCatalog
    workloads: Sequence[Workload] = ()
    # where long producers report progress, on_progress(stage, done, total) (``audit.build_report`` sets it
    # on a copy sharing these caches)
    on_progress: Callable[[str, int, int], None] | None = field(default=None, repr=False)
    _memo: dict[Hashable, Any] = field(default_factory=dict, repr=False)
    _scoped: dict[Perm, bool] = field(default_factory=dict, repr=False)
    _added: dict[tuple[Perm, str], dict[str, Holding]] = field(default_factory=dict, repr=False)
    _merged: dict[tuple[Perm, str, str], Holding] = field(default_factory=dict, repr=False)
    _holders: dict[tuple[Perm, str], dict[str, Holding]] = field(default_factory=dict, repr=False)
    _by_ns: dict[Perm, dict[str, dict[str, SubjectAccess]]] = field(default_factory=dict, repr=False)

    def memo(self, key: Hashable, compute: Callable[[], T]) -> T:
        """Compute once per audit (rules share expensive answers through this)."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    # -- the policy --------------------------------------------------------------------------------
    def is_cluster_scoped(self, perm: Perm) -> bool:
        """Requests for cluster-scoped resources never carry a namespace (only ClusterRoleBindings count)."""
        known = self._scoped.get(perm)
        if known is None:
            known = not (perm.namespaced_check or perm.resource == "*" or perm.api_group == "*") and \
                self.catalog.is_namespaced(perm.api_group, perm.resource) is False
            self._scoped[perm] = known
        return known

    def holders(self, perm: Perm, namespace: str) -> dict[str, Holding]:
        """Subjects (by id) whose bindings allow ``perm`` in ``namespace`` ("" = cluster-wide), via who-can.

        The ``system:masters`` entry (no binding) is left out: it is Kubernetes itself, not a policy choice.
        """
        ns = "" if self.is_cluster_scoped(perm) else namespace
        # dedicated caches, not ``memo``: asked hundreds of thousands of times per audit
        key = (perm, ns)
        found = self._holders.get(key)
        if found is None:
            if ns:
                found = dict(self.holders(perm, ""))
                found.update(self.added_in(perm, ns))
            else:
                subjects, _errors = queries.who_can(self.index, perm.request(""))
                found = {s.subject.id: Holding(subject=s.subject, perm=perm, grants=s.grants)
                         for s in subjects if not s.authorizer and s.grants}
            self._holders[key] = found
        return found

    def subjects_added_in(self, perm: Perm, namespace: str) -> Mapping[str, SubjectAccess]:
        """Subject id → what RoleBindings of ``namespace`` add for ``perm`` there (cheap: no merging)."""
        if not namespace:
            return _NOTHING
        return self._by_namespace(perm).get(namespace, _NOTHING)

    def added_in(self, perm: Perm, namespace: str) -> dict[str, Holding]:
        """Subjects for which RoleBindings of ``namespace`` allow ``perm`` (with their cluster grants too)."""
        key = (perm, namespace)
        found = self._added.get(key)
        if found is None:
            found = self._added[key] = {sid: h for sid in self.subjects_added_in(perm, namespace)
                                        if (h := self.holding(perm, namespace, sid)) is not None}
        return found

    def holding(self, perm: Perm, namespace: str, subject_id: str) -> Holding | None:
        """One subject's Holding of ``perm`` in ``namespace``: its cluster-wide grants, then what the
        namespace's RoleBindings add (merged only for the subjects asked about)."""
        access = self.subjects_added_in(perm, namespace).get(subject_id)
        if access is None:
            return self.holders(perm, "").get(subject_id)
        key = (perm, namespace, subject_id)
        found = self._merged.get(key)
        if found is None:
            held = self.holders(perm, "").get(subject_id)
            found = self._merged[key] = Holding(subject=held.subject if held else access.subject, perm=perm,
                                                grants=(held.grants if held else ()) + access.grants)
        return found

    def _by_namespace(self, perm: Perm) -> dict[str, dict[str, SubjectAccess]]:
        """What RoleBindings add, per namespace and subject id, for a namespaced ``perm`` (one pass over
        the policy)."""
        found = self._by_ns.get(perm)
        if found is None:
            found = {} if self.is_cluster_scoped(perm) else {
                ns: {a.subject.id: a for a in accesses}
                for ns, accesses in queries.who_can_by_namespace(self.index, perm.request("")).items()}
            self._by_ns[perm] = found
        return found

    def namespaces_granting(self, perm: Perm) -> set[str]:
        """Namespaces where RoleBindings add to what ClusterRoleBindings grant for ``perm``."""
        return set(self._by_namespace(perm))

    # -- workloads ---------------------------------------------------------------------------------
    def _carriers(self) -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]], tuple[str, ...]]:
        def compute() -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]], tuple[str, ...]]:
            by_sa: dict[str, list[str]] = {}
            by_ns: dict[str, list[str]] = {}
            every: list[str] = []
            for w in self.workloads:
                if w.carries_token:
                    by_sa.setdefault(w.service_account_id, []).append(w.id)
                    by_ns.setdefault(w.namespace, []).append(w.id)
                    every.append(w.id)
            return ({k: tuple(v) for k, v in by_sa.items()}, {k: tuple(v) for k, v in by_ns.items()}, tuple(every))

        return self.memo("token-carriers", compute)

    def blast_radius(self, subject: Subject | None) -> tuple[str, ...]:
        """Workloads whose pods carry a token of ``subject`` (SAs; SA groups: every SA they hold)."""
        if subject is None:
            return ()
        by_sa, by_ns, every = self._carriers()
        if subject.kind == "ServiceAccount":
            return by_sa.get(subject.id, ())
        if subject.kind == "Group":
            if subject.name in (ALL_SERVICE_ACCOUNTS, AUTHENTICATED):
                return every
            prefix = ALL_SERVICE_ACCOUNTS + ":"
            if subject.name.startswith(prefix):
                return by_ns.get(subject.name[len(prefix):], ())
        return ()

    # -- building findings -------------------------------------------------------------------------
    @staticmethod
    def grant_evidence(grant: Grant, permission: str = "") -> Evidence:
        return Evidence(permission=permission, binding=grant.binding.id, role=grant.role.id, rule=grant.rule,
                        rule_index=grant.rule_index, source=grant.binding.source, role_source=grant.role.source)

    def finding(self, rule: Rule | RiskyPermission, *, message: str, subject: Subject | None = None,
                namespace: str = "", object: str = "", evidence: Iterable[Evidence] = (),
                severity: Severity | None = None, blast_radius: Iterable[str] | None = None) -> Finding:
        radius = tuple(blast_radius) if blast_radius is not None else self.blast_radius(subject)
        return Finding(rule=rule.id, title=rule.title, severity=severity or rule.severity, message=message,
                       subject=subject, namespace=namespace, object=object, evidence=tuple(evidence),
                       blast_radius=radius, remediation=rule.remediation)
