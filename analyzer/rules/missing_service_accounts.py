"""ServiceAccounts named by bindings or workloads that the inputs do not define.

Judged only in namespaces whose ServiceAccounts the input contains (otherwise absence proves nothing);
every namespace's ``default`` ServiceAccount always exists.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..model import Evidence, Finding, Severity, Subject
from .base import Rule, RuleContext

__all__ = ["BINDING_RULE", "WORKLOAD_RULE"]


def _known(ctx: RuleContext) -> tuple[set[str], set[tuple[str, str]]]:
    def compute() -> tuple[set[str], set[tuple[str, str]]]:
        sas = {(s.namespace, s.name) for s in ctx.inventory.service_accounts}
        return {ns for ns, _ in sas}, sas

    return ctx.memo("known-service-accounts", compute)


def _missing(ctx: RuleContext, namespace: str, name: str) -> bool:
    namespaces, sas = _known(ctx)
    return namespace in namespaces and name != "default" and (namespace, name) not in sas


def _check_bindings(ctx: RuleContext) -> Iterator[Finding]:
    for b in ctx.inventory.bindings:
        for s in b.subjects:
            if s.kind != "ServiceAccount":
                continue
            ns = s.namespace or (b.namespace if b.kind == "RoleBinding" else "")
            if not ns or not _missing(ctx, ns, s.name):
                continue
            subject = Subject(kind="ServiceAccount", name=s.name, namespace=ns)
            yield ctx.finding(
                BINDING_RULE, subject=subject, object=b.id, namespace=b.namespace if b.kind == "RoleBinding" else "",
                evidence=(Evidence(binding=b.id, role=b.role_id, source=b.source,
                                   detail=f"namespace {ns} defines no ServiceAccount {s.name}"),),
                message=f"{b.kind} {b.name} grants {b.role_ref.kind} {b.role_ref.name} to ServiceAccount "
                        f"{ns}/{s.name}, which does not exist.", blast_radius=())


def _check_workloads(ctx: RuleContext) -> Iterator[Finding]:
    for w in ctx.workloads:
        if w.service_account_defined is not False:
            continue
        subject = Subject(kind="ServiceAccount", name=w.service_account, namespace=w.namespace)
        yield ctx.finding(
            WORKLOAD_RULE, subject=subject, object=w.id, namespace=w.namespace,
            evidence=(Evidence(object=w.id, source=w.source,
                               detail=f"serviceAccountName {w.service_account} is not defined"),),
            message=f"{w.kind} {w.namespace}/{w.name} runs as ServiceAccount {w.service_account}, which the "
                    f"inputs do not define.", blast_radius=(w.id,))


BINDING_RULE = Rule(
    id="RBAC-202",
    title="Binding grants a role to a ServiceAccount that does not exist",
    severity=Severity.MEDIUM,
    description="Whoever creates a ServiceAccount with that name (anyone who may create ServiceAccounts in "
                "the namespace) inherits the binding's permissions.",
    remediation="Remove the subject from the binding, or create the ServiceAccount deliberately.",
    category="structure",
    check=_check_bindings,
)

WORKLOAD_RULE = Rule(
    id="RBAC-203",
    title="Workload runs as a ServiceAccount that does not exist",
    severity=Severity.LOW,
    description="Pods of this workload cannot start until the ServiceAccount exists; whoever creates it "
                "decides the workload's permissions.",
    remediation="Add the ServiceAccount to the manifests, or fix serviceAccountName.",
    category="structure",
    check=_check_workloads,
)
