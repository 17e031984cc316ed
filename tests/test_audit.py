"""Audit behaviour: conjunctions, resourceNames, sections, exclusions, baseline, ids, real manifests."""

from __future__ import annotations

import datetime as dt
import json
import textwrap
from pathlib import Path

import pytest

from analyzer import Analysis
from analyzer.audit import load_baseline, load_exclusions, parse_exclusions
from analyzer.errors import UsageError
from analyzer.model import Severity
from analyzer.report import to_dict

from .conftest import SAMPLES
from .test_catalog import SCENARIOS, scenario

SAMPLE_DIRS = sorted(p for p in SAMPLES.iterdir() if p.is_dir()) if SAMPLES.is_dir() else []


def policy(text: str) -> Analysis:
    return Analysis.from_texts([("policy.yaml", textwrap.dedent(text))])


def cluster_role(name: str, rules: str, subject: str = "{kind: User, name: mallory}") -> str:
    return f"""
    apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRole
    metadata: {{name: {name}}}
    rules:
    {textwrap.indent(textwrap.dedent(rules).strip(), '    ').lstrip()}
    ---
    apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRoleBinding
    metadata: {{name: {name}}}
    roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: {name}}}
    subjects: [{subject}]
    """


def rules_fired(a: Analysis, section: str = "user") -> set[str]:
    return {f.rule for f in a.audit().section(section)}


# -- conjunctions and names ----------------------------------------------------------------------
CSR_CREATE = "- {apiGroups: [certificates.k8s.io], resources: [certificatesigningrequests], verbs: [create]}"
CSR_APPROVAL = "- {apiGroups: [certificates.k8s.io], resources: [certificatesigningrequests/approval], verbs: [update]}"


@pytest.mark.parametrize("signer, fires", [
    ("[kubernetes.io/kube-apiserver-client]", True),
    ("['kubernetes.io/*']", True),
    ("[kubernetes.io/kubelet-serving]", False),
])
def test_csr_needs_all_three_permissions_on_the_client_signer(signer, fires):
    approve = f"- {{apiGroups: [certificates.k8s.io], resources: [signers], verbs: [approve], resourceNames: {signer}}}"
    a = policy(cluster_role("csr", "\n".join([CSR_CREATE, CSR_APPROVAL, approve])))
    assert ("RBAC-170" in rules_fired(a)) is fires


def test_csr_without_approval_does_not_fire():
    approve = "- {apiGroups: [certificates.k8s.io], resources: [signers], verbs: [approve]}"
    a = policy(cluster_role("csr", "\n".join([CSR_CREATE, approve])))
    assert "RBAC-170" not in rules_fired(a)


def test_conjunction_needs_the_same_scope():
    # create rolebindings in team-a, bind clusterroles only in team-b: no RBAC-155 anywhere
    a = policy("""
    apiVersion: rbac.authorization.k8s.io/v1
    kind: Role
    metadata: {name: rb-writer, namespace: team-a}
    rules: [{apiGroups: [rbac.authorization.k8s.io], resources: [rolebindings], verbs: [create]}]
    ---
    apiVersion: rbac.authorization.k8s.io/v1
    kind: RoleBinding
    metadata: {name: rb-writer, namespace: team-a}
    roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: rb-writer}
    subjects: [{kind: User, name: mallory}]
    ---
    apiVersion: rbac.authorization.k8s.io/v1
    kind: Role
    metadata: {name: binder, namespace: team-b}
    rules: [{apiGroups: [rbac.authorization.k8s.io], resources: [clusterroles], verbs: [bind]}]
    ---
    apiVersion: rbac.authorization.k8s.io/v1
    kind: RoleBinding
    metadata: {name: binder, namespace: team-b}
    roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: binder}
    subjects: [{kind: User, name: mallory}]
    """)
    fired = rules_fired(a)
    assert "RBAC-155" not in fired
    assert {"RBAC-150", "RBAC-153"} <= fired


