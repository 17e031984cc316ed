"""The permission graph and its focused views, asserted as sets of nodes and edges."""

from __future__ import annotations

import pytest

from analyzer import Analysis
from analyzer.graph import build_graph, namespace_view, overview, subject_view, who_can_view
from analyzer.model import PolicyRule
from analyzer.semantics import aggregation_sources, is_admin_equivalent, rule_dangers, rules_dangers

from .conftest import ROOT
from .graph_fixtures import SMALL

KSM = ROOT / "tests" / "fixtures" / "samples" / "kube-state-metrics"
DASHBOARD = ROOT / "tests" / "fixtures" / "samples" / "kubernetes-dashboard.yaml"


@pytest.fixture(scope="module")
def small() -> Analysis:
    return Analysis.from_texts([("small.yaml", SMALL)])


def edges(g, key=None):
    return {(u, v, k) for u, v, k in g.edges(keys=True) if key is None or k == key}


def test_whole_graph_nodes_and_edges(small):
    g = small.graph
    assert set(g.nodes) == {
        "ClusterRole:cluster-admin", "ClusterRole:pod-reader", "ClusterRole:reader", "ClusterRole:secret-reader",
        "ClusterRoleBinding:admins", "RoleBinding:ci/builder-read", "RoleBinding:ci/deployer",
        "RoleBinding:ci/dangling", "Role:ci/deployer", "Role:ci/nope",
        "ServiceAccount:ci/builder", "ServiceAccount:ci/ghost", "User:alice", "User:bob", "Group:ops",
        "Group:system:serviceaccounts:ci", "Group:system:serviceaccounts", "Group:system:authenticated",
        "Deployment:ci/web", "Pod:ci/runner",
    }
    sa_groups = {"Group:system:serviceaccounts", "Group:system:serviceaccounts:ci", "Group:system:authenticated"}
    assert edges(g) == {
        ("ServiceAccount:ci/builder", "RoleBinding:ci/builder-read", "SUBJECT_OF"),
        ("User:alice", "RoleBinding:ci/builder-read", "SUBJECT_OF"),
        ("Group:ops", "ClusterRoleBinding:admins", "SUBJECT_OF"),
        ("Group:system:serviceaccounts:ci", "RoleBinding:ci/deployer", "SUBJECT_OF"),
        ("ServiceAccount:ci/ghost", "RoleBinding:ci/deployer", "SUBJECT_OF"),
        ("User:bob", "RoleBinding:ci/dangling", "SUBJECT_OF"),
        ("RoleBinding:ci/builder-read", "ClusterRole:reader", "GRANTS"),
        ("ClusterRoleBinding:admins", "ClusterRole:cluster-admin", "GRANTS"),
        ("RoleBinding:ci/deployer", "Role:ci/deployer", "GRANTS"),
        ("RoleBinding:ci/dangling", "Role:ci/nope", "GRANTS"),
        ("ClusterRole:reader", "ClusterRole:pod-reader", "AGGREGATES"),
        ("ClusterRole:reader", "ClusterRole:secret-reader", "AGGREGATES"),
        ("Deployment:ci/web", "ServiceAccount:ci/builder", "RUNS_AS"),
        ("Pod:ci/runner", "ServiceAccount:ci/builder", "RUNS_AS"),
        *{(sa, grp, "MEMBER_OF") for sa in ("ServiceAccount:ci/builder", "ServiceAccount:ci/ghost") for grp in sa_groups},
    }


