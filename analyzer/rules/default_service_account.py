"""Default ServiceAccounts that bindings grant permissions to (every pod without serviceAccountName gets them)."""

from __future__ import annotations

from collections.abc import Iterator

from ..model import Evidence, Finding, Severity, Subject
from .base import Rule, RuleContext

__all__ = ["RULE"]


def _check(ctx: RuleContext) -> Iterator[Finding]:
    by_subject: dict[str, tuple[Subject, list[Evidence]]] = {}
    for b in ctx.inventory.bindings:
        role = ctx.index.role_for(b)
        if role is None or not role.rules:
            continue
        for s in b.subjects:
            if s.kind != "ServiceAccount" or s.name != "default":
                continue
            ns = s.namespace or (b.namespace if b.kind == "RoleBinding" else "")
            if not ns:
                continue
            subject = Subject(kind="ServiceAccount", name="default", namespace=ns)
            entry = by_subject.setdefault(subject.id, (subject, []))
            entry[1].append(Evidence(binding=b.id, role=role.id, source=b.source, role_source=role.source))
    for subject, evidence in by_subject.values():
        yield ctx.finding(RULE, subject=subject, namespace=subject.namespace, evidence=evidence,
                          message=f"ServiceAccount {subject.namespace}/default is bound by {len(evidence)} "
                                  f"binding(s): every pod of the namespace without serviceAccountName holds "
                                  f"these permissions.")


RULE = Rule(
    id="RBAC-204",
    title="Default ServiceAccount has bindings",
    severity=Severity.MEDIUM,
    description="Pods that name no ServiceAccount run as `default`; permissions bound to it reach every such "
                "pod of the namespace, including ones added later.",
    remediation="Create a dedicated ServiceAccount for the workload that needs these permissions and bind it "
                "instead; set automountServiceAccountToken: false on default.",
    references=("https://kubernetes.io/docs/concepts/security/rbac-good-practices/",),
    category="service-accounts",
    check=_check,
)
