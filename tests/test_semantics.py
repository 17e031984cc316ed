"""RBAC semantics beyond Kubernetes' own tables: aggregation, identities, reasons, who-can, near misses."""

from __future__ import annotations

import doctest
import importlib

import pytest

from analyzer import Analysis, Request, UserInfo
from analyzer.errors import UsageError
from analyzer.semantics import ResourceCatalog, go_quote, impersonated_user

RBAC = "rbac.authorization.k8s.io/v1"


def cr(name, rules=None, labels=None, agg=None):
    d = {"apiVersion": RBAC, "kind": "ClusterRole", "metadata": {"name": name, "labels": labels or {}}}
    if rules is not None:
        d["rules"] = rules
    if agg is not None:
        d["aggregationRule"] = {"clusterRoleSelectors": agg}
    return d


def binding(kind, name, role_kind, role, subjects, ns=None):
    meta = {"name": name}
    if ns:
        meta["namespace"] = ns
    return {"apiVersion": RBAC, "kind": kind, "metadata": meta,
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": role}, "subjects": subjects}


GET_PODS = {"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}
LIST_SECRETS = {"apiGroups": [""], "resources": ["secrets"], "verbs": ["list"]}


@pytest.mark.parametrize("module", ["analyzer.semantics.matching", "analyzer.semantics.subjects",
                                    "analyzer.semantics.covers", "analyzer.semantics.resources",
                                    "analyzer.semantics.describe", "analyzer.model.rbac"])
def test_doctests(module):
    result = doctest.testmod(importlib.import_module(module))
    assert result.failed == 0 and result.attempted > 0


def test_aggregation_chain_reaches_fixed_point_and_replaces_own_rules():
    objs = [
        cr("admin", rules=[LIST_SECRETS], agg=[{"matchLabels": {"to-admin": "true"}}]),
        cr("edit", labels={"to-admin": "true"}, agg=[{"matchLabels": {"to-edit": "true"}}]),
        cr("view", labels={"to-edit": "true"}, agg=[{"matchLabels": {"to-view": "true"}}]),
        cr("pods-reader", rules=[GET_PODS], labels={"to-view": "true"}),
    ]
    a = Analysis.from_objects(objs)
    roles = {r.name: r for r in a.index.all_roles}
    # 'admin' sorts before 'edit' and 'view': only repeated syncs carry pods-reader's rule up the chain
    assert [r.to_dict() for r in roles["admin"].rules] == [GET_PODS]
    assert roles["admin"].written_rules is not None  # its own LIST_SECRETS was replaced, not merged
    assert a.notices == []


def test_aggregation_selectors_not_in_empty_and_invalid():
    objs = [
        cr("a-all", labels={"tier": "x"}, agg=[{}]),  # the empty selector selects every ClusterRole
        cr("b-notin", agg=[{"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["x"]}]}]),
        cr("c-bad", labels={"tier": "x"}, agg=[{"matchExpressions": [{"key": "tier", "operator": "Bogus"}]}]),
        cr("r1", rules=[GET_PODS], labels={"tier": "x"}),
        cr("r2", rules=[LIST_SECRETS]),
    ]
    roles = {r.name: r for r in Analysis.from_objects(objs).index.all_roles}
    assert [r.to_dict() for r in roles["b-notin"].rules] == [LIST_SECRETS]  # NotIn also matches absent labels
    assert roles["c-bad"].rules == ()
    assert {tuple(r.resources) for r in roles["a-all"].rules} == {("pods",), ("secrets",)}


def test_aggregation_cycle_is_a_notice_not_a_hang():
    objs = [
        cr("x", labels={"l": "x"}, agg=[{"matchLabels": {"l": "y"}}]),
        cr("y", labels={"l": "y"}, agg=[{"matchLabels": {"l": "x"}}]),
        cr("seed", rules=[GET_PODS], labels={"l": "x"}),
    ]
    a = Analysis.from_objects(objs)
    a.index  # noqa: B018 - building the index must terminate
    # x aggregates y, y aggregates x and seed: it settles (union is monotone); no hang either way
    roles = {r.name: r for r in a.index.all_roles}
    assert [r.to_dict() for r in roles["x"].rules] == [GET_PODS]


def test_impersonation_builds_identities_like_the_api_server():
    assert impersonated_user("alice").groups == ("system:authenticated",)
    assert impersonated_user("alice", ["dev"]).groups == ("dev", "system:authenticated")
    assert impersonated_user("system:serviceaccount:ci:b").groups == (
        "system:serviceaccounts", "system:serviceaccounts:ci", "system:authenticated")
    assert impersonated_user("system:serviceaccount:ci:b", ["g"]).groups == ("g", "system:authenticated")
    assert impersonated_user("system:anonymous").groups == ("system:unauthenticated",)
    with pytest.raises(UsageError):
        impersonated_user("", ["dev"])


def test_reason_strings_word_for_word():
    objs = [
        cr("viewer", rules=[GET_PODS]),
        binding("RoleBinding", "rb", "ClusterRole", "viewer",
                [{"kind": "User", "name": "x"}, {"kind": "ServiceAccount", "name": "app"}], ns="team"),
        binding("ClusterRoleBinding", 'we"ird', "ClusterRole", "viewer", [{"kind": "Group", "name": "g"}]),
    ]
    a = Analysis.from_objects(objs)
    d = a.check(UserInfo(username="system:serviceaccount:team:app"), Request(verb="get", resource="pods",
                                                                              namespace="team"))
    # the first *matching* subject, the SA printed name/namespace, the binding name/namespace
    assert d.reason == 'RBAC: allowed by RoleBinding "rb/team" of ClusterRole "viewer" to ServiceAccount "app/team"'
    d = a.check(UserInfo(username="u", groups=("g",)), Request(verb="get", resource="pods", namespace="team"))
    # ClusterRoleBindings are visited first; Go %q quoting
    assert d.reason == 'RBAC: allowed by ClusterRoleBinding "we\\"ird" of ClusterRole "viewer" to Group "g"'
    assert go_quote("a\nb\\") == '"a\\nb\\\\"'


def test_missing_roles_reason_only_when_not_allowed():
    objs = [
        cr("viewer", rules=[GET_PODS]),
        binding("ClusterRoleBinding", "gone1", "ClusterRole", "gone", [{"kind": "User", "name": "u"}]),
        binding("RoleBinding", "gone2", "Role", "gone-role", [{"kind": "User", "name": "u"}], ns="ns"),
        binding("RoleBinding", "ok", "ClusterRole", "viewer", [{"kind": "User", "name": "u"}], ns="ns"),
        binding("ClusterRoleBinding", "other", "ClusterRole", "gone3", [{"kind": "User", "name": "someone-else"}]),
    ]
    a = Analysis.from_objects(objs)
    u = UserInfo(username="u")
    assert a.check(u, Request(verb="get", resource="pods", namespace="ns")).allowed
    d = a.check(u, Request(verb="delete", resource="pods", namespace="ns"))
    assert d.reason == ('RBAC: [clusterrole.rbac.authorization.k8s.io "gone" not found, '
                        'role.rbac.authorization.k8s.io "gone-role" not found]')
    assert {m.reasons for m in d.near_misses} >= {("missing-role",), ("verb",)}


def test_who_can_merges_subjects_and_fills_sa_namespace():
    objs = [
        cr("viewer", rules=[GET_PODS]),
        cr("viewer2", rules=[GET_PODS, {"apiGroups": ["*"], "resources": ["*"], "verbs": ["get"]}]),
        binding("RoleBinding", "a", "ClusterRole", "viewer", [{"kind": "ServiceAccount", "name": "app"}], ns="team"),
        binding("RoleBinding", "b", "ClusterRole", "viewer2", [{"kind": "ServiceAccount", "name": "app",
                                                               "namespace": "team"}], ns="team"),
        binding("ClusterRoleBinding", "c", "ClusterRole", "viewer", [{"kind": "ServiceAccount", "name": "nons"}]),
        binding("ClusterRoleBinding", "d", "ClusterRole", "viewer", [{"kind": "Group", "name": "system:masters"}]),
    ]
    a = Analysis.from_objects(objs)
    result = a.who_can("get", "pods", namespace="team")
    assert result[0].subject.name == "system:masters" and result[0].authorizer == "system:masters"
    keyed = {(s.subject.kind, s.subject.namespace, s.subject.name): s for s in result}
    assert set(keyed) == {("Group", "", "system:masters"), ("ServiceAccount", "team", "app")}
    assert len(keyed[("ServiceAccount", "team", "app")].grants) == 3  # two rules of b, one of a
    assert any(n.code == "sa-without-namespace" for n in a.notices)


def test_rolebinding_never_grants_cluster_scope_or_urls():
    objs = [
        cr("all", rules=[{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
                         {"nonResourceURLs": ["*"], "verbs": ["*"]}]),
        binding("RoleBinding", "rb", "ClusterRole", "all", [{"kind": "User", "name": "u"}], ns="ns"),
    ]
    a = Analysis.from_objects(objs)
    u = UserInfo(username="u")
    assert a.check(u, Request(verb="get", resource="nodes", namespace="ns")).allowed  # namespaced request: yes
    assert not a.check(u, Request(verb="get", resource="nodes")).allowed
    assert not a.check(u, Request(verb="get", path="/healthz", resource_request=False)).allowed
    assert [s.subject.name for s in a.who_can("list", "pods")] == ["system:masters"]


@pytest.mark.parametrize(("text", "resource", "group", "namespaced"), [
    ("po", "pods", "", True), ("pods", "pods", "", True), ("Pod", "pods", "", True),
    ("deploy", "deployments", "apps", True), ("deployments.apps", "deployments", "apps", True),
    ("Deployment", "deployments", "apps", True), ("crb", "clusterrolebindings", "rbac.authorization.k8s.io", False),
    ("no", "nodes", "", False), ("sa", "serviceaccounts", "", True), ("csr", "certificatesigningrequests",
                                                                     "certificates.k8s.io", False),
    ("ev", "events", "", True), ("cronjobs.batch", "cronjobs", "batch", True),
])
def test_resource_catalog(text, resource, group, namespaced):
    t = ResourceCatalog().resolve(text)
    assert (t.resource, t.group, t.namespaced) == (resource, group, namespaced)


def test_crds_extend_the_catalog():
    crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
           "metadata": {"name": "widgets.example.com"},
           "spec": {"group": "example.com", "scope": "Cluster",
                    "names": {"plural": "widgets", "kind": "Widget", "shortNames": ["wg"]}}}
    a = Analysis.from_objects([crd])
    req = a.parse_request("get", "wg", namespace="x")
    assert (req.resource, req.api_group, req.namespace) == ("widgets", "example.com", "")
    assert a.parse_request("get", "Widget").api_group == "example.com"
    with pytest.raises(UsageError):
        a.parse_request("get", "gadgets")


def test_rule_coverage_keeps_huge_owner_rules_as_rules_and_still_answers():
    # a rule whose verbs × groups × resources product is too large to expand is checked with rule_covers
    from analyzer.model import PolicyRule
    from analyzer.semantics.covers import RuleCoverage, covers
    huge = PolicyRule(verbs=("get", "list"), api_groups=("", "apps"), resources=tuple(f"r{i}" for i in range(3000)),
                      resource_names=("x",))
    owner = RuleCoverage([huge])
    assert owner._large == [huge]  # not expanded
    wanted = PolicyRule(verbs=("get",), api_groups=("apps",), resources=("r2999",), resource_names=("x",))
    assert owner.holds([wanted]) and covers([huge], [wanted])[0]
    assert not owner.holds([PolicyRule(verbs=("get",), api_groups=("apps",), resources=("r2999",))])  # any name
    assert not owner.holds([PolicyRule(verbs=("watch",), api_groups=("",), resources=("r1",), resource_names=("x",))])