def test_evict_without_cordon_does_not_fire():
    a = policy(cluster_role("evictor", '- {apiGroups: [""], resources: [pods/eviction], verbs: [create]}'))
    assert "RBAC-183" not in rules_fired(a)


@pytest.mark.parametrize("names, fires", [("[aws-auth]", True), ("[other-config]", False), (None, True)])
def test_aws_auth_is_resource_names_aware(names, fires):
    extra = f", resourceNames: {names}" if names else ""
    a = policy(f"""
    apiVersion: rbac.authorization.k8s.io/v1
    kind: Role
    metadata: {{name: cm-editor, namespace: kube-system}}
    rules: [{{apiGroups: [""], resources: [configmaps], verbs: [patch]{extra}}}]
    ---
    apiVersion: rbac.authorization.k8s.io/v1
    kind: RoleBinding
    metadata: {{name: cm-editor, namespace: kube-system}}
    roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: Role, name: cm-editor}}
    subjects: [{{kind: User, name: mallory}}]
    """)
    assert ("RBAC-195" in rules_fired(a)) is fires


def test_aws_auth_writable_through_a_cluster_role_binding():
    a = policy(cluster_role("cm-writer", '- {apiGroups: [""], resources: [configmaps], verbs: [update]}'))
    findings = [f for f in a.audit().user if f.rule == "RBAC-195"]
    assert [f.namespace for f in findings] == ["kube-system"]


def test_secrets_with_resource_names_are_not_readable_at_large():
    a = policy(cluster_role("named", '- {apiGroups: [""], resources: [secrets], verbs: [get], resourceNames: [tls]}'))
    assert not {"RBAC-110", "RBAC-111"} & rules_fired(a)


def test_aggregated_roles_are_seen_through():
    a = policy("""
    apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRole
    metadata: {name: umbrella}
    aggregationRule:
      clusterRoleSelectors: [{matchLabels: {acme.io/aggregate-to-umbrella: "true"}}]
    ---
    apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRole
    metadata: {name: piece, labels: {acme.io/aggregate-to-umbrella: "true"}}
    rules: [{apiGroups: [""], resources: [nodes/proxy], verbs: [get]}]
    ---
    apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRoleBinding
    metadata: {name: umbrella}
    roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: umbrella}
    subjects: [{kind: User, name: mallory}]
    """)
    fired = rules_fired(a)
    assert "RBAC-180" in fired
    assert "RBAC-401" not in fired  # "piece" is used through aggregation


def test_cluster_admin_subject_gets_one_finding_not_one_per_permission():
    report = scenario("cluster-admin-equivalent").audit()
    assert [f.rule for f in report.user] == ["RBAC-101"]


def test_permission_held_cluster_wide_is_reported_once_at_cluster_scope():
    a = policy(cluster_role("exec", '- {apiGroups: [""], resources: [pods/exec], verbs: [create]}') + """
    ---
    apiVersion: rbac.authorization.k8s.io/v1
    kind: RoleBinding
    metadata: {name: exec-too, namespace: team-a}
    roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: exec}
    subjects: [{kind: User, name: mallory}]
    """)
    findings = [f for f in a.audit().user if f.rule == "RBAC-130"]
    assert [f.scope for f in findings] == ["cluster"]


# -- findings ----------------------------------------------------------------------------------------
def test_finding_carries_evidence_with_file_and_line_and_blast_radius():
    report = scenario("mounted-powerful-token").audit()
    f = next(f for f in report.user if f.rule == "RBAC-120")
    assert f.subject is not None and f.subject.id == "ServiceAccount:ci/deployer"
    e = f.evidence[0]
    assert e.binding == "ClusterRoleBinding:deployer" and e.role == "ClusterRole:deployer"
    assert e.source.file.endswith("policy.yaml") and e.source.line
    assert e.role_source.line and e.rule is not None
    assert f.blast_radius == ("Deployment:ci/deployer",)
    mounted = next(f for f in report.user if f.rule == "RBAC-205")
    assert mounted.object == "Deployment:ci/deployer"


