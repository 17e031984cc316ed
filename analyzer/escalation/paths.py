"""Escalation edges (identity → identity / held role / sink) and path search over them with networkx.

Edges are computed lazily per node and cached per set of applying bindings, so identities that share
their bindings (most ServiceAccounts) are evaluated once. "Any ServiceAccount of a namespace" is a hub
node, so a cluster-wide ``create pods`` is a handful of edges instead of one per ServiceAccount; hubs
are collapsed out of the reported steps.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Container, Sequence
from dataclasses import replace
from functools import cached_property

import networkx as nx

from ..model import (
    Binding,
    Grant,
    Inventory,
    PolicyRule,
    Request,
    Role,
    RoleRef,
    Subject,
    UserInfo,
    node_id,
    parse_subject_id,
)
from ..model.paths import (
    CLUSTER_SINKS,
    NAMESPACE_ADMIN_PREFIX,
    SCOPE_ALL_NAMESPACES,
    SCOPE_CLUSTER,
    SINK_CLUSTER_ADMIN,
    SINK_KUBE_SYSTEM_SECRETS,
    SINK_SYSTEM_MASTERS,
    BlastRadius,
    EscalationPath,
    EscalationStep,
    is_sink,
    namespace_admin_sink,
)
from ..runtime import gc_paused
from ..semantics import SYSTEM_MASTERS, PolicyIndex, subject_as_user
from ..semantics.power import ANY_NAME, RuleTokens
from ..semantics.subjects import AUTHENTICATED, make_sa_username, sa_groups
from ..workloads import Workload
from .base import HUB_PREFIX, Actor, Technique, TechniqueContext, World

__all__ = ["EscalationGraph", "HOLDS", "is_system_subject", "DEFAULT_MAX_DEPTH"]

logger = logging.getLogger(__name__)

HOLDS = "HOLDS"  # not a technique: the identity's own rights already amount to the sink
_HUB = "HUB"
_PROBE_USER = "rbac-analyzer:holder"
_IDENTITY_KINDS = ("User:", "Group:", "ServiceAccount:")
DEFAULT_MAX_DEPTH = 6
# Extra weight of an edge whose every step is potential: far below one hop even summed over a whole path,
# so Dijkstra finds the fewest hops first and, among those, the fewest potential steps.
_POTENTIAL = 1e-4
_SYSTEM_NAMESPACES = ("kube-system", "kube-public", "kube-node-lease")
_NOTHING: frozenset[str] = frozenset()
# a part of EscalationGraph._beyond: (resources of the rules some technique may use beyond the dominating
# identity's, has a role that may allow escalate on roles, has a binding the dominating identity lacks);
# None: cannot be dominated
_Part = tuple[frozenset[str], bool, bool] | None


def _is_hub(node: str) -> bool:
    return node.startswith(HUB_PREFIX)


def _is_identity(node: str) -> bool:
    # held-role nodes look like "ClusterRole:edit@dev"; user names may contain "@" (e-mail addresses)
    return node.startswith(_IDENTITY_KINDS)


def is_system_subject(node: str, custom_bound: set[str] | frozenset[str] = frozenset()) -> bool:
    """System identities: ``system:`` users and groups; ServiceAccounts of kube-* namespaces unless a
    binding that is not a bootstrap (``kubernetes.io/bootstrapping``) one names them (``custom_bound``)."""
    kind, _, rest = node.partition(":")
    if kind in ("User", "Group"):
        return rest.startswith("system:")
    if kind != "ServiceAccount":
        return False
    return rest.partition("/")[0] in _SYSTEM_NAMESPACES and node not in custom_bound


class EscalationGraph:
    """The escalation graph of one policy; edges computed on demand. Read-only once built."""

    def __init__(self, inventory: Inventory, index: PolicyIndex, workloads: Sequence[Workload],
                 techniques: Sequence[Technique]) -> None:
        self.inventory = inventory
        self.index = index
        self.techniques = tuple(techniques)
        self.world = World(inventory, index, workloads)
        self._succ: dict[str, list[EscalationStep]] = {}
        self._by_key: dict[tuple, list[EscalationStep]] = {}
        self._probes: dict[str, Actor | None] = {}
        self._full: nx.DiGraph | None = None
        # one subject's searches skip identities the source (or their parent) dominates; False compares
        # every identity (the tests check both give the same paths and blast radii)
        self.prune_dominated = True

    # -- who acts ----------------------------------------------------------------------------------
    @cached_property
    def custom_bound(self) -> frozenset[str]:
        """ServiceAccounts named by a binding that is not a Kubernetes bootstrap one."""
        out: set[str] = set()
        for b in self.inventory.bindings:
            if b.is_bootstrap:
                continue
            for s in b.subjects:
                ns = s.namespace or (b.namespace if b.kind == "RoleBinding" else "")
                if s.kind == "ServiceAccount" and ns:
                    out.add(node_id("ServiceAccount", s.name, ns))
        return frozenset(out)

    def subjects(self) -> list[str]:
        """Every identity of the inputs: binding subjects and defined ServiceAccounts (sorted)."""
        return list(self._subjects)

    @cached_property
    def _subjects(self) -> tuple[str, ...]:
        out: set[str] = {sa.id for sa in self.inventory.service_accounts}
        for b in self.inventory.bindings:
            for s in b.subjects:
                if s.kind in ("User", "Group"):
                    out.add(node_id(s.kind, s.name))
                elif s.kind == "ServiceAccount":
                    ns = s.namespace or (b.namespace if b.kind == "RoleBinding" else "")
                    if ns:
                        out.add(node_id("ServiceAccount", s.name, ns))
        return tuple(sorted(out))

    def actor_for(self, node: str, user: UserInfo | None = None) -> Actor | None:
        if user is None and not _is_identity(node):
            return self._held_role(node)
        if user is None:
            user = subject_as_user(parse_subject_id(node))
        actor = Actor(node=node, index=self.index, user=user)
        actor.namespaces = tuple(sorted(actor.rolebinding_namespaces))
        return actor

    def _held_role(self, node: str) -> Actor | None:
        """A role held through a binding written in a previous step: a small index with only that binding."""
        if node in self._probes:
            return self._probes[node]
        actor = None
        ref, _, scope = node.rpartition("@")
        kind, _, rest = ref.partition(":")
        role = None
        if kind == "ClusterRole":
            role = self.index.cluster_roles.get(rest)
        elif kind == "Role":
            ns, _, name = rest.partition("/")
            role = self.index.roles.get((ns, name))
        if role is not None and scope:
            role = replace(role, aggregation_rule=None)  # its effective rules are already aggregated
            subject = (Subject(kind="User", name=_PROBE_USER),)
            rref = RoleRef(kind=role.kind, name=role.name)
            if scope == SCOPE_CLUSTER:
                bindings = [Binding(kind="ClusterRoleBinding", name="(written)", role_ref=rref, subjects=subject)]
                namespaces: tuple[str, ...] = ()
            else:
                namespaces = tuple(self.world.namespaces) if scope == SCOPE_ALL_NAMESPACES else \
                    self.world.held_scopes.get(scope, (scope,))
                bindings = [Binding(kind="RoleBinding", name="(written)", namespace=ns, role_ref=rref,
                                    subjects=subject) for ns in namespaces]
            probe = PolicyIndex(Inventory(roles=[role], bindings=bindings))
            actor = Actor(node=node, index=probe, user=UserInfo(username=_PROBE_USER), namespaces=namespaces)
        self._probes[node] = actor
        return actor

    # -- edges -------------------------------------------------------------------------------------
    def successors(self, node: str, actor: Actor | None = None) -> list[EscalationStep]:
        """The steps out of ``node`` (cached); ``actor``: its Actor when the caller already has it."""
        cached = self._succ.get(node)
        if cached is not None:
            return cached
        if _is_hub(node):
            kind, _, ns = node[len(HUB_PREFIX):].partition(":")
            out = [EscalationStep(technique=_HUB, source=node, target=t, potential=potential)
                   for t, potential in self.world.hub_targets(kind, ns)]
        elif is_sink(node):
            out = []
        else:
            actor = actor or self.actor_for(node)
            out = self.steps_of(actor) if actor is not None else []
        self._succ[node] = out
        return out

    def has_steps(self, node: str) -> bool:
        """Are ``node``'s steps computed already (``successors`` costs nothing)?"""
        return node in self._succ

    def steps_adding(self, actor: Actor, only: frozenset[str] | None,
                     namespaces: frozenset[str] | None = None) -> list[EscalationStep]:
        """Its steps, or (``only``) at least those of the techniques asking about these resources, and
        (``namespaces``) at least those into these namespaces or cluster-wide: all of them when already
        cached for its bindings, else just those (not cached: not all its steps)."""
        if (only is None and namespaces is None) or self._key(actor) in self._by_key:
            return self.successors(actor.node, actor)
        return [st for st in self._evaluate(actor, only, namespaces) if st.target != actor.node]

    def _key(self, actor: Actor) -> tuple:
        return (id(actor.index), tuple(sorted(id(b) for b, _ in actor.applying)), SYSTEM_MASTERS in actor.user.groups,
                actor.node if actor.index is not self.index else "")

    def steps_of(self, actor: Actor) -> list[EscalationStep]:
        """Every step an actor can take, cached per set of bindings that apply to it."""
        key = self._key(actor)
        steps = self._by_key.get(key)
        if steps is None:
            steps = self._evaluate(actor)  # its steps start at actor.node
            self._by_key[key] = steps
        elif steps and steps[0].source != actor.node:
            steps = [replace(s, source=actor.node) for s in steps]  # another identity with the same bindings
        return [s for s in steps if s.target != actor.node]

    def _holds(self, actor: Actor, sink: str, grant: Grant | None) -> EscalationStep:
        return EscalationStep(technique=HOLDS, source=actor.node, target=sink, reason="holds", grant=grant)

    def _evaluate(self, actor: Actor, only: frozenset[str] | None = None,
                  namespaces: frozenset[str] | None = None, live: Container[str] | None = None) -> list[EscalationStep]:
        """Its steps; ``only``: just the techniques asking about one of these resources (and what it holds);
        ``namespaces``: just the steps into these namespaces or cluster-wide, and of the sinks it holds
        only cluster-admin and system:masters (a search for holders of those, ``explore``); ``live``: the
        techniques that only lead into a namespace's ServiceAccounts (``Technique.into_namespace``) look
        only at these namespaces (the others' ServiceAccounts are dominated, ``_Pruner.live_namespaces``)."""
        if SYSTEM_MASTERS in actor.user.groups:
            return [self._holds(actor, SINK_SYSTEM_MASTERS, None)]
        # rights that amount to everything cluster-wide (``*`` on everything through a ClusterRoleBinding): the end
        # (with ``only``, a rule that may allow it is among those asked about, or the other identity holds it too)
        everything = actor.grant(Request(verb="*", api_group="*", resource="*")) \
            if only is None or "*" in only else None
        if everything is not None:
            return [self._holds(actor, SINK_CLUSTER_ADMIN, everything)]
        out: list[EscalationStep] = []
        ctx = TechniqueContext(actor=actor, world=self.world, only_namespaces=namespaces)
        if namespaces is not None:
            return self._technique_steps(ctx, only, out)
        into = TechniqueContext(actor=actor, world=self.world, only_namespaces=live) if live is not None else ctx
        for verb, name in (("get", ANY_NAME), ("list", "")) if only is None or not only.isdisjoint(("*", "secrets")) \
                else ():
            g = actor.grant(Request(verb=verb, resource="secrets", namespace="kube-system", name=name))
            if g is not None:
                out.append(self._holds(actor, SINK_KUBE_SYSTEM_SECRETS, g))
                break
        maybe = set(actor.namespaces_that_may(("*",), "*")).union(actor.namespaces_that_may(("create",), "rolebindings"))
        for ns in actor.namespaces:
            if ns in maybe and actor.is_namespace_admin(ns):
                g = actor.grant(Request(verb="*", api_group="*", resource="*", namespace=ns)) or actor.grant(
                    Request(verb="create", resource="rolebindings", api_group="rbac.authorization.k8s.io", namespace=ns))
                out.append(self._holds(actor, namespace_admin_sink(ns), g))
        return self._technique_steps(ctx, only, out, into)

    def _technique_steps(self, ctx: TechniqueContext, only: frozenset[str] | None,
                         out: list[EscalationStep], into: TechniqueContext | None = None) -> list[EscalationStep]:
        """``out`` and the steps the techniques find for ``ctx`` (``only``: see ``_evaluate``; ``into``:
        the context of the techniques that only lead into a namespace's ServiceAccounts)."""
        actor = ctx.actor
        seen: set[tuple[str, str]] = set()
        for t in self.techniques:
            if not actor.may_touch(t.touches) or (only is not None and not _asks_about(t.touches, only)):
                continue
            for reach in t.find(into if into is not None and t.into_namespace else ctx):
                if (t.id, reach.target) in seen:
                    continue
                seen.add((t.id, reach.target))
                out.append(EscalationStep(technique=t.id, source=actor.node, target=reach.target,
                                          potential=reach.potential or t.potential, reason=t.short_reason,
                                          grant=reach.grant, detail=reach.detail))
        return out

    # -- graphs ------------------------------------------------------------------------------------
    def _add(self, g: nx.DiGraph, step: EscalationStep) -> None:
        # weight: one per hop (hubs are free), plus a little when every way along the edge is potential,
        # so that of two equally short paths the certain one is found
        data = g.get_edge_data(step.source, step.target)
        if data is None:
            hop = 0 if _is_hub(step.source) else 1
            g.add_edge(step.source, step.target, hops=hop, weight=hop + (_POTENTIAL if step.potential else 0),
                       steps=[step])
        else:
            data["steps"].append(step)
            if not step.potential:
                data["weight"] = data["hops"]

    @cached_property
    def top_holders(self) -> frozenset[str]:
        """Subjects bound (cluster-wide) to ``*`` on everything, and system:masters: where searches may stop."""
        grants, _ = self.index.grants_for_request(Request(verb="*", api_group="*", resource="*"))
        out = {node_id("Group", SYSTEM_MASTERS)}
        for g in grants:
            s = g.subject
            if s.kind in ("User", "Group"):
                out.add(node_id(s.kind, s.name))
            elif s.kind == "ServiceAccount" and s.namespace:
                out.add(node_id("ServiceAccount", s.name, s.namespace))
        return frozenset(out)

    def _maybe_top(self, node: str) -> bool:
        """Might ``node`` hold cluster-admin or system:masters? (a superset; successors decide)."""
        top = self.top_holders
        if node in top:
            return True
        if node.startswith("ServiceAccount:"):
            ns = node[len("ServiceAccount:"):].partition("/")[0]
            groups = ("system:serviceaccounts", f"system:serviceaccounts:{ns}", "system:authenticated")
        elif node.startswith("User:"):
            groups = ("system:authenticated",)
        else:
            return _held_cluster_wide(node)
        return any(node_id("Group", g) in top for g in groups)

    @cached_property
    def _top_sa_namespaces(self) -> frozenset[str] | None:
        """Namespaces with a ServiceAccount that ``_maybe_top`` lets through (None: every namespace)."""
        top = self.top_holders
        if any(node_id("Group", g) in top for g in ("system:serviceaccounts", "system:authenticated")):
            return None
        out = {n[len("ServiceAccount:"):].partition("/")[0] for n in top if n.startswith("ServiceAccount:")}
        prefix = "Group:system:serviceaccounts:"
        out.update(n[len(prefix):] for n in top if n.startswith(prefix))
        return frozenset(out)

    def _hub_maybe_top(self, node: str) -> bool:
        """Might a hub lead (only hubs and ServiceAccounts lie behind it) to an identity ``_maybe_top`` admits?"""
        namespaces = self._top_sa_namespaces
        if namespaces is None:
            return True
        ns = node.rpartition(":")[2]
        return bool(namespaces) if ns == "*" else ns in namespaces

    def explore(self, source: str, first_steps: list[EscalationStep] | None = None,
                max_depth: int = DEFAULT_MAX_DEPTH, stop_at: frozenset[str] = frozenset(), *,
                source_actor: Actor | None = None, prune: bool = True, sinks_only: bool = False) -> nx.DiGraph:
        """The part of the graph reachable from ``source`` within ``max_depth`` hops, level by level
        (hubs cost nothing). With ``stop_at``, the search ends at the first level holding one of those sinks.

        ``prune``: an identity whose rights the source or the identity that reached it already has
        (``_beyond`` is empty) is not expanded, and one with a few rights more is asked only about what
        those can add: everything else it leads to is reached sooner through them, so shortest paths
        and the blast radius are unchanged (not every simple path, though).
        ``sinks_only`` (with ``prune``): only the paths to sinks are wanted (the blast radius lists every
        identity, so it keeps them all). A node that reaches no sink is on no path to one, so: dominated
        identities are left out of the graph, with the edges into hubs leading only to them; the source
        skips the namespaces whose ServiceAccounts it dominates for techniques that lead only there; and
        with ``stop_at``, a node's steps into the namespaces where a holder of a stop sink may be are asked
        first, the others never when a holder is behind them (the search ends one level later).
        ``source_actor``: the Actor ``first_steps`` came from (``--as``).
        """
        g = nx.DiGraph()
        g.add_node(source)
        seen: set[str] = {source}
        frontier = [source]
        level = 0
        holders_checked: set[str] = set()  # nodes ``_holder_behind`` already looked behind (in vain)
        pruner = _Pruner(self, source, source_actor) if prune else None
        defer_hubs = pruner is not None and sinks_only
        # with defer_hubs, steps into a hub wait until it is expanded: one leading to no live identity (or
        # never expanded) is on no path to a sink, and most are (a cluster-wide creator of pods steps
        # into every namespace's hubs; their ServiceAccounts are mostly dominated)
        into_hub: dict[str, list[EscalationStep]] = {}
        live_hubs: set[str] = set()
        holder_found = False  # with stop_at: a holder of a stop sink is one step behind this level's nodes
        while frontier:
            # hubs stand for their targets at the same level; their edges are added once we know
            # the search goes on (a cluster-wide hub can stand for every ServiceAccount)
            hub_steps: dict[str, EscalationStep] = {}
            hub_to_seen: list[EscalationStep] = []  # another way to a node already found: may be certain
            i = 0
            while i < len(frontier):
                node = frontier[i]
                i += 1
                if _is_hub(node):
                    if holder_found and not self._hub_maybe_top(node):
                        continue  # this level ends the search (at that holder): only holders matter
                    out_steps = self._live_hub_steps(node, pruner) if defer_hubs and pruner is not None \
                        else self.successors(node)
                    if defer_hubs and out_steps:
                        live_hubs.add(node)
                        for step in into_hub.pop(node, ()):
                            self._add(g, step)
                    for step in out_steps:
                        if step.target not in seen:
                            seen.add(step.target)
                            hub_steps[step.target] = step
                            frontier.append(step.target)
                            if pruner is not None:
                                pruner.reached(step.target, node)
                        else:
                            hub_to_seen.append(step)
            actors = [n for n in frontier if not _is_hub(n) and not is_sink(n)]
            if stop_at:
                reached = False
                for n in actors:
                    if n == source or not self._maybe_top(n):
                        continue
                    for step in self.successors(n):
                        if step.target in stop_at:
                            self._add(g, step)
                            reached = True
                            chain = n
                            while chain in hub_steps:  # only the hub edges that lead to it
                                self._add(g, hub_steps[chain])
                                chain = hub_steps[chain].source
                                for into in into_hub.pop(chain, ()):
                                    self._add(g, into)
                if reached:
                    return g
            hub_edges = [*hub_steps.values(), *hub_to_seen]
            if not defer_hubs or level == max_depth:
                for step in hub_edges:
                    self._add(g, step)
                hub_edges = []
            if level == max_depth:
                break
            nxt: list[str] = []
            # With stop_at, no node of this level holds a stop sink, so the best is one step to it
            # (level+1) or one step to a holder (level+2). Once a holder is one step away, only the
            # few identities that could step straight onto a stop sink still need evaluating.
            holder_found = False
            # with stop_at, a reached node's steps into the namespaces where a holder may be (and cluster-wide
            # ones) are asked first: when they lead to a holder, its other steps lead nowhere sooner
            quick = self._top_sa_namespaces if stop_at and pruner is not None and sinks_only and \
                level + 1 < max_depth else None
            for node in actors:
                if holder_found and not self._maybe_direct(node):
                    continue
                if quick is not None and not holder_found and node != source and not self.has_steps(node):
                    found = pruner.steps(node, quick)
                    if found is None:
                        continue  # dominated
                    if any(step.target in stop_at for step in found) or \
                            self._holder_behind(g, found, stop_at, holders_checked):
                        for step in found:
                            self._add_or_wait(g, step, into_hub, live_hubs, defer_hubs)
                            if step.target not in seen:
                                seen.add(step.target)
                                nxt.append(step.target)
                                pruner.reached(step.target, node)
                        if any(step.target in stop_at for step in found):
                            self._add_hub_edges(g, hub_edges, pruner)
                            return g
                        holder_found = True
                        continue
                if node == source and first_steps is not None:
                    steps = first_steps
                elif pruner is not None and node == source and sinks_only and not self.has_steps(node):
                    steps = self._source_steps(pruner)
                elif pruner is None or node == source:
                    steps = self.successors(node)
                else:
                    found = pruner.steps(node)
                    if found is None:
                        continue  # dominated: all it can do is reached sooner
                    steps = found
                for step in steps:
                    self._add_or_wait(g, step, into_hub, live_hubs, defer_hubs)
                    if step.target not in seen:
                        seen.add(step.target)
                        nxt.append(step.target)
                        if pruner is not None:
                            pruner.reached(step.target, node)
                if stop_at and level + 1 < max_depth:
                    if any(step.target in stop_at for step in steps):
                        self._add_hub_edges(g, hub_edges, pruner)
                        return g
                    if not holder_found and self._holder_behind(g, steps, stop_at, holders_checked):
                        holder_found = True
            self._add_hub_edges(g, hub_edges, pruner)
            if holder_found:
                max_depth = min(max_depth, level + 2)
            frontier = nxt
            level += 1
        return g

    def _source_steps(self, pruner: _Pruner) -> list[EscalationStep]:
        """The source's steps a search for sinks needs: not those only into namespaces whose every
        ServiceAccount it dominates (a CI account that may create pods everywhere)."""
        actor = pruner._actor(pruner.source)
        if actor is None:
            return self.successors(pruner.source)
        live = pruner.live_namespaces()
        if live is None or self._key(actor) in self._by_key:
            return self.successors(pruner.source, actor)
        return [st for st in self._evaluate(actor, live=live) if st.target != actor.node]

    def _live_hub_steps(self, node: str, pruner: _Pruner) -> list[EscalationStep]:
        """A hub's steps to the ServiceAccounts ``pruner`` does not find dominated (``sinks_only``): a hub
        can stand for every ServiceAccount of a namespace, most of them no match for whoever reached it."""
        cached = self._succ.get(node)
        kind, _, ns = node[len(HUB_PREFIX):].partition(":")
        if ns == "*":
            return self.successors(node)  # it leads to the namespaces' hubs
        if kind != "tokens" and pruner.all_dead(ns):
            return []  # its ServiceAccounts (those of its workloads) are all dominated already
        targets = [(s.target, s.potential) for s in cached] if cached is not None else self.world.hub_targets(kind, ns)
        return [EscalationStep(technique=_HUB, source=node, target=t, potential=potential)
                for t, potential in pruner.live_targets(node, targets)]

    def _add_or_wait(self, g: nx.DiGraph, step: EscalationStep, into_hub: dict[str, list[EscalationStep]],
                     live_hubs: set[str], defer: bool) -> None:
        """Add ``step``, or (``defer``, into a hub not found live yet) keep it until the hub is expanded."""
        if defer and _is_hub(step.target) and step.target not in live_hubs:
            into_hub.setdefault(step.target, []).append(step)
        else:
            self._add(g, step)

    def _add_hub_edges(self, g: nx.DiGraph, steps: list[EscalationStep], pruner: _Pruner | None) -> None:
        """The hub edges of a level, once its identities are expanded: none to a dominated one, which is
        on no path to a sink (only with ``sinks_only``; otherwise they were added already)."""
        dead = pruner.dead if pruner is not None else set()
        for step in steps:
            if step.target not in dead:
                self._add(g, step)

    def _beyond(self, d: Actor, x: Actor) -> frozenset[str] | None:
        """The resources of ``x``'s roles that ``d`` does not hold; empty: ``d`` dominates ``x`` (every
        step ``x`` can take ``d`` can take too); None: they cannot be compared this way.

        Techniques only ask for rights, in the cluster scope and in the namespaces of the actor's
        RoleBindings, and taking more rights never removes a step; so where ``d`` holds a role of ``x``
        in that role's binding scope (the API server's ``covers``) and has RoleBindings wherever ``x``
        has, only techniques asking about the resources of the other roles can give ``x`` a step ``d``
        lacks. Two techniques also look at which roles are bound to the actor, not only at its rights:
        rewriting a role bound to you (``escalate``: so once ``x`` has a role that may allow escalate,
        each of its bindings must be one of ``d``'s too: the rewritten role may be any role bound to
        it), and ``namespace-admin:NS`` held through a role bound in NS (so ``x`` may not write
        RoleBindings beyond its own namespaces, where ``d`` has RoleBindings too).
        """
        if SYSTEM_MASTERS in d.user.groups:
            return frozenset()
        if SYSTEM_MASTERS in x.user.groups:
            return None
        return _resolve(self._parts(d, [b for b, _ in x.applying], x.index))

    def _parts(self, d: Actor, bindings: Sequence[Binding], index: PolicyIndex) -> _Part:
        """The parts of these bindings (of ``index``) together (``_binding_part``)."""
        return _joined([self._binding_part(d, b, index) for b in bindings])

    def _binding_part(self, d: Actor, b: Binding, index: PolicyIndex) -> _Part:
        """One binding's part of ``_beyond``: the resources of its rules some technique may use
        (``_used_rules``) unless ``d`` holds them there, whether its role may allow escalate on roles,
        and whether it is not one of ``d``'s bindings."""
        scope = b.namespace if b.kind == "RoleBinding" else ""
        if scope and scope not in d.namespace_set:
            return None  # a RoleBinding where d has none
        role = index.role_for(b)
        if role is None:
            return _NOTHING, False, False  # grants nothing, and cannot be rewritten
        unbound = id(b) not in d.binding_ids
        if not role.rules:
            return _NOTHING, False, unbound
        world = self.world
        # the same role where d holds the same rules gives the same part (bound in thousands of namespaces);
        # which of its rules count depends on the namespace only for a role naming objects
        key = (id(role.rules), id(d.held_rules(scope)), unbound, bool(scope),
               scope if scope and world.names_objects(role) else "")
        memo = d.memo.setdefault("beyond-part", {})
        if key in memo:
            return memo[key]
        part: _Part = None
        if scope or not world.writes_rolebindings(role):
            rewrites = world.rewrites(role)
            if not (rewrites and unbound):
                rules = self._used_rules(role, scope)
                part = (_NOTHING if not rules or d.holds(rules, scope) else
                        frozenset(r for rule in rules for r in rule.resources)), rewrites, unbound
        memo[key] = part
        return part

    def _used_rules(self, role: Role, scope: str) -> tuple[PolicyRule, ...]:
        """The rules of ``role`` bound in ``scope`` that some technique may use (``binding_rules`` itself
        when all of them): not those whose resourceNames no technique asks about. A rule naming objects
        is used only by requests for those names; when each technique asking about its resources says
        which names it asks for (``Technique.names``) and none is among them, the rule never answers.
        Such rules still count for ``covers``: binding a role whose rules you hold without ``bind`` gains
        only a role that may allow escalate, so you hold escalate yourself, and ``_resolve`` never lets
        an identity that may escalate roles be dominated with a binding the other one lacks; and for
        the admin ClusterRole's, should it name objects (``namespace-admin``): none is set aside then."""
        rules = self.world.binding_rules(role, scope)
        if not self._names_decide or not self.world.names_objects(role):
            return rules
        key = (id(rules), scope)
        hit = self._used.get(key)
        if hit is None or hit[0] is not rules:
            kept = tuple(r for r in rules if not self._unused(r, scope))
            hit = self._used[key] = (rules, kept if len(kept) < len(rules) else rules)
        return hit[1]

    @cached_property
    def _used(self) -> dict[tuple[int, str], tuple[tuple[PolicyRule, ...], tuple[PolicyRule, ...]]]:
        return {}

    @cached_property
    def _names_decide(self) -> bool:
        """May rules with resourceNames be set aside (``_used_rules``)? Not when the admin ClusterRole has one."""
        admin = self.index.cluster_roles.get("admin")
        return admin is None or not any(r.resource_names for r in admin.rules)

    def _unused(self, rule: PolicyRule, scope: str) -> bool:
        if not rule.resource_names or any("*" in res for res in rule.resources):
            return False
        names = set(rule.resource_names)
        for res in rule.resources:
            for t in self._touching(res):
                if t.names is None or not names.isdisjoint(t.names(self.world, res, scope)):
                    return False
        return True

    def _touching(self, resource: str) -> list[Technique]:
        """The techniques that ask about ``resource``."""
        found = self._techniques_of.get(resource)
        if found is None:
            found = self._techniques_of[resource] = [t for t in self.techniques if resource in t.touches]
        return found

    @cached_property
    def _techniques_of(self) -> dict[str, list[Technique]]:
        return {}

    @cached_property
    def direct_candidates(self) -> frozenset[str]:
        """Subjects of roles that might escalate cluster roles or impersonate groups (a superset)."""
        out: set[str] = set()
        for role in self.index.all_roles:
            t = RuleTokens(role.rules)
            if t.may_allow("escalate", "clusterroles") or t.may_allow("impersonate", "groups"):
                for b in self.index.bindings_for_role(role):
                    for s in b.subjects:
                        ns = s.namespace or (b.namespace if b.kind == "RoleBinding" else "")
                        out.add(node_id(s.kind, s.name, ns if s.kind == "ServiceAccount" else ""))
        return frozenset(out)

    def _maybe_direct(self, node: str) -> bool:
        """Might ``node`` step straight onto cluster-admin / system:masters (escalate, impersonate a group)?"""
        cand = self.direct_candidates
        if not _is_identity(node):
            return _held_cluster_wide(node)
        if node in cand:
            return True
        if node.startswith("ServiceAccount:"):
            ns = node[len("ServiceAccount:"):].partition("/")[0]
            groups = ("system:serviceaccounts", f"system:serviceaccounts:{ns}", "system:authenticated")
        else:
            groups = ("system:authenticated",)
        return any(node_id("Group", g) in cand for g in groups)

    def _holder_behind(self, g: nx.DiGraph, steps: list[EscalationStep], stop_at: frozenset[str],
                       seen: set[str]) -> bool:
        """Does one of ``steps`` reach (through hubs) an identity that holds a stop sink? Adds those edges.

        ``seen``: nodes already looked behind by earlier calls (which found nothing), updated."""
        todo = [s.target for s in steps]
        while todo:
            node = todo.pop()
            if node in seen:
                continue
            seen.add(node)
            if _is_hub(node):
                if self._hub_maybe_top(node):
                    for step in self.successors(node):
                        self._add(g, step)
                        todo.append(step.target)
            elif not is_sink(node) and self._maybe_top(node):
                for step in self.successors(node):
                    if step.target in stop_at:
                        self._add(g, step)
                        return True
        return False

    @gc_paused()
    def full_graph(self, on_progress: Callable[[str, int, int], None] | None = None) -> nx.DiGraph:
        """Every edge reachable from every subject of the inputs (cached).

        ``on_progress(stage, done, total)``: how many subjects have been visited, about every percent."""
        if self._full is not None:
            return self._full
        g = nx.DiGraph()
        seen: set[str] = set()
        todo = list(self.subjects())
        g.add_nodes_from(todo)
        subjects, total, done, shown = set(todo), len(todo), 0, -1
        while todo:
            node = todo.pop()
            if node in seen:
                continue
            seen.add(node)
            if on_progress is not None and node in subjects:
                done += 1
                if done * 100 // total != shown or done == total:
                    shown = done * 100 // total
                    on_progress("escalation graph", done, total)
            for step in self.successors(node):
                self._add(g, step)
                if step.target not in seen:
                    todo.append(step.target)
        self._full = g
        return g

    # -- paths -------------------------------------------------------------------------------------
    @staticmethod
    def _steps_along(g: nx.DiGraph, nodes: Sequence[str]) -> tuple[EscalationStep, ...]:
        """Edge steps along a node path, hubs collapsed into the step that entered them."""
        out: list[EscalationStep] = []
        for u, v in zip(nodes, nodes[1:], strict=False):
            steps = sorted(g[u][v]["steps"], key=lambda s: s.potential)
            step = steps[0]
            if _is_hub(u) and out:
                out[-1] = replace(out[-1], target=v, potential=out[-1].potential or step.potential)
            else:
                out.append(step)
        return tuple(out)

    def _path(self, g: nx.DiGraph, nodes: Sequence[str]) -> EscalationPath:
        return EscalationPath(source=nodes[0], sink=nodes[-1], steps=self._steps_along(g, nodes))

    @gc_paused()
    def paths_from(self, source: str, *, user: UserInfo | None = None, to: str | None = None,
                   max_depth: int = DEFAULT_MAX_DEPTH, all_paths: bool = False) -> list[EscalationPath]:
        """Shortest path from ``source`` to each sink it reaches (or every simple path with ``all_paths``).

        ``user`` overrides the identity ``source`` stands for (e.g. ``--as alice --as-group dev``).
        """
        source_actor = self.actor_for(source, user) if user is not None else None
        first = self.steps_of(source_actor) if source_actor is not None else None
        # without --to, cluster-wide control makes the lesser sinks redundant: stop looking past it
        stop = frozenset() if (to is not None or all_paths) else frozenset({SINK_CLUSTER_ADMIN, SINK_SYSTEM_MASTERS})
        g = self.explore(source, first, max_depth, stop, source_actor=source_actor,
                         prune=self.prune_dominated and not all_paths, sinks_only=True)
        sinks = sorted(n for n in g if is_sink(n) and (to is None or n == to))
        out: list[EscalationPath] = []
        if all_paths:
            for sink in sinks:
                for nodes in nx.all_simple_paths(g, source, sink, cutoff=3 * max_depth):
                    p = self._path(g, nodes)
                    if p.hops <= max_depth:
                        out.append(p)
        else:
            _, paths = nx.single_source_dijkstra(g, source, cutoff=max_depth + 0.5, weight="weight")
            out = [self._path(g, paths[s]) for s in sinks if s in paths]
            if stop:
                top = [p for p in out if p.sink in stop]
                out = top or out
        return _rank(out)

    @gc_paused()
    def all_paths(self, *, to: str | None = None, max_depth: int = DEFAULT_MAX_DEPTH, include_system: bool = False,
                  on_progress: Callable[[str, int, int], None] | None = None) -> list[EscalationPath]:
        """Every (non-system) subject's shortest path to each sink, strongest sinks only, ranked by hops.

        ``on_progress``: see ``full_graph``."""
        g = self.full_graph(on_progress)
        starts = {s for s in self.subjects() if include_system or not is_system_subject(s, self.custom_bound)}
        reverse = g.reverse(copy=False)
        found: dict[str, list[EscalationPath]] = {}
        searches: list[list[str]] = [[s] for s in CLUSTER_SINKS if s in g and (to is None or s == to)]
        ns_sinks = sorted(n for n in g if n.startswith(NAMESPACE_ADMIN_PREFIX) and (to is None or n == to))
        if ns_sinks:
            # one search from every namespace-admin sink at once: each subject's nearest namespace
            # (one search per namespace would cost a graph walk per namespace)
            searches.append(ns_sinks)
        for sources in searches:
            _, paths = nx.multi_source_dijkstra(reverse, sources, cutoff=max_depth + 0.5, weight="weight")
            for start, rev in paths.items():
                if start in starts:
                    found.setdefault(start, []).append(self._path(g, list(reversed(rev))))
        out: list[EscalationPath] = []
        for paths in found.values():
            out.extend(paths if to is not None else _strongest(paths))
        return _rank(out)

    def token_carriers(self, source: str) -> tuple[str, ...]:
        """Workloads whose pods mount a token of ``source`` (a ServiceAccount), sorted."""
        return self.world.token_carriers.get(source, ())

    @gc_paused()
    def blast_radius(self, source: str, *, user: UserInfo | None = None,
                     max_depth: int = DEFAULT_MAX_DEPTH) -> BlastRadius:
        """What ``source`` can become within ``max_depth`` steps: identities (with their hop count and
        whether the cheapest way there is potential), the namespaces it controls and the sinks it reaches.

        Uses the whole graph when it is already built (the audit builds it), else explores from ``source``.
        """
        if user is None and self._full is not None and source in self._full:
            g = self._full
        else:
            source_actor = self.actor_for(source, user) if user is not None else None
            first = self.steps_of(source_actor) if source_actor is not None else None
            g = self.explore(source, first, max_depth, source_actor=source_actor, prune=self.prune_dominated)
        reach = _cheapest(g, source, max_depth)
        identities: list[tuple[str, int, bool]] = []
        sinks: list[str] = []
        for node, (hops, potential) in reach.items():
            if node == source:
                continue
            if _is_identity(node):
                identities.append((node, hops, potential))
            elif is_sink(node):
                sinks.append(node)
        if SINK_CLUSTER_ADMIN in sinks or SINK_SYSTEM_MASTERS in sinks:
            namespaces = ["*"]
        else:
            namespaces = sorted(s[len(NAMESPACE_ADMIN_PREFIX):] for s in sinks if s.startswith(NAMESPACE_ADMIN_PREFIX))
        pods = self.token_carriers(source)
        identities.sort(key=lambda t: (t[1], t[2], t[0]))
        return BlastRadius(subject=source, identities=tuple(identities), namespaces=tuple(namespaces),
                           sinks=tuple(sorted(sinks, key=_sink_order)), pods=tuple(pods))


