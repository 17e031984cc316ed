"""Technique and TechniqueContext: what an escalation technique needs and how it asks the policy."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from ..model import Grant, Inventory, KubeObject, Request, UserInfo, node_id
from ..model.paths import namespace_admin_sink
from ..semantics import PolicyIndex
from ..semantics.power import ANY_NAME, RuleTokens
from ..workloads import Workload

__all__ = ["Perm", "Reach", "Technique", "TechniqueContext", "Actor", "World", "ANY_NAME", "any_sa_hub",
           "ALL_SA_HUB", "scope_sink"]

ALL_SA_HUB = "any-sa:*"  # "any ServiceAccount of any namespace": a graph hub, collapsed out of paths


def any_sa_hub(namespace: str) -> str:
    """Hub node meaning "any ServiceAccount of ``namespace``" ("" = of every namespace)."""
    return f"any-sa:{namespace}" if namespace else ALL_SA_HUB


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


@dataclass(kw_only=True)
class Actor:
    """Who acts: an identity of the policy, or a role held through a binding the previous step wrote.

    ``index``/``user`` answer what it may do; held roles use a small index holding only that binding.
    """

    node: str
    index: PolicyIndex
    user: UserInfo
    namespaces: tuple[str, ...]  # where RoleBindings give it rights (besides cluster-wide)

    @cached_property
    def tokens(self) -> RuleTokens:
        rules = []
        for b, _ in self.index.bindings_applying_anywhere(self.user):
            role = self.index.role_for(b)
            if role is not None:
                rules.extend(role.rules)
        return RuleTokens(rules)

    def grant(self, request: Request) -> Grant | None:
        """The first grant that allows the request (None: refused)."""
        if not self.tokens.may_allow(request.verb, request.combined_resource):
            return None
        auth = self.index.authorize(self.user, request, first_only=True)
        return auth.grants[0] if auth.allowed and auth.grants else None


class World:
    """The objects the inputs hold, indexed for techniques (ServiceAccounts, workloads, secrets, subjects)."""

    def __init__(self, inventory: Inventory, index: PolicyIndex, workloads: Sequence[Workload]) -> None:
        self.inventory = inventory
        self.index = index
        self.workloads = list(workloads)
        self.namespaces = sorted(inventory.namespaces)
        self.defined_sas: dict[str, set[str]] = {}
        for sa in inventory.service_accounts:
            self.defined_sas.setdefault(sa.namespace, set()).add(sa.name)
        # referenced but possibly undefined ServiceAccounts (binding subjects, workloads)
        self.referenced_sas: dict[str, set[str]] = {}
        self.users: set[str] = set()
        self.groups: set[str] = set()
        for b in inventory.bindings:
            for s in b.subjects:
                if s.kind == "User":
                    self.users.add(s.name)
                elif s.kind == "Group":
                    self.groups.add(s.name)
                elif s.kind == "ServiceAccount":
                    ns = s.namespace or (b.namespace if b.kind == "RoleBinding" else "")
                    if ns:
                        self.referenced_sas.setdefault(ns, set()).add(s.name)
        self.workloads_by_ns: dict[str, list[Workload]] = {}
        for w in self.workloads:
            self.workloads_by_ns.setdefault(w.namespace, []).append(w)
            self.referenced_sas.setdefault(w.namespace, set()).add(w.service_account)
        self.token_secrets: dict[str, list[tuple[str, str]]] = {}  # ns → (secret, service account)
        self.webhooks: list[KubeObject] = []
        for o in inventory.objects:
            if o.kind == "Secret" and o.body.get("type") == "kubernetes.io/service-account-token":
                meta = o.body.get("metadata")
                ann = meta.get("annotations") if isinstance(meta, dict) else None
                sa = ann.get("kubernetes.io/service-account.name") if isinstance(ann, dict) else None
                if isinstance(sa, str) and sa:
                    self.token_secrets.setdefault(o.namespace, []).append((o.name, sa))
            elif o.kind == "MutatingWebhookConfiguration":
                self.webhooks.append(o)

    def service_accounts(self, namespace: str) -> Iterator[tuple[str, bool]]:
        """(node id, potential) of every ServiceAccount of a namespace: defined ones, then referenced ones."""
        defined = self.defined_sas.get(namespace, set())
        for name in sorted(defined):
            yield node_id("ServiceAccount", name, namespace), False
        for name in sorted(self.referenced_sas.get(namespace, set()) - defined):
            yield node_id("ServiceAccount", name, namespace), True

    def sa_namespaces(self) -> list[str]:
        return sorted(set(self.defined_sas) | set(self.referenced_sas))

    def sa_potential(self, namespace: str, name: str) -> bool:
        return name not in self.defined_sas.get(namespace, set())


@dataclass(kw_only=True)
class TechniqueContext:
    """One actor in one world: techniques ask ``grant``/``grants`` and read targets from ``world``."""

    actor: Actor
    world: World

    def grant(self, verb: str, resource: str, *, api_group: str = "", subresource: str = "", namespace: str = "",
              name: str = "") -> Grant | None:
        return self.actor.grant(Request(verb=verb, resource=resource, api_group=api_group, subresource=subresource,
                                        namespace=namespace, name=name))

    def may(self, verb: str, resource: str) -> bool:
        """Cheap pre-check (no false negatives) before asking the index in every scope."""
        return self.actor.tokens.may_allow(verb, resource)

    def any_grant(self, verbs: Sequence[str], resource: str, **kw: str) -> Grant | None:
        """The first of several verbs that is allowed (e.g. update or patch)."""
        for v in verbs:
            g = self.grant(v, resource, **kw)
            if g is not None:
                return g
        return None

    def scopes(self) -> list[str]:
        """Where to ask namespaced questions: "" (every namespace, via ClusterRoleBindings), then RoleBinding ones."""
        return ["", *self.actor.namespaces]

    def namespaces_in(self, scope: str) -> list[str]:
        """The namespaces a scope covers ("" = every namespace of the inputs)."""
        return self.world.namespaces if not scope else [scope]
