"""Escalation results: EscalationStep, EscalationPath, BlastRadius, PolicyDiff; graph node ids for sinks."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .results import Grant

__all__ = [
    "SINK_CLUSTER_ADMIN", "SINK_SYSTEM_MASTERS", "SINK_KUBE_SYSTEM_SECRETS", "SINK_NODES", "NAMESPACE_ADMIN_PREFIX",
    "CLUSTER_SINKS", "is_sink", "namespace_admin_sink", "namespace_set_scope", "scope_text", "describe_node",
    "node_text", "EscalationStep", "EscalationPath", "BlastRadius", "PermissionKey", "PolicyDiff",
]

SINK_CLUSTER_ADMIN = "cluster-admin"
SINK_SYSTEM_MASTERS = "system:masters"
SINK_KUBE_SYSTEM_SECRETS = "secrets:kube-system"
SINK_NODES = "nodes"
NAMESPACE_ADMIN_PREFIX = "namespace-admin:"
CLUSTER_SINKS = (SINK_SYSTEM_MASTERS, SINK_CLUSTER_ADMIN, SINK_KUBE_SYSTEM_SECRETS, SINK_NODES)

# A role held through a binding the actor writes: "<role id>@<namespace>", or one of these scopes, or
# "<N namespaces:DIGEST>" (RoleBindings in a set of namespaces, see namespace_set_scope).
SCOPE_CLUSTER = "<cluster>"
SCOPE_ALL_NAMESPACES = "<all-namespaces>"


def namespace_set_scope(namespaces: Sequence[str]) -> str:
    """The scope of a role held through RoleBindings in each of ``namespaces``: ``<N namespaces:DIGEST>``,
    the digest telling sets of the same size apart (the graph keeps the set itself)."""
    names = sorted(set(namespaces))
    digest = hashlib.sha256("\n".join(names).encode()).hexdigest()[:10]
    return f"<{len(names)} namespaces:{digest}>"


def scope_text(scope: str) -> str:
    """A held role's scope for people: ``cluster-wide``, ``in every namespace``, ``in 12 namespaces``, ``in dev``."""
    if scope == SCOPE_CLUSTER:
        return "cluster-wide"
    if scope == SCOPE_ALL_NAMESPACES:
        return "in every namespace"
    if scope.startswith("<") and " namespaces:" in scope:
        return "in " + scope[1:].partition(":")[0]
    return f"in {scope}"


def namespace_admin_sink(namespace: str) -> str:
    return f"{NAMESPACE_ADMIN_PREFIX}{namespace}"


def is_sink(node: str) -> bool:
    return node in CLUSTER_SINKS or node.startswith(NAMESPACE_ADMIN_PREFIX)


def describe_node(node: str) -> dict[str, str]:
    """A node id as JSON: ``{"kind", "name", "namespace"?}`` (sinks: kind ``Sink``; held roles: ``scope``)."""
    if is_sink(node):
        return {"kind": "Sink", "name": node}
    kind, _, rest = node.partition(":")
    if kind in ("Role", "ClusterRole") and "@" in rest:
        ref, _, scope = rest.rpartition("@")
        ns, slash, name = ref.partition("/")
        out = {"kind": kind, "name": name if slash else ns}
        if slash:
            out["namespace"] = ns
        out["scope"] = {SCOPE_CLUSTER: "cluster", SCOPE_ALL_NAMESPACES: "all namespaces"}.get(
            scope, scope_text(scope)[3:] if scope.startswith("<") else scope)
        return out
    if kind == "ServiceAccount":
        ns, _, name = rest.partition("/")
        return {"kind": kind, "name": name, "namespace": ns}
    return {"kind": kind, "name": rest}


def node_text(node: str) -> str:
    """A node id for people: held roles read ``ClusterRole:edit (bound in dev)``."""
    ref, at, scope = node.rpartition("@")
    if not at or not ref.startswith(("Role:", "ClusterRole:")):
        return node
    return f"{ref} (bound {scope_text(scope)})"


