"""Technique and TechniqueContext: what an escalation technique needs and how it asks the policy."""

from __future__ import annotations

from collections.abc import Callable, Collection, Container, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from ..model import (
    RBAC_GROUP,
    Binding,
    Grant,
    Inventory,
    KubeObject,
    PolicyRule,
    Request,
    Role,
    ServiceAccount,
    Subject,
    UserInfo,
    node_id,
)
from ..model.paths import namespace_admin_sink
from ..semantics import (
    BUILTIN_RESOURCES,
    POD_CONTROLLERS,
    SYSTEM_MASTERS,
    PolicyIndex,
    resource_matches,
    verb_matches,
)
from ..semantics.power import ANY_NAME, HeldRules, RuleTokens, held_rules_of, per_role_set
from ..workloads import Workload

__all__ = ["Perm", "Reach", "Technique", "TechniqueContext", "Actor", "World", "ANY_NAME", "any_sa_hub",
           "ALL_SA_HUB", "scope_sink", "may_rewrite_roles", "hub", "HUB_PREFIX", "HUB_KINDS"]

# Hubs are graph nodes standing for a set of ServiceAccounts of a namespace ("*": of every namespace), so
# a broad grant is one edge instead of one per target; paths collapse them away.
HUB_PREFIX = "hub:"
# any SA; SAs of pods mounting their token; SAs with token Secrets; "ctl-<resource>": SAs of those controllers
HUB_KINDS = ("sa", "pods", "tokens", "ctl-")
ALL_SA_HUB = "hub:sa:*"


_CONTROLLER_RESOURCE = {t.kind: t.resource for t in BUILTIN_RESOURCES
                        if (t.group, t.resource) in POD_CONTROLLERS and t.resource != "pods"}


def _hub_kinds_of(w: Workload) -> Iterator[str]:
    """The hubs of its namespace that lead to a workload's ServiceAccount: "pods" when its pods mount the
    token, "ctl-RESOURCE" for a pod controller."""
    if w.carries_token:
        yield "pods"
    if res := _CONTROLLER_RESOURCE.get(w.kind):
        yield f"ctl-{res}"


def hub(kind: str, namespace: str) -> str:
    """``hub:KIND:NS``, or ``hub:KIND:*`` for every namespace ("")."""
    return f"{HUB_PREFIX}{kind}:{namespace or '*'}"


def any_sa_hub(namespace: str) -> str:
    """Hub node meaning "any ServiceAccount of ``namespace``" ("" = of every namespace)."""
    return hub("sa", namespace)


def may_rewrite_roles(role: Role) -> bool:
    """Could ``role`` allow ``escalate`` on roles (a superset)? Bound to you, you could then rewrite it.
    (``World.rewrites`` memoises it.)"""
    return any(("escalate" in r.verbs or "*" in r.verbs) and any(x in ("*", "roles", "clusterroles") for x in r.resources)
               and any(g in ("*", RBAC_GROUP) for g in r.api_groups) for r in role.rules)


def _writes_rolebindings(role: Role) -> bool:
    tokens = RuleTokens(role.rules)
    return any(tokens.may_allow(v, "rolebindings") for v in ("create", "update", "patch"))


def scope_sink(namespace: str) -> str:
    """What "anything in this scope" amounts to: cluster-admin cluster-wide, else namespace-admin:NS."""
    return "cluster-admin" if not namespace else namespace_admin_sink(namespace)


@dataclass(frozen=True, kw_only=True, slots=True)
class Perm:
    """One permission a technique needs (documentation and the catalog's test use it)."""

    verb: str
    resource: str
    api_group: str = ""

    def __str__(self) -> str:
        res = f"{self.resource}.{self.api_group}" if self.api_group else self.resource
        return f"{self.verb} {res}"


@dataclass(frozen=True, kw_only=True, slots=True)
class Reach:
    """What a technique yields for one actor: a target node, the enabling grant, and whether it is potential."""

    target: str
    grant: Grant | None
    potential: bool = False
    detail: str = ""


