"""Matching one PolicyRule against one request, literally as the RBAC authorizer does (RBAC-SEMANTICS §3)."""

from __future__ import annotations

from ..model import PolicyRule, Request

__all__ = [
    "verb_matches",
    "api_group_matches",
    "resource_matches",
    "resource_name_matches",
    "non_resource_url_matches",
    "rule_allows",
]


def verb_matches(rule: PolicyRule, verb: str) -> bool:
    """Some verb is ``*`` or equals ``verb`` (case-sensitive).

    >>> verb_matches(PolicyRule(verbs=("get",)), "GET")
    False
    """
    for v in rule.verbs:
        if v == "*" or v == verb:
            return True
    return False


def api_group_matches(rule: PolicyRule, group: str) -> bool:
    """Some group is ``*`` or equals ``group`` (``""`` is the core group; no prefix matching)."""
    for g in rule.api_groups:
        if g == "*" or g == group:
            return True
    return False


def resource_matches(rule: PolicyRule, combined: str, subresource: str) -> bool:
    """``*``, the exact combined ``res/sub`` string, or ``*/sub`` for that subresource.

    >>> r = PolicyRule(verbs=("get",), resources=("pods/*",))
    >>> resource_matches(r, "pods/log", "log")
    False
    >>> resource_matches(PolicyRule(verbs=("get",), resources=("*/scale",)), "deployments/scale", "scale")
    True
    """
    for res in rule.resources:
        if res == "*" or res == combined:
            return True
        if subresource and len(res) == len(subresource) + 2 and res.startswith("*/") and res.endswith(subresource):
            return True
    return False


def resource_name_matches(rule: PolicyRule, name: str) -> bool:
    """Empty ``resourceNames`` matches anything; otherwise only a request that names one of them."""
    if not rule.resource_names:
        return True
    return name in rule.resource_names


def non_resource_url_matches(pattern: str, path: str) -> bool:
    """``*``, exact, or a trailing ``*`` prefix match (all trailing stars stripped).

    >>> non_resource_url_matches("/apis/*", "/apis")
    False
    >>> non_resource_url_matches("/apis/*", "/apis/v1")
    True
    """
    if pattern == "*" or pattern == path:
        return True
    if pattern.endswith("*"):
        return path.startswith(pattern.rstrip("*"))
    return False


def rule_allows(rule: PolicyRule, request: Request) -> bool:
    """Does ``rule`` allow ``request``? Resource requests read only the resource half, URLs only theirs."""
    if request.resource_request:
        return (
            verb_matches(rule, request.verb)
            and api_group_matches(rule, request.api_group)
            and resource_matches(rule, request.combined_resource, request.subresource)
            and resource_name_matches(rule, request.name)
        )
    if not verb_matches(rule, request.verb):
        return False
    return any(non_resource_url_matches(u, request.path) for u in rule.non_resource_urls)
