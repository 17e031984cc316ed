"""The CLI through main(argv): outputs, JSON shapes and exit codes, including bad input."""

from __future__ import annotations

import json

import pytest

from analyzer.cli import COMMANDS, build_parser

from .conftest import DEMO, ROOT

D = str(DEMO)


def test_every_subcommand_has_help_and_examples_and_is_in_readme():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    readme = (ROOT / "README.md").read_text()
    assert len(COMMANDS) >= 4
    for name, p in sub.choices.items():
        assert p.description, name
        assert "example" in (p.epilog or ""), f"{name} has no examples in --help"
        assert f"rbac-analyzer {name}" in readme, f"README does not mention `rbac-analyzer {name}`"
    helps = {a.dest: a.help for a in sub._choices_actions}
    assert all(helps.values())


def test_help_exits_zero(cli):
    r = cli("--help")
    assert r.code == 0
    r = cli("who-can", "--help")
    assert r.code == 0


def test_load_summary(cli):
    r = cli("load", "-f", D)
    assert r.code == 0
    assert "ClusterRoleBinding" in r.out
    assert "Aggregated ClusterRoles (4): acme:observer, admin, edit, view" in r.out
    assert "Load issues: none" in r.out
    assert "reporter-legacy" in r.out  # binding to a missing role is reported


def test_load_json(cli):
    r = cli("load", "-f", D, "-o", "json")
    data = json.loads(r.out)
    assert data["kinds"]["ServiceAccount"] == 14
    assert data["loadIssues"] == []
    assert {n["code"] for n in data["notices"]} == {"missing-role"}


def test_can_i_yes_with_evidence(cli):
    r = cli("can-i", "create", "pods", "-n", "payments", "--as", "system:serviceaccount:ci:deployer", "-f", D)
    assert r.code == 0
    assert r.out.startswith("yes\n")
    assert 'RBAC: allowed by RoleBinding "ci-deployer/payments" of ClusterRole "edit" to ServiceAccount "deployer/ci"' in r.out
    assert "30-platform/ci.yaml" in r.out


def test_can_i_no_with_near_misses(cli):
    r = cli("can-i", "get", "secrets", "-n", "kube-system", "--as", "alice@example.com", "-f", D)
    assert r.code == 1
    assert r.out.startswith("no\n")
    assert "payments-lead-admin" in r.out and "only in namespace payments" in r.out


def test_can_i_json_is_a_subject_access_review(cli):
    r = cli("can-i", "list", "secrets", "-n", "monitoring", "--as", "someone", "-f", D, "-o", "json")
    assert r.code == 0
    sar = json.loads(r.out)
    assert sar["kind"] == "SubjectAccessReview"
    assert sar["spec"]["groups"] == ["system:authenticated"]
    assert sar["status"] == {"allowed": True, "reason": 'RBAC: allowed by RoleBinding "debug-secrets/monitoring" of '
                             'ClusterRole "acme:secret-lister" to Group "system:authenticated"'}
    assert sar["evidence"][0]["binding"] == {"kind": "RoleBinding", "name": "debug-secrets", "namespace": "monitoring"}
    assert sar["nearMisses"] == []


def test_can_i_short_names_and_subresource(cli):
    assert cli("can-i", "create", "po", "--subresource", "exec", "-n", "ci", "--as",
               "system:serviceaccount:ci:runner", "-f", D, "-q").code == 0
    # as in kubectl, pods/exec is TYPE/NAME: the pod named "exec", not the subresource
    sar = json.loads(cli("can-i", "create", "pods/exec", "-n", "ci", "--as", "system:serviceaccount:ci:runner",
                         "-f", D, "-o", "json").out)
    assert sar["spec"]["resourceAttributes"] == {"namespace": "ci", "verb": "create", "resource": "pods",
                                                 "name": "exec"}
    assert cli("can-i", "create", "pods", "--subresource", "exec", "-n", "payments", "--as",
               "system:serviceaccount:ci:runner", "-f", D, "-q").code == 1
    assert cli("can-i", "get", "deploy", "-n", "web", "--as", "bob@example.com", "-f", D, "-q").code == 0
    assert cli("can-i", "get", "Deployment.apps", "-n", "web", "--as", "bob@example.com", "-f", D, "-q").code == 0
    assert cli("can-i", "create", "ff", "-n", "web", "--as", "bob@example.com", "-f", D, "-q").code == 0


