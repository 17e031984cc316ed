"""Answer "who can", "can X", and "what can X do" with evidence, through the semantics' PolicyIndex."""

from __future__ import annotations

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
    reasons: list[str] = []
    if not request.resource_request:
        if not rule.non_resource_urls:
            return None
        if not any(u == "*" or request.path.startswith(u.rstrip("*")) or u.rstrip("*").startswith(request.path)
                   for u in rule.non_resource_urls if u):
            return None
        probe = Request(verb=request.verb, path=request.path, resource_request=False)
        if binding.kind == "RoleBinding":
            reasons.append("namespace")
        if not verb_matches(rule, request.verb):
            reasons.append("verb")
        if not reasons and not rule_allows(rule, probe):
            reasons.append("path")
        return reasons
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
    if binding.kind == "RoleBinding" and binding.namespace != request.namespace:
        reasons.append("namespace")
    return reasons


def near_misses(index: PolicyIndex, user: UserInfo, request: Request, *, limit: int = 20) -> list[NearMiss]:
    """The user's bindings whose rule would match but for one thing, and its bindings to missing roles."""
    out: list[NearMiss] = []
    for binding, subject in index.bindings_applying_anywhere(user):
        role = index.role_for(binding)
        if role is None:
            if binding.kind == "ClusterRoleBinding" or binding.namespace == request.namespace:
                out.append(NearMiss(binding=binding, subject=subject, reasons=("missing-role",),
                                    detail=not_found_error(binding)))
            continue
        for rule in role.rules:
            reasons = _mismatches(rule, binding, request)
            if reasons is None or len(reasons) != 1:
                continue
            why = reasons[0]
            detail = {
                "namespace": (f"granted only in namespace {binding.namespace}" if binding.namespace
                              else "granted cluster-wide") if binding.kind == "RoleBinding" else "",
                "verb": f"verbs are {', '.join(rule.verbs) or 'none'}",
                "apiGroup": f"API groups are {', '.join(repr(g) for g in rule.api_groups) or 'none'}",
                "resourceNames": f"only for names {', '.join(rule.resource_names)}",
                "subresource": f"resources are {', '.join(rule.resources)}",
                "path": f"URLs are {', '.join(rule.non_resource_urls)}",
            }.get(why, "")
            if why == "namespace" and binding.kind == "RoleBinding":
                detail = (f"RoleBinding applies only in namespace {binding.namespace}" if request.namespace
                          else f"RoleBinding applies only in namespace {binding.namespace}, not cluster-wide")
            out.append(NearMiss(binding=binding, subject=subject, reasons=(why,), role=role, rule=rule, detail=detail))
            if len(out) >= limit:
                return out
    return out


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
