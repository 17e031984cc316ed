"""What changed between two policies: effective access gained and lost per subject, escalation paths added and removed."""

from __future__ import annotations

from collections.abc import Iterable

from ..model import Grant, Request, UserInfo, parse_subject_id
from ..model.paths import PermissionKey, PolicyDiff
from ..semantics import PolicyIndex, subject_as_user
from .paths import EscalationGraph

__all__ = ["grant_keys", "effective_permissions", "diff_permissions", "diff_policies"]


def grant_keys(grants: Iterable[Grant]) -> set[PermissionKey]:
    """Normalise grants to (scope, verb, group, resource, name or URL) tuples; scope "" is cluster-wide."""
    out: set[PermissionKey] = set()
    for g in grants:
        rule, scope = g.rule, g.namespace
        for verb in rule.verbs:
            for group in rule.api_groups:
                for resource in rule.resources:
                    for name in rule.resource_names or ("",):
                        out.add((scope, verb, group, resource, name))
            for url in rule.non_resource_urls:
                if not scope:  # URLs are only granted cluster-wide
                    out.add(("", verb, "", "", url))
    return out


def _user_permissions(index: PolicyIndex, user: UserInfo) -> frozenset[PermissionKey]:
    grants, _ = index.rules_for(user, "")
    namespaces = {b.namespace for b, _ in index.bindings_applying_anywhere(user) if b.kind == "RoleBinding"}
    for ns in sorted(namespaces):
        ns_grants, _ = index.rules_for(user, ns)
        grants.extend(g for g in ns_grants if g.namespace)  # cluster-wide ones are already counted
    return frozenset(grant_keys(grants))


def effective_permissions(index: PolicyIndex, subjects: Iterable[str]) -> dict[str, frozenset[PermissionKey]]:
    """Per subject (node id), its effective permission tuples."""
    return {s: _user_permissions(index, subject_as_user(parse_subject_id(s))) for s in subjects}


def diff_permissions(old: dict[str, frozenset[PermissionKey]], new: dict[str, frozenset[PermissionKey]]
                     ) -> tuple[dict[str, tuple[PermissionKey, ...]], dict[str, tuple[PermissionKey, ...]]]:
    gained: dict[str, tuple[PermissionKey, ...]] = {}
    lost: dict[str, tuple[PermissionKey, ...]] = {}
    for s in sorted(set(old) | set(new)):
        before, after = old.get(s, frozenset()), new.get(s, frozenset())
        if after - before:
            gained[s] = tuple(sorted(after - before))
        if before - after:
            lost[s] = tuple(sorted(before - after))
    return gained, lost


def _request(key: PermissionKey) -> Request:
    scope, verb, group, resource, name = key
    if not resource:
        return Request(verb=verb, path=name, resource_request=False)
    res, _, sub = resource.partition("/")
    return Request(verb=verb, api_group=group, resource=res, subresource=sub, name=name, namespace=scope)


def _still_allowed(index: PolicyIndex, changes: dict[str, tuple[PermissionKey, ...]]
                   ) -> dict[str, tuple[PermissionKey, ...]]:
    """Drop tuples the other side allows anyway (e.g. ``get`` newly listed where ``*`` already was)."""
    out: dict[str, tuple[PermissionKey, ...]] = {}
    for subject, keys in changes.items():
        user = subject_as_user(parse_subject_id(subject))
        kept = tuple(k for k in keys if not index.allows(user, _request(k)))
        if kept:
            out[subject] = kept
    return out


def diff_policies(old: EscalationGraph, new: EscalationGraph, *, max_depth: int = 6) -> PolicyDiff:
    """Compare two policies (their escalation graphs): access per subject, and (subject, sink) paths."""
    gained, lost = diff_permissions(effective_permissions(old.index, old.subjects()),
                                    effective_permissions(new.index, new.subjects()))
    gained, lost = _still_allowed(old.index, gained), _still_allowed(new.index, lost)
    old_paths = {(p.source, p.sink): p for p in old.all_paths(max_depth=max_depth)}
    new_paths = {(p.source, p.sink): p for p in new.all_paths(max_depth=max_depth)}
    return PolicyDiff(
        gained=gained, lost=lost,
        new_paths=tuple(p for k, p in new_paths.items() if k not in old_paths),
        removed_paths=tuple(p for k, p in old_paths.items() if k not in new_paths),
    )
