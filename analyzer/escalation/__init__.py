"""Privilege escalation: the technique catalog and paths from subjects to admin-equivalent sinks.

Add a technique as one ``Technique`` constant in a module of this package and one entry in
``ALL_TECHNIQUES``; ``paths.EscalationGraph`` does the rest.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..model import Inventory, UserInfo
from ..model.paths import EscalationPath
from ..semantics import PolicyIndex
from ..workloads import Workload
from . import credentials, impersonation, pods, rbac_writes
from .base import Technique
from .paths import DEFAULT_MAX_DEPTH, HOLDS, EscalationGraph, is_system_subject

__all__ = ["ALL_TECHNIQUES", "find_paths", "build_graph", "EscalationGraph", "Technique", "HOLDS",
           "DEFAULT_MAX_DEPTH", "is_system_subject", "technique"]

ALL_TECHNIQUES: tuple[Technique, ...] = (
    *impersonation.TECHNIQUES,
    *rbac_writes.TECHNIQUES,
    *pods.TECHNIQUES,
    *credentials.TECHNIQUES,
)


def technique(technique_id: str) -> Technique | None:
    return next((t for t in ALL_TECHNIQUES if t.id == technique_id), None)


def build_graph(inventory: Inventory, index: PolicyIndex, workloads: Sequence[Workload],
                techniques: Sequence[Technique] = ALL_TECHNIQUES) -> EscalationGraph:
    return EscalationGraph(inventory, index, workloads, techniques)


def find_paths(inventory: Inventory, index: PolicyIndex, workloads: Sequence[Workload], *,
               subject: str | None = None, user: UserInfo | None = None, to: str | None = None,
               max_depth: int = DEFAULT_MAX_DEPTH, all_paths: bool = False) -> list[EscalationPath]:
    """Paths from ``subject`` (node id) to the sinks, or of every non-system subject when it is None."""
    graph = build_graph(inventory, index, workloads)
    if subject is None:
        return graph.all_paths(to=to, max_depth=max_depth)
    return graph.paths_from(subject, user=user, to=to, max_depth=max_depth, all_paths=all_paths)
