"""The permission graph: subjects, bindings, roles, implied groups and workloads as a networkx MultiDiGraph.

``build_graph`` turns a whole policy into one graph. Node ids are ``model.node_id`` strings
(``ServiceAccount:ci/builder``, ``ClusterRole:admin``); every node has ``kind``, ``name``, ``namespace``
and ``source`` (file and line, "" for subjects, which are not objects). Edge keys are ``EdgeKind``
values:

- ``SUBJECT_OF``  subject → binding
- ``GRANTS``      binding → role (``namespace``: where the grant applies, "" = cluster-wide)
- ``AGGREGATES``  aggregating ClusterRole → each ClusterRole its selectors pick
- ``MEMBER_OF``   ServiceAccount → its implied groups
- ``RUNS_AS``     workload (Pod or pod template) → ServiceAccount (``automount_token``)

Permissions stay as rules on role nodes (``rules``: one summary per rule; ``danger_tags``/``danger`` as
``semantics.danger`` judges them), never one edge per resource.

The ``*_view`` functions build the small graphs diagrams draw (one subject's reach, who can do one
request, one namespace, a collapsed overview) from ``PolicyIndex`` lookups, touching only what the
question needs. Their extra node attributes are the render contract: ``layer`` (0 workload, 1 subject,
2 group, 3 binding, 4 role, 5 permission), ``cluster`` ("" | ``cluster-wide`` | ``namespace:NS``),
``danger`` (a severity value or ""), ``danger_tags``, ``implied``, ``missing``, ``rule`` (rule text of a
Permission node), ``count`` (of a ``More`` node), ``detail`` (one extra line). View-only edge keys:
``RULE`` (role → permission or request) and ``MORE``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

import networkx as nx

from .errors import UsageError
from .model import (
    Binding,
    EdgeKind,
    Inventory,
    PolicyRule,
    Request,
    Role,
    ServiceAccount,
    Subject,
    SubjectAccess,
    UserInfo,
    node_id,
)
from .semantics import (
    ADMIN,
    AUTHENTICATED,
    DANGERS,
    SYSTEM_MASTERS,
    UNAUTHENTICATED,
    PolicyIndex,
    aggregation_sources,
    danger_severity,
    danger_titles,
    rule_dangers,
    sa_groups,
    split_sa_username,
)
from .workloads import Workload

__all__ = [
    "build_graph", "subject_view", "who_can_view", "namespace_view", "overview",
    "RULE", "MORE", "CLUSTER_WIDE", "namespace_cluster", "rule_text", "DangerCache",
]

logger = logging.getLogger(__name__)

RULE = "RULE"  # view-only: role → permission node (or → the request of a who-can view)
MORE = "MORE"  # view-only: → a "+N more" node
CLUSTER_WIDE = "cluster-wide"
LAYER_WORKLOAD, LAYER_SUBJECT, LAYER_GROUP, LAYER_BINDING, LAYER_ROLE, LAYER_PERMISSION = range(6)
MAX_RULES = 12  # rules drawn per role before a "+N more rules" node


def namespace_cluster(namespace: str) -> str:
    return f"namespace:{namespace}"


def rule_text(rule: PolicyRule) -> str:
    """A rule as the lines a manifest would show, for tooltips and exports."""
    return "\n".join(f"{k}: [{', '.join(repr(x) if x == '' else x for x in v)}]"
                     for k, v in rule.to_dict().items())


class DangerCache:
    """Danger tags of each rule computed once (asking ``semantics``); a role's tags are its rules' union."""

    def __init__(self) -> None:
        self._rules: dict[PolicyRule, tuple[str, ...]] = {}

    def rule(self, rule: PolicyRule) -> tuple[str, ...]:
        tags = self._rules.get(rule)
        if tags is None:
            tags = self._rules[rule] = rule_dangers(rule)
        return tags

    def rules(self, rules: Iterable[PolicyRule]) -> tuple[str, ...]:
        found: set[str] = set()
        for r in rules:
            found.update(self.rule(r))
        return tuple(d.tag for d in DANGERS if d.tag in found)

    @staticmethod
    def severity(tags: Iterable[str]) -> str:
        sev = danger_severity(tags)
        return sev.value if sev is not None else ""


# -- the whole policy ------------------------------------------------------------------------------------


def _src(obj: Any) -> str:
    source = getattr(obj, "source", None)
    return str(source) if source is not None and source.file else ""


def _subject_node(subject: Subject, binding: Binding) -> tuple[str, str] | None:
    """(node id, namespace) of a binding subject; None when it can match nobody."""
    if subject.kind in ("User", "Group"):
        return node_id(subject.kind, subject.name), ""
    if subject.kind == "ServiceAccount":
        ns = subject.namespace or (binding.namespace if binding.kind == "RoleBinding" else "")
        if not ns or not subject.name:
            return None
        return node_id("ServiceAccount", subject.name, ns), ns
    return None


def _role_attrs(role: Role, danger: DangerCache) -> dict[str, Any]:
    tags = danger.rules(role.rules)
    return {
        "kind": role.kind, "name": role.name, "namespace": role.namespace, "source": _src(role),
        "rules": [r.summary() for r in role.rules], "rule_count": len(role.rules),
        "aggregated": role.aggregation_rule is not None, "bootstrap": role.is_bootstrap,
        "danger_tags": list(tags), "danger": danger.severity(tags), "missing": False,
    }


def _missing_role_attrs(binding: Binding) -> dict[str, Any]:
    ns = binding.namespace if binding.role_ref.kind == "Role" else ""
    return {"kind": binding.role_ref.kind, "name": binding.role_ref.name, "namespace": ns, "source": "",
            "rules": [], "rule_count": 0, "aggregated": False, "bootstrap": False, "danger_tags": [],
            "danger": "", "missing": True}


def build_graph(inventory: Inventory, index: PolicyIndex | None = None,
                workloads: Sequence[Workload] = ()) -> nx.MultiDiGraph:
    """The whole policy as a MultiDiGraph (see the module docstring for the node and edge contract).

    ``index`` supplies the aggregated roles (built from ``inventory`` when not given); ``workloads``
    (``analyzer.workloads.extract_workloads``) add RUNS_AS edges.

    Example::

        g = build_graph(inventory, index, extract_workloads(inventory))
        g.has_edge("ServiceAccount:ci/builder", "RoleBinding:ci/builder-edit", key="SUBJECT_OF")
    """
    index = index or PolicyIndex(inventory)
    danger = DangerCache()
    g = nx.MultiDiGraph()
    for role in index.all_roles:
        if role.kind in ("Role", "ClusterRole"):
            g.add_node(role.id, **_role_attrs(role, danger))
    for sa in inventory.service_accounts:
        _add_service_account(g, sa.id, sa.namespace, sa.name, sa)
    for b in inventory.bindings:
        if b.kind not in ("RoleBinding", "ClusterRoleBinding"):
            continue
        g.add_node(b.id, kind=b.kind, name=b.name, namespace=b.namespace, source=_src(b),
                   role_ref=b.role_id, bootstrap=b.is_bootstrap)
        role_id = b.role_id
        if role_id not in g:
            g.add_node(role_id, **_missing_role_attrs(b))
        g.add_edge(b.id, role_id, key=EdgeKind.GRANTS.value,
                   namespace=b.namespace if b.kind == "RoleBinding" else "")
        for s in b.subjects:
            found = _subject_node(s, b)
            if found is None:
                continue
            sid, ns = found
            if sid not in g:
                if s.kind == "ServiceAccount":
                    _add_service_account(g, sid, ns, s.name, None)
                else:
                    g.add_node(sid, kind=s.kind, name=s.name, namespace="", source="", implicit=False)
            g.add_edge(sid, b.id, key=EdgeKind.SUBJECT_OF.value)
    for name, sources in aggregation_sources(index.all_roles).items():
        for src in sources:
            g.add_edge(node_id("ClusterRole", name), node_id("ClusterRole", src), key=EdgeKind.AGGREGATES.value)
    for w in workloads:
        g.add_node(w.id, kind=w.kind, name=w.name, namespace=w.namespace, source=_src(w),
                   service_account=w.service_account_id, automount_token=w.automount_token)
        if w.service_account_id not in g:
            _add_service_account(g, w.service_account_id, w.namespace, w.service_account, None)
        g.add_edge(w.id, w.service_account_id, key=EdgeKind.RUNS_AS.value, automount_token=w.automount_token)
    # implied groups of every service account (after workloads, which may add service accounts)
    for sid, attrs in list(g.nodes(data=True)):
        if attrs.get("kind") != "ServiceAccount":
            continue
        for group in (*sa_groups(attrs["namespace"]), AUTHENTICATED):
            gid = node_id("Group", group)
            if gid not in g:
                g.add_node(gid, kind="Group", name=group, namespace="", source="", implicit=True)
            else:
                g.nodes[gid]["implicit"] = True
            g.add_edge(sid, gid, key=EdgeKind.MEMBER_OF.value, implied=True)
    return g


def _add_service_account(g: nx.MultiDiGraph, sid: str, namespace: str, name: str,
                         sa: ServiceAccount | None) -> None:
    attrs: dict[str, Any] = {"kind": "ServiceAccount", "name": name, "namespace": namespace,
                             "source": _src(sa) if sa else "", "defined": sa is not None}
    if sa is not None and sa.automount_token is not None:
        attrs["automount_token"] = sa.automount_token
    g.add_node(sid, **attrs)


# -- views -----------------------------------------------------------------------------------------------


class _View:
    """Builds one focused graph; every node carries the render attributes."""

    def __init__(self, title: str, danger: DangerCache | None = None) -> None:
        self.g = nx.MultiDiGraph(title=title)
        self.danger = danger or DangerCache()

    def __len__(self) -> int:
        return self.g.number_of_nodes()

    def node(self, nid: str, **attrs: Any) -> str:
        base = {"kind": "", "name": "", "namespace": "", "source": "", "layer": LAYER_SUBJECT, "cluster": "",
                "danger": "", "danger_tags": [], "implied": False, "missing": False, "detail": ""}
        base.update(attrs)
        if "danger_tags" in attrs:
            attrs["danger_titles"] = base["danger_titles"] = danger_titles(attrs["danger_tags"])
        if nid in self.g:
            self.g.nodes[nid].update({k: v for k, v in attrs.items() if k != "implied"})
        else:
            self.g.add_node(nid, **base)
        return nid

    def edge(self, u: str, v: str, key: str, **attrs: Any) -> None:
        if not self.g.has_edge(u, v, key=key):
            self.g.add_edge(u, v, key=key, **attrs)

    def subject(self, subject: Subject, namespace: str = "", *, implied: bool = False) -> str:
        ns = (subject.namespace or namespace) if subject.kind == "ServiceAccount" else ""
        nid = node_id(subject.kind, subject.name, ns)
        layer = LAYER_GROUP if subject.kind == "Group" and implied else LAYER_SUBJECT
        return self.node(nid, kind=subject.kind, name=subject.name, namespace=ns, layer=layer, implied=implied)

    def binding(self, b: Binding) -> str:
        cluster = namespace_cluster(b.namespace) if b.kind == "RoleBinding" else CLUSTER_WIDE
        return self.node(b.id, kind=b.kind, name=b.name, namespace=b.namespace, source=_src(b),
                         layer=LAYER_BINDING, cluster=cluster, detail=f"→ {b.role_ref.kind} {b.role_ref.name}")

    def role(self, role: Role | None, b: Binding) -> str:
        """The role node of a grant, one per scope: a ClusterRole granted in a namespace is drawn there."""
        scope = b.namespace if b.kind == "RoleBinding" else ""
        cluster = namespace_cluster(scope) if scope else CLUSTER_WIDE
        rid = b.role_id
        nid = f"{rid} @ {scope}" if scope and b.role_ref.kind == "ClusterRole" else rid
        if role is None:
            return self.node(nid, kind=b.role_ref.kind, name=b.role_ref.name,
                             namespace=b.namespace if b.role_ref.kind == "Role" else "", layer=LAYER_ROLE,
                             cluster=cluster, missing=True, detail="not found: grants nothing")
        tags = self.danger.rules(role.rules)
        return self.node(nid, kind=role.kind, name=role.name, namespace=role.namespace, source=_src(role),
                         layer=LAYER_ROLE, cluster=cluster, danger_tags=list(tags),
                         danger=self.danger.severity(tags), rule_count=len(role.rules),
                         detail=_rules_detail(role), tooltip_rules=[r.summary() for r in role.rules[:40]])

    def rules(self, role_node: str, role: Role, cluster: str, limit: int = MAX_RULES) -> None:
        """Permission nodes for the role's rules, dangerous ones first, then ``+N more rules``."""
        indexed = list(enumerate(role.rules))
        indexed.sort(key=lambda ir: (-_rank(self.danger.severity(self.danger.rule(ir[1]))), ir[0]))
        for i, rule in indexed[:limit]:
            tags = self.danger.rule(rule)
            pid = self.node(f"{role_node}#{i}", kind="Permission", name=rule.summary(), source=_src(role),
                            layer=LAYER_PERMISSION, cluster=cluster, danger_tags=list(tags),
                            danger=self.danger.severity(tags), rule=rule_text(rule),
                            detail="; ".join(danger_titles(tags[:1])))
            self.edge(role_node, pid, RULE)
        if len(indexed) > limit:
            self.more(role_node, f"{role_node}#more", len(indexed) - limit, "rules", cluster, LAYER_PERMISSION)

    def more(self, parent: str, nid: str, count: int, what: str, cluster: str, layer: int,
             *, reverse: bool = False) -> str:
        self.node(nid, kind="More", name=f"+{count} more {what}", count=count, cluster=cluster, layer=layer)
        if reverse:
            self.edge(nid, parent, MORE)
        else:
            self.edge(parent, nid, MORE)
        return nid


