"""Workloads that run as a powerful ServiceAccount with its token mounted (DaemonSets: on every node)."""

from __future__ import annotations

from collections.abc import Iterator

from ..model import Evidence, Finding, Severity, Subject
from .base import Rule, RuleContext
from .risky_permissions import powerful_subjects

__all__ = ["WORKLOAD_RULE", "DAEMONSET_RULE"]


def _check(ctx: RuleContext, *, daemonsets: bool) -> Iterator[Finding]:
    powerful = powerful_subjects(ctx)
    for w in ctx.workloads:
        if not w.carries_token or (w.kind == "DaemonSet") != daemonsets:
            continue
        held = powerful.get(w.service_account_id)
        if not held:
            continue
        rule = DAEMONSET_RULE if daemonsets else WORKLOAD_RULE
        subject = Subject(kind="ServiceAccount", name=w.service_account, namespace=w.namespace)
        ids = list(dict.fromkeys(r for r, _ in held))
        rows = ", ".join(ids[:5]) + (f" and {len(ids) - 5} more" if len(ids) > 5 else "")
        where = "on every node" if daemonsets else "in its pods"
        yield ctx.finding(
            rule, subject=subject, object=w.id, namespace=w.namespace, blast_radius=(w.id,),
            evidence=(Evidence(object=w.id, source=w.source,
                               detail=f"runs as {w.service_account} with its token mounted; holds {rows}"),),
            message=f"{w.kind} {w.namespace}/{w.name} mounts the token of ServiceAccount {w.service_account} "
                    f"{where}; that account holds {rows}.")


def _workloads(ctx: RuleContext) -> Iterator[Finding]:
    return _check(ctx, daemonsets=False)


def _daemonsets(ctx: RuleContext) -> Iterator[Finding]:
    return _check(ctx, daemonsets=True)


_REMEDIATION = ("Split the powerful permissions into a separate component, or set "
                "automountServiceAccountToken: false where the pods do not call the API.")

WORKLOAD_RULE = Rule(
    id="RBAC-205",
    title="Powerful ServiceAccount token mounted in a workload",
    severity=Severity.HIGH,
    description="Anyone who compromises one of the workload's containers (or can exec into it) gets a token "
                "holding a high or critical permission.",
    remediation=_REMEDIATION,
    category="service-accounts",
    check=_workloads,
)

DAEMONSET_RULE = Rule(
    id="RBAC-206",
    title="Powerful ServiceAccount token mounted on every node (DaemonSet)",
    severity=Severity.CRITICAL,
    description="A DaemonSet puts the token on every node: compromising any single node yields a token "
                "holding a high or critical permission.",
    remediation=_REMEDIATION,
    category="service-accounts",
    check=_daemonsets,
)