@dataclass(frozen=True, kw_only=True)
class Technique:
    """A privilege-escalation technique: ID ``ESC-NAME``, the permissions it needs (all of them), what it yields."""

    id: str
    title: str
    requires: tuple[Perm, ...]  # a conjunction; ``find`` asks the policy for each, in the right scope
    yields: str
    short_reason: str  # drawn on diagram edges
    find: Callable[[TechniqueContext], Iterable[Reach]] = field(repr=False)
    potential: bool = False  # every edge it yields depends on objects the inputs may lack
    resources: frozenset[str] = frozenset()  # what ``find`` asks about, when more than ``requires`` names
    # (world, resource, namespace or "" for every one) → every name ``find`` may ask about one by one there;
    # None: any name. Lets a search ignore rules whose resourceNames it never asks about (``EscalationGraph``)
    names: Callable[[World, str, str], Collection[str]] | None = field(default=None, repr=False)
    # it only leads into ServiceAccounts of the namespace where it acts (or hubs standing for them) and
    # walks namespaces through TechniqueContext: a search may skip namespaces where all are dominated
    into_namespace: bool = False

    @cached_property
    def touches(self) -> frozenset[str]:
        """Resources whose absence from an actor's rules means the technique cannot apply (a fast skip)."""
        return self.resources | {p.resource for p in self.requires}