def test_daemonset_token_is_critical():
    f = next(f for f in scenario("daemonset-powerful-token").audit().user if f.rule == "RBAC-206")
    assert f.severity == Severity.CRITICAL and f.blast_radius == ("DaemonSet:monitoring/node-agent",)


def test_ids_are_stable_across_runs():
    folder = SCENARIOS / "grant-any-cluster-role"
    first = Analysis.from_paths([str(folder / "policy.yaml")]).audit()
    second = Analysis.from_paths([str(folder / "policy.yaml")]).audit()
    assert [f.id for f in first.findings] == [f.id for f in second.findings]
    assert len({f.id for f in first.findings}) == len(first.findings)
    assert all(f.id.startswith(f.rule + "-") for f in first.findings)


def test_json_shape():
    data = to_dict(scenario("unused-role").audit())
    assert set(data) >= {"findings", "summary"}
    (f,) = data["findings"]
    assert set(f) >= {"id", "rule", "severity", "section", "subject", "scope", "evidence"}
    assert f["subject"] is None and f["object"] == {"kind": "ClusterRole", "name": "leftover"}
    assert f["scope"] == "cluster" and f["section"] == "user" and f["severity"] == "info"
    ns = to_dict(scenario("pods-exec").audit())["findings"][0]
    assert ns["scope"] == {"namespace": "team-a"}
    assert ns["subject"] == {"kind": "User", "name": "mallory"}
    sa = to_dict(scenario("default-serviceaccount-bindings").audit())["findings"][0]
    assert sa["subject"] == {"kind": "ServiceAccount", "name": "default", "namespace": "app"}
    json.dumps(data)  # serialisable


def test_missing_service_accounts_judged_only_where_the_input_has_them():
    a = policy("""
    apiVersion: rbac.authorization.k8s.io/v1
    kind: RoleBinding
    metadata: {name: reader, namespace: elsewhere}
    roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
    subjects: [{kind: ServiceAccount, name: ghost}]
    ---
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: app, namespace: elsewhere}
    spec: {template: {spec: {serviceAccountName: ghost, containers: [{name: a, image: a}]}}}
    """)
    assert not {"RBAC-202", "RBAC-203"} & rules_fired(a)


# -- sections ------------------------------------------------------------------------------------------
def test_system_group_findings_stay_in_the_user_section_even_from_bootstrap_labelled_bindings():
    a = policy(cluster_role("leak", '- {apiGroups: [""], resources: [configmaps], verbs: [list]}',
                            "{kind: Group, name: system:authenticated}").replace(
        "metadata: {name: leak}\n    roleRef",
        "metadata: {name: leak, labels: {kubernetes.io/bootstrapping: rbac-defaults}}\n    roleRef"))
    report = a.audit()
    assert [f.rule for f in report.user] == ["RBAC-302"]


def test_discovery_defaults_do_not_fire():
    a = policy(cluster_role("my-discovery", """
    - nonResourceURLs: [/healthz, /version, /api, /api/*]
      verbs: [get]
    - apiGroups: [authorization.k8s.io]
      resources: [selfsubjectaccessreviews]
      verbs: [create]
    """, "{kind: Group, name: system:authenticated}"))
    assert "RBAC-302" not in rules_fired(a)


def test_controller_service_accounts_are_platform():
    a = Analysis.from_paths([str(SCENARIOS / "baseline" / "manifests")])
    report = a.audit()
    controllers = [f for f in report.platform if f.subject and f.subject.namespace == "kube-system"]
    assert controllers and not report.user