class _Pruner:
    """What one search from ``source`` may skip (``EscalationGraph.explore`` with ``prune``).

    An identity is compared with the source and with the identity whose step first reached it (both
    expanded at an earlier level, or themselves dominated by one that was): dominated, it is not
    expanded; with a few roles more, only the techniques asking about those roles' resources run.
    """

    def __init__(self, graph: EscalationGraph, source: str, source_actor: Actor | None) -> None:
        self.graph = graph
        self.source = source
        self.actors: dict[str, Actor | None] = {source: source_actor} if source_actor is not None else {}
        self.parent: dict[str, str] = {}  # node -> the identity whose step reached it first (hubs see through)
        self.settled: set[str] = {source}  # expanded, or dominated by an identity that was
        self.memo: dict[tuple[str, int], _Part] = {}  # (d, binding or binding list) → its part of _beyond
        self.groups_memo: dict[tuple[str, tuple[str, ...]], _Part] = {}  # (d, groups) → theirs together
        self._sa_groups: dict[str, tuple[str, ...]] = {}  # namespace → the groups of its ServiceAccounts
        self._all_dead: set[str] = set()  # namespaces whose ServiceAccounts are all dead
        self._judges_of: dict[tuple[str | None, bool], list[tuple[str, Actor]] | None] = {}  # → _judges
        self.dead: set[str] = set()  # identities found dominated: not expanded

    def reached(self, target: str, by: str) -> None:
        """``target`` entered the search through ``by`` (an identity, or a hub standing for one)."""
        if _is_hub(by):
            found = self.parent.get(by)
            if found is None:
                return
            by = found
        self.parent.setdefault(target, by)

    def _actor(self, node: str) -> Actor | None:
        if node not in self.actors:
            self.actors[node] = self.graph.actor_for(node)
        return self.actors[node]

    def steps(self, node: str, namespaces: frozenset[str] | None = None) -> list[EscalationStep] | None:
        """The steps of ``node`` the search needs (``namespaces``: those into them or cluster-wide are
        enough); None when it is dominated."""
        g = self.graph
        if g.has_steps(node):
            self.settled.add(node)
            return g.successors(node)
        identity = _is_identity(node)
        x = None if identity else self._actor(node)
        if x is None and not identity:
            return []
        extra = self._beyond_known(node, x)
        self.settled.add(node)
        if extra is not None and not extra:
            self.dead.add(node)
            return None  # dominated: its Actor is not even built
        if x is None:
            x = self._actor(node)
            if x is None:
                return []
        return g.steps_adding(x, extra, namespaces)

    def live_targets(self, hub_node: str, targets: list[tuple[str, bool]]) -> list[tuple[str, bool]]:
        """Of a hub's (target, potential) pairs, those not dominated by the source or by the identity that
        reached the hub; the dominated ServiceAccounts go to ``dead``. ``_beyond_identity``, shortened
        for the many ServiceAccounts of a namespace: once the part of their groups is empty, only the
        bindings naming each one are looked at."""
        return self._live(self._judges(self.parent.get(hub_node)), targets)

    def live_namespaces(self) -> Container[str] | None:
        """Namespaces with a ServiceAccount the source does not dominate, each looked at when first asked
        about (None: it dominates none): techniques that only lead into a namespace's ServiceAccounts
        need not look at the others."""
        judges = self._judges(None)
        if judges is None:
            return None
        return _LiveNamespaces(self, judges)

    def _live(self, judges: list[tuple[str, Actor]] | None,
              targets: list[tuple[str, bool]]) -> list[tuple[str, bool]]:
        """``live_targets`` with these identities as the ones that may dominate."""
        g = self.graph
        if judges is None:
            return targets
        if not judges:  # system:masters dominates everyone
            self.dead.update(t for t, _ in targets if t.startswith("ServiceAccount:") and t != self.source)
            return [(t, p) for t, p in targets if t not in self.dead]
        index = g.index
        dead = self.dead
        out: list[tuple[str, bool]] = []
        for target, potential in targets:
            if target in dead:
                continue
            if not target.startswith("ServiceAccount:") or target == self.source or g.has_steps(target):
                out.append((target, potential))
                continue
            ns, _, name = target[len("ServiceAccount:"):].partition("/")
            naming = None
            dominated = False
            for d_node, d in judges:
                found = self._groups_part(d_node, d, self._groups_of_sa(ns))
                if found is None or found[0]:
                    continue  # not even the rules some technique uses are held
                if naming is None:
                    naming = (*(lists := index.bindings_naming_user(make_sa_username(ns, name)))[0], *lists[1])
                # _resolve(_joined(...)) is empty, inline: this runs for every ServiceAccount of a namespace
                _, rewrites, unbound = found
                for b in naming:
                    part = self._part(d_node, d, b)
                    if part is None or part[0]:
                        break
                    rewrites, unbound = rewrites or part[1], unbound or part[2]
                else:
                    if not (rewrites and unbound):
                        dominated = True
                        break
            if dominated:
                dead.add(target)
            else:
                out.append((target, potential))
        return out

    def all_dead(self, namespace: str) -> bool:
        """Is every ServiceAccount of ``namespace`` (defined, or referenced by a binding or workload) dominated?"""
        if namespace in self._all_dead:
            return True
        if all(sa in self.dead for sa, _ in self.graph.world.service_accounts(namespace)):
            self._all_dead.add(namespace)  # ``dead`` only grows
            return True
        return False

    def _judges(self, parent: str | None) -> list[tuple[str, Actor]] | None:
        """The identities that may dominate what ``parent`` reaches: the source, and ``parent`` once
        settled (None: neither; empty: one of them is in system:masters and dominates everyone)."""
        key = (parent, parent in self.settled)  # a parent may settle later
        if key in self._judges_of:
            return self._judges_of[key]
        judges: list[tuple[str, Actor]] | None = []
        for d_node in (self.source,) if parent in (None, self.source) else (self.source, parent):
            d = self._actor(d_node) if d_node in self.settled else None
            if d is not None:
                if SYSTEM_MASTERS in d.user.groups:
                    judges = []
                    break
                judges.append((d_node, d))
        else:
            judges = judges or None
        self._judges_of[key] = judges
        return judges

    def _part(self, d_node: str, d: Actor, b: Binding) -> _Part:
        """``EscalationGraph._binding_part`` of ``d`` (the identity ``d_node``), memoised per binding."""
        key = (d_node, id(b))
        memo = self.memo
        return memo[key] if key in memo else memo.setdefault(key, self.graph._binding_part(d, b, self.graph.index))

    def _groups_part(self, d_node: str, d: Actor, groups: tuple[str, ...]) -> _Part:
        """The part of the bindings naming these groups together, memoised per set of groups and per list
        of the index (most lists, such as system:serviceaccounts' or system:authenticated's, are shared)."""
        gkey = (d_node, groups)
        if gkey not in self.groups_memo:
            graph, memo = self.graph, self.memo
            parts = []
            for lst in graph.index.binding_lists_of(None, groups):
                key = (d_node, id(lst))
                parts.append(memo[key] if key in memo else memo.setdefault(key, graph._parts(d, lst, graph.index)))
            self.groups_memo[gkey] = _joined(parts)
        return self.groups_memo[gkey]

    def _groups_of_sa(self, namespace: str) -> tuple[str, ...]:
        """The groups of a ServiceAccount of ``namespace`` (not checking that its name is valid: an invalid
        one has none, and more bindings can only make a part larger or None, never wrongly empty)."""
        found = self._sa_groups.get(namespace)
        if found is None:
            found = self._sa_groups[namespace] = (*sa_groups(namespace), AUTHENTICATED)
        return found

    def _beyond_identity(self, d_node: str, d: Actor, node: str) -> frozenset[str] | None:
        """``EscalationGraph._beyond(d, actor_for(node))`` for an identity, without building its Actor:
        from the index's lists of bindings naming it (``_part``) or its groups (``_groups_part``)."""
        if SYSTEM_MASTERS in d.user.groups:
            return frozenset()
        if node.startswith("ServiceAccount:"):
            ns, _, name = node[len("ServiceAccount:"):].partition("/")
            username, groups = make_sa_username(ns, name), self._groups_of_sa(ns)
        else:
            user = subject_as_user(parse_subject_id(node))
            if SYSTEM_MASTERS in user.groups:
                return None
            username, groups = user.username, user.groups
        parts = [self._groups_part(d_node, d, groups)]
        parts.extend(self._part(d_node, d, b) for lst in self.graph.index.bindings_naming_user(username) for b in lst)
        return _resolve(_joined(parts))

    def _beyond_known(self, node: str, x: Actor | None) -> frozenset[str] | None:
        """The resources of ``node``'s roles beyond the source's or its parent's (None: compare all of
        them); ``x``: its Actor, None for an identity (compared through the index's binding lists)."""
        best: frozenset[str] | None = None
        p = self.parent.get(node)
        for d_node in (self.source,) if p in (None, self.source) else (self.source, p):
            if d_node in self.settled and d_node != node:
                d = self._actor(d_node)
                if d is None:
                    continue
                extra = self.graph._beyond(d, x) if x is not None else self._beyond_identity(d_node, d, node)
                if extra is not None and (best is None or len(extra) < len(best)):
                    best = extra
        return best