@dataclass(kw_only=True)
class Actor:
    """Who acts: an identity of the policy, or a role held through a binding the previous step wrote.

    ``index``/``user`` answer what it may do; held roles use a small index holding only that binding.
    """

    node: str
    index: PolicyIndex
    user: UserInfo
    namespaces: tuple[str, ...] = ()  # where RoleBindings give it rights (besides cluster-wide)

    @cached_property
    def memo(self) -> dict[str, dict]:
        """Answers other modules derive from its rights, one dict per question (they live as long as it)."""
        return {}

    @cached_property
    def namespace_set(self) -> frozenset[str]:
        """``namespaces`` as a set (ask once they are final)."""
        return frozenset(self.namespaces)

    @cached_property
    def binding_ids(self) -> frozenset[int]:
        """``id`` of every binding that applies to it."""
        return frozenset(id(b) for b, _ in self.applying)

    @cached_property
    def applying(self) -> list[tuple[Binding, Subject]]:
        """Every binding (any namespace) that applies to it."""
        return self.index.bindings_applying_anywhere(self.user)

    @cached_property
    def _tokens(self) -> tuple[RuleTokens, dict[str, RuleTokens], RuleTokens]:
        cluster: dict[int, tuple[PolicyRule, ...]] = {}
        per_ns: dict[str, dict[int, tuple[PolicyRule, ...]]] = {}
        every: dict[int, tuple[PolicyRule, ...]] = {}
        for b, _ in self.applying:
            role = self.index.role_for(b)
            if role is None:
                continue
            every[id(role.rules)] = role.rules
            if b.kind == "ClusterRoleBinding":
                cluster[id(role.rules)] = role.rules
            else:
                per_ns.setdefault(b.namespace, {})[id(role.rules)] = role.rules
        tokens = self._tokens_of
        return tokens(cluster), {ns: tokens(r) for ns, r in per_ns.items()}, tokens(every)

    def _tokens_of(self, rule_sets: dict[int, tuple[PolicyRule, ...]]) -> RuleTokens:
        # shared per set of roles' rules: most actors have the same ClusterRoleBindings, and the same
        # roles in their namespaces
        return per_role_set(self.index, "rule_tokens", rule_sets, RuleTokens)

    @cached_property
    def _touch(self) -> tuple[bool, frozenset[str]]:
        table = self._tokens[2].verbs_by_resource
        return "*" in table or any(k.startswith("*/") for k in table), frozenset(table)

    def may_touch(self, resources: frozenset[str]) -> bool:
        """Could any rule of it concern one of ``resources`` (whatever the verb)?"""
        wildcard, mentioned = self._touch  # asked once per technique: computed once per actor
        return wildcard or not resources.isdisjoint(mentioned)

    @cached_property
    def _named(self) -> tuple[tuple[PolicyRule, ...], tuple[PolicyRule, ...]]:
        """Its rules with resourceNames (the only ones that can allow some names but not every name):
        all of them, and those granted cluster-wide by ClusterRoleBindings."""
        every: dict[int, PolicyRule] = {}
        cluster: dict[int, PolicyRule] = {}
        for b, _ in self.applying:
            role = self.index.role_for(b)
            if role is not None:
                for rule in role.rules:
                    if rule.resource_names:
                        every.setdefault(id(rule), rule)
                        if b.kind == "ClusterRoleBinding":
                            cluster.setdefault(id(rule), rule)
        return tuple(every.values()), tuple(cluster.values())

    @cached_property
    def _named_resources(self) -> frozenset[str]:
        return frozenset(r for rule in self._named[0] for r in rule.resources)

    def may_name(self, resource: str) -> bool:
        """Could a rule allow some names of ``resource`` but not every name (no false negatives)?

        Only rules with resourceNames can: when a request for ``ANY_NAME`` is refused and this is False,
        so is the request for each single name (which spares a loop over every object).
        """
        named = self._named_resources
        return bool(named) and (resource in named or any("*" in r for r in named))

    def names_for(self, verbs: Sequence[str], resource: str, *, cluster_only: bool = False) -> frozenset[str]:
        """Every name a rule with resourceNames could allow for one of ``verbs`` on ``resource``
        (``res`` or ``res/sub``; API groups ignored, so a superset). Once the request for ``ANY_NAME`` is
        refused, no other name can be allowed. ``cluster_only``: names that rules granted by
        ClusterRoleBindings list (the only ones allowed outside its RoleBindings' namespaces)."""
        key = (tuple(verbs), resource, cluster_only)
        cached = self._names.get(key)
        if cached is None:
            sub = resource.partition("/")[2]
            out: set[str] = set()
            for rule in self._named[1 if cluster_only else 0]:
                if any(verb_matches(rule, v) for v in verbs) and resource_matches(rule, resource, sub):
                    out.update(rule.resource_names)
            cached = self._names[key] = frozenset(out)
        return cached

    @cached_property
    def _names(self) -> dict[tuple[tuple[str, ...], str, bool], frozenset[str]]:
        return {}

    def may(self, verb: str, resource: str, namespace: str | None = None) -> bool:
        """Could it be allowed (no false negatives)? ``namespace`` None: anywhere; "": through
        ClusterRoleBindings (so in every namespace); NS: there."""
        key = (verb, resource, namespace)
        known = self._may.get(key)
        if known is None:
            cluster, per_ns, every = self._tokens
            if namespace is None:
                known = every.may_allow(verb, resource)
            elif cluster.may_allow(verb, resource):
                known = True
            else:
                t = per_ns.get(namespace) if namespace else None
                known = t is not None and t.may_allow(verb, resource)
            self._may[key] = known
        return known

    @cached_property
    def _may(self) -> dict[tuple[str, str, str | None], bool]:
        return {}

    def namespaces_that_may(self, verbs: Sequence[str], resource: str) -> list[str]:
        """Its RoleBindings' namespaces where one of ``verbs`` on ``resource`` may be allowed (``may``),
        asked once per set of roles bound there (memoised; do not modify the list)."""
        key = (tuple(verbs), resource)
        found = self._namespaces_may.get(key)
        if found is None:
            cluster, per_ns, _ = self._tokens
            if any(cluster.may_allow(v, resource) for v in verbs):
                found = list(self.namespaces)
            else:
                by_tokens: dict[int, bool] = {}  # namespaces with the same roles share their tokens
                found = []
                for ns in self.namespaces:
                    t = per_ns.get(ns)
                    if t is None:
                        continue
                    ok = by_tokens.get(id(t))
                    if ok is None:
                        ok = by_tokens[id(t)] = any(t.may_allow(v, resource) for v in verbs)
                    if ok:
                        found.append(ns)
            self._namespaces_may[key] = found
        return found

    @cached_property
    def _namespaces_may(self) -> dict[tuple[tuple[str, ...], str], list[str]]:
        return {}

    def grant(self, request: Request) -> Grant | None:
        """The first grant that allows the request (None: refused): the authorizer's own visit
        (``PolicyIndex.bindings_applying``: ClusterRoleBindings, then the namespace's RoleBindings),
        each binding's role asked once per request shape (``PolicyIndex.first_allowing``)."""
        if not request.resource_request:  # a URL: ClusterRoleBindings only
            first = self.index.first_allowing
            for b, s, role in self.bound(""):
                i = first(role, request)
                if i >= 0:
                    return Grant(subject=s, binding=b, role=role, rule=role.rules[i], rule_index=i)
            return None
        return self.grant_of(request.verb, request.resource, request.api_group, request.subresource,
                             request.namespace, request.name, request)

    def grant_of(self, verb: str, resource: str, api_group: str = "", subresource: str = "", namespace: str = "",
                 name: str = "", request: Request | None = None) -> Grant | None:
        """``grant`` of a resource request given by its parts (``request``: the same, already built).

        Which binding and rule allow it depends only on the request's shape and on the roles visited
        in ``namespace``, in order: namespaces where the same roles are bound (a team Role bound in
        thousands of namespaces) share the answer, so only the Grant is built once it is known."""
        bound = self.bound(namespace)
        sig = self._signature(namespace, bound)
        key = (sig, verb, api_group, resource, subresource, name)
        hit = self._grant_memo.get(key)
        if hit is None:
            if request is None:
                request = Request(verb=verb, resource=resource, api_group=api_group, subresource=subresource,
                                  namespace=namespace, name=name)
            hit = (-1, -1)
            if self.may(verb, request.combined_resource, namespace):
                first = self.index.first_allowing
                for k, (_, _, role) in enumerate(bound):
                    i = first(role, request)
                    if i >= 0:
                        hit = (k, i)
                        break
            self._grant_memo[key] = hit
        k, i = hit
        if k < 0:
            return None
        b, s, role = bound[k]
        return Grant(subject=s, binding=b, role=role, rule=role.rules[i], rule_index=i)

    def _signature(self, namespace: str, bound: list[tuple[Binding, Subject, Role]]) -> int:
        """The roles' rules visited in ``namespace``, in order, as a small number shared by the
        namespaces that visit the same ones."""
        sig = self._sig_of_ns.get(namespace)
        if sig is None:
            rules = tuple(id(role.rules) for _, _, role in bound)  # rules tuples live as long as the index
            sig = self._sig_of_ns[namespace] = self._sigs.setdefault(rules, len(self._sigs))
        return sig

    @cached_property
    def _sig_of_ns(self) -> dict[str, int]:
        return {}

    @cached_property
    def _sigs(self) -> dict[tuple[int, ...], int]:
        return {}

    @cached_property
    def _grant_memo(self) -> dict[tuple[int, str, str, str, str, str], tuple[int, int]]:
        return {}

    def bound(self, namespace: str) -> list[tuple[Binding, Subject, Role]]:
        """The bindings the authorizer visits for it in ``namespace`` ("": ClusterRoleBindings only), in
        order, with the subject that matched and the role (bindings to missing roles left out)."""
        found = self._bound.get(namespace)
        if found is None:
            if namespace and namespace not in self.rolebinding_namespaces:
                found = self.bound("")  # no RoleBinding of it there: the ClusterRoleBindings alone
            else:
                # ``applying`` is every binding of it in the authorizer's order (ClusterRoleBindings, then
                # RoleBindings in listing order): those of one namespace are ``bindings_applying``'s answer
                cluster, per_ns = self._applying_by_namespace
                found = [(b, s, role) for b, s in (cluster + per_ns[namespace] if namespace else cluster)
                         if (role := self.index.role_for(b)) is not None]
            self._bound[namespace] = found
        return found

    @cached_property
    def _applying_by_namespace(self) -> tuple[list[tuple[Binding, Subject]], dict[str, list[tuple[Binding, Subject]]]]:
        cluster: list[tuple[Binding, Subject]] = []
        per_ns: dict[str, list[tuple[Binding, Subject]]] = {}
        for b, s in self.applying:
            if b.kind == "ClusterRoleBinding":
                cluster.append((b, s))
            else:
                per_ns.setdefault(b.namespace, []).append((b, s))
        return cluster, per_ns

    @cached_property
    def rolebinding_namespaces(self) -> frozenset[str]:
        """The namespaces of the RoleBindings that apply to it."""
        return frozenset(self._applying_by_namespace[1])

    @cached_property
    def _bound(self) -> dict[str, list[tuple[Binding, Subject, Role]]]:
        return {}

    def held_rules(self, namespace: str) -> HeldRules:
        """The rules that apply to it in ``namespace`` ("": through ClusterRoleBindings), shared by every
        namespace (and actor) with the same roles there: answers that depend only on its rules there
        may be computed once per such object."""
        held = self._held.get(namespace)
        if held is None:
            if namespace and namespace not in self.rolebinding_namespaces:
                held = self.held_rules("")  # its ClusterRoleBindings alone, as in ``bound``
            else:
                # namespaces where the same roles are bound to it share their tokens (``per_role_set``),
                # and so their held rules: asked once, not once per namespace
                tokens = self._tokens[1].get(namespace) if namespace else None
                held = self._held_by_tokens.get(id(tokens)) if tokens is not None else None
                if held is None:
                    held = held_rules_of(self.index, (role for _, _, role in self.bound(namespace)))
                    if tokens is not None:
                        self._held_by_tokens[id(tokens)] = held
            self._held[namespace] = held
        return held

    @cached_property
    def _held_by_tokens(self) -> dict[int, HeldRules]:
        return {}

    def holds(self, rules: Sequence[PolicyRule], namespace: str) -> bool:
        """Does it already hold every permission of ``rules`` in ``namespace`` ("": cluster-wide)? Then a
        binding to them gains it nothing (the API server's own escalation check, ``covers``)."""
        return SYSTEM_MASTERS in self.user.groups or self.held_rules(namespace).holds(rules)

    def holds_every_resource(self, namespace: str) -> bool:
        """A ``*``/``*``/``*`` rule applies to it in ``namespace``: no binding there can add a resource right."""
        return SYSTEM_MASTERS in self.user.groups or self.held_rules(namespace).coverage.everything

    def is_namespace_admin(self, namespace: str) -> bool:
        """``semantics.power.is_namespace_admin`` from the bindings already visited for it."""
        if SYSTEM_MASTERS in self.user.groups:
            return True
        return self.held_rules(namespace).amounts_to_admin(self.index.cluster_roles.get("admin"))

    @cached_property
    def _held(self) -> dict[str, HeldRules]:
        return {}