def _rank(severity: str) -> int:
    return {"critical": 4, "high": 3, "medium": 2, "low": 1}.get(severity, 0)


def _rules_detail(role: Role) -> str:
    n = len(role.rules)
    text = f"{n} rule{'s' if n != 1 else ''}"
    if role.aggregation_rule is not None:
        text += " (aggregated)"
    return text


def _binding_order(b: Binding) -> tuple[int, str, str]:
    return (0 if b.kind == "ClusterRoleBinding" else 1, b.namespace, b.name)


def _implied_groups(user: UserInfo) -> set[str]:
    """Groups the API server adds by itself: system:authenticated/unauthenticated and a SA's groups."""
    out = {AUTHENTICATED, UNAUTHENTICATED}
    try:
        ns, _ = split_sa_username(user.username)
        out.update(sa_groups(ns))
    except UsageError:
        pass
    return out


def subject_view(index: PolicyIndex, user: UserInfo, *, subject: Subject | None = None,
                 explicit_groups: Sequence[str] = (), namespace: str | None = None,
                 max_nodes: int = 150, max_rules: int = MAX_RULES,
                 danger: DangerCache | None = None) -> nx.MultiDiGraph:
    """What one subject can do: subject → (implied) groups → bindings → roles → rules, per namespace.

    ``user`` is the identity that asks (``Analysis.user_for_subject`` or an impersonated user);
    ``subject`` names the node to start from (a Group subject starts from the group itself).
    ``namespace`` keeps cluster-wide grants and that namespace's only. Bindings come from
    ``PolicyIndex.bindings_applying_anywhere``; beyond ``max_nodes`` the rest is one ``+N more`` node.
    """
    if subject is None:
        try:
            ns, name = split_sa_username(user.username)
            subject = Subject(kind="ServiceAccount", name=name, namespace=ns)
        except UsageError:
            subject = Subject(kind="User", name=user.username)
    view = _View(f"What {node_id(subject.kind, subject.name, subject.namespace)} can do"
                 + (f" (cluster-wide and in namespace {namespace})" if namespace else ""), danger)
    start = view.subject(subject)
    implied = _implied_groups(user) - set(explicit_groups)
    group_nodes: dict[str, str] = {}
    for grp in sorted(user.groups):
        if subject.kind == "Group" and grp == subject.name:
            group_nodes[grp] = start
            continue
        gid = view.subject(Subject(kind="Group", name=grp), implied=grp in implied)
        view.g.nodes[gid]["layer"] = LAYER_GROUP
        if grp in implied:
            view.g.nodes[gid]["detail"] = "implied group"
        view.edge(start, gid, EdgeKind.MEMBER_OF.value, implied=grp in implied)
        group_nodes[grp] = gid
    if SYSTEM_MASTERS in user.groups:
        pid = view.node("Permission:system:masters", kind="Permission", name="every request",
                        layer=LAYER_PERMISSION, danger="critical", danger_tags=["admin"],
                        detail="system:masters authorizer: no binding needed")
        view.edge(group_nodes[SYSTEM_MASTERS], pid, RULE)
    found = index.bindings_applying_anywhere(user)
    if namespace is not None:
        found = [(b, s) for b, s in found if b.kind == "ClusterRoleBinding" or b.namespace == namespace]
    found.sort(key=lambda bs: _binding_order(bs[0]))
    for n, (b, s) in enumerate(found):
        role = index.role_for(b)
        cost = 2 + (min(len(role.rules), max_rules) + 1 if role else 0)
        if len(view) + cost > max_nodes and n:
            view.more(start, "More:bindings", len(found) - n, "bindings", "", LAYER_BINDING)
            break
        frm = group_nodes.get(s.name, start) if s.kind == "Group" else start
        bid = view.binding(b)
        view.edge(frm, bid, EdgeKind.SUBJECT_OF.value)
        rid = view.role(role, b)
        view.edge(bid, rid, EdgeKind.GRANTS.value)
        if role is not None:
            view.rules(rid, role, view.g.nodes[rid]["cluster"], max_rules)
    return view.g