def test_node_attributes(small):
    g = small.graph
    for _, attrs in g.nodes(data=True):
        assert {"kind", "name", "namespace", "source"} <= set(attrs)
    sa = g.nodes["ServiceAccount:ci/builder"]
    assert (sa["kind"], sa["name"], sa["namespace"], sa["defined"], sa["automount_token"]) == (
        "ServiceAccount", "builder", "ci", True, False)
    assert sa["source"].startswith("small.yaml")
    assert g.nodes["ServiceAccount:ci/ghost"]["defined"] is False
    reader = g.nodes["ClusterRole:reader"]
    assert reader["aggregated"] is True
    assert reader["rules"] == ['get,list pods [""]', 'get,list secrets [""]']  # after aggregation
    assert reader["danger_tags"] == ["secrets"] and reader["danger"] == "high"
    assert g.nodes["ClusterRole:cluster-admin"]["danger"] == "critical"
    assert g.nodes["Role:ci/nope"]["missing"] is True
    assert g.nodes["Group:system:authenticated"]["implicit"] is True
    assert g.nodes["Group:ops"]["implicit"] is False
    # automountServiceAccountToken: the Deployment inherits the SA's false, the Pod overrides it
    assert g.edges["Deployment:ci/web", "ServiceAccount:ci/builder", "RUNS_AS"]["automount_token"] is False
    assert g.edges["Pod:ci/runner", "ServiceAccount:ci/builder", "RUNS_AS"]["automount_token"] is True
    assert g.edges["RoleBinding:ci/builder-read", "ClusterRole:reader", "GRANTS"]["namespace"] == "ci"
    assert g.edges["ClusterRoleBinding:admins", "ClusterRole:cluster-admin", "GRANTS"]["namespace"] == ""


def test_permissions_stay_on_roles(small):
    """No node or edge per resource: only RBAC objects, subjects and workloads are nodes."""
    kinds = {k for _, k in small.graph.nodes(data="kind")}
    assert kinds == {"ClusterRole", "Role", "ClusterRoleBinding", "RoleBinding", "ServiceAccount", "User", "Group",
                     "Deployment", "Pod"}


def test_kube_state_metrics_sample():
    a = Analysis.from_paths([str(KSM)])
    g = a.graph
    sa = "ServiceAccount:kube-system/kube-state-metrics"
    assert edges(g) - edges(g, "MEMBER_OF") == {
        (sa, "ClusterRoleBinding:kube-state-metrics", "SUBJECT_OF"),
        ("ClusterRoleBinding:kube-state-metrics", "ClusterRole:kube-state-metrics", "GRANTS"),
        ("Deployment:kube-system/kube-state-metrics", sa, "RUNS_AS"),
    }
    # the SA says automount false, the pod template says true: the pod wins
    assert g.edges["Deployment:kube-system/kube-state-metrics", sa, "RUNS_AS"]["automount_token"] is True
    assert g.nodes[sa]["automount_token"] is False
    assert "secrets" in g.nodes["ClusterRole:kube-state-metrics"]["danger_tags"]  # it lists secrets


def test_kubernetes_dashboard_sample():
    g = Analysis.from_paths([str(DASHBOARD)]).graph
    sa = "ServiceAccount:kubernetes-dashboard/kubernetes-dashboard"
    assert {
        (sa, "RoleBinding:kubernetes-dashboard/kubernetes-dashboard", "SUBJECT_OF"),
        (sa, "ClusterRoleBinding:kubernetes-dashboard", "SUBJECT_OF"),
        ("RoleBinding:kubernetes-dashboard/kubernetes-dashboard", "Role:kubernetes-dashboard/kubernetes-dashboard",
         "GRANTS"),
        ("ClusterRoleBinding:kubernetes-dashboard", "ClusterRole:kubernetes-dashboard", "GRANTS"),
        ("Deployment:kubernetes-dashboard/kubernetes-dashboard", sa, "RUNS_AS"),
        ("Deployment:kubernetes-dashboard/dashboard-metrics-scraper", sa, "RUNS_AS"),
    } <= edges(g)


def test_hand_built_graph_matches_api(small):
    g = build_graph(small.inventory)  # builds its own index; no workloads
    assert edges(g, "RUNS_AS") == set()
    assert edges(g) == edges(small.graph) - edges(small.graph, "RUNS_AS")


# -- views -----------------------------------------------------------------------------------------------


