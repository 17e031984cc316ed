"""The RBAC authorizer over an indexed policy: decisions, the subject locator and rules-for (§1, §4, §10).

``PolicyIndex`` is built once from an Inventory (after aggregation) and answers each question through
indexes, never by scanning every binding: bindings by subject key and namespace, bindings by role
reference, and roles by (namespace, verb, resource) token of their rules.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from ..model import Binding, Grant, Inventory, PolicyRule, Request, Role, Subject, UserInfo
from .aggregation import aggregate_cluster_roles
from .describe import allowed_reason, denied_reason, not_found_error
from .matching import rule_allows
from .subjects import SYSTEM_MASTERS, applies_to, make_sa_username

__all__ = ["PolicyIndex", "Authorization", "LocatedSubject", "BindingGroup"]

_USER, _GROUP = "u", "g"
_UNKNOWN = object()


@dataclass(frozen=True, kw_only=True)
class Authorization:
    """What the authorizer chain decides, with every grant that allows (the first gives the reason)."""

    allowed: bool
    reason: str
    authorizer: str  # "system:masters", "RBAC" or ""
    grants: tuple[Grant, ...] = ()
    errors: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class BindingGroup:
    """Bindings of one subject key whose roles have the same rules (``None``: role missing)."""

    rules: tuple[PolicyRule, ...] | None
    bindings: list[Binding]  # listing order
    by_namespace: dict[str, list[Binding]]  # "" for ClusterRoleBindings; each in listing order


@dataclass(frozen=True, kw_only=True)
class LocatedSubject:
    """One entry of the subject locator: a subject of a binding whose role allows the request."""

    subject: Subject
    grant: Grant | None  # None for the system:masters / super-user entries


def _subject_keys(subject: Subject, binding_namespace: str) -> tuple[str, str] | None:
    """The index key a subject can match: a username or a group name (None: matches nobody)."""
    if subject.kind == "User":
        return (_USER, subject.name)
    if subject.kind == "Group":
        return (_GROUP, subject.name)
    if subject.kind == "ServiceAccount":
        ns = subject.namespace or binding_namespace
        if not ns:
            return None
        return (_USER, make_sa_username(ns, subject.name))
    return None


class PolicyIndex:
    """Indexes over one policy. Read-only once built."""

    def __init__(self, inventory: Inventory, *, super_user: str = "") -> None:
        roles, notices = aggregate_cluster_roles(inventory.roles)
        self.aggregation_notices = notices
        self.super_user = super_user
        self.cluster_roles: dict[str, Role] = {}
        self.roles: dict[tuple[str, str], Role] = {}
        for r in roles:
            if r.kind == "ClusterRole":
                self.cluster_roles[r.name] = r
            elif r.kind == "Role":
                self.roles[(r.namespace, r.name)] = r
        self.all_roles = roles
        self.cluster_role_bindings: list[Binding] = []
        self.role_bindings: dict[str, list[Binding]] = {}
        # position of each binding in listing order (CRBs first), for stable evidence order
        self._pos: dict[int, int] = {}
        self._crb_by_key: dict[tuple[str, str], list[Binding]] = {}
        self._rb_by_key: dict[tuple[str, str, str], list[Binding]] = {}
        self._rb_by_key_any: dict[tuple[str, str], list[Binding]] = {}
        self._crb_by_role: dict[str, list[Binding]] = {}
        self._rb_by_role: dict[tuple[str, str, str], list[Binding]] = {}
        for b in inventory.bindings:
            if b.kind == "ClusterRoleBinding":
                self.cluster_role_bindings.append(b)
            elif b.kind == "RoleBinding":
                self.role_bindings.setdefault(b.namespace, []).append(b)
            else:
                continue
        pos = 0
        for b in self.cluster_role_bindings:
            self._pos[id(b)] = pos
            pos += 1
            if b.role_ref.kind == "ClusterRole":
                self._crb_by_role.setdefault(b.role_ref.name, []).append(b)
            for key in {k for s in b.subjects if (k := _subject_keys(s, "")) is not None}:
                self._crb_by_key.setdefault(key, []).append(b)
        for ns, bindings in self.role_bindings.items():
            for b in bindings:
                self._pos[id(b)] = pos
                pos += 1
                self._rb_by_role.setdefault((ns, b.role_ref.kind, b.role_ref.name), []).append(b)
                for key in {k for s in b.subjects if (k := _subject_keys(s, ns)) is not None}:
                    self._rb_by_key.setdefault((ns, *key), []).append(b)
                    self._rb_by_key_any.setdefault(key, []).append(b)
        self._role_of: dict[int, Role | None] = {id(b): self._resolve_role(b) for b in self._pos_order()}
        self._rules_about: dict[int, tuple[tuple[PolicyRule, ...], dict[str, list[int]], list[int]]] = {}
        self._group_cache: dict[tuple[str, str, str], list[BindingGroup]] = {}
        self._derived: dict[str, dict] = {}
        self._first_rule: dict[tuple, int] = {}  # keys hold id(rules): every rules tuple lives in self.all_roles
        # roles by (namespace or "", verb, resource token) and the ClusterRoles with URL rules
        self._rule_index: dict[tuple[str, str, str], list[Role]] = {}
        self._url_roles: list[Role] = []
        for r in roles:
            if r.kind not in ("Role", "ClusterRole"):
                continue
            ns = r.namespace if r.kind == "Role" else ""
            keys: set[tuple[str, str, str]] = set()
            has_urls = False
            for rule in r.rules:
                if rule.non_resource_urls:
                    has_urls = True
                for v in rule.verbs:
                    for res in rule.resources:
                        keys.add((ns, v, res))
            for k in keys:
                self._rule_index.setdefault(k, []).append(r)
            if has_urls and r.kind == "ClusterRole":
                self._url_roles.append(r)

    def derived_cache(self, name: str) -> dict:
        """A memo other semantics modules keep on this index (answers derived from its roles, e.g. which
        sets of roles amount to a namespace's admin); lives as long as the index."""
        return self._derived.setdefault(name, {})

    # -- role references -------------------------------------------------------------------------
    def role_for(self, binding: Binding) -> Role | None:
        """The role a binding references, resolved as ``GetRoleReferenceRules`` does (§4.2)."""
        role = self._role_of.get(id(binding), _UNKNOWN)
        return self._resolve_role(binding) if role is _UNKNOWN else role  # type: ignore[return-value]

    def _resolve_role(self, binding: Binding) -> Role | None:
        ref = binding.role_ref
        if ref.kind == "ClusterRole":
            return self.cluster_roles.get(ref.name)
        if ref.kind == "Role":
            if binding.kind != "RoleBinding":
                return None
            return self.roles.get((binding.namespace, ref.name))
        return None

    def bindings_for_role(self, role: Role) -> list[Binding]:
        """Every binding that references ``role`` (RoleBindings of a Role only in its namespace)."""
        if role.kind == "ClusterRole":
            out = list(self._crb_by_role.get(role.name, ()))
            for ns, _bindings in self.role_bindings.items():
                out.extend(self._rb_by_role.get((ns, "ClusterRole", role.name), ()))
            return out
        return list(self._rb_by_role.get((role.namespace, "Role", role.name), ()))

    # -- which bindings apply to a user ----------------------------------------------------------
    def _keys(self, user: UserInfo) -> list[tuple[str, str]]:
        return [(_USER, user.username), *((_GROUP, g) for g in user.groups)]

    def bindings_applying(self, user: UserInfo, namespace: str) -> list[tuple[Binding, Subject]]:
        """``VisitRulesFor``'s bindings for this user: every matching CRB, then RoleBindings of ``namespace``.

        Each comes with the first subject that matches (for the reason string).
        """
        keys = self._keys(user)
        out: list[tuple[Binding, Subject]] = []
        for group in (self._candidates(self._crb_by_key, keys),
                      self._candidates_ns(namespace, keys) if namespace else []):
            for b in group:
                i = applies_to(b.subjects, user.username, user.groups, b.namespace if b.kind == "RoleBinding" else "")
                if i >= 0:
                    out.append((b, b.subjects[i]))
        return out

    def bindings_applying_anywhere(self, user: UserInfo) -> list[tuple[Binding, Subject]]:
        """Every binding in any namespace whose subjects match the user (for near misses, --list -A)."""
        keys = self._keys(user)
        out: list[tuple[Binding, Subject]] = []
        for group in (self._candidates(self._crb_by_key, keys), self._candidates(self._rb_by_key_any, keys)):
            for b in group:
                i = applies_to(b.subjects, user.username, user.groups, b.namespace if b.kind == "RoleBinding" else "")
                if i >= 0:
                    out.append((b, b.subjects[i]))
        return out

    def binding_lists(self, user: UserInfo) -> list[list[Binding]]:
        """The index's lists of bindings (any namespace) naming the user or one of its groups: one per
        name, ClusterRoleBindings' first. A subject matches a user exactly when its name is one of the
        user's, so together they hold ``bindings_applying_anywhere``'s bindings. The lists are shared
        (most users have the same groups): callers may memoise answers per list, and must not modify them."""
        return self.binding_lists_of(user.username, user.groups)

    def bindings_naming_user(self, username: str) -> tuple[Sequence[Binding], Sequence[Binding]]:
        """The ClusterRoleBindings and the RoleBindings (any namespace) whose subjects name this user
        (a User, or the ServiceAccount of that username) - not its groups. Shared: do not modify."""
        key = (_USER, username)
        return self._crb_by_key.get(key, ()), self._rb_by_key_any.get(key, ())

    def binding_lists_of(self, username: str | None, groups: Iterable[str]) -> list[list[Binding]]:
        """``binding_lists`` of the user with this name (None: only those naming the groups) and groups."""
        keys = [*(((_USER, username),) if username is not None else ()), *((_GROUP, g) for g in groups)]
        return [lst for index in (self._crb_by_key, self._rb_by_key_any) for k in keys if (lst := index.get(k))]

    def _pos_order(self) -> Iterator[Binding]:
        yield from self.cluster_role_bindings
        for bindings in self.role_bindings.values():
            yield from bindings

    def position(self, binding: Binding) -> int:
        """The binding's place in listing order (ClusterRoleBindings first), for stable evidence order."""
        return self._pos[id(binding)]

    def binding_groups_anywhere(self, user: UserInfo) -> list[BindingGroup]:
        """The bindings naming the user or one of its groups, grouped by their role's rules (None: the
        role is missing), each group in listing order and also by namespace. Lets a query skip whole
        groups at once: a subject bound in thousands of namespaces to the same role is one group.
        Cached per subject key."""
        out: list[BindingGroup] = []
        for k in self._keys(user):
            for tag, index in (("c", self._crb_by_key), ("r", self._rb_by_key_any)):
                ck = (tag, *k)
                groups = self._group_cache.get(ck)
                if groups is None:
                    by_rules: dict[int, BindingGroup] = {}
                    for b in index.get(k, ()):
                        role = self.role_for(b)
                        rules = role.rules if role is not None else None
                        g = by_rules.get(id(rules))
                        if g is None:
                            g = by_rules[id(rules)] = BindingGroup(rules=rules, bindings=[], by_namespace={})
                        g.bindings.append(b)
                        g.by_namespace.setdefault(b.namespace if b.kind == "RoleBinding" else "", []).append(b)
                    groups = self._group_cache[ck] = list(by_rules.values())
                out.extend(groups)
        return out

    def rules_about(self, rules: tuple[PolicyRule, ...], request: Request) -> list[PolicyRule]:
        """The rules (in order) that mention the request's resource, a wildcard resource, or - for a URL
        request - any URL: the only ones a near-miss search needs to look at. Indexed per rules tuple."""
        entry = self._rules_about.get(id(rules))
        if entry is None:
            by_base: dict[str, list[int]] = {}
            urls: list[int] = []
            for i, rule in enumerate(rules):
                for base in {r.partition("/")[0] for r in rule.resources}:
                    by_base.setdefault(base, []).append(i)
                if rule.non_resource_urls:
                    urls.append(i)
            entry = self._rules_about[id(rules)] = (rules, by_base, urls)  # holds rules: the id stays valid
        _, by_base, urls = entry
        if not request.resource_request:
            idx: Iterable[int] = urls
        else:
            named, wild = by_base.get(request.resource, ()), by_base.get("*", ())
            idx = sorted({*named, *wild}) if named and wild else (named or wild)
        return [rules[i] for i in idx]

    def candidate_bindings_anywhere(self, user: UserInfo) -> Iterator[Binding]:
        """Lazily, in listing order: every binding that names the user or one of its groups (CRBs first).

        Cheaper than ``bindings_applying_anywhere`` when the caller stops early or skips most bindings;
        ``applies_to`` gives the matching subject of the ones it keeps.
        """
        keys = self._keys(user)
        pos = self._pos
        for index in (self._crb_by_key, self._rb_by_key_any):
            lists = [lst for k in keys if (lst := index.get(k))]
            it = lists[0] if len(lists) == 1 else heapq.merge(*lists, key=lambda b: pos[id(b)])
            last = None
            for b in it:
                if b is not last:
                    last = b
                    yield b

    def _candidates(self, index: dict, keys: Iterable[tuple[str, str]]) -> list[Binding]:
        seen: dict[int, Binding] = {}
        for k in keys:
            for b in index.get(k, ()):
                seen.setdefault(id(b), b)
        return sorted(seen.values(), key=lambda b: self._pos[id(b)])

    def _candidates_ns(self, namespace: str, keys: Iterable[tuple[str, str]]) -> list[Binding]:
        seen: dict[int, Binding] = {}
        for k in keys:
            for b in self._rb_by_key.get((namespace, *k), ()):
                seen.setdefault(id(b), b)
        return sorted(seen.values(), key=lambda b: self._pos[id(b)])

    # -- decisions -------------------------------------------------------------------------------
    def authorize(self, user: UserInfo, request: Request, *, first_only: bool = False) -> Authorization:
        """The decision of the chain system:masters → RBAC, with every allowing grant as evidence."""
        if SYSTEM_MASTERS in user.groups:
            return Authorization(allowed=True, reason="", authorizer="system:masters")
        grants: list[Grant] = []
        errors: list[str] = []
        reason = ""
        for binding, subject in self.bindings_applying(user, request.namespace if request.resource_request else ""):
            role = self.role_for(binding)
            if role is None:
                errors.append(not_found_error(binding))
                continue
            for i, rule in enumerate(role.rules):
                if rule_allows(rule, request):
                    if not grants:
                        reason = allowed_reason(binding, subject)
                    grants.append(Grant(subject=subject, binding=binding, role=role, rule=rule, rule_index=i))
                    if first_only:
                        return Authorization(allowed=True, reason=reason, authorizer="RBAC", grants=tuple(grants))
        if grants:
            return Authorization(allowed=True, reason=reason, authorizer="RBAC", grants=tuple(grants),
                                 errors=tuple(errors))
        return Authorization(allowed=False, reason=denied_reason(errors), authorizer="", errors=tuple(errors))

    def first_allowing(self, role: Role, request: Request) -> int:
        """Index of the first rule of ``role`` that allows ``request`` (-1: none). Matching does not depend
        on the namespace (the binding decides where a rule applies), so answers are memoised per rules and
        request shape: thousands of subjects bound to the same role ask the same questions."""
        key = (id(role.rules), request.verb, request.api_group, request.resource, request.subresource, request.name,
               request.path, request.resource_request)
        memo = self._first_rule
        hit = memo.get(key)
        if hit is None:
            hit = next((i for i, rule in enumerate(role.rules) if rule_allows(rule, request)), -1)
            memo[key] = hit
        return hit

    def allows(self, user: UserInfo, request: Request) -> bool:
        return self.authorize(user, request, first_only=True).allowed

    # -- rules for a user ------------------------------------------------------------------------
    def rules_for(self, user: UserInfo, namespace: str) -> tuple[list[Grant], list[str]]:
        """Every rule that applies to the user in ``namespace`` ("" = cluster scope only), and errors."""
        grants: list[Grant] = []
        errors: list[str] = []
        for binding, subject in self.bindings_applying(user, namespace):
            role = self.role_for(binding)
            if role is None:
                errors.append(not_found_error(binding))
                continue
            for i, rule in enumerate(role.rules):
                grants.append(Grant(subject=subject, binding=binding, role=role, rule=rule, rule_index=i))
        return grants, errors

    # -- subject locator -------------------------------------------------------------------------
    def _candidate_roles(self, request: Request) -> tuple[set[int], list[Role]]:
        """Roles that might allow the request (ClusterRoles, and Roles of the request's namespace)."""
        if not request.resource_request:
            return {id(r) for r in self._url_roles}, list(self._url_roles)
        tokens = ["*", request.combined_resource]
        if request.subresource:
            tokens.append(f"*/{request.subresource}")
        found: dict[int, Role] = {}
        namespaces = [""] + ([request.namespace] if request.namespace else [])
        for ns in namespaces:
            for v in ("*", request.verb):
                for t in tokens:
                    for r in self._rule_index.get((ns, v, t), ()):
                        found.setdefault(id(r), r)
        return set(found), list(found.values())

    def allowing_rules(self, role: Role, request: Request) -> list[tuple[int, PolicyRule]]:
        return [(i, rule) for i, rule in enumerate(role.rules) if rule_allows(rule, request)]

    def grants_for_request(self, request: Request) -> tuple[list[Grant], list[str]]:
        """Every (binding, subject, rule) that allows the request, in locator order, and role errors.

        One Grant per subject of each binding and per allowing rule of its role.
        """
        _, roles = self._candidate_roles(request)
        rules_by_role: dict[int, list[tuple[int, PolicyRule]]] = {}
        for r in roles:
            allowing = self.allowing_rules(r, request)
            if allowing:
                rules_by_role[id(r)] = allowing
        bindings: list[Binding] = []
        for r in roles:
            if id(r) not in rules_by_role:
                continue
            if r.kind == "ClusterRole":
                bindings.extend(self._crb_by_role.get(r.name, ()))
                if request.resource_request and request.namespace:
                    bindings.extend(self._rb_by_role.get((request.namespace, "ClusterRole", r.name), ()))
            elif request.resource_request and request.namespace and r.namespace == request.namespace:
                bindings.extend(self._rb_by_role.get((request.namespace, "Role", r.name), ()))
        bindings.sort(key=lambda b: self._pos[id(b)])
        grants: list[Grant] = []
        for b in bindings:
            role = self.role_for(b)
            if role is None:
                continue
            for i, rule in rules_by_role[id(role)]:
                for s in b.subjects:
                    grants.append(Grant(subject=s, binding=b, role=role, rule=rule, rule_index=i))
        errors = [not_found_error(b) for b in self.missing_role_bindings(request.namespace if request.resource_request else "")]
        return grants, errors

    def missing_role_bindings(self, namespace: str) -> Iterator[Binding]:
        """Bindings consulted for requests in ``namespace`` whose role does not resolve."""
        for b in self.cluster_role_bindings:
            if self.role_for(b) is None:
                yield b
        if namespace:
            for b in self.role_bindings.get(namespace, ()):
                if self.role_for(b) is None:
                    yield b

    def locate_subjects(self, request: Request) -> tuple[list[LocatedSubject], list[str]]:
        """Kubernetes' subject locator, faithfully: system:masters, super-user, then every subject of
        every allowing binding (CRBs, then RoleBindings of the namespace), duplicates kept."""
        out = [LocatedSubject(subject=Subject(kind="Group", name=SYSTEM_MASTERS, api_group="rbac.authorization.k8s.io"),
                              grant=None)]
        if self.super_user:
            out.append(LocatedSubject(subject=Subject(kind="User", name=self.super_user,
                                                      api_group="rbac.authorization.k8s.io"), grant=None))
        grants, errors = self.grants_for_request(request)
        seen: set[tuple[int, int]] = set()  # one entry per (binding, subject position), not per rule
        for g in grants:
            key = (id(g.binding), id(g.subject))
            if key in seen:
                continue
            seen.add(key)
            out.append(LocatedSubject(subject=g.subject, grant=g))
        return out, errors


    # -- the subject locator over every namespace at once (audits) --------------------------------
    def role_binding_grants(self, request: Request) -> dict[str, list[Grant]]:
        """For a namespaced request shape (its namespace ignored): namespace → the RoleBinding grants that
        would allow it there. ``grants_for_request`` with namespace NS equals the ClusterRoleBinding grants
        plus this map's NS entry; one pass instead of one call per namespace."""
        if not request.resource_request:
            return {}  # RoleBindings never grant non-resource URLs
        by_token = self._roles_by_token()
        tokens = ["*", request.combined_resource] + ([f"*/{request.subresource}"] if request.subresource else [])
        candidates: dict[int, Role] = {}
        for v in ("*", request.verb):
            for t in tokens:
                for r in by_token.get((v, t), ()):
                    candidates.setdefault(id(r), r)
        out: dict[str, list[Grant]] = {}
        for role in candidates.values():
            allowing = self.allowing_rules(role, request)
            if not allowing:
                continue
            if role.kind == "ClusterRole":
                bindings = self._rb_by_cluster_role().get(role.name, [])
            else:
                bindings = self._rb_by_role.get((role.namespace, "Role", role.name), [])
            for b in bindings:
                for i, rule in allowing:
                    for s in b.subjects:
                        out.setdefault(b.namespace, []).append(
                            Grant(subject=s, binding=b, role=role, rule=rule, rule_index=i))
        for grants in out.values():
            grants.sort(key=lambda g: self._pos[id(g.binding)])
        return out

    def _roles_by_token(self) -> dict[tuple[str, str], list[Role]]:
        cached = self.__dict__.get("_by_token")
        if cached is None:
            cached = {}
            for (_ns, verb, token), roles in self._rule_index.items():
                cached.setdefault((verb, token), []).extend(roles)
            self.__dict__["_by_token"] = cached
        return cached

    def _rb_by_cluster_role(self) -> dict[str, list[Binding]]:
        cached = self.__dict__.get("_rb_by_cr")
        if cached is None:
            cached = {}
            for (_ns, kind, name), bindings in self._rb_by_role.items():
                if kind == "ClusterRole":
                    cached.setdefault(name, []).extend(bindings)
            self.__dict__["_rb_by_cr"] = cached
        return cached