def who_can_view(request: Request, accesses: Sequence[SubjectAccess], *, errors: Sequence[str] = (),
                 max_nodes: int = 150, danger: DangerCache | None = None) -> nx.MultiDiGraph:
    """Who can do one request: subjects → bindings → roles → the request, edges labelled by the rule.

    ``accesses`` is a who-can answer (``queries.who_can``); nothing else is looked up.
    """
    view = _View(f"Who can {request.describe()}", danger)
    # how dangerous the request itself is: ask semantics about a rule granting exactly it
    asked = (PolicyRule(verbs=(request.verb,), api_groups=(request.api_group,), resources=(request.combined_resource,))
             if request.resource_request else PolicyRule(verbs=(request.verb,), non_resource_urls=(request.path,)))
    tags = view.danger.rule(asked)
    target = view.node("Request", kind="Request", name=request.describe(), layer=LAYER_PERMISSION,
                       detail="request", danger_tags=list(tags), danger=view.danger.severity(tags))
    view.g.graph["errors"] = list(dict.fromkeys(errors))
    for n, access in enumerate(accesses):
        if len(view) >= max_nodes and n:
            rest = accesses[n:]
            view.more(target, "More:subjects", len(rest), "subjects", "", LAYER_SUBJECT, reverse=True)
            break
        sid = view.subject(access.subject)
        if access.authorizer:
            view.g.nodes[sid]["detail"] = "authorizer: no binding needed"
            view.g.nodes[sid]["danger"] = "critical"
            view.edge(sid, target, RULE)
            continue
        for grant in access.grants:
            bid = view.binding(grant.binding)
            view.edge(sid, bid, EdgeKind.SUBJECT_OF.value)
            rid = view.role(grant.role, grant.binding)
            view.edge(bid, rid, EdgeKind.GRANTS.value)
            key = f"{RULE}:{grant.rule_index}"
            view.edge(rid, target, key, label=grant.rule.summary(), rule=rule_text(grant.rule),
                      source=_src(grant.role))
    return view.g


