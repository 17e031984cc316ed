"""Kubernetes' catch-all identities (anonymous, all authenticated users, all ServiceAccounts) bound beyond
the discovery permissions Kubernetes itself grants them.

These findings always stay in the user's section: Kubernetes' own bindings never exceed the defaults.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..model import Evidence, Finding, PolicyRule, Severity, Subject
from ..semantics import ALL_SERVICE_ACCOUNTS, ANONYMOUS, AUTHENTICATED, UNAUTHENTICATED, covers
from .base import Rule, RuleContext

__all__ = ["ANONYMOUS_RULE", "AUTHENTICATED_RULE", "SERVICE_ACCOUNTS_RULE", "DISCOVERY_DEFAULTS"]

_HEALTH = ("/healthz", "/livez", "/readyz", "/version", "/version/")
# The rules of the bootstrap roles Kubernetes binds to these groups (system:public-info-viewer,
# system:discovery, system:basic-user, system:service-account-issuer-discovery).
_PUBLIC_INFO = (PolicyRule(verbs=("get",), non_resource_urls=_HEALTH),)
_DISCOVERY = (PolicyRule(verbs=("get",), non_resource_urls=(
    "/api", "/api/*", "/apis", "/apis/*", "/openapi", "/openapi/*", *_HEALTH)),)
_BASIC_USER = (
    PolicyRule(verbs=("create",), api_groups=("authorization.k8s.io",),
               resources=("selfsubjectaccessreviews", "selfsubjectrulesreviews")),
    PolicyRule(verbs=("create",), api_groups=("authentication.k8s.io",), resources=("selfsubjectreviews",)),
)
_ISSUER_DISCOVERY = (PolicyRule(verbs=("get",), non_resource_urls=(
    "/.well-known/openid-configuration", "/.well-known/openid-configuration/", "/openid/v1/jwks",
    "/openid/v1/jwks/")),)

DISCOVERY_DEFAULTS: dict[str, tuple[PolicyRule, ...]] = {
    "unauthenticated": _PUBLIC_INFO,
    "authenticated": _PUBLIC_INFO + _DISCOVERY + _BASIC_USER + _ISSUER_DISCOVERY,
    "serviceaccounts": _PUBLIC_INFO + _DISCOVERY + _BASIC_USER + _ISSUER_DISCOVERY,
}


def _category(s: Subject) -> str:
    if (s.kind == "User" and s.name == ANONYMOUS) or (s.kind == "Group" and s.name == UNAUTHENTICATED):
        return "unauthenticated"
    if s.kind == "Group" and s.name == AUTHENTICATED:
        return "authenticated"
    if s.kind == "Group" and (s.name == ALL_SERVICE_ACCOUNTS or s.name.startswith(ALL_SERVICE_ACCOUNTS + ":")):
        return "serviceaccounts"
    return ""


def _check(ctx: RuleContext, category: str, rule: Rule) -> Iterator[Finding]:
    for b in ctx.inventory.bindings:
        role = ctx.index.role_for(b)
        if role is None:
            continue
        for s in b.subjects:
            if _category(s) != category:
                continue
            ok, extra = covers(DISCOVERY_DEFAULTS[category], role.rules)
            if ok:
                continue
            sample = "; ".join(p.summary() for p in extra[:3]) + (" …" if len(extra) > 3 else "")
            subject = Subject(kind=s.kind, name=s.name, api_group=s.api_group)
            ns = b.namespace if b.kind == "RoleBinding" else ""
            yield ctx.finding(
                rule, subject=subject, object=b.id, namespace=ns,
                evidence=(Evidence(binding=b.id, role=role.id, source=b.source, role_source=role.source,
                                   detail=f"beyond the defaults: {sample}"),),
                message=f"{b.kind} {b.name} grants {role.kind} {role.name} to {s.kind} {s.name} "
                        f"{'in namespace ' + ns if ns else 'cluster-wide'}, beyond Kubernetes' discovery "
                        f"defaults ({sample}).")


def _anonymous(ctx: RuleContext) -> Iterator[Finding]:
    return _check(ctx, "unauthenticated", ANONYMOUS_RULE)


def _authenticated(ctx: RuleContext) -> Iterator[Finding]:
    return _check(ctx, "authenticated", AUTHENTICATED_RULE)


def _service_accounts(ctx: RuleContext) -> Iterator[Finding]:
    return _check(ctx, "serviceaccounts", SERVICE_ACCOUNTS_RULE)


_REF = ("https://kubernetes.io/docs/reference/access-authn-authz/rbac/#discovery-roles",)

ANONYMOUS_RULE = Rule(
    id="RBAC-301",
    title="Anonymous users granted permissions",
    severity=Severity.CRITICAL,
    description="`system:anonymous` / `system:unauthenticated` is anyone who can reach the API server, "
                "without credentials.",
    remediation="Remove the subject from the binding; anonymous requests should see health endpoints only.",
    references=_REF,
    category="system-groups",
    always_user=True,
    check=_anonymous,
)

AUTHENTICATED_RULE = Rule(
    id="RBAC-302",
    title="All authenticated users granted permissions",
    severity=Severity.HIGH,
    description="`system:authenticated` holds every user and every ServiceAccount of the cluster (and, "
                "with some providers, any account of the identity provider).",
    remediation="Bind a named group instead of system:authenticated.",
    references=_REF,
    category="system-groups",
    always_user=True,
    check=_authenticated,
)

SERVICE_ACCOUNTS_RULE = Rule(
    id="RBAC-303",
    title="All ServiceAccounts granted permissions",
    severity=Severity.MEDIUM,
    description="`system:serviceaccounts` (or `system:serviceaccounts:NS`) holds every ServiceAccount (of "
                "a namespace): every pod token carries these permissions.",
    remediation="Bind the ServiceAccounts that need the permissions by name.",
    references=_REF,
    category="system-groups",
    always_user=True,
    check=_service_accounts,
)
