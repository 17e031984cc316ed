"""Escalation paths as audit findings: a non-system subject that can become cluster-admin is critical."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from ..model import Inventory, Severity, parse_subject_id
from ..model.findings import Evidence, Finding
from ..model.paths import SINK_CLUSTER_ADMIN, SINK_SYSTEM_MASTERS, EscalationPath, node_text
from ..semantics import PolicyIndex
from ..workloads import Workload
from .paths import DEFAULT_MAX_DEPTH, EscalationGraph

__all__ = ["PATH_RULE_ID", "escalation_findings", "escalation_catalog", "path_finding"]

PATH_RULE_ID = "ESC-PATH"
_TITLE = "Subject can escalate to cluster-admin"
_REMEDIATION = ("Remove the first permission of the path (its binding → role → rule is the first evidence line), "
                "or stop the identity it reaches from holding cluster-wide rights.")


def escalation_catalog() -> dict[str, dict[str, Any]]:
    """The catalog entry the audit report documents for these findings."""
    return {PATH_RULE_ID: {
        "id": PATH_RULE_ID, "title": _TITLE, "severity": Severity.CRITICAL.value, "category": "escalation",
        "description": "A chain of privilege-escalation techniques (see `rbac-analyzer paths`) leads from this "
                       "subject to cluster-admin or system:masters. Critical when every step is certain, high "
                       "when a step is potential (depends on objects the inputs may lack).",
        "remediation": _REMEDIATION, "references": [],
    }}


def path_finding(path: EscalationPath, graph: EscalationGraph) -> Finding:
    """One path → one finding: evidence per step, the subject's blast radius in the evidence and pods."""
    evidence: list[Evidence] = []
    for s in path.steps:
        g = s.grant
        detail = f"{s.technique}: {node_text(s.source)} → {node_text(s.target)}" + (" (potential)" if s.potential else "")
        if g is not None and g.binding.source.file:
            evidence.append(Evidence(binding=g.binding.id, role=g.role.id, rule=g.rule, rule_index=g.rule_index,
                                     source=g.binding.source, role_source=g.role.source, detail=detail))
        else:
            evidence.append(Evidence(detail=detail))
    # Its blast radius is everything: cluster-admin and system:masters may impersonate any user, group
    # or ServiceAccount and act in every namespace (no graph search needed)
    pods = graph.token_carriers(path.source)
    identities = len(graph.subjects())
    tokens = (f"; its token is mounted by {len(pods)} workload{'' if len(pods) == 1 else 's'}"
              if path.source.startswith("ServiceAccount:") else "")
    evidence.append(Evidence(detail=(
        f"blast radius: through {node_text(path.sink)} it can become any identity ({identities} in the inputs) "
        f"and controls every namespace{tokens}")))
    route = " → ".join(node_text(n) for n in path.nodes)
    return Finding(
        rule=PATH_RULE_ID, title=_TITLE, severity=Severity.HIGH if path.potential else Severity.CRITICAL,
        message=f"{path.source} can reach {path.sink} in {path.hops} steps"
                f"{' (potential)' if path.potential else ''}: {route}",
        subject=parse_subject_id(path.source), object=path.sink, evidence=tuple(evidence),
        blast_radius=pods, remediation=_REMEDIATION)


def escalation_findings(inventory: Inventory, index: PolicyIndex, workloads: Sequence[Workload], *,
                        max_depth: int = DEFAULT_MAX_DEPTH, graph: EscalationGraph | None = None) -> Iterator[Finding]:
    """Findings for every non-system subject with a path of two or more steps to cluster-admin or
    system:masters (holding those rights directly is the risk rules' finding)."""
    from . import build_graph

    if graph is None:
        graph = build_graph(inventory, index, workloads)
    for p in graph.all_paths(max_depth=max_depth):
        if p.sink in (SINK_CLUSTER_ADMIN, SINK_SYSTEM_MASTERS) and p.hops >= 2:
            yield path_finding(p, graph)