def namespace_view(index: PolicyIndex, namespace: str, *, service_accounts: Sequence[ServiceAccount] = (),
                   workloads: Sequence[Workload] = (), max_nodes: int = 200,
                   max_rules: int = MAX_RULES, danger: DangerCache | None = None) -> nx.MultiDiGraph:
    """Everything bound in one namespace: its RoleBindings (subjects → binding → role → rules), the
    ClusterRoleBindings that name its service accounts, and the workloads running as them."""
    view = _View(f"Namespace {namespace}: who is bound here", danger)
    bindings = sorted(index.role_bindings.get(namespace, ()), key=_binding_order)
    sa_bindings: list[tuple[Binding, Subject]] = []
    for sa in sorted(service_accounts, key=lambda s: s.name):
        if sa.namespace != namespace:
            continue
        user = UserInfo(username=sa.username, groups=sa_groups(namespace))
        for b, s in index.bindings_applying(user, ""):
            if s.kind == "ServiceAccount":
                sa_bindings.append((b, Subject(kind="ServiceAccount", name=sa.name, namespace=namespace)))
    items = [(b, list(b.subjects)) for b in bindings]
    merged: dict[str, tuple[Binding, list[Subject]]] = {}
    for b, s in sorted(sa_bindings, key=lambda bs: (_binding_order(bs[0]), bs[1].name)):
        merged.setdefault(b.id, (b, []))[1].append(s)
    items = [*merged.values(), *items]
    for n, (b, subjects) in enumerate(items):
        if len(view) >= max_nodes and n:
            view.node(f"Namespace:{namespace}", kind="Namespace", name=namespace, layer=LAYER_SUBJECT)
            view.more(f"Namespace:{namespace}", "More:bindings", len(items) - n, "bindings",
                      namespace_cluster(namespace), LAYER_BINDING)
            break
        bid = view.binding(b)
        for s in subjects:
            if s.kind == "ServiceAccount" and not (s.namespace or b.kind == "RoleBinding"):
                continue
            view.edge(view.subject(s, b.namespace), bid, EdgeKind.SUBJECT_OF.value)
        role = index.role_for(b)
        rid = view.role(role, b)
        view.edge(bid, rid, EdgeKind.GRANTS.value)
        if role is not None:
            view.rules(rid, role, view.g.nodes[rid]["cluster"], max_rules)
    for w in sorted(workloads, key=lambda w: (w.kind, w.name)):
        if w.namespace != namespace or w.service_account_id not in view.g:
            continue
        wid = view.node(w.id, kind=w.kind, name=w.name, namespace=w.namespace, source=_src(w),
                        layer=LAYER_WORKLOAD, automount_token=w.automount_token,
                        detail="" if w.automount_token else "token not mounted")
        view.edge(wid, w.service_account_id, EdgeKind.RUNS_AS.value, automount_token=w.automount_token)
    return view.g


