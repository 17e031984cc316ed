"""How much a user's rights amount to: admin equivalence, namespace admin, and a cheap "might allow" filter."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ..model import PolicyRule, Request, UserInfo
from .authorizer import PolicyIndex
from .covers import breakdown_rule, rule_covers
from .subjects import SYSTEM_MASTERS

__all__ = ["is_admin_equivalent", "is_namespace_admin", "holds_all", "RuleTokens", "ANY_NAME"]

# A name no object can have (':' is invalid in object names): a request for it is allowed only by
# rules without resourceNames, i.e. by rules that allow every name.
ANY_NAME = "rbac-analyzer:any-name"


def _everything(namespace: str) -> Request:
    return Request(verb="*", api_group="*", resource="*", namespace=namespace)


def is_admin_equivalent(index: PolicyIndex, user: UserInfo) -> bool:
    """Rights that amount to everything cluster-wide: ``system:masters``, or ``*`` verbs on ``*`` resources
    in ``*`` groups through a ClusterRoleBinding (what the ``cluster-admin`` role grants; covering it
    needs exactly that, since a requested ``*`` is only covered by an owner ``*``)."""
    if SYSTEM_MASTERS in user.groups:
        return True
    return index.allows(user, _everything(""))


def is_namespace_admin(index: PolicyIndex, user: UserInfo, namespace: str) -> bool:
    """Everything in ``namespace``: ``*``/``*``/``*`` there, or every permission of the ``admin`` ClusterRole."""
    if is_admin_equivalent(index, user) or index.allows(user, _everything(namespace)):
        return True
    admin = index.cluster_roles.get("admin")
    if admin is None or not admin.rules:
        return False
    # A cheap necessary condition before the costly covers check: one permission the admin role holds.
    for rule in admin.rules:
        if rule.resources and rule.verbs and rule.api_groups and not rule.resource_names:
            probe = Request(verb=rule.verbs[0], api_group=rule.api_groups[0], resource=rule.resources[0].partition("/")[0],
                            subresource=rule.resources[0].partition("/")[2], namespace=namespace)
            if "*" not in (probe.verb, probe.api_group, probe.resource) and not index.allows(user, probe):
                return False
            break
    grants, _ = index.rules_for(user, namespace)
    return holds_all([g.rule for g in grants], admin.rules)


def holds_all(owner_rules: Sequence[PolicyRule], servant_rules: Sequence[PolicyRule]) -> bool:
    """``covers(...)[0]``, stopping at the first uncovered piece."""
    return all(any(rule_covers(o, piece) for o in owner_rules)
               for servant in servant_rules for piece in breakdown_rule(servant))


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
