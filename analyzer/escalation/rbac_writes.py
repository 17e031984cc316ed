"""Writing RBAC objects (§9): bind a role to yourself, or write roles with ``escalate``."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import TypeVar

from ..model import RBAC_GROUP, Binding, Grant, Role
from ..model.paths import SCOPE_ALL_NAMESPACES, SCOPE_CLUSTER, namespace_set_scope
from .base import ANY_NAME, Perm, Reach, Technique, TechniqueContext, scope_sink

__all__ = ["BIND", "ESCALATE", "TECHNIQUES", "held_role_id"]


def held_role_id(role: Role, scope: str) -> str:
    """Node id of ``role`` held through a binding in ``scope`` (a namespace, or SCOPE_CLUSTER / _ALL_NAMESPACES)."""
    return f"{role.id}@{scope}"


def _res(role: Role) -> str:
    return "clusterroles" if role.kind == "ClusterRole" else "roles"


def _bind_grant(ctx: TechniqueContext, role: Role, binding_namespace: str):
    # BindingAuthorized: bind on the referenced role, namespace = the binding's namespace ("" for a CRB).
    # Already covering the role's permissions also passes, but then the binding gains nothing new.
    return ctx.grant("bind", _res(role), api_group=RBAC_GROUP, namespace=binding_namespace, name=role.name)


class _Binder:
    """Which roles one actor may bind in one scope, and which of them would give it something new."""

    def __init__(self, ctx: TechniqueContext, binding_namespace: str, held_in: str) -> None:
        self.ctx = ctx
        self.namespace = binding_namespace
        self.held_in = held_in  # where the actor's own rules are compared with the role's
        self._any: dict[str, Grant | None] = {}

    def grant(self, role: Role, write: Grant) -> tuple[Grant, str] | None:
        """What lets the actor bind ``role`` with the binding write ``write``: (the ``bind`` grant, "");
        or, without ``bind``, (``write``, why) when it already holds every permission of the role
        (the API server allows that binding too) and binding it still gains something; None when
        refused or when it would add nothing."""
        if not role.rules:
            return None
        res = _res(role)
        if not self.ctx.may_name(res) or role.name not in self.ctx.names(("bind",), res):
            # no rule names this role: the grant for any name is the grant for it (same rules allow both)
            if res not in self._any:
                self._any[res] = self.ctx.grant("bind", res, api_group=RBAC_GROUP, namespace=self.namespace,
                                                name=ANY_NAME)
            g = self._any[res]
        else:
            g = _bind_grant(self.ctx, role, self.namespace)
        if g is not None:
            return None if _gains_nothing(self.ctx, role, self.held_in) else (g, "")
        if self.ctx.world.rewrites(role) and _holds(self.ctx, role, self.held_in) and \
                not self.ctx.actor.holds_every_resource(self.held_in):
            return write, "no bind needed: it already holds every permission of the role"
        return None


def _holds(ctx: TechniqueContext, role: Role, namespace: str) -> bool:
    return ctx.actor.holds(ctx.world.binding_rules(role, namespace), namespace)


def _gains_nothing(ctx: TechniqueContext, role: Role, namespace: str) -> bool:
    """Does the actor already hold everything a binding of ``role`` in ``namespace`` ("": a
    ClusterRoleBinding) would give?

    A role that may grant ``escalate`` on roles always gives something: once bound to you, you may
    rewrite it (``_escalate``), which holding its rules through another role does not allow (unless
    ``*`` on everything there already allows anything)."""
    if not _holds(ctx, role, namespace):
        return False
    return not ctx.world.rewrites(role) or ctx.actor.holds_every_resource(namespace)


_Found = tuple[Grant, str]  # what lets it bind a role (_Binder.grant)
# ClusterRoles bindable through RoleBindings: role id → the role, and per namespace what lets it bind it
_PerNamespace = dict[str, tuple[Role, list[tuple[str, _Found, str]]]]
T = TypeVar("T")
# a ClusterRole bindable in this many namespaces (or more) is one node, held in all of them
_ONE_NODE_FROM = 4


def _reach(role: Role, scope: str, found: _Found, detail: str) -> Reach:
    grant, why = found
    return Reach(target=held_role_id(role, scope), grant=grant, detail=f"{detail}; {why}" if why else detail)


def _widest(ctx: TechniqueContext, found: list[tuple[Role, T]], namespace: str,
            wider: Sequence[Role] = (), *, cluster: bool = False) -> list[tuple[Role, T]]:
    """Of the roles an actor may bind in one scope, those no other one there (nor one of ``wider``)
    includes: binding a role whose every permission another bindable role gives leads nowhere that the
    wider one does not, as soon (its held node would only repeat the wider one's steps).

    Roles that may be rewritten once bound are kept (rewriting the role bound to you is their own step)
    unless a role with ``*`` on everything includes them. Among roles with the same permissions
    ``cluster-admin``, else the first, is kept; ``cluster-admin``-like roles come first, so with one of them bindable in a namespace it is
    usually the only node there. ``cluster``: ClusterRoleBindings, where such a role's node ends the
    search (cluster-admin): there it includes no other role, whose steps to identities still make the
    blast radius."""
    world = ctx.world
    if not world.bind_widest_only:
        return found
    # the answer depends only on the roles and on the kind of scope: asked again in every namespace
    key = (bool(namespace), cluster, tuple(id(r.rules) for r, _ in found), tuple(id(r.rules) for r in wider))
    kept = world.widest_memo.get(key)
    if kept is None:
        everything = world.grants_everything
        # the widest first; of equals, the one people know (cluster-admin), then the first
        order = sorted(range(len(found)), key=lambda i: (not everything(found[i][0]), found[i][0].name != "cluster-admin",
                                                         -len(found[i][0].rules), i))
        kept_roles: list[Role] = list(wider)
        chosen: set[int] = set()
        for i in order:
            role = found[i][0]
            # a rewritable role is included only by one holding everything there (it holds the scope itself)
            if not any(world.includes(w, role, namespace) and (everything(w) or not world.rewrites(role))
                       for w in kept_roles if not (cluster and everything(w))):
                chosen.add(i)
                kept_roles.append(role)
        kept = world.widest_memo[key] = tuple(sorted(chosen))
    return [found[i] for i in kept]


def _create(ctx: TechniqueContext, wider: dict[str, list[Role]], rewritable_only: bool = False) -> Iterator[Reach]:
    """Create a binding of a role to yourself. ``wider`` gets the roles it may so hold per namespace
    ("": in every one), which makes binding the roles they include through ``_update`` pointless."""
    index = ctx.world.index
    cluster_roles: Iterable[Role]
    cluster_roles, roles_by_ns = ctx.world.rewritable_roles if rewritable_only else \
        (index.cluster_roles.values(), ctx.world.roles_by_ns)
    if ctx.may("create", "clusterrolebindings"):
        cg = ctx.grant("create", "clusterrolebindings", api_group=RBAC_GROUP)
        if cg is not None:
            binder = _Binder(ctx, "", "")
            found = [(role, f) for role in cluster_roles if (f := binder.grant(role, cg))]
            for role, f in _widest(ctx, found, "", cluster=True):
                yield _reach(role, SCOPE_CLUSTER, f, f"create a ClusterRoleBinding ({cg.describe()})")
    if not ctx.may("create", "rolebindings"):
        return
    # ClusterRoles bindable through RoleBindings, per namespace: one held node per (role, namespace) would
    # multiply every ClusterRole by every namespace (an actor holding RoleBinding writes in all of them)
    per_namespace: _PerNamespace = {}
    everywhere: list[Role] = []  # ClusterRoles it may hold in every namespace (scope "")
    all_set: set[str] = set()  # namespaces where it already holds everything: nothing to bind there
    # the widest bindable ClusterRoles per set of its rules in a namespace (namespaces where it holds the
    # same roles decide the same): each namespace then asks only about those
    widest_for: dict[int, list[Role]] = {}
    for scope in ctx.scopes():
        cg = ctx.grant("create", "rolebindings", api_group=RBAC_GROUP, namespace=scope)
        if cg is None:
            continue
        if scope and ctx.actor.holds_every_resource(scope):
            all_set.add(scope)
            continue  # a RoleBinding there can give it nothing new
        detail = f"create a RoleBinding ({cg.describe()})"
        binder = _Binder(ctx, scope, scope)
        if not scope:
            # RoleBindings in every namespace (bind must then hold cluster-wide as well)
            found = _widest(ctx, [(role, f) for role in cluster_roles if (f := binder.grant(role, cg))], "")
            for role, f in found:
                everywhere.append(role)
                wider.setdefault("", []).append(role)
                yield _reach(role, SCOPE_ALL_NAMESPACES, f, detail)
            if _everything_in(ctx, wider, ""):
                continue  # it may hold `*` on everything in every namespace: no Role there adds anything
            roles = [r for rs in roles_by_ns.values() for r in rs] if rewritable_only else index.roles.values()
            binders: dict[str, _Binder] = {}
            for role in roles:
                ns = role.namespace
                if not _widest(ctx, [(role, None)], ns, everywhere):
                    continue  # a ClusterRole it may bind in every namespace includes it
                binder = binders.get(ns) or binders.setdefault(ns, _Binder(ctx, ns, ns))
                if f := binder.grant(role, cg):
                    yield _reach(role, ns, f, detail)
            continue
        key = id(ctx.actor.held_rules(scope))
        widest = widest_for.get(key)
        if widest is None:
            found = _widest(ctx, [(role, f) for role in cluster_roles if (f := binder.grant(role, cg))], scope,
                            everywhere)
            widest_for[key] = [role for role, _ in found]
        else:
            found = [(role, f) for role in widest if (f := binder.grant(role, cg))]
        for role, f in found:
            if all(role is not r for r in everywhere):  # else it may hold it in every namespace already, as soon
                per_namespace.setdefault(role.id, (role, []))[1].append((scope, f, detail))
        wider.setdefault(scope, []).extend(role for role, _ in found)
        if _everything_in(ctx, wider, scope):
            continue  # `*` on everything there includes every Role of the namespace (``_widest``)
        local = [(role, f) for role in roles_by_ns.get(scope, ()) if (f := binder.grant(role, cg))]
        for role, f in _widest(ctx, local, scope, [*everywhere, *(role for role, _ in found)]):
            wider[scope].append(role)
            yield _reach(role, scope, f, detail)
    yield from _one_node_per_role(ctx, per_namespace, all_set)


def _one_node_per_role(ctx: TechniqueContext, per_namespace: _PerNamespace, all_set: set[str]) -> Iterator[Reach]:
    """Reaches for ClusterRoles held through RoleBindings: from ``_ONE_NODE_FROM`` namespaces on, one node
    for the role held in all of them (RoleBinding by RoleBinding), as per namespace thousands of nodes
    would each repeat the same steps in their own namespace. ``all_set``: namespaces where it holds
    everything (binding there is moot)."""
    world = ctx.world
    for role, found_in in per_namespace.values():
        if not world.bind_widest_only or len(found_in) < _ONE_NODE_FROM:
            for ns, f, detail in found_in:
                yield _reach(role, ns, f, detail)
            continue
        namespaces = [ns for ns, _, _ in found_in]
        if all_set.union(namespaces).issuperset(world.namespaces):
            scope = SCOPE_ALL_NAMESPACES
        else:
            scope = namespace_set_scope(namespaces)
            world.held_scopes[scope] = tuple(sorted(namespaces))
        _, f, detail = found_in[0]
        yield _reach(role, scope, f, f"{detail}, and the same in each of the {len(found_in)} namespaces")


def _update(ctx: TechniqueContext, wider: dict[str, list[Role]], rewritable_only: bool = False) -> Iterator[Reach]:
    """Add yourself to an existing binding: its roleRef cannot change, so you get that binding's role
    (only roles that neither another such role nor one of ``wider`` includes, see ``_create``)."""
    index = ctx.world.index
    verbs = ("update", "patch")
    # (binding, its update grant) for every binding the actor may update: "any name" grants cover every
    # binding of their scope; beyond them only names that rules with resourceNames list can be allowed
    found: list[tuple[Binding, Grant]] = []
    if ctx.may("update", "clusterrolebindings") or ctx.may("patch", "clusterrolebindings"):
        found.extend(_updatable(ctx, "clusterrolebindings", "", index.cluster_role_bindings))
    if ctx.may("update", "rolebindings") or ctx.may("patch", "rolebindings"):
        if ctx.any_grant(verbs, "rolebindings", api_group=RBAC_GROUP, name=ANY_NAME) is not None:
            namespaces = ctx.namespaces_where(verbs, "rolebindings")  # ClusterRoleBindings allow it everywhere
        else:
            namespaces = ctx.namespaces_beyond(verbs, "rolebindings")
        for ns in namespaces:
            # holding `*` there, or able to bind a role with it, no other binding there gives it anything
            if not ctx.actor.holds_every_resource(ns) and not _everything_in(ctx, wider, ns):
                found.extend(_updatable(ctx, "rolebindings", ns, index.role_bindings.get(ns, ())))
    binders: dict[str, _Binder] = {}  # one per scope: the bind grant for any name is asked once there
    by_scope: dict[str, list[tuple[Role, tuple[_Found, str]]]] = {}
    for b, ug in found:
        role = index.role_for(b)
        if role is None or not role.rules or (rewritable_only and not ctx.world.rewrites(role)):
            continue
        ns = b.namespace if b.kind == "RoleBinding" else ""
        if ns and (held := _wider_in(wider, ns)) and not _widest(ctx, [(role, None)], ns, held):
            continue  # a role it may bind there anyway includes this one
        binder = binders.get(ns)
        if binder is None:
            binder = binders[ns] = _Binder(ctx, ns, ns)
        if bound := binder.grant(role, ug):
            detail = f"update {b.kind} {b.namespace + '/' if b.namespace else ''}{b.name} ({ug.describe()})"
            by_scope.setdefault(ns, []).append((role, (bound, detail)))
    per_namespace: _PerNamespace = {}
    for ns, candidates in by_scope.items():
        if not ns:
            for role, (bound, detail) in _widest(ctx, candidates, "", cluster=True):
                yield _reach(role, SCOPE_CLUSTER, bound, detail)
            continue
        for role, (bound, detail) in _widest(ctx, candidates, ns, _wider_in(wider, ns)):
            if role.kind == "ClusterRole":
                per_namespace.setdefault(role.id, (role, []))[1].append((ns, bound, detail))
            else:
                yield _reach(role, ns, bound, detail)
    yield from _one_node_per_role(ctx, per_namespace, set())


def _wider_in(wider: dict[str, list[Role]], namespace: str) -> list[Role]:
    """The roles ``_create`` found it may hold in ``namespace`` (there, or in every namespace)."""
    return [*wider.get("", ()), *wider.get(namespace, ())]


def _everything_in(ctx: TechniqueContext, wider: dict[str, list[Role]], namespace: str) -> bool:
    """May it bind itself a role with ``*`` on everything in ``namespace`` (``_create``)? Then that role
    includes every other one there (``_widest`` keeps none of them), unless every role is kept."""
    world = ctx.world
    return world.bind_widest_only and any(world.grants_everything(r) for r in _wider_in(wider, namespace))


def _updatable(ctx: TechniqueContext, res: str, namespace: str,
               bindings: Sequence[Binding]) -> Iterator[tuple[Binding, Grant]]:
    verbs = ("update", "patch")
    any_name = ctx.any_grant(verbs, res, api_group=RBAC_GROUP, namespace=namespace, name=ANY_NAME)
    names = ctx.names(verbs, res) if ctx.may_name(res) else frozenset()
    if any_name is None and not names:
        return
    for b in bindings:
        # a name no rule with resourceNames lists is allowed exactly when every name is, by the same rule
        ug = ctx.any_grant(verbs, res, api_group=RBAC_GROUP, namespace=namespace, name=b.name) \
            if b.name in names else any_name
        if ug is not None:
            yield b, ug


def _bind(ctx: TechniqueContext) -> Iterator[Reach]:
    if ctx.may("bind", "roles") or ctx.may("bind", "clusterroles"):
        wider: dict[str, list[Role]] = {}
        yield from _create(ctx, wider)
        yield from _update(ctx, wider)
        return
    # without bind, only roles whose permissions it already holds can be bound; that gains something only
    # when the role may then be rewritten (see _gains_nothing), so it must hold escalate on roles itself
    if not (ctx.may("escalate", "roles") or ctx.may("escalate", "clusterroles")):
        return
    cluster_roles, roles_by_ns = ctx.world.rewritable_roles
    if cluster_roles or roles_by_ns:
        wider = {}
        yield from _create(ctx, wider, rewritable_only=True)
        yield from _update(ctx, wider, rewritable_only=True)


def _escalate(ctx: TechniqueContext) -> Iterator[Reach]:
    if not (ctx.may("escalate", "roles") or ctx.may("escalate", "clusterroles")):
        return
    actor = ctx.actor
    # (a) rewrite a role already bound to you: its new rules apply where it is bound
    for b, _ in actor.applying:
        role = actor.index.role_for(b)
        if role is None:
            continue
        ns = role.namespace if role.kind == "Role" else ""
        eg = ctx.grant("escalate", _res(role), api_group=RBAC_GROUP, namespace=ns, name=role.name)
        if eg is None:
            continue
        ug = ctx.any_grant(("update", "patch"), _res(role), api_group=RBAC_GROUP, namespace=ns, name=role.name)
        if ug is not None:
            scope = b.namespace if b.kind == "RoleBinding" else ""
            yield Reach(target=scope_sink(scope), grant=eg,
                        detail=f"add any rule to {role.kind} {role.name}, bound to it by {b.kind} {b.name}")
    # (b) create a role with any rules and bind it to yourself (bind on any name)
    for scope in ctx.scopes():
        kind, res, bres = ("ClusterRole", "clusterroles", "clusterrolebindings") if not scope else \
            ("Role", "roles", "rolebindings")
        eg = ctx.grant("escalate", res, api_group=RBAC_GROUP, namespace=scope, name=ANY_NAME)
        if eg is None:
            continue
        cg = ctx.grant("create", res, api_group=RBAC_GROUP, namespace=scope)
        wg = ctx.grant("create", bres, api_group=RBAC_GROUP, namespace=scope)
        bg = ctx.grant("bind", res, api_group=RBAC_GROUP, namespace=scope, name=ANY_NAME)
        if cg is not None and wg is not None and bg is not None:
            yield Reach(target=scope_sink(scope), grant=eg, detail=f"create a {kind} with any rules and bind it")


BIND = Technique(
    id="ESC-BIND", title="Bind a role to yourself (write a (Cluster)RoleBinding with bind on the role)",
    requires=(Perm(verb="create", resource="rolebindings", api_group=RBAC_GROUP),
              Perm(verb="bind", resource="clusterroles", api_group=RBAC_GROUP)),
    yields="that role, in the binding's scope", short_reason="bind role", find=_bind,
    resources=frozenset({"roles", "clusterrolebindings"}))

ESCALATE = Technique(
    id="ESC-ESCALATE", title="Write roles with escalate: any permission in that scope",
    requires=(Perm(verb="escalate", resource="clusterroles", api_group=RBAC_GROUP),
              Perm(verb="update", resource="clusterroles", api_group=RBAC_GROUP)),
    yields="anything in the scope (cluster-admin or namespace admin)", short_reason="escalate role",
    find=_escalate, resources=frozenset({"roles", "rolebindings", "clusterrolebindings"}))

TECHNIQUES = (BIND, ESCALATE)
