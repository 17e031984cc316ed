"""Bindings whose roleRef names a Role or ClusterRole that does not exist."""

from __future__ import annotations

from collections.abc import Iterator

from ..model import Binding, Evidence, Finding, Severity
from .base import Rule, RuleContext

__all__ = ["RULE"]


_BUILTIN_CLUSTER_ROLES = frozenset({"cluster-admin", "admin", "edit", "view"})
_BUILTIN_ROLES = frozenset({"extension-apiserver-authentication-reader"})


def _builtin(b: Binding) -> bool:
    """A reference to one of Kubernetes' default roles (which every cluster has)."""
    ref = b.role_ref
    if ref.kind == "ClusterRole":
        return ref.name in _BUILTIN_CLUSTER_ROLES or ref.name.startswith("system:")
    return b.kind == "RoleBinding" and b.namespace in ("kube-system", "kube-public") and (
        ref.name in _BUILTIN_ROLES or ref.name.startswith("system:"))


def _check(ctx: RuleContext) -> Iterator[Finding]:
    # an input without Kubernetes' bootstrap policy (an add-on's manifests) refers to default roles that
    # exist in every cluster: only a full dump (with the bootstrap roles) can prove those missing
    has_defaults = ctx.memo("has-bootstrap-roles", lambda: any(r.is_bootstrap for r in ctx.inventory.roles))
    for b in ctx.inventory.bindings:
        if ctx.index.role_for(b) is not None:
            continue
        if not has_defaults and _builtin(b):
            continue
        ref = b.role_ref
        why = (f"a ClusterRoleBinding cannot reference a Role ({ref.name})"
               if b.kind == "ClusterRoleBinding" and ref.kind == "Role"
               else f"{ref.kind} {ref.name} does not exist")
        yield ctx.finding(RULE, object=b.id, namespace=b.namespace if b.kind == "RoleBinding" else "",
                          evidence=(Evidence(binding=b.id, role=b.role_id, source=b.source, detail=why),),
                          message=f"{b.kind} {b.namespace + '/' if b.namespace else ''}{b.name} refers to a "
                                  f"missing role: {why}.", blast_radius=())


RULE = Rule(
    id="RBAC-201",
    title="Binding refers to a missing role",
    severity=Severity.LOW,
    description="A binding whose role does not exist grants nothing today, but whoever later creates a role "
                "with that name silently grants it to the binding's subjects.",
    remediation="Delete the binding, or create the role it names on purpose.",
    references=("https://kubernetes.io/docs/reference/access-authn-authz/rbac/#rolebinding-and-clusterrolebinding",),
    category="structure",
    check=_check,
)