def test_can_i_named_resource(cli):
    args = ["-n", "payments", "--as", "system:serviceaccount:payments:payments-api", "-f", D, "-q"]
    assert cli("can-i", "get", "secrets/payments-db", *args).code == 0
    assert cli("can-i", "get", "secrets/other", *args).code == 1
    assert cli("can-i", "list", "secrets", *args).code == 1


def test_can_i_as_group_without_as_is_an_error(cli):
    r = cli("can-i", "get", "pods", "--as-group", "dev", "-f", D)
    assert r.code == 2
    assert "--as-group requires --as" in r.err
    assert "Traceback" not in r.err


def test_can_i_system_masters(cli):
    r = cli("can-i", "delete", "nodes", "--as", "x", "--as-group", "system:masters", "-f", D)
    assert r.code == 0 and "system:masters" in r.out


def test_can_i_cluster_scoped_ignores_namespace_and_url(cli):
    r = cli("can-i", "get", "nodes", "-n", "payments", "--as", "alice@example.com", "-f", D, "-o", "json")
    assert json.loads(r.out)["spec"]["resourceAttributes"].get("namespace", "") == ""
    r = cli("can-i", "get", "/healthz", "--as", "system:anonymous", "-f", D)
    assert r.code == 0 and "system:public-info-viewer" in r.out


def test_unknown_type_is_a_clear_error(cli):
    r = cli("can-i", "get", "widgets", "--as", "a", "-f", D)
    assert r.code == 2
    assert 'doesn\'t have a resource type "widgets"' in r.err


def test_missing_file_is_a_clear_error(cli):
    r = cli("load", "-f", "/nonexistent/policy.yaml")
    assert r.code == 2
    assert r.err.strip() == "error: /nonexistent/policy.yaml: no such file or directory"


def test_who_can_table_and_json(cli):
    r = cli("who-can", "get", "secrets", "-n", "payments", "-f", D)
    assert r.code == 0
    assert "legacy-cms" in r.out and "payments-devs" in r.out
    r = cli("who-can", "get", "secrets", "-n", "payments", "-f", D, "-o", "json")
    data = json.loads(r.out)
    assert data["request"]["namespace"] == "payments"
    assert data["incomplete"] is False
    subjects = {(s["kind"], s["name"], s.get("namespace")) for s in data["subjects"]}
    assert ("Group", "system:masters", None) in subjects
    assert ("ServiceAccount", "deployer", "ci") in subjects
    assert ("Group", "oncall", None) in subjects
    masters = data["subjects"][0]
    assert masters["name"] == "system:masters" and masters["grants"] == [{"authorizer": "system:masters"}]
    g = next(s for s in data["subjects"] if s["name"] == "oncall")["grants"][0]
    assert g["binding"] == {"kind": "RoleBinding", "name": "oncall-secret-reader", "namespace": "payments"}
    assert g["role"] == {"kind": "Role", "name": "secret-reader", "namespace": "payments"}
    assert g["rule"]["resources"] == ["secrets"]
    assert g["source"]["file"].endswith("payments.yaml") and g["source"]["line"] > 1


def test_who_can_all_namespaces_only_cluster_bindings(cli):
    data = json.loads(cli("who-can", "list", "secrets", "-A", "-f", D, "-o", "json").out)
    names = {s["name"] for s in data["subjects"]}
    assert "legacy-cms" in names
    assert "oncall" not in names and "system:authenticated" not in names


def test_who_can_api_group_literal(cli):
    data = json.loads(cli("who-can", "create", "featureflags", "--api-group", "flags.acme.example.com", "-n", "web",
                          "-f", D, "-o", "json").out)
    assert {"web-devs", "bob@example.com", "deployer"} <= {s["name"] for s in data["subjects"]}