def test_subject_view_service_account(small):
    v = small.subject_graph("ServiceAccount:ci/builder")
    assert edges(v) == {
        ("ServiceAccount:ci/builder", "Group:system:authenticated", "MEMBER_OF"),
        ("ServiceAccount:ci/builder", "Group:system:serviceaccounts", "MEMBER_OF"),
        ("ServiceAccount:ci/builder", "Group:system:serviceaccounts:ci", "MEMBER_OF"),
        ("ServiceAccount:ci/builder", "RoleBinding:ci/builder-read", "SUBJECT_OF"),
        ("Group:system:serviceaccounts:ci", "RoleBinding:ci/deployer", "SUBJECT_OF"),
        ("RoleBinding:ci/builder-read", "ClusterRole:reader @ ci", "GRANTS"),
        ("RoleBinding:ci/deployer", "Role:ci/deployer", "GRANTS"),
        ("ClusterRole:reader @ ci", "ClusterRole:reader @ ci#0", "RULE"),
        ("ClusterRole:reader @ ci", "ClusterRole:reader @ ci#1", "RULE"),
        ("Role:ci/deployer", "Role:ci/deployer#0", "RULE"),
    }
    assert all(v.nodes[g]["implied"] for g in v if g.startswith("Group:"))
    assert v.nodes["RoleBinding:ci/builder-read"]["cluster"] == "namespace:ci"
    assert v.nodes["ClusterRole:reader @ ci#1"]["danger_tags"] == ["secrets"]
    assert v.nodes["ClusterRole:reader @ ci#1"]["rule"].startswith("verbs: [get, list]")


def test_subject_view_user_groups_and_cluster_wide(small):
    user = small.impersonate("carol", ["ops"])
    v = small.subject_graph(user, explicit_groups=["ops"])
    assert v.nodes["Group:ops"]["implied"] is False
    assert v.nodes["Group:system:authenticated"]["implied"] is True
    assert ("Group:ops", "ClusterRoleBinding:admins", "SUBJECT_OF") in edges(v)
    assert v.nodes["ClusterRoleBinding:admins"]["cluster"] == "cluster-wide"
    assert v.nodes["ClusterRole:cluster-admin"]["danger"] == "critical"


def test_subject_view_group_and_missing_role(small):
    v = small.subject_graph("User:bob")
    assert v.nodes["Role:ci/nope"]["missing"] is True
    assert edges(v, "RULE") == set()
    g = small.subject_graph("Group:ops")
    assert ("Group:ops", "ClusterRoleBinding:admins", "SUBJECT_OF") in edges(g)
    assert not any(k == "MEMBER_OF" for _, _, k in g.edges(keys=True))


def test_subject_view_namespace_filter_and_masters(small):
    v = small.subject_graph("ServiceAccount:ci/builder", namespace="other")
    assert not any(k == "SUBJECT_OF" for _, _, k in v.edges(keys=True))
    m = small.subject_graph(small.impersonate("root", ["system:masters"]), explicit_groups=["system:masters"])
    assert ("Group:system:masters", "Permission:system:masters", "RULE") in edges(m)


def test_subject_view_collapses_beyond_max_nodes(small):
    v = subject_view(small.index, small.user_for_subject("ServiceAccount:ci/builder"), max_nodes=6)
    assert "More:bindings" in v
    assert v.nodes["More:bindings"]["count"] == 1


def test_who_can_view(small):
    req = small.parse_request("get", "secrets", namespace="ci")
    v = small.who_can_graph(req)
    assert edges(v) == {
        ("Group:system:masters", "Request", "RULE"),
        ("Group:ops", "ClusterRoleBinding:admins", "SUBJECT_OF"),
        ("ClusterRoleBinding:admins", "ClusterRole:cluster-admin", "GRANTS"),
        ("ClusterRole:cluster-admin", "Request", "RULE:0"),
        ("ServiceAccount:ci/builder", "RoleBinding:ci/builder-read", "SUBJECT_OF"),
        ("User:alice", "RoleBinding:ci/builder-read", "SUBJECT_OF"),
        ("RoleBinding:ci/builder-read", "ClusterRole:reader @ ci", "GRANTS"),
        ("ClusterRole:reader @ ci", "Request", "RULE:1"),
    }
    assert v.nodes["Request"]["name"] == "get secrets in namespace ci"
    assert v.edges["ClusterRole:reader @ ci", "Request", "RULE:1"]["label"] == 'get,list secrets [""]'
    # -A: only ClusterRoleBindings count
    cluster_wide = small.who_can_graph(small.parse_request("get", "secrets", all_namespaces=True))
    assert "RoleBinding:ci/builder-read" not in cluster_wide


def test_who_can_view_collapses(small):
    req = small.parse_request("get", "secrets", namespace="ci")
    subjects, errors = small.who_can_request(req)
    v = who_can_view(req, subjects, errors=errors, max_nodes=3)
    assert v.nodes["More:subjects"]["count"] >= 1