class _LiveNamespaces:
    """``_Pruner.live_namespaces``: a namespace is in it when one of its ServiceAccounts is live."""

    def __init__(self, pruner: _Pruner, judges: list[tuple[str, Actor]]) -> None:
        self.pruner, self.judges = pruner, judges
        self.known: dict[str, bool] = {}

    def __contains__(self, namespace: object) -> bool:
        if not isinstance(namespace, str):
            return False
        found = self.known.get(namespace)
        if found is None:
            sas = self.pruner.graph.world.service_accounts(namespace)
            found = self.known[namespace] = bool(self.pruner._live(self.judges, sas))
        return found


def _joined(parts: Sequence[_Part]) -> _Part:
    """Several parts of ``_beyond`` as one (None as soon as one is)."""
    out: set[str] = set()
    rewrites = unbound = False
    for part in parts:
        if part is None:
            return None
        out.update(part[0])
        rewrites = rewrites or part[1]
        unbound = unbound or part[2]
    return (frozenset(out) if out else _NOTHING), rewrites, unbound


def _resolve(part: _Part) -> frozenset[str] | None:
    """``_beyond``'s answer from the parts of all of an identity's bindings: None when it may rewrite a
    role bound to it that is not bound to the other identity."""
    if part is None or (part[1] and part[2]):
        return None
    return part[0]


