"""Real manifests from public projects: everything loads without a crash; hand-checked answers hold."""

from __future__ import annotations

from pathlib import Path

import pytest

from analyzer import Analysis

from .conftest import SAMPLES

FIXTURES = Path(__file__).parent / "fixtures" / "samples"
SAMPLE_DIRS = sorted(p for p in SAMPLES.iterdir() if p.is_dir()) if SAMPLES.is_dir() else []


@pytest.mark.parametrize("folder", SAMPLE_DIRS, ids=[p.name for p in SAMPLE_DIRS])
def test_every_shared_sample_loads(folder):
    a = Analysis.from_paths([str(folder)])
    assert a.inventory.files
    # indexing and a couple of queries never crash either
    a.who_can("get", "secrets", namespace="kube-system")
    a.who_can("*", "*", api_group="*")
    for issue in a.load_issues:  # only the identity fixtures hold non-manifest JSON
        assert folder.name == "identity", str(issue)


def sa(ns: str, name: str) -> tuple[str, str, str]:
    return ("ServiceAccount", name, ns)


def subjects(a: Analysis, verb: str, resource: str, **kw) -> set[tuple[str, str, str]]:
    return {(s.subject.kind, s.subject.name, s.subject.namespace) for s in a.who_can(verb, resource, **kw)}


@pytest.fixture(scope="module")
def argocd() -> Analysis:
    return Analysis.from_paths([str(FIXTURES / "argo-cd-install.yaml")], default_namespace="argocd")


@pytest.fixture(scope="module")
def cert_manager() -> Analysis:
    return Analysis.from_paths([str(FIXTURES / "cert-manager.yaml")])


@pytest.fixture(scope="module")
def dashboard() -> Analysis:
    return Analysis.from_paths([str(FIXTURES / "kubernetes-dashboard.yaml")])


def _user(a: Analysis, ns: str, name: str):
    return a.impersonate(f"system:serviceaccount:{ns}:{name}")


def test_argocd_application_controller_is_cluster_admin_equivalent(argocd):
    user = _user(argocd, "argocd", "argocd-application-controller")
    for verb, resource, group in [("*", "*", "*"), ("delete", "nodes", ""), ("escalate", "clusterroles",
                                                                              "rbac.authorization.k8s.io")]:
        d = argocd.check(user, argocd.request(verb, resource, api_group=group))
        assert d.allowed, (verb, resource)
    assert argocd.check(user, argocd.request("get", "/healthz")).allowed  # nonResourceURLs '*'


def test_argocd_objects_land_in_default_namespace_argocd(argocd):
    assert {b.namespace for b in argocd.inventory.bindings if b.kind == "RoleBinding"} == {"argocd"}
    assert sa("argocd", "argocd-server") in subjects(argocd, "get", "secrets", namespace="argocd")
    # argocd-server's ClusterRole: get/patch/delete on everything (for the UI), but no list and no create
    server = _user(argocd, "argocd", "argocd-server")
    assert argocd.check(server, argocd.request("delete", "deployments", api_group="apps", namespace="x")).allowed
    assert argocd.check(server, argocd.request("get", "secrets", namespace="kube-system", name="x")).allowed
    assert not argocd.check(server, argocd.request("list", "secrets", namespace="kube-system")).allowed
    assert not argocd.check(server, argocd.request("create", "pods", namespace="argocd")).allowed


def test_kubernetes_dashboard_reads_only_its_own_named_secrets(dashboard):
    user = _user(dashboard, "kubernetes-dashboard", "kubernetes-dashboard")
    ns = "kubernetes-dashboard"
    for name in ("kubernetes-dashboard-key-holder", "kubernetes-dashboard-certs", "kubernetes-dashboard-csrf"):
        assert dashboard.check(user, dashboard.request("get", "secrets", namespace=ns, name=name)).allowed
    assert not dashboard.check(user, dashboard.request("get", "secrets", namespace=ns, name="other")).allowed
    assert not dashboard.check(user, dashboard.request("list", "secrets", namespace=ns)).allowed
    assert not dashboard.check(user, dashboard.request("get", "secrets", namespace="kube-system",
                                                       name="kubernetes-dashboard-certs")).allowed
    assert subjects(dashboard, "list", "secrets", namespace=ns) == {("Group", "system:masters", "")}


def test_cert_manager_controller_reads_secrets_cluster_wide(cert_manager):
    got = subjects(cert_manager, "get", "secrets")
    assert got == {("Group", "system:masters", ""), sa("cert-manager", "cert-manager"),
                   sa("cert-manager", "cert-manager-cainjector")}
    assert subjects(cert_manager, "create", "certificaterequests", api_group="cert-manager.io",
                    namespace="team-a") == {("Group", "system:masters", ""), sa("cert-manager", "cert-manager")}


def test_cert_manager_leader_election_lease_is_name_restricted(cert_manager):
    lease = dict(api_group="coordination.k8s.io", namespace="kube-system")
    assert sa("cert-manager", "cert-manager") in subjects(cert_manager, "update", "leases",
                                                          name="cert-manager-controller", **lease)
    assert subjects(cert_manager, "update", "leases", **lease) == {("Group", "system:masters", "")}
    assert subjects(cert_manager, "update", "leases", name="cert-manager-controller",
                    api_group="coordination.k8s.io", namespace="default") == {("Group", "system:masters", "")}
