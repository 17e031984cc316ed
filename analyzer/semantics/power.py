"""How much a user's rights amount to: namespace admin, the escalation check's covers per role set, and a cheap
"might allow" filter."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TypeVar

from ..model import PolicyRule, Request, Role, UserInfo
from .authorizer import PolicyIndex
from .covers import RuleCoverage
from .matching import rule_allows
from .subjects import SYSTEM_MASTERS

__all__ = ["is_namespace_admin", "held_rules", "held_rules_of", "per_role_set", "HeldRules", "RuleTokens", "ANY_NAME"]

T = TypeVar("T")

# A name no object can have (':' is invalid in object names): a request for it is allowed only by
# rules without resourceNames, i.e. by rules that allow every name.
ANY_NAME = "rbac-analyzer:any-name"


_EVERYTHING = Request(verb="*", api_group="*", resource="*")


class HeldRules:
    """The rules that apply to a user in one scope, indexed for ``covers``; shared by every user with the
    same set of roles there (see ``held_rules``)."""

    __slots__ = ("rules", "coverage", "_admin", "_holds")

    def __init__(self, rules: Sequence[PolicyRule]) -> None:
        self.rules = tuple(rules)
        self.coverage = RuleCoverage(self.rules)
        self._admin: bool | None = None
        self._holds: dict[int, tuple[Sequence[PolicyRule], bool]] = {}

    def holds(self, servant_rules: Sequence[PolicyRule]) -> bool:
        """The escalation check's ``covers``: every permission of ``servant_rules`` is held here
        (memoised per servant rules object: a role's rules are asked about again and again)."""
        hit = self._holds.get(id(servant_rules))
        if hit is None or hit[0] is not servant_rules:
            hit = self._holds[id(servant_rules)] = (servant_rules, self.coverage.holds(servant_rules))
        return hit[1]

    def amounts_to_admin(self, admin: Role | None) -> bool:
        """``*``/``*``/``*`` (rule matching does not depend on the namespace: bindings decide where rules
        apply), or every permission of the ``admin`` ClusterRole."""
        if self._admin is None:
            self._admin = any(rule_allows(r, _EVERYTHING) for r in self.rules) or (
                admin is not None and bool(admin.rules) and self.holds(admin.rules))
        return self._admin


def held_rules(index: PolicyIndex, user: UserInfo, namespace: str) -> HeldRules:
    """The rules that apply to ``user`` in ``namespace`` ("": through ClusterRoleBindings only).

    They depend only on the set of roles bound there, so they are memoised per set of roles: thousands
    of subjects bound to the same roles, or one role held in every namespace, share one index.
    """
    return held_rules_of(index, (index.role_for(b) for b, _ in index.bindings_applying(user, namespace)))


def held_rules_of(index: PolicyIndex, roles: Iterable[Role | None]) -> HeldRules:
    """``held_rules`` for the roles a caller already resolved (``None`` entries: missing roles)."""
    roles_by_id: dict[int, tuple[PolicyRule, ...]] = {}
    for role in roles:
        if role is not None and role.rules:
            roles_by_id.setdefault(id(role.rules), role.rules)  # rules tuples live as long as the index
    return per_role_set(index, "held_rules", roles_by_id, HeldRules)


def per_role_set(index: PolicyIndex, name: str, rule_sets: Mapping[int, tuple[PolicyRule, ...]],
                 build: Callable[[list[PolicyRule]], T]) -> T:
    """``build(rules)`` over the union of some roles' rules (``id(rules)`` → rules), memoised on the index
    per set of rules tuples under ``name``: what depends only on which roles apply is computed once."""
    memo = index.derived_cache(name)
    key = frozenset(rule_sets)
    found = memo.get(key)
    if found is None:
        found = memo[key] = build([r for rules in rule_sets.values() for r in rules])
    return found


def is_namespace_admin(index: PolicyIndex, user: UserInfo, namespace: str) -> bool:
    """Everything in ``namespace``: ``*``/``*``/``*`` there, or every permission of the ``admin`` ClusterRole
    (memoised per set of roles, see ``held_rules``)."""
    if SYSTEM_MASTERS in user.groups:
        return True
    return held_rules(index, user, namespace).amounts_to_admin(index.cluster_roles.get("admin"))


class RuleTokens:
    """A conservative pre-filter over a set of rules: could any of them allow ``verb`` on ``resource``?

    ``False`` is definite; ``True`` means "ask the index". It only looks at verbs and resources.
    """

    __slots__ = ("verbs_by_resource",)

    def __init__(self, rules: Iterable[PolicyRule]) -> None:
        self.verbs_by_resource: dict[str, set[str]] = {}
        for r in rules:
            for res in r.resources:
                self.verbs_by_resource.setdefault(res, set()).update(r.verbs)

    def may_allow(self, verb: str, resource: str) -> bool:
        table = self.verbs_by_resource
        if not table:
            return False
        for name in ("*", resource):
            verbs = table.get(name)
            if verbs and (verb in verbs or "*" in verbs):
                return True
        slash = resource.find("/")
        if slash >= 0:
            verbs = table.get("*" + resource[slash:])
            if verbs and (verb in verbs or "*" in verbs):
                return True
        return False
