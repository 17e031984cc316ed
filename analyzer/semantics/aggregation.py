"""ClusterRole aggregation, computed as the aggregation controller does it (RBAC-SEMANTICS §8)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from ..model import LabelSelector, Notice, PolicyRule, Role

__all__ = ["selector_matches", "aggregated_rules", "aggregate_cluster_roles", "aggregation_sources"]

MAX_ROUNDS = 100


def selector_matches(selector: LabelSelector, labels: Mapping[str, str]) -> bool:
    """A standard label selector; the empty selector matches everything; NotIn matches absent labels."""
    for key, value in selector.match_labels:
        if labels.get(key) != value:
            return False
    for req in selector.match_expressions:
        present = key_in = req.key in labels
        if req.operator == "In":
            if not (present and labels[req.key] in req.values):
                return False
        elif req.operator == "NotIn":
            if key_in and labels[req.key] in req.values:
                return False
        elif req.operator == "Exists":
            if not present:
                return False
        elif req.operator == "DoesNotExist":
            if present:
                return False
        else:  # an invalid operator makes the selector match nothing, as LabelSelectorAsSelector errors
            return False
    return True


def aggregated_rules(role: Role, cluster_roles: Sequence[Role]) -> tuple[PolicyRule, ...]:
    """One sync of the controller: the union of selected roles' rules, sorted by name, exact dups dropped.

    ``cluster_roles`` is every ClusterRole with its current rules.
    """
    assert role.aggregation_rule is not None
    by_name = sorted(cluster_roles, key=lambda r: r.name)
    out: list[PolicyRule] = []
    seen: set[PolicyRule] = set()
    for selector in role.aggregation_rule:
        for other in by_name:
            if other.name == role.name:
                continue
            if not selector_matches(selector, other.labels):
                continue
            for rule in other.rules:
                if rule not in seen:
                    seen.add(rule)
                    out.append(rule)
    return tuple(out)


def aggregate_cluster_roles(roles: Sequence[Role]) -> tuple[list[Role], list[Notice]]:
    """Return ``roles`` with every aggregating ClusterRole's rules replaced by its aggregated union.

    Aggregating roles are synced in name order, repeatedly until nothing changes (chains such as
    view → edit → admin settle); a cycle that never settles stops after ``MAX_ROUNDS`` with a notice.
    """
    cluster = {r.name: r for r in roles if r.kind == "ClusterRole"}
    aggregating = sorted(n for n, r in cluster.items() if r.aggregation_rule is not None)
    notices: list[Notice] = []
    if not aggregating:
        return list(roles), notices
    # Pre-select candidates per selector once: labels never change during aggregation.
    current = dict(cluster)
    for name in aggregating:
        role = current[name]
        current[name] = replace(role, written_rules=role.rules)
    candidates: dict[str, list[str]] = {}
    ordered_names = sorted(current)
    for name in aggregating:
        role = current[name]
        picks: list[str] = []
        for selector in role.aggregation_rule or ():
            picks.extend(o for o in ordered_names if o != name and selector_matches(selector, current[o].labels))
        candidates[name] = picks
    settled = False
    for _ in range(MAX_ROUNDS):
        changed = False
        for name in aggregating:
            seen: set[PolicyRule] = set()
            out: list[PolicyRule] = []
            for other in candidates[name]:
                for rule in current[other].rules:
                    if rule not in seen:
                        seen.add(rule)
                        out.append(rule)
            new_rules = tuple(out)
            if new_rules != current[name].rules:
                current[name] = replace(current[name], rules=new_rules)
                changed = True
        if not changed:
            settled = True
            break
    if not settled:
        notices.append(Notice(
            code="aggregation-cycle",
            message=(f"ClusterRole aggregation did not settle after {MAX_ROUNDS} rounds (a cycle among "
                     f"{', '.join(aggregating)}); rules are those of the last round"),
        ))
    result = [current[r.name] if r.kind == "ClusterRole" and cluster.get(r.name) is r else r for r in roles]
    return result, notices


def aggregation_sources(roles: Sequence[Role]) -> dict[str, tuple[str, ...]]:
    """For each aggregating ClusterRole, the ClusterRoles its selectors pick (name order, no repeats).

    These are the roles whose rules it carries (the AGGREGATES edges of the graph).
    """
    cluster = sorted((r for r in roles if r.kind == "ClusterRole"), key=lambda r: r.name)
    out: dict[str, tuple[str, ...]] = {}
    for role in cluster:
        if role.aggregation_rule is None:
            continue
        picks: dict[str, None] = {}
        for selector in role.aggregation_rule:
            for other in cluster:
                if other.name != role.name and selector_matches(selector, other.labels):
                    picks.setdefault(other.name, None)
        out[role.name] = tuple(picks)
    return out