def _held_cluster_wide(node: str) -> bool:
    """Is ``node`` a role held through a ClusterRoleBinding? Held through RoleBindings only, a role never
    steps straight onto cluster-admin or system:masters: that needs ``*`` everywhere, impersonating a
    group or rewriting roles cluster-wide, which only ClusterRoleBindings grant."""
    return not _is_identity(node) and not is_sink(node) and not _is_hub(node) and node.endswith("@" + SCOPE_CLUSTER)


def _asks_about(touches: frozenset[str], resources: frozenset[str]) -> bool:
    """Could rules on ``resources`` answer a technique asking about ``touches`` (``*``, ``*/sub`` match)?"""
    if not touches.isdisjoint(resources):
        return True
    return any(r == "*" or (r.startswith("*/") and any(t.endswith(r[1:]) for t in touches)) for r in resources)


def _cheapest(g: nx.DiGraph, source: str, max_depth: int) -> dict[str, tuple[int, bool]]:
    """Every node within ``max_depth`` hops of ``source`` → (hops, potential) of its best path: the edge
    weights (one per hop, ``_POTENTIAL`` more for a potential edge) make the lightest path the one with
    the fewest hops and then the fewest potential steps, so the fractional part says whether it has any."""
    lengths = nx.single_source_dijkstra_path_length(g, source, cutoff=max_depth + 0.5, weight="weight")
    return {node: (int(d), d - int(d) > _POTENTIAL / 2) for node, d in lengths.items()}


def _sink_order(sink: str) -> tuple[int, str]:
    return (CLUSTER_SINKS.index(sink) if sink in CLUSTER_SINKS else len(CLUSTER_SINKS), sink)


def _strongest(paths: list[EscalationPath]) -> list[EscalationPath]:
    """Cluster-wide control makes the lesser sinks redundant; holding a namespace's admin is no escalation."""
    top = [p for p in paths if p.sink in (SINK_SYSTEM_MASTERS, SINK_CLUSTER_ADMIN)]
    if top:
        return top
    return [p for p in paths if not (p.sink.startswith(NAMESPACE_ADMIN_PREFIX) and p.hops == 1
                                     and p.steps[0].technique == HOLDS)]


def _rank(paths: list[EscalationPath]) -> list[EscalationPath]:
    return sorted(paths, key=lambda p: (p.hops, p.potential, _sink_order(p.sink), p.source, p.nodes))
