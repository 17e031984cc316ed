"""The escalation check's "covers": do an owner's rules include every permission of a servant's (§9.4)."""

from __future__ import annotations

from collections.abc import Sequence

from ..model import PolicyRule
from .matching import non_resource_url_matches

__all__ = ["breakdown_rule", "rule_covers", "covers", "non_resource_url_covers"]


def non_resource_url_covers(owner: str, requested: str) -> bool:
    """Does an owner URL pattern cover a requested URL (the same rule as matching)?"""
    return non_resource_url_matches(owner, requested)


def breakdown_rule(rule: PolicyRule) -> list[PolicyRule]:
    """Split a rule into single (group, resource, verb[, name]) and (URL, verb) pieces."""
    out: list[PolicyRule] = []
    for group in rule.api_groups:
        for resource in rule.resources:
            for verb in rule.verbs:
                if rule.resource_names:
                    for name in rule.resource_names:
                        out.append(PolicyRule(verbs=(verb,), api_groups=(group,), resources=(resource,),
                                              resource_names=(name,)))
                else:
                    out.append(PolicyRule(verbs=(verb,), api_groups=(group,), resources=(resource,)))
    for url in rule.non_resource_urls:
        for verb in rule.verbs:
            out.append(PolicyRule(verbs=(verb,), non_resource_urls=(url,)))
    return out


def _has(items: Sequence[str], item: str) -> bool:
    return "*" in items or item in items


def _resource_covers(owner: PolicyRule, requested: str) -> bool:
    if "*" in owner.resources or requested in owner.resources:
        return True
    _, slash, sub = requested.partition("/")
    return bool(slash) and f"*/{sub}" in owner.resources


def rule_covers(owner: PolicyRule, servant: PolicyRule) -> bool:
    """``ruleCovers``: every piece of ``servant`` is in ``owner`` (a requested ``*`` only by an owner ``*``)."""
    if not all(_has(owner.verbs, v) for v in servant.verbs):
        return False
    if not all(_has(owner.api_groups, g) for g in servant.api_groups):
        return False
    if not all(_resource_covers(owner, r) for r in servant.resources):
        return False
    if owner.resource_names and not all(n in owner.resource_names for n in servant.resource_names):
        return False
    if owner.resource_names and not servant.resource_names:
        return False
    for url in servant.non_resource_urls:
        if not any(non_resource_url_covers(o, url) for o in owner.non_resource_urls):
            return False
    return True


def covers(owner_rules: Sequence[PolicyRule], servant_rules: Sequence[PolicyRule]) -> tuple[bool, list[PolicyRule]]:
    """``Covers``: (covered, uncovered pieces).

    >>> owner = [PolicyRule(verbs=("get",), api_groups=("",), resources=("pods",))]
    >>> covers(owner, [PolicyRule(verbs=("get", "list"), api_groups=("",), resources=("pods",))])[0]
    False
    """
    uncovered: list[PolicyRule] = []
    for servant in servant_rules:
        for piece in breakdown_rule(servant):
            if not any(rule_covers(o, piece) for o in owner_rules):
                uncovered.append(piece)
    return not uncovered, uncovered
