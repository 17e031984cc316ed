"""Answer "who can", "can X", and "what can X do" with evidence, through the semantics' PolicyIndex."""

from __future__ import annotations

import heapq

from .model import (
    Binding,
    Decision,
    Grant,
    NearMiss,
    PolicyRule,
    Request,
    RulesReview,
    Subject,
    SubjectAccess,
    UserInfo,
)
from .semantics import (
    SYSTEM_MASTERS,
    PolicyIndex,
    api_group_matches,
    applies_to,
    not_found_error,
    resource_matches,
    resource_name_matches,
    rule_allows,
    verb_matches,
)

__all__ = ["who_can", "who_can_by_namespace", "check", "permissions_of", "near_misses"]


def _display_subject(grant: Grant) -> Subject:
    """A ServiceAccount subject written without a namespace in a RoleBinding lives in that namespace."""
    s = grant.subject
    if s.kind == "ServiceAccount" and not s.namespace and grant.binding.kind == "RoleBinding":
        return Subject(kind=s.kind, name=s.name, namespace=grant.binding.namespace, api_group=s.api_group)
    return s


def who_can(index: PolicyIndex, request: Request) -> tuple[list[SubjectAccess], list[str]]:
    """Every subject that can, once each with all its grants; ``Group system:masters`` first.

    Groups stay groups. A namespace-less ServiceAccount of a ClusterRoleBinding matches nobody and is
    left out (the loader already reported it). Returns (subjects, role lookup errors).

    Example::

        subjects, errors = who_can(index, Request(verb="get", resource="secrets", namespace="kube-system"))
    """
    out: list[SubjectAccess] = [SubjectAccess(subject=Subject(kind="Group", name=SYSTEM_MASTERS,
                                                              api_group="rbac.authorization.k8s.io"),
                                              authorizer="system:masters")]
    if index.super_user:
        out.append(SubjectAccess(subject=Subject(kind="User", name=index.super_user,
                                                 api_group="rbac.authorization.k8s.io"), authorizer="super-user"))
    grants, errors = index.grants_for_request(request)
    merged: dict[tuple[str, str, str], list[Grant]] = {}
    subjects: dict[tuple[str, str, str], Subject] = {}
    for g in grants:
        s = _display_subject(g)
        if s.kind == "ServiceAccount" and not s.namespace:
            continue
        key = (s.kind, s.namespace, s.name)
        if key not in merged:
            merged[key] = []
            subjects[key] = Subject(kind=s.kind, name=s.name, namespace=s.namespace,
                                    api_group=s.api_group or ("" if s.kind == "ServiceAccount"
                                                              else "rbac.authorization.k8s.io"))
        merged[key].append(g)
    for key, gl in merged.items():
        if key == ("Group", "", SYSTEM_MASTERS):
            continue  # already first, via its own authorizer
        out.append(SubjectAccess(subject=subjects[key], grants=tuple(gl)))
    return out, errors


def check(index: PolicyIndex, user: UserInfo, request: Request, *, with_near_misses: bool = True) -> Decision:
    """The API server's decision for ``user`` (groups used exactly as given), with evidence.

    Example::

        d = check(index, UserInfo(username="alice", groups=("dev", "system:authenticated")),
                  Request(verb="get", resource="pods", namespace="dev"))
        d.allowed, d.reason, d.evidence
    """
    auth = index.authorize(user, request)
    misses: tuple[NearMiss, ...] = ()
    if not auth.allowed and with_near_misses:
        misses = tuple(near_misses(index, user, request))
    return Decision(request=request, user=user, allowed=auth.allowed, reason=auth.reason,
                    authorizer=auth.authorizer, evidence=auth.grants, near_misses=misses, errors=auth.errors)


def _mismatches(rule: PolicyRule, binding: Binding, request: Request) -> list[str] | None:
    """Which dimensions stop ``rule`` (via ``binding``) from allowing ``request``; None if the resource
    itself is unrelated."""
    rule_reasons = _rule_reasons(rule, request)
    if rule_reasons is None:
        return None
    if not request.resource_request:
        if binding.kind == "RoleBinding":
            # a RoleBinding never grants a URL; a wrong path only counts when nothing else does
            return ["namespace", *(r for r in rule_reasons if r != "path")]
        return list(rule_reasons)
    reasons = list(rule_reasons)
    if binding.kind == "RoleBinding" and binding.namespace != request.namespace:
        reasons.append("namespace")
    return reasons


def _rule_reasons(rule: PolicyRule, request: Request) -> tuple[str, ...] | None:
    """What stops ``rule`` itself from allowing ``request``, the binding's namespace aside (None: unrelated).

    Resource requests: any of subresource, verb, apiGroup, resourceNames. URLs: ("verb",), ("path",) or
    ("", ) meaning allowed; "path" only counts when nothing else does, as in ``_mismatches``.
    """
    if not request.resource_request:
        if not rule.non_resource_urls:
            return None
        if not any(u == "*" or request.path.startswith(u.rstrip("*")) or u.rstrip("*").startswith(request.path)
                   for u in rule.non_resource_urls if u):
            return None
        if not verb_matches(rule, request.verb):
            return ("verb",)
        probe = Request(verb=request.verb, path=request.path, resource_request=False)
        return ("path",) if not rule_allows(rule, probe) else ()
    reasons: list[str] = []
    base = request.resource
    if resource_matches(rule, request.combined_resource, request.subresource):
        pass
    elif any(r == base or r.partition("/")[0] == base for r in rule.resources):
        reasons.append("subresource")
    else:
        return None
    if not verb_matches(rule, request.verb):
        reasons.append("verb")
    if not api_group_matches(rule, request.api_group):
        reasons.append("apiGroup")
    if not resource_name_matches(rule, request.name):
        reasons.append("resourceNames")
    return tuple(reasons)