def test_what_can_and_can_i_list(cli):
    r = cli("what-can", "ServiceAccount:data/reporter", "-A", "-f", D, "-o", "json")
    data = json.loads(r.out)
    assert set(data) == {"clusterWide", "namespaces"}
    assert "monitoring" in data["namespaces"]
    assert any(rule["resources"] == ["secrets"] for rule in data["namespaces"]["monitoring"]["resourceRules"])
    r = cli("can-i", "--list", "-n", "payments", "--as", "system:serviceaccount:payments:payments-api", "-f", D,
            "-o", "json")
    review = json.loads(r.out)
    assert review["kind"] == "SubjectRulesReview"
    assert {"verbs": ["get"], "apiGroups": [""], "resources": ["secrets"], "resourceNames": ["payments-db"]} in \
        review["status"]["resourceRules"]


def test_review_machine_interface(cli, tmp_path):
    reviews = tmp_path / "sars.yaml"
    reviews.write_text("""
apiVersion: authorization.k8s.io/v1
kind: SubjectAccessReview
spec:
  user: system:serviceaccount:web:legacy-cms
  groups: []
  resourceAttributes: {verb: delete, resource: nodes}
---
apiVersion: authorization.k8s.io/v1
kind: SubjectAccessReview
spec:
  user: nobody
  resourceAttributes: {verb: get, resource: pods, namespace: data}
---
apiVersion: authorization.k8s.io/v1
kind: SubjectAccessReview
spec:
  user: 12
""")
    r = cli("review", "-f", D, str(reviews))
    assert r.code == 2
    data = json.loads(r.out)
    assert data["kind"] == "List" and len(data["items"]) == 3
    first, second, third = (i["status"] for i in data["items"])
    assert first == {"allowed": True, "reason": 'RBAC: allowed by ClusterRoleBinding "legacy-cms-admin" of '
                     'ClusterRole "cluster-admin" to ServiceAccount "legacy-cms/web"'}
    assert second == {"allowed": False, "reason": 'RBAC: clusterrole.rbac.authorization.k8s.io "acme:legacy-reporter" not found'} \
        or second == {"allowed": False}
    assert third["allowed"] is False and "spec.user" in third["evaluationError"]
    assert data["items"][0]["spec"]["user"] == "system:serviceaccount:web:legacy-cms"


def test_review_missing_role_reason_only_for_matching_subjects(cli, tmp_path):
    reviews = tmp_path / "sar.json"
    reviews.write_text(json.dumps({"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
                                   "spec": {"user": "system:serviceaccount:data:reporter",
                                            "resourceAttributes": {"verb": "delete", "resource": "pods",
                                                                   "namespace": "data"}}}))
    data = json.loads(cli("review", "-f", D, str(reviews)).out)
    assert data["items"][0]["status"] == {
        "allowed": False,
        "reason": 'RBAC: clusterrole.rbac.authorization.k8s.io "acme:legacy-reporter" not found'}


@pytest.mark.parametrize("argv", [
    ["who-can"], ["can-i", "get"], ["can-i", "--list", "get", "pods", "--as", "a"], ["bogus-command"],
    ["who-can", "get", "pods", "-n", "a", "-A"],
])
def test_usage_errors_exit_2_without_traceback(cli, argv):
    r = cli(*argv, "-f", D) if argv[0] != "bogus-command" else cli(*argv)
    assert r.code == 2
    assert "Traceback" not in r.err


def test_strict_fails_on_load_issues(cli, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("""
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: broken}
rules: "everything"
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: ok}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
subjects: [{kind: User, name: carol, apiGroup: rbac.authorization.k8s.io}]
""")
    r = cli("load", "-f", str(bad))
    assert r.code == 0
    assert "document 1 rules: must be a list, got a string" in r.out
    r = cli("load", "-f", str(bad), "--strict")
    assert r.code == 2
    r = cli("who-can", "get", "pods", "-A", "-f", str(bad), "-o", "json")
    assert r.code == 0
    assert "load issue:" in r.err and "bad.yaml:" in r.err


def test_python_m_analyzer_runs():
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "analyzer", "--version"], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0 and r.stdout.startswith("rbac-analyzer ")