class World:
    """The objects the inputs hold, indexed for techniques (ServiceAccounts, workloads, secrets, subjects)."""

    def __init__(self, inventory: Inventory, index: PolicyIndex, workloads: Sequence[Workload]) -> None:
        # everything below is computed on first use: one subject's paths rarely need all of it
        self.inventory = inventory
        self.index = index
        self.workloads = workloads
        # ESC-BIND yields, per scope, only the bindable roles no other one includes (and a ClusterRole
        # bindable in every namespace once); False yields every one (the tests check both give the
        # same shortest paths and blast radii)
        self.bind_widest_only = True
        # namespace_set_scope() → its namespaces, for the held roles techniques yield in such scopes
        self.held_scopes: dict[str, tuple[str, ...]] = {}
        self.derived: dict[str, dict] = {}  # memos techniques keep about the objects (one dict per name)

    @cached_property
    def namespaces(self) -> list[str]:
        return sorted(self.inventory.namespaces)

    @cached_property
    def sa_objects(self) -> dict[str, list[ServiceAccount]]:
        out: dict[str, list[ServiceAccount]] = {}
        for sa in self.inventory.service_accounts:
            out.setdefault(sa.namespace, []).append(sa)
        return out

    @cached_property
    def defined_sas(self) -> dict[str, set[str]]:
        return {ns: {sa.name for sa in sas} for ns, sas in self.sa_objects.items()}

    @cached_property
    def _subjects(self) -> tuple[set[str], set[str], dict[str, set[str]]]:
        """Users and groups named by bindings; ServiceAccounts referenced (bindings, workloads) per namespace."""
        users: set[str] = set()
        groups: set[str] = set()
        referenced: dict[str, set[str]] = {}
        for b in self.inventory.bindings:
            for s in b.subjects:
                if s.kind == "User":
                    users.add(s.name)
                elif s.kind == "Group":
                    groups.add(s.name)
                elif s.kind == "ServiceAccount":
                    ns = s.namespace or (b.namespace if b.kind == "RoleBinding" else "")
                    if ns:
                        referenced.setdefault(ns, set()).add(s.name)
        for w in self.workloads:
            referenced.setdefault(w.namespace, set()).add(w.service_account)
        return users, groups, referenced

    @property
    def users(self) -> set[str]:
        return self._subjects[0]

    @property
    def groups(self) -> set[str]:
        return self._subjects[1]

    @property
    def referenced_sas(self) -> dict[str, set[str]]:
        return self._subjects[2]

    def namespaces_naming(self, names: frozenset[str]) -> frozenset[str]:
        """The namespaces holding something of one of these names that a technique may name: any
        namespaced object of the inputs, a ServiceAccount referenced but not defined, a Secret a
        ServiceAccount lists. Lets a search for single names visit only those namespaces (memoised per
        set of names: rules list a few names, so one pass looks only for them)."""
        found = self._namespaces_naming.get(names)
        if found is None:
            out: set[str] = set()
            out.update(o.namespace for o in self.inventory.objects if o.namespace and o.name in names)
            for sa in self.inventory.service_accounts:
                if sa.name in names or not names.isdisjoint(sa.secrets):
                    out.add(sa.namespace)
            out.update(ns for ns, sas in self.referenced_sas.items() if not names.isdisjoint(sas))
            out.update(w.namespace for w in self.workloads if w.name in names)
            found = self._namespaces_naming[names] = frozenset(out)
        return found

    @cached_property
    def _namespaces_naming(self) -> dict[frozenset[str], frozenset[str]]:
        return {}

    def resource_rules(self, role: Role) -> tuple[PolicyRule, ...]:
        """The rules of ``role`` that a RoleBinding makes effective: those naming resources (one tuple per
        role, so memoised answers about it stay valid)."""
        found = self._resource_rules.get(id(role.rules))
        if found is None:
            found = self._resource_rules[id(role.rules)] = tuple(r for r in role.rules if r.resources)
        return found

    @cached_property
    def _resource_rules(self) -> dict[int, tuple[PolicyRule, ...]]:
        return {}  # keyed by id(role.rules): every rules tuple lives as long as the index

    def binding_rules(self, role: Role, namespace: str) -> tuple[PolicyRule, ...]:
        """The rules a binding of ``role`` makes effective: all of them for a ClusterRoleBinding
        (``namespace`` ""), only resource rules for a RoleBinding (URLs never apply there)."""
        return self.resource_rules(role) if namespace else role.rules

    @cached_property
    def roles_by_ns(self) -> dict[str, list[Role]]:
        """The policy's Roles per namespace, in the index's order."""
        out: dict[str, list[Role]] = {}
        for (ns, _), role in self.index.roles.items():
            out.setdefault(ns, []).append(role)
        return out

    def includes(self, outer: Role, inner: Role, namespace: str) -> bool:
        """Does a binding of ``outer`` give every permission a binding of ``inner`` gives, both in
        ``namespace`` ("": ClusterRoleBindings)? (``covers``, memoised per pair of rules tuples.)"""
        return held_rules_of(self.index, (outer,)).holds(self.binding_rules(inner, namespace))

    def _per_rules(self, question: str, role: Role, answer: Callable[[Role], bool]) -> bool:
        """``answer(role)``, memoised per rules tuple (the loader interns identical rules; the tuple is
        kept with the answer, so its id stays valid)."""
        memo = self._rules_memo.setdefault(question, {})
        hit = memo.get(id(role.rules))
        if hit is None or hit[0] is not role.rules:
            hit = memo[id(role.rules)] = (role.rules, answer(role))
        return hit[1]

    @cached_property
    def _rules_memo(self) -> dict[str, dict[int, tuple[tuple[PolicyRule, ...], bool]]]:
        return {}

    def grants_everything(self, role: Role) -> bool:
        """Has ``role`` a rule with ``*`` verbs, groups and resources for every name? Bound anywhere, it
        includes every other role's resource rules there."""
        return self._per_rules("everything", role, lambda r: any(
            "*" in x.verbs and "*" in x.resources and "*" in x.api_groups and not x.resource_names for x in r.rules))

    def names_objects(self, role: Role) -> bool:
        """Has ``role`` a rule with resourceNames? Memoised per rules tuple."""
        return self._per_rules("names-objects", role, lambda r: any(x.resource_names for x in r.rules))

    def rewrites(self, role: Role) -> bool:
        """``may_rewrite_roles``, memoised per rules tuple."""
        return self._per_rules("rewrites", role, may_rewrite_roles)

    def writes_rolebindings(self, role: Role) -> bool:
        """May ``role`` allow writing RoleBindings (a superset)? Memoised per rules tuple."""
        return self._per_rules("writes-rolebindings", role, _writes_rolebindings)
    @cached_property
    def widest_memo(self) -> dict[tuple, tuple[int, ...]]:
        """For ESC-BIND: which of some bindable roles no other one includes, per (scope kind, roles)."""
        return {}

    @cached_property
    def rewritable_roles(self) -> tuple[list[Role], dict[str, list[Role]]]:
        """ClusterRoles, and Roles per namespace, that may grant ``escalate`` on roles (``may_rewrite_roles``):
        the only ones worth binding to yourself when you already hold their permissions."""
        cluster = [r for r in self.index.cluster_roles.values() if self.rewrites(r)]
        by_ns: dict[str, list[Role]] = {}
        for ns, roles in self.roles_by_ns.items():
            found = [r for r in roles if self.rewrites(r)]
            if found:
                by_ns[ns] = found
        return cluster, by_ns

    @cached_property
    def token_carriers(self) -> dict[str, tuple[str, ...]]:
        """ServiceAccount node → the workloads (ids, sorted) whose pods mount its token."""
        out: dict[str, list[str]] = {}
        for w in self.workloads:
            if w.carries_token:
                out.setdefault(w.service_account_id, []).append(w.id)
        return {sa: tuple(sorted(ids)) for sa, ids in out.items()}

    @cached_property
    def pods_by_node(self) -> dict[str, list[Workload]]:
        """Pods of the inputs that mount a token, per the node they are scheduled on."""
        out: dict[str, list[Workload]] = {}
        for w in self.workloads:
            if w.kind == "Pod" and w.node_name and w.carries_token:
                out.setdefault(w.node_name, []).append(w)
        return out

    @cached_property
    def workloads_by_ns(self) -> dict[str, list[Workload]]:
        out: dict[str, list[Workload]] = {}
        for w in self.workloads:
            out.setdefault(w.namespace, []).append(w)
        return out

    @cached_property
    def _objects(self) -> tuple[dict[str, list[tuple[str, str]]], list[KubeObject]]:
        token_secrets: dict[str, list[tuple[str, str]]] = {}  # ns → (secret, service account)
        webhooks: list[KubeObject] = []
        for o in self.inventory.objects:
            if o.kind == "Secret" and o.body.get("type") == "kubernetes.io/service-account-token":
                meta = o.body.get("metadata")
                ann = meta.get("annotations") if isinstance(meta, dict) else None
                sa = ann.get("kubernetes.io/service-account.name") if isinstance(ann, dict) else None
                if isinstance(sa, str) and sa:
                    token_secrets.setdefault(o.namespace, []).append((o.name, sa))
            elif o.kind == "MutatingWebhookConfiguration":
                webhooks.append(o)
        return token_secrets, webhooks

    @property
    def token_secrets(self) -> dict[str, list[tuple[str, str]]]:
        return self._objects[0]

    @property
    def webhooks(self) -> list[KubeObject]:
        return self._objects[1]

    def _hub_table(self, namespace: str) -> dict[str, list[tuple[str, bool]]]:
        """Hub kind → (ServiceAccount node, potential) of one namespace for the "pods", "tokens" and
        "ctl-RESOURCE" hubs (computed per namespace, when a search first enters one of its hubs)."""
        found = self._hub_tables.get(namespace)
        if found is not None:
            return found
        pods: dict[str, bool] = {}
        controllers: dict[str, dict[str, bool]] = {}  # "ctl-RESOURCE" → SA → potential
        defined = self.defined_sas.get(namespace, frozenset())
        for w in self.workloads_by_ns.get(namespace, ()):
            sa, undefined = w.service_account_id, w.service_account not in defined
            for kind in _hub_kinds_of(w):
                if kind == "pods":
                    # a Pod in the inputs runs; a controller's pods may not (yet)
                    pods[sa] = pods.get(sa, True) and (w.kind != "Pod" or undefined)
                else:
                    controllers.setdefault(kind, {})[sa] = undefined
        found = {kind: sorted(targets.items()) for kind, targets in
                 (("pods", pods), ("tokens", self._token_sas(namespace)), *controllers.items()) if targets}
        self._hub_tables[namespace] = found
        return found

    def leads_somewhere(self, kind: str, namespace: str) -> bool:
        """Does the "pods", "tokens" or "ctl-RESOURCE" hub of ``namespace`` lead to a ServiceAccount? A
        step into an empty one (no such workload or token there) would lead nowhere, so is not taken."""
        kinds = self._hub_kinds.get(namespace)
        if kinds is None:  # the kinds ``_hub_table`` finds targets for, without sorting its lists
            kinds = {k for w in self.workloads_by_ns.get(namespace, ()) for k in _hub_kinds_of(w)}
            if self._token_sas(namespace):
                kinds.add("tokens")
            self._hub_kinds[namespace] = kinds
        return kind in kinds

    def _token_sas(self, namespace: str) -> dict[str, bool]:
        """ServiceAccount node → potential, for the token Secrets of ``namespace`` (the "tokens" hub)."""
        tokens: dict[str, bool] = {}
        for _, sa in self.token_secrets.get(namespace, ()):
            tokens[node_id("ServiceAccount", sa, namespace)] = self.sa_potential(namespace, sa)
        for sa_obj in self.sa_objects.get(namespace, ()):
            if sa_obj.secrets:
                tokens.setdefault(sa_obj.id, True)  # Secret not in the inputs
        return tokens

    @cached_property
    def _hub_kinds(self) -> dict[str, set[str]]:
        return {}

    @cached_property
    def _hub_tables(self) -> dict[str, dict[str, list[tuple[str, bool]]]]:
        return {}

    @cached_property
    def _hub_namespaces(self) -> dict[str, list[str]]:
        """Hub kind → the namespaces where it leads somewhere (for the every-namespace hubs)."""
        candidates = set(self.workloads_by_ns) | set(self.token_secrets) | set(self.sa_objects)
        out: dict[str, list[str]] = {}
        for ns in sorted(candidates):
            for kind in self._hub_table(ns):
                out.setdefault(kind, []).append(ns)
        return out

    def hub_targets(self, kind: str, namespace: str) -> list[tuple[str, bool]]:
        """What a hub leads to: "*" → the namespace hubs; a namespace → its ServiceAccounts."""
        if namespace == "*":
            if kind == "sa":
                return [(hub(kind, ns), False) for ns in self.sa_namespaces()]
            return [(hub(kind, ns), False) for ns in self._hub_namespaces.get(kind, ())]
        if kind == "sa":
            return self.service_accounts(namespace)
        return self._hub_table(namespace).get(kind, [])

    def service_accounts(self, namespace: str) -> list[tuple[str, bool]]:
        """(node id, potential) of every ServiceAccount of a namespace: defined ones, then referenced ones
        (memoised: do not modify)."""
        found = self._service_accounts.get(namespace)
        if found is None:
            defined = self.defined_sas.get(namespace, set())
            found = self._service_accounts[namespace] = [
                *((node_id("ServiceAccount", name, namespace), False) for name in sorted(defined)),
                *((node_id("ServiceAccount", name, namespace), True)
                  for name in sorted(self.referenced_sas.get(namespace, set()) - defined))]
        return found

    @cached_property
    def _service_accounts(self) -> dict[str, list[tuple[str, bool]]]:
        return {}

    def sa_namespaces(self) -> list[str]:
        return sorted(set(self.defined_sas) | set(self.referenced_sas))

    def sa_potential(self, namespace: str, name: str) -> bool:
        return name not in self.defined_sas.get(namespace, set())


