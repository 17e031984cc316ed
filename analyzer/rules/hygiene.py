"""Hygiene (info): roles bound nowhere, bindings with no subjects, subjects with very many bindings."""

from __future__ import annotations

from collections.abc import Iterator

from ..model import Evidence, Finding, Severity, Subject
from ..semantics import selector_matches
from .base import Rule, RuleContext

__all__ = ["UNUSED_ROLE_RULE", "EMPTY_BINDING_RULE", "BUSY_SUBJECT_RULE", "MANY_BINDINGS"]

_BUILTIN_AGGREGATION = "rbac.authorization.k8s.io/aggregate-to-"
MANY_BINDINGS = 10  # a subject bound more often than this is hard to review


def _aggregated(ctx: RuleContext) -> set[str]:
    """ClusterRoles that feed an aggregated ClusterRole (used through it, not bound directly)."""

    def compute() -> set[str]:
        selectors = [sel for r in ctx.index.all_roles if r.aggregation_rule for sel in r.aggregation_rule]
        return {r.id for r in ctx.index.all_roles if r.kind == "ClusterRole"
                and (any(selector_matches(sel, r.labels) for sel in selectors)
                     # feeds Kubernetes' built-in admin/edit/view, which the input may not hold
                     or any(k.startswith(_BUILTIN_AGGREGATION) and v == "true" for k, v in r.labels.items()))}

    return ctx.memo("aggregated-roles", compute)


def _unused_roles(ctx: RuleContext) -> Iterator[Finding]:
    fed = _aggregated(ctx)
    for role in ctx.index.all_roles:
        if ctx.index.bindings_for_role(role) or role.id in fed:
            continue
        yield ctx.finding(UNUSED_ROLE_RULE, object=role.id, namespace=role.namespace,
                          evidence=(Evidence(role=role.id, role_source=role.source, source=role.source),),
                          message=f"{role.kind} {role.namespace + '/' if role.namespace else ''}{role.name} is "
                                  f"bound nowhere.", blast_radius=())


def _empty_bindings(ctx: RuleContext) -> Iterator[Finding]:
    for b in ctx.inventory.bindings:
        if b.subjects:
            continue
        yield ctx.finding(EMPTY_BINDING_RULE, object=b.id, namespace=b.namespace if b.kind == "RoleBinding" else "",
                          evidence=(Evidence(binding=b.id, role=b.role_id, source=b.source),),
                          message=f"{b.kind} {b.namespace + '/' if b.namespace else ''}{b.name} has no subjects.",
                          blast_radius=())


def _busy_subjects(ctx: RuleContext) -> Iterator[Finding]:
    counts: dict[str, tuple[Subject, list[Evidence]]] = {}
    for b in ctx.inventory.bindings:
        for s in b.subjects:
            ns = s.namespace or (b.namespace if b.kind == "RoleBinding" and s.kind == "ServiceAccount" else "")
            subject = Subject(kind=s.kind, name=s.name, namespace=ns if s.kind == "ServiceAccount" else "",
                              api_group=s.api_group)
            entry = counts.setdefault(subject.id, (subject, []))
            entry[1].append(Evidence(binding=b.id, role=b.role_id, source=b.source))
    for subject, evidence in counts.values():
        if len(evidence) > MANY_BINDINGS:
            yield ctx.finding(BUSY_SUBJECT_RULE, subject=subject, evidence=evidence,
                              message=f"{subject.kind} {subject.name} is a subject of {len(evidence)} bindings.")


UNUSED_ROLE_RULE = Rule(
    id="RBAC-401",
    title="Role bound nowhere",
    severity=Severity.INFO,
    description="A role no binding references (and no aggregated ClusterRole includes) grants nothing; it "
                "may be left over, or be bound later by someone who did not review it.",
    remediation="Delete roles that are no longer used.",
    category="hygiene",
    check=_unused_roles,
)

EMPTY_BINDING_RULE = Rule(
    id="RBAC-402",
    title="Binding with no subjects",
    severity=Severity.INFO,
    description="A binding without subjects grants nothing; it is usually a mistake or a leftover.",
    remediation="Delete the binding or add the intended subjects.",
    category="hygiene",
    check=_empty_bindings,
)

BUSY_SUBJECT_RULE = Rule(
    id="RBAC-403",
    title="Subject with very many bindings",
    severity=Severity.INFO,
    description=f"A subject of more than {MANY_BINDINGS} bindings accumulates permissions that are hard to "
                "review as a whole.",
    remediation="Consolidate its permissions into fewer, purpose-named roles.",
    category="hygiene",
    check=_busy_subjects,
)