def near_misses(index: PolicyIndex, user: UserInfo, request: Request, *, limit: int = 20) -> list[NearMiss]:
    """The user's bindings whose rule would match but for one thing, and its bindings to missing roles.

    The same answers as ``_mismatches`` per (binding, rule), computed once per rule and skipping
    bindings whose role has no candidate rule (a subject bound in thousands of namespaces stays cheap).
    """
    out: list[NearMiss] = []
    # per rules tuple: the rules that miss by at most one thing besides the namespace, with those reasons
    per_role: dict[int, list[tuple[PolicyRule, tuple[str, ...]]]] = {}
    url_request = not request.resource_request
    relevant: list[list[Binding]] = []
    for group in index.binding_groups_anywhere(user):
        rules = group.rules
        if rules is None:  # missing role: a near miss where the binding is consulted
            relevant.append(group.bindings)
            continue
        cands = per_role.get(id(rules))
        if cands is None:
            cands = per_role[id(rules)] = [(rule, r) for rule in index.rules_about(rules, request)
                                           if (r := _rule_reasons(rule, request)) is not None and len(r) <= 1]
        if not cands:
            continue
        # a RoleBinding elsewhere only adds "namespace": useful only if some rule misses by nothing else
        elsewhere = any(not base or (url_request and base == ("path",)) for _, base in cands)
        if elsewhere:
            relevant.append(group.bindings)
        else:
            # ClusterRoleBindings, and the request's namespace's RoleBindings (a cluster-wide request: none)
            relevant.append(group.by_namespace.get("", []) if url_request or not request.namespace else
                            [*group.by_namespace.get("", ()), *group.by_namespace.get(request.namespace, ())])
    merged = relevant[0] if len(relevant) == 1 else heapq.merge(*relevant, key=index.position)
    last = None
    for binding in merged:
        if binding is last:  # reached through two of the user's names
            continue
        last = binding
        role = index.role_for(binding)
        if role is None:
            if binding.kind == "ClusterRoleBinding" or binding.namespace == request.namespace:
                subject = _subject_of(binding, user)
                if subject is not None:
                    out.append(NearMiss(binding=binding, subject=subject, reasons=("missing-role",),
                                        detail=not_found_error(binding)))
            continue
        cands = per_role[id(role.rules)]
        if url_request:
            ns_miss = binding.kind == "RoleBinding"
        else:
            ns_miss = binding.kind == "RoleBinding" and binding.namespace != request.namespace
        subject: Subject | None = None
        for rule, base in cands:
            if ns_miss:
                if base and not (url_request and base == ("path",)):
                    continue
                why = "namespace"
            elif len(base) == 1:
                why = base[0]
            else:
                continue
            if subject is None:
                subject = _subject_of(binding, user)
                if subject is None:
                    break
            detail = _detail(why, rule, binding, request)
            out.append(NearMiss(binding=binding, subject=subject, reasons=(why,), role=role, rule=rule, detail=detail))
            if len(out) >= limit:
                return out
    return out


def _detail(why: str, rule: PolicyRule, binding: Binding, request: Request) -> str:
    """The one-line explanation of a near miss (only the one needed is formatted)."""
    if why == "namespace":
        return (f"RoleBinding applies only in namespace {binding.namespace}" if request.namespace
                else f"RoleBinding applies only in namespace {binding.namespace}, not cluster-wide")
    if why == "verb":
        return f"verbs are {', '.join(rule.verbs) or 'none'}"
    if why == "apiGroup":
        return f"API groups are {', '.join(repr(g) for g in rule.api_groups) or 'none'}"
    if why == "resourceNames":
        return f"only for names {', '.join(rule.resource_names)}"
    if why == "subresource":
        return f"resources are {', '.join(rule.resources)}"
    if why == "path":
        return f"URLs are {', '.join(rule.non_resource_urls)}"
    return ""


def _subject_of(binding: Binding, user: UserInfo) -> Subject | None:
    i = applies_to(binding.subjects, user.username, user.groups,
                   binding.namespace if binding.kind == "RoleBinding" else "")
    return binding.subjects[i] if i >= 0 else None


def permissions_of(index: PolicyIndex, user: UserInfo, namespace: str = "") -> RulesReview:
    """SubjectRulesReview: the rules that apply to ``user`` in ``namespace`` ("" = cluster-wide only)."""
    if SYSTEM_MASTERS in user.groups:
        grants, errors = index.rules_for(user, namespace)
        return RulesReview(namespace=namespace, grants=tuple(grants), all_powerful=True,
                           evaluation_error=", ".join(dict.fromkeys(errors)))
    grants, errors = index.rules_for(user, namespace)
    return RulesReview(namespace=namespace, grants=tuple(grants), incomplete=bool(errors),
                       evaluation_error=", ".join(dict.fromkeys(errors)))


def who_can_by_namespace(index: PolicyIndex, request: Request) -> dict[str, list[SubjectAccess]]:
    """For a namespaced request shape: namespace → the subjects its RoleBindings let do it there (merged as
    in ``who_can``). Together with ``who_can`` at namespace "" this answers every namespace in one pass."""
    out: dict[str, list[SubjectAccess]] = {}
    for ns, grants in index.role_binding_grants(request).items():
        merged: dict[tuple[str, str, str], list[Grant]] = {}
        subjects: dict[tuple[str, str, str], Subject] = {}
        for g in grants:
            s = _display_subject(g)
            key = (s.kind, s.namespace, s.name)
            if key not in merged:
                merged[key] = []
                subjects[key] = s
            merged[key].append(g)
        out[ns] = [SubjectAccess(subject=subjects[k], grants=tuple(gl)) for k, gl in merged.items()]
    return out