# -- exclusions and baseline ------------------------------------------------------------------------------
def test_exclusion_moves_finding_to_excluded_and_expired_one_is_flagged():
    today = dt.date(2026, 6, 1)
    exclusions = parse_exclusions({"exclusions": [
        {"rule": "RBAC-130", "subject": "User:mal*", "namespace": "team-a", "reason": "debugging", "owner": "sre",
         "expires": "2026-12-31"},
        {"rule": "RBAC-1*", "subject": "*", "reason": "old", "expires": dt.date(2026, 1, 1)},
    ]})
    report = scenario("pods-exec").audit(exclusions=exclusions, today=today)
    assert report.user == ()
    (f,) = report.excluded
    assert f.exclusion is not None and f.exclusion.reason == "debugging"
    assert [e.reason for e in report.expired_exclusions] == ["old"]
    assert report.failing(Severity.INFO) == ()
    later = scenario("pods-exec").audit(exclusions=exclusions, today=dt.date(2027, 1, 2))
    assert [f.rule for f in later.user] == ["RBAC-130"] and len(later.expired_exclusions) == 2


def test_exclusion_namespace_must_match():
    exclusions = parse_exclusions([{"rule": "RBAC-130", "namespace": "other", "reason": "x"}])
    assert scenario("pods-exec").audit(exclusions=exclusions).user


@pytest.mark.parametrize("data, message", [
    ([{"rule": "RBAC-130"}], "reason"),
    ([{"rule": "RBAC-130", "reason": "x", "expires": "someday"}], "expires"),
    ([{"rule": "RBAC-130", "reason": "x", "color": "red"}], "unknown"),
    ("just text", "list"),
])
def test_bad_exclusions_are_usage_errors(data, message):
    with pytest.raises(UsageError, match=message):
        parse_exclusions(data)


def test_baseline_reports_only_new_findings(tmp_path):
    a = scenario("grant-any-cluster-role")
    path = tmp_path / "baseline.json"
    path.write_text(json.dumps(to_dict(a.audit())))
    ids = load_baseline(str(path))
    report = a.audit(baseline=ids)
    assert report.findings == () and report.baseline_suppressed == 3
    partial = frozenset(sorted(ids)[:1])
    assert len(a.audit(baseline=partial).findings) == 2


def test_unreadable_inputs_are_usage_errors(tmp_path):
    bad = tmp_path / "x.json"
    bad.write_text("{not json")
    with pytest.raises(UsageError):
        load_baseline(str(bad))
    with pytest.raises(UsageError):
        load_exclusions(str(tmp_path / "missing.yaml"))


def test_audit_is_cached_per_arguments():
    a = scenario("pods-exec")
    assert a.audit() is a.audit()
    assert a.audit(include_system=True) is not a.audit()


# -- real manifests ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("folder", SAMPLE_DIRS, ids=[p.name for p in SAMPLE_DIRS])
def test_every_shared_sample_audits(folder):
    report = Analysis.from_paths([str(folder)]).audit()
    to_dict(report)
    for f in report.findings:
        assert f.rule and f.message and f.section in ("user", "platform")


@pytest.mark.skipif(not (SAMPLES / "argo-cd").is_dir(), reason="shared samples not present")
def test_argocd_application_controller_is_cluster_admin_equivalent():
    a = Analysis.from_paths([str(SAMPLES / "argo-cd" / "install.yaml")], default_namespace="argocd")
    admins = {f.subject.id for f in a.audit().user if f.rule == "RBAC-101"}
    assert "ServiceAccount:argocd/argocd-application-controller" in admins


@pytest.mark.skipif(not (SAMPLES / "kubernetes-dashboard").is_dir(), reason="shared samples not present")
def test_kubernetes_dashboard_reads_only_its_own_named_secrets():
    a = Analysis.from_paths([str(SAMPLES / "kubernetes-dashboard" / "recommended.yaml")])
    sa = "ServiceAccount:kubernetes-dashboard/kubernetes-dashboard"
    secret_rules = {"RBAC-110", "RBAC-111", "RBAC-112", "RBAC-161", "RBAC-101", "RBAC-102"}
    assert not [f for f in a.audit().findings if f.rule in secret_rules]
    anyone = {s.subject.id for s in a.who_can("get", "secrets", namespace="kubernetes-dashboard")}
    assert sa not in anyone
    named = {s.subject.id for s in a.who_can("get", "secrets", namespace="kubernetes-dashboard",
                                             name="kubernetes-dashboard-csrf")}
    assert sa in named