@dataclass(frozen=True, kw_only=True)
class EscalationStep:
    """One move: ``source`` uses ``technique`` (enabled by ``grant``) to act as / reach ``target``."""

    technique: str  # "ESC-..." or "HOLDS" (the identity's own rights already amount to the sink)
    source: str  # node id that acts
    target: str  # node id (identity, held role or sink) it reaches
    potential: bool = False  # depends on objects the inputs may lack
    reason: str = ""  # short, drawn on diagram edges
    grant: Grant | None = None  # the permission that enables it: binding → role → rule
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        via: dict[str, Any] | None = None
        if self.grant is not None:
            g = self.grant.to_dict()
            via = {"binding": g["binding"], "role": g["role"], "rule": g["rule"], "source": g["source"]}
        out: dict[str, Any] = {"technique": self.technique, "from": describe_node(self.source),
                               "to": describe_node(self.target), "potential": self.potential, "via": via}
        if self.reason:
            out["reason"] = self.reason
        if self.detail:
            out["detail"] = self.detail
        return out

    def describe(self) -> str:
        via = f" via {self.grant.describe()}" if self.grant is not None else ""
        pot = " (potential)" if self.potential else ""
        return f"{self.source} --[{self.technique}: {self.reason}]--> {self.target}{pot}{via}"


@dataclass(frozen=True, kw_only=True)
class EscalationPath:
    """A chain of steps from a subject to a sink; potential when any step is."""

    source: str
    sink: str
    steps: tuple[EscalationStep, ...]

    @property
    def potential(self) -> bool:
        return any(s.potential for s in self.steps)

    @property
    def hops(self) -> int:
        return len(self.steps)

    @property
    def nodes(self) -> tuple[str, ...]:
        return (self.source, *(s.target for s in self.steps))

    def to_dict(self) -> dict[str, Any]:
        return {"from": describe_node(self.source), "to": self.sink, "potential": self.potential,
                "hops": self.hops, "steps": [s.to_dict() for s in self.steps]}

    def as_row(self) -> dict[str, Any]:
        return {"from": self.source, "to": self.sink, "hops": self.hops, "potential": self.potential,
                "path": " → ".join(self.nodes)}


@dataclass(frozen=True, kw_only=True)
class BlastRadius:
    """What one subject can reach: identities it can become, namespaces it controls, pods carrying its token."""

    subject: str
    identities: tuple[tuple[str, int, bool], ...] = ()  # (node id, hops, potential)
    namespaces: tuple[str, ...] = ()  # namespace-admin reachable
    sinks: tuple[str, ...] = ()
    pods: tuple[str, ...] = ()  # workloads running as this subject with its token mounted

    def to_dict(self) -> dict[str, Any]:
        return {
            "subject": describe_node(self.subject),
            "identities": [{"id": n, **describe_node(n), "hops": h, "potential": p} for n, h, p in self.identities],
            "namespaces": list(self.namespaces),
            "sinks": list(self.sinks),
            "pods": list(self.pods),
        }


# (scope, verb, api group, resource, name or URL): scope "" = cluster-wide, "*" = every namespace
PermissionKey = tuple[str, str, str, str, str]


@dataclass(frozen=True, kw_only=True)
class PolicyDiff:
    """Effective access gained and lost per subject, and escalation paths added and removed."""

    gained: Mapping[str, tuple[PermissionKey, ...]] = field(default_factory=dict)
    lost: Mapping[str, tuple[PermissionKey, ...]] = field(default_factory=dict)
    new_paths: tuple[EscalationPath, ...] = ()
    removed_paths: tuple[EscalationPath, ...] = ()

    @property
    def access_gained(self) -> bool:
        return bool(self.gained) or bool(self.new_paths)

    @property
    def empty(self) -> bool:
        return not (self.gained or self.lost or self.new_paths or self.removed_paths)

    def to_dict(self) -> dict[str, Any]:
        def perms(m: Mapping[str, tuple[PermissionKey, ...]]) -> dict[str, list[dict[str, str]]]:
            return {s: [{"scope": p[0], "verb": p[1], "apiGroup": p[2], "resource": p[3], "name": p[4]}
                        for p in keys] for s, keys in m.items()}
        return {"gained": perms(self.gained), "lost": perms(self.lost),
                "newPaths": [p.to_dict() for p in self.new_paths],
                "removedPaths": [p.to_dict() for p in self.removed_paths]}