def test_namespace_view(small):
    v = small.namespace_graph("ci")
    assert edges(v, "RUNS_AS") == {("Deployment:ci/web", "ServiceAccount:ci/builder", "RUNS_AS"),
                                   ("Pod:ci/runner", "ServiceAccount:ci/builder", "RUNS_AS")}
    assert v.nodes["Deployment:ci/web"]["detail"] == "token not mounted"
    assert {u for u, _, k in v.edges(keys=True) if k == "SUBJECT_OF"} == {
        "ServiceAccount:ci/builder", "User:alice", "Group:system:serviceaccounts:ci", "ServiceAccount:ci/ghost",
        "User:bob"}
    assert "ClusterRoleBinding:admins" not in v
    assert namespace_view(small.index, "nowhere").number_of_nodes() == 0


def test_namespace_view_includes_cluster_bindings_of_its_service_accounts():
    a = Analysis.from_paths([str(KSM)])
    v = a.namespace_graph("kube-system")
    assert ("ServiceAccount:kube-system/kube-state-metrics", "ClusterRoleBinding:kube-state-metrics",
            "SUBJECT_OF") in edges(v)
    assert v.nodes["ClusterRoleBinding:kube-state-metrics"]["cluster"] == "cluster-wide"


def test_overview_groups_bootstrap_roles_and_collapses(demo):
    v = demo.overview_graph(max_nodes=40)
    assert v.nodes["Collapsed:bootstrap"]["count"] > 20
    assert not any(n.startswith("ClusterRole:system:") for n in v)
    assert "More:roles" in v and v.nodes["More:roles"]["count"] > 0
    assert v.number_of_nodes() < 90  # the budget bounds the drawing (a role's fan may overshoot a little)
    # the most dangerous roles come first
    assert "ClusterRole:cluster-admin" in v
    assert ("ClusterRole:cluster-admin", "Permission:admin", "RULE") in edges(v)


def test_overview_fans_out_with_more_nodes(small):
    v = overview(small.index, fan=1)
    assert "More:subjects of RoleBinding:ci/builder-read" in v
    assert ("ClusterRole:reader", "ClusterRole:secret-reader", "AGGREGATES") not in edges(v)  # not shown


# -- semantics helpers the graph relies on ----------------------------------------------------------------


@pytest.mark.parametrize(("rule", "tags"), [
    (PolicyRule(verbs=("*",), api_groups=("*",), resources=("*",)),
     ("admin", "escalate", "bind", "impersonate", "secrets", "token", "exec", "nodes-proxy", "rbac-write",
      "pods-create")),
    (PolicyRule(verbs=("get", "list"), api_groups=("",), resources=("secrets",)), ("secrets",)),
    (PolicyRule(verbs=("bind",), api_groups=("rbac.authorization.k8s.io",), resources=("clusterroles",),
                resource_names=("cluster-admin",)), ("bind",)),
    (PolicyRule(verbs=("impersonate",), api_groups=("",), resources=("users",)), ("impersonate",)),
    (PolicyRule(verbs=("create",), api_groups=("",), resources=("pods/exec",)), ("exec",)),
    (PolicyRule(verbs=("create",), api_groups=("",), resources=("serviceaccounts/token",)), ("token",)),
    (PolicyRule(verbs=("get",), api_groups=("",), resources=("pods", "pods/log")), ()),
    (PolicyRule(verbs=("get",), api_groups=("apps",), resources=("secrets",)), ()),  # wrong group
    (PolicyRule(verbs=("get",), non_resource_urls=("*",)), ()),
])
def test_rule_dangers(rule, tags):
    assert rule_dangers(rule) == tags


def test_role_level_danger_helpers():
    rules = [PolicyRule(verbs=("*",), api_groups=("*",), resources=("*",))]
    assert is_admin_equivalent(rules)
    assert not is_admin_equivalent([PolicyRule(verbs=("*",), api_groups=("",), resources=("*",))])
    assert rules_dangers([PolicyRule(verbs=("list",), api_groups=("",), resources=("secrets",)),
                          PolicyRule(verbs=("escalate",), api_groups=("rbac.authorization.k8s.io",),
                                     resources=("roles",))]) == ("escalate", "secrets")


def test_aggregation_sources(demo):
    sources = aggregation_sources(demo.index.all_roles)
    assert "view" in sources["edit"] and "edit" in sources["admin"]
    assert all(name not in picks for name, picks in sources.items())