def overview(index: PolicyIndex, *, max_nodes: int = 150, fan: int = 5,
             danger: DangerCache | None = None) -> nx.MultiDiGraph:
    """The whole policy, collapsed to stay readable.

    Bootstrap ``system:`` roles and their bindings become one node; roles are drawn most dangerous and
    most bound first, each with at most ``fan`` bindings and ``fan`` subjects per binding (then
    ``+N more`` nodes), until ``max_nodes``; the rest is one ``+N more roles`` node. Dangerous
    permissions are drawn once each (one Permission node per kind of danger), reached from the roles
    that hold them.
    """
    view = _View("RBAC policy overview", danger)
    by_role: dict[str, list[Binding]] = {}
    for b in index.cluster_role_bindings:
        by_role.setdefault(b.role_id, []).append(b)
    for ns in sorted(index.role_bindings):
        for b in index.role_bindings[ns]:
            by_role.setdefault(b.role_id, []).append(b)
    roles: dict[str, Role] = {r.id: r for r in index.all_roles}
    collapsed_roles: set[str] = set()
    collapsed_bindings = 0
    entries: list[tuple[int, int, str]] = []
    for rid, bl in by_role.items():
        role = roles.get(rid)
        name = role.name if role else bl[0].role_ref.name
        bootstrap = (role.is_bootstrap if role else False) or all(b.is_bootstrap for b in bl)
        if bootstrap and name.startswith("system:"):
            collapsed_roles.add(rid)
            collapsed_bindings += len(bl)
            continue
        sev = view.danger.severity(view.danger.rules(role.rules)) if role else ""
        entries.append((-_rank(sev), -len(bl), rid))
    entries.sort()
    unbound = sum(1 for rid in roles if rid not in by_role)
    view.g.graph["unbound_roles"] = unbound
    if collapsed_roles:
        view.node("Collapsed:bootstrap", kind="Collapsed", name="bootstrap system: roles",
                  layer=LAYER_ROLE, count=len(collapsed_roles),
                  detail=f"{len(collapsed_roles)} roles, {collapsed_bindings} bindings (grouped)")
    shown_roles: list[str] = []
    for n, (_, _, rid) in enumerate(entries):
        if len(view) >= max_nodes and n:
            rest = entries[n:]
            view.node("More:roles", kind="More", name=f"+{len(rest)} more roles",
                      count=len(rest), layer=LAYER_ROLE,
                      detail=f"{sum(-e[1] for e in rest)} bindings")
            break
        role = roles.get(rid)
        bl = sorted(by_role[rid], key=_binding_order)
        first = bl[0]
        role_nid = view.node(rid, kind=first.role_ref.kind, name=role.name if role else first.role_ref.name,
                             namespace=role.namespace if role else (first.namespace if first.role_ref.kind == "Role" else ""),
                             layer=LAYER_ROLE, missing=role is None,
                             detail=_rules_detail(role) if role else "not found: grants nothing")
        if role is not None:
            tags = view.danger.rules(role.rules)
            view.g.nodes[rid].update(source=_src(role), danger_tags=list(tags), danger=view.danger.severity(tags),
                                     tooltip_rules=[r.summary() for r in role.rules[:40]],
                                     rule_count=len(role.rules))
            for tag in tags[:1] if ADMIN in tags else tags:  # admin-equivalent implies every other danger
                sev = danger_severity([tag])
                pid = view.node(f"Permission:{tag}", kind="Permission", name=danger_titles([tag])[0],
                                layer=LAYER_PERMISSION, danger=sev.value if sev else "", danger_tags=[tag])
                view.edge(role_nid, pid, RULE)
        shown_roles.append(rid)
        for b in bl[:fan]:
            bid = view.binding(b)
            view.edge(bid, role_nid, EdgeKind.GRANTS.value)
            subjects = [s for s in b.subjects if _subject_node(s, b) is not None]
            for s in subjects[:fan]:
                view.edge(view.subject(s, b.namespace), bid, EdgeKind.SUBJECT_OF.value)
            if len(subjects) > fan:
                view.more(bid, f"More:subjects of {b.id}", len(subjects) - fan, "subjects",
                          view.g.nodes[bid]["cluster"], LAYER_SUBJECT, reverse=True)
        if len(bl) > fan:
            view.more(role_nid, f"More:bindings of {rid}", len(bl) - fan, "bindings", "", LAYER_BINDING,
                      reverse=True)
    shown = set(shown_roles)
    for name, sources in aggregation_sources([r for r in index.all_roles if r.id in shown]).items():
        for src in sources:
            view.edge(node_id("ClusterRole", name), node_id("ClusterRole", src), EdgeKind.AGGREGATES.value)
    return view.g
