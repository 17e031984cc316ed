"""Which rules are dangerous: cluster-admin equivalence and the permissions that lead to more (§9.3).

Danger is decided by asking the matcher (``rule_allows``) and the escalation check (``rule_covers``)
about a few representative requests — never by reading the rule's strings.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..model import RBAC_GROUP, PolicyRule, Request, Severity
from .covers import rule_covers
from .matching import rule_allows

__all__ = ["Danger", "DANGERS", "ADMIN", "rule_dangers", "rules_dangers", "is_admin_equivalent",
           "danger_severity", "danger_titles"]

ADMIN = "admin"
_EVERYTHING = PolicyRule(verbs=("*",), api_groups=("*",), resources=("*",))


@dataclass(frozen=True, kw_only=True)
class Danger:
    """One kind of dangerous permission: a tag, how bad, and the requests that reveal it."""

    tag: str
    title: str
    severity: Severity
    probes: tuple[Request, ...] = ()


def _probes(verbs: Sequence[str], group: str, resources: Sequence[str], subresource: str = "") -> tuple[Request, ...]:
    return tuple(Request(verb=v, api_group=group, resource=r, subresource=subresource)
                 for v in verbs for r in resources)


# Ordered most severe first; the first tag of a rule is its headline.
DANGERS: tuple[Danger, ...] = (
    Danger(tag=ADMIN, title="cluster-admin equivalent (* on *.*)", severity=Severity.CRITICAL),
    Danger(tag="escalate", title="escalate: write roles with rules it does not hold", severity=Severity.CRITICAL,
           probes=_probes(("escalate",), RBAC_GROUP, ("roles", "clusterroles"))),
    Danger(tag="bind", title="bind: bind roles it does not hold", severity=Severity.HIGH,
           probes=_probes(("bind",), RBAC_GROUP, ("roles", "clusterroles"))),
    Danger(tag="impersonate", title="impersonate users, groups or service accounts", severity=Severity.HIGH,
           probes=_probes(("impersonate",), "", ("users", "groups", "serviceaccounts"))),
    Danger(tag="secrets", title="read Secrets", severity=Severity.HIGH,
           probes=_probes(("get", "list", "watch"), "", ("secrets",))),
    Danger(tag="token", title="mint ServiceAccount tokens", severity=Severity.HIGH,
           probes=_probes(("create",), "", ("serviceaccounts",), "token")),
    Danger(tag="exec", title="exec/attach into pods", severity=Severity.HIGH,
           probes=(*_probes(("create", "get"), "", ("pods",), "exec"),
                   *_probes(("create", "get"), "", ("pods",), "attach"))),
    Danger(tag="nodes-proxy", title="proxy to kubelets (nodes/proxy)", severity=Severity.HIGH,
           probes=_probes(("get", "create"), "", ("nodes",), "proxy")),
    Danger(tag="rbac-write", title="create or change role bindings", severity=Severity.MEDIUM,
           probes=_probes(("create", "update", "patch"), RBAC_GROUP, ("rolebindings", "clusterrolebindings"))),
    Danger(tag="pods-create", title="create pods (run as any ServiceAccount of the namespace)",
           severity=Severity.MEDIUM, probes=_probes(("create",), "", ("pods",))),
)
_BY_TAG = {d.tag: d for d in DANGERS}


def _with_names(probe: Request, names: Sequence[str]) -> Iterable[Request]:
    # A rule limited to resourceNames still allows the request for those names.
    yield probe
    for name in names:
        yield Request(verb=probe.verb, api_group=probe.api_group, resource=probe.resource,
                      subresource=probe.subresource, name=name)


def rule_dangers(rule: PolicyRule) -> tuple[str, ...]:
    """The danger tags of one rule, most severe first.

    >>> rule_dangers(PolicyRule(verbs=("*",), api_groups=("*",), resources=("*",)))[:2]
    ('admin', 'escalate')
    >>> rule_dangers(PolicyRule(verbs=("get",), api_groups=("",), resources=("secrets",), resource_names=("tls",)))
    ('secrets',)
    >>> rule_dangers(PolicyRule(verbs=("get", "list"), api_groups=("",), resources=("pods",)))
    ()
    """
    out: list[str] = []
    for d in DANGERS:
        if d.tag == ADMIN:
            if rule_covers(rule, _EVERYTHING):
                out.append(ADMIN)
            continue
        if any(rule_allows(rule, req) for p in d.probes for req in _with_names(p, rule.resource_names)):
            out.append(d.tag)
    return tuple(out)


def rules_dangers(rules: Iterable[PolicyRule]) -> tuple[str, ...]:
    """The union of the rules' danger tags, most severe first."""
    found: set[str] = set()
    for r in rules:
        found.update(rule_dangers(r))
    return tuple(d.tag for d in DANGERS if d.tag in found)


def is_admin_equivalent(rules: Iterable[PolicyRule]) -> bool:
    """Do these rules hold ``*`` on every resource of every group (what cluster-admin holds)?"""
    return any(rule_covers(r, _EVERYTHING) for r in rules)


def danger_severity(tags: Iterable[str]) -> Severity | None:
    """The worst severity among the tags (None when there is none)."""
    worst: Severity | None = None
    for t in tags:
        d = _BY_TAG.get(t)
        if d is not None and (worst is None or d.severity.rank > worst.rank):
            worst = d.severity
    return worst


def danger_titles(tags: Iterable[str]) -> list[str]:
    """Human titles for the tags, in the given order."""
    return [_BY_TAG[t].title for t in tags if t in _BY_TAG]
