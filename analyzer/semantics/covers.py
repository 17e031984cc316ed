"""The escalation check's "covers": do an owner's rules include every permission of a servant's (§9.4)."""

from __future__ import annotations

from collections.abc import Sequence

from ..model import PolicyRule
from .matching import non_resource_url_matches

__all__ = ["breakdown_rule", "rule_covers", "covers", "non_resource_url_covers", "RuleCoverage"]


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
    owner = RuleCoverage(owner_rules)
    uncovered = [piece for servant in servant_rules for piece in breakdown_rule(servant) if not owner.covers_piece(piece)]
    return not uncovered, uncovered


# Owner rules whose verbs × groups × resources (× names) product is larger than this stay rules and are
# checked with ``rule_covers``; hostile input must not make the index explode.
_MAX_EXPANSION = 4096


class RuleCoverage:
    """An owner's rules indexed so that "is this piece covered?" is a few set lookups, not a scan.

    ``rule_covers`` asks each owner rule whether its verbs, groups and resources hold the piece's (a
    literal or ``*``; a resource also ``*/sub``). Within one rule the three conditions are independent,
    so a piece is covered exactly when one of its (verb|*, group|*, resource|*|*/sub) combinations is in
    the union of the owner rules' products. Rules with resourceNames cover only pieces naming one of them.

    >>> owner = RuleCoverage([PolicyRule(verbs=("*",), api_groups=("",), resources=("pods", "secrets"))])
    >>> owner.holds([PolicyRule(verbs=("get", "list"), api_groups=("",), resources=("pods",))])
    True
    >>> owner.holds([PolicyRule(verbs=("get",), api_groups=("apps",), resources=("deployments",))])
    False
    """

    __slots__ = ("_all", "_any_name", "_named", "_urls", "_large")

    def __init__(self, owner_rules: Sequence[PolicyRule]) -> None:
        self._all = tuple(owner_rules)
        self._any_name: set[tuple[str, str, str]] = set()
        self._named: set[tuple[str, str, str, str]] = set()
        self._urls: list[PolicyRule] = []  # URL rules are few; matched with their patterns
        self._large: list[PolicyRule] = []
        for o in owner_rules:
            if o.non_resource_urls:
                self._urls.append(o)
            if not (o.verbs and o.api_groups and o.resources):
                continue
            size = len(o.verbs) * len(o.api_groups) * len(o.resources) * max(1, len(o.resource_names))
            if size > _MAX_EXPANSION:
                self._large.append(o)
                continue
            for v in o.verbs:
                for g in o.api_groups:
                    for r in o.resources:
                        if o.resource_names:
                            self._named.update((v, g, r, n) for n in o.resource_names)
                        else:
                            self._any_name.add((v, g, r))

    @property
    def everything(self) -> bool:
        """A ``*`` verb, group and resource rule without names: every resource piece is covered."""
        return ("*", "*", "*") in self._any_name

    def covers_piece(self, piece: PolicyRule) -> bool:
        """``any(rule_covers(o, piece) for o in owner_rules)`` for one piece of ``breakdown_rule``."""
        if piece.non_resource_urls:
            return any(rule_covers(o, piece) for o in self._urls)
        if len(piece.verbs) == len(piece.api_groups) == len(piece.resources) == 1 and len(piece.resource_names) <= 1:
            return self._covers(piece.verbs[0], piece.api_groups[0], piece.resources[0],
                                piece.resource_names[0] if piece.resource_names else None, piece)
        return any(rule_covers(o, piece) for o in self._all)  # not one piece of ``breakdown_rule``

    def _covers(self, verb: str, group: str, resource: str, name: str | None, piece: PolicyRule | None) -> bool:
        _, slash, sub = resource.partition("/")
        resources = (resource, "*", f"*/{sub}") if slash else (resource, "*")
        any_name, named = self._any_name, self._named
        for v in (verb, "*"):
            for g in (group, "*"):
                for r in resources:
                    if (v, g, r) in any_name or (name is not None and (v, g, r, name) in named):
                        return True
        if not self._large:
            return False
        if piece is None:
            names = (name,) if name is not None else ()
            piece = PolicyRule(verbs=(verb,), api_groups=(group,), resources=(resource,), resource_names=names)
        return any(rule_covers(o, piece) for o in self._large)

    def holds(self, servant_rules: Sequence[PolicyRule]) -> bool:
        """``covers(owner, servant)[0]``: every piece of ``breakdown_rule`` covered (stops at the first
        that is not; walks the pieces without building them)."""
        everything = self.everything
        for rule in servant_rules:
            for group in () if everything else rule.api_groups:
                for resource in rule.resources:
                    for verb in rule.verbs:
                        for name in (rule.resource_names or (None,)):
                            if not self._covers(verb, group, resource, name, None):
                                return False
            if rule.non_resource_urls:
                for piece in breakdown_rule(PolicyRule(verbs=rule.verbs, non_resource_urls=rule.non_resource_urls)):
                    if not any(rule_covers(o, piece) for o in self._urls):
                        return False
        return True
