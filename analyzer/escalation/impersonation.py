"""Impersonation techniques (§7.5): become a user, a ServiceAccount, or a group (which needs a user too)."""

from __future__ import annotations

from collections.abc import Iterator

from ..model import Grant, node_id
from ..model.paths import SINK_SYSTEM_MASTERS
from ..semantics import SA_PREFIX, SYSTEM_MASTERS
from .base import ANY_NAME, Perm, Reach, Technique, TechniqueContext, any_sa_hub

__all__ = ["IMPERSONATE_USER", "IMPERSONATE_SA", "IMPERSONATE_GROUP", "TECHNIQUES"]


def _users(ctx: TechniqueContext) -> Iterator[Reach]:
    # users, groups, uids and userextras are cluster-scoped: only ClusterRoleBindings grant them
    if not ctx.may("impersonate", "users"):
        return
    any_user = ctx.grant("impersonate", "users", name=ANY_NAME)
    names = ctx.names(("impersonate",), "users", cluster_only=True) if any_user is None else None
    if names is not None and not names:
        return
    for user in sorted(ctx.world.users if names is None else ctx.world.users & names):
        if user.startswith(SA_PREFIX):  # checked as serviceaccounts, see ESC-IMPERSONATE-SA
            continue
        g = any_user or ctx.grant("impersonate", "users", name=user)
        if g is not None:
            yield Reach(target=node_id("User", user), grant=g)


def _service_accounts(ctx: TechniqueContext) -> Iterator[Reach]:
    # impersonating a ServiceAccount is namespaced: a RoleBinding can grant it
    if not ctx.may("impersonate", "serviceaccounts"):
        return
    g = ctx.grant("impersonate", "serviceaccounts", name=ANY_NAME)
    if g is not None:
        yield Reach(target=any_sa_hub(""), grant=g)
        return
    for ns in ctx.namespaces_beyond(("impersonate",), "serviceaccounts"):
        g = ctx.grant("impersonate", "serviceaccounts", namespace=ns, name=ANY_NAME)
        if g is not None:
            yield Reach(target=any_sa_hub(ns), grant=g)
            continue
        names = ctx.names(("impersonate",), "serviceaccounts")
        if not names:
            continue
        for sa, potential in ctx.world.service_accounts(ns):
            if sa.rpartition("/")[2] not in names:
                continue
            g = ctx.grant("impersonate", "serviceaccounts", namespace=ns, name=sa.rpartition("/")[2])
            if g is not None:
                yield Reach(target=sa, grant=g, potential=potential)


def _some_user(ctx: TechniqueContext) -> Grant | None:
    """Impersonate on some user or ServiceAccount: the API server refuses groups without a user."""
    for reach in _users(ctx):
        return reach.grant
    for reach in _service_accounts(ctx):
        return reach.grant
    return ctx.grant("impersonate", "users", name=ANY_NAME)


def _groups(ctx: TechniqueContext) -> Iterator[Reach]:
    if not ctx.may("impersonate", "groups"):
        return
    user_grant = _some_user(ctx)
    if user_grant is None:
        return
    detail = f"with a user it may impersonate ({user_grant.describe()})"
    groups = ctx.world.groups | {SYSTEM_MASTERS}
    if ctx.grant("impersonate", "groups", name=ANY_NAME) is None:
        # groups are cluster-scoped: only names that ClusterRoleBindings' rules list can still be allowed
        groups &= ctx.names(("impersonate",), "groups", cluster_only=True)
    for group in sorted(groups):
        g = ctx.grant("impersonate", "groups", name=group)
        if g is not None:
            target = SINK_SYSTEM_MASTERS if group == SYSTEM_MASTERS else node_id("Group", group)
            yield Reach(target=target, grant=g, detail=detail)


IMPERSONATE_USER = Technique(
    id="ESC-IMPERSONATE-USER", title="Impersonate a user named in the policy",
    requires=(Perm(verb="impersonate", resource="users"),), yields="that user",
    short_reason="impersonate user", find=_users)

IMPERSONATE_SA = Technique(
    id="ESC-IMPERSONATE-SA", title="Impersonate a ServiceAccount",
    requires=(Perm(verb="impersonate", resource="serviceaccounts"),), yields="that ServiceAccount",
    short_reason="impersonate SA", find=_service_accounts, into_namespace=True)

IMPERSONATE_GROUP = Technique(
    id="ESC-IMPERSONATE-GROUP", title="Impersonate a group (together with a user or ServiceAccount)",
    requires=(Perm(verb="impersonate", resource="groups"), Perm(verb="impersonate", resource="users")),
    yields="membership of that group; system:masters is full control", short_reason="impersonate group",
    find=_groups, resources=frozenset({"serviceaccounts"}))  # the user may be a ServiceAccount

TECHNIQUES = (IMPERSONATE_USER, IMPERSONATE_SA, IMPERSONATE_GROUP)