@dataclass(kw_only=True)
class TechniqueContext:
    """One actor in one world: techniques ask ``grant``/``grants`` and read targets from ``world``."""

    actor: Actor
    world: World
    # only these namespaces' steps are wanted (None: every one): techniques that walk namespaces through
    # the methods below skip the others (a search looking only for identities that hold cluster-admin)
    only_namespaces: Container[str] | None = None

    def _kept(self, namespaces: Sequence[str]) -> list[str]:
        only = self.only_namespaces
        if only is None:
            return namespaces if isinstance(namespaces, list) else list(namespaces)
        return [ns for ns in namespaces if ns in only]

    def grant(self, verb: str, resource: str, *, api_group: str = "", subresource: str = "", namespace: str = "",
              name: str = "") -> Grant | None:
        return self.actor.grant_of(verb, resource, api_group, subresource, namespace, name)

    def may(self, verb: str, resource: str, namespace: str | None = None) -> bool:
        """Cheap pre-check (no false negatives) before asking the index; see ``Actor.may``."""
        return self.actor.may(verb, resource, namespace)

    def may_name(self, resource: str) -> bool:
        """Could some single names of ``resource`` be allowed when every name is not? See ``Actor.may_name``."""
        return self.actor.may_name(resource)

    def namespaces_where(self, verbs: Sequence[str], resource: str) -> list[str]:
        """Namespaces where one of ``verbs`` on ``resource`` may be allowed (every one if cluster-wide)."""
        if not any(self.may(v, resource) for v in verbs):
            return []
        if any(self.may(v, resource, "") for v in verbs):
            return self._kept(self.world.namespaces)
        return self._kept(self.actor.namespaces_that_may(verbs, resource))

    def names(self, verbs: Sequence[str], resource: str, *, cluster_only: bool = False) -> frozenset[str]:
        """The only single names that can be allowed once ``ANY_NAME`` is refused; see ``Actor.names_for``
        (``cluster_only`` for cluster-scoped resources, which only ClusterRoleBindings grant)."""
        return self.actor.names_for(verbs, resource, cluster_only=cluster_only)

    def namespaces_beyond(self, verbs: Sequence[str], resource: str) -> list[str]:
        """``namespaces_where``, once the cluster-wide request for every name (``ANY_NAME``, namespace "")
        was refused: elsewhere only RoleBindings' rules can allow every name, and rules with resourceNames
        only their names; a RoleBinding's named rules apply in its own namespace (listed already), so only
        the namespaces holding an object that a ClusterRoleBinding's named rule names are added."""
        out = self.actor.namespaces_that_may(verbs, resource)
        names = self.actor.names_for(verbs, resource, cluster_only=True) if self.may_name(resource) else frozenset()
        if names:
            known = set(out)
            extra = {ns for ns in self.world.namespaces_naming(names) if ns not in known}
            if extra:
                out = sorted(known | extra)
        return self._kept(out)

    def any_grant(self, verbs: Sequence[str], resource: str, **kw: str) -> Grant | None:
        """The first of several verbs that is allowed (e.g. update or patch)."""
        for v in verbs:
            g = self.grant(v, resource, **kw)
            if g is not None:
                return g
        return None

    def scopes(self) -> list[str]:
        """Where to ask namespaced questions: "" (every namespace, via ClusterRoleBindings), then RoleBinding ones."""
        return ["", *self._kept(self.actor.namespaces)]

    def namespaces_in(self, scope: str) -> list[str]:
        """The namespaces a scope covers ("" = every namespace of the inputs)."""
        return self._kept(self.world.namespaces) if not scope else [scope]