def test_more_finding_sources_plug_into_the_report():
    """The hook escalation paths use: one more FindingSource, documented ids, sections as usual."""
    from analyzer.audit import FINDING_SOURCES, FindingSource, build_report
    from analyzer.model import Finding, Subject

    def produce(ctx):
        yield Finding(rule="ESC-TEST", title="Test path", severity=Severity.HIGH, message="path",
                      subject=Subject(kind="User", name="mallory"))

    extra = FindingSource(name="test", produce=produce,
                          catalog=lambda: {"ESC-TEST": {"id": "ESC-TEST", "title": "Test path", "severity": "high"}})
    a = scenario("pods-exec")
    report = build_report(a.rule_context, sources=(*FINDING_SOURCES, extra))
    assert {f.rule for f in report.user} == {"RBAC-130", "ESC-TEST"}
    assert "ESC-TEST" in report.rules


def test_references_to_kubernetes_default_roles_are_not_dangling_in_partial_inputs():
    a = policy("""
    apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRoleBinding
    metadata: {name: auth-delegator}
    roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: system:auth-delegator}
    subjects: [{kind: ServiceAccount, name: metrics, namespace: monitoring}]
    ---
    apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRole
    metadata: {name: widgets-view, labels: {rbac.authorization.k8s.io/aggregate-to-view: "true"}}
    rules: [{apiGroups: [example.com], resources: [widgets], verbs: [get]}]
    """)
    assert not {"RBAC-201", "RBAC-401"} & rules_fired(a)
    # with the bootstrap policy loaded, a missing default role is provably missing
    full = Analysis.from_paths([str(SCENARIOS / "baseline" / "manifests"), str(SCENARIOS / "dangling-binding")])
    assert "RBAC-201" in {f.rule for f in full.audit().user}


def test_finding_rows_for_tables():
    row = scenario("default-serviceaccount-bindings").audit().user[0].as_row()
    assert row["subject"] == "ServiceAccount:app/default" and row["scope"] == "namespace app"
    assert set(row) == {"severity", "rule", "title", "subject", "scope", "section", "message", "id"}


def test_parallel_audit_gives_the_same_report() -> None:
    # the escalation paths computed in a forked worker while the rules run: the same findings, same order
    import multiprocessing
    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("no fork on this platform")
    paths = [str(p) for p in sorted((SCENARIOS.parent / "demo-cluster").rglob("*.yaml"))]
    sequential = Analysis.from_paths(paths).audit(parallel=False)
    parallel = Analysis.from_paths(paths).audit(parallel=True)
    assert any(f.rule == "ESC-PATH" for f in parallel.findings)  # the worker's findings came back
    assert [f.to_dict() for f in parallel.findings] == [f.to_dict() for f in sequential.findings]



@pytest.mark.parametrize("parallel", [False, True])
def test_audit_reports_progress(parallel: bool) -> None:
    # a large audit takes tens of seconds: rules run and subjects visited are reported as it goes (never
    # from the worker process, whose writes would garble the terminal line)
    demo = Path(__file__).resolve().parent.parent / "sample_policies" / "demo-cluster"
    a = Analysis.from_paths([str(demo)])
    heard: list[tuple[str, int, int]] = []
    report = a.audit(parallel=parallel, on_progress=lambda *args: heard.append(args))
    rules = [h for h in heard if h[0] == "audit rules"]
    assert rules and rules[-1][1] == rules[-1][2] == len(Analysis.rule_catalog())
    graph = [h for h in heard if h[0] == "escalation graph"]
    assert bool(graph) is not parallel
    assert report == Analysis.from_paths([str(demo)]).audit(parallel=parallel)
