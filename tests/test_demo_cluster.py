"""Hand-checked facts about the demo cluster (sample_policies/demo-cluster) across features."""

from __future__ import annotations

import json


def test_paths_to_cluster_admin_include_users_with_email_names(cli):
    from .conftest import DEMO

    data = json.loads(cli("paths", "-f", str(DEMO), "-o", "json").out)
    reaching = {(p["from"]["kind"], p["from"]["name"]) for p in data["paths"] if p["to"] == "cluster-admin"}
    assert reaching == {("ServiceAccount", "legacy-cms"), ("Group", "web-devs"), ("ServiceAccount", "deployer"),
                        ("User", "bob@example.com"), ("ServiceAccount", "runner")}
    bob = json.loads(cli("paths", "User:bob@example.com", "-f", str(DEMO), "-o", "json").out)["paths"][0]
    assert [s["technique"] for s in bob["steps"]][0] == "ESC-IMPERSONATE-SA"


def test_audit_finds_the_planted_risks(demo):
    report = demo.audit()
    user = [f for f in report.findings if f.section == "user"]
    by_rule = {}
    for f in user:
        by_rule.setdefault(f.rule.id if hasattr(f.rule, "id") else f.rule, []).append(f)
    ids = set(by_rule)
    assert "RBAC-101" in ids  # legacy-cms is cluster-admin equivalent
    assert "RBAC-201" in ids  # reporter-legacy refers to a missing ClusterRole
    subjects = {(f.subject.kind, f.subject.name) for f in user if f.subject is not None}
    assert ("Group", "system:authenticated") in subjects  # debug-secrets: every logged-in user lists secrets


def test_incomplete_snapshot_is_reported_by_diff_and_graph(cli, tmp_path):
    snap = tmp_path / "snap.yaml"
    snap.write_text("""apiVersion: v1
kind: List
rbacAnalyzer:
  clusterVersion: v1.30.2
  capturedAt: "2026-11-27T10:00:00Z"
  context: prod
  incomplete: ["roles in namespace restricted (forbidden)"]
items:
- apiVersion: rbac.authorization.k8s.io/v1
  kind: ClusterRoleBinding
  metadata: {name: x}
  roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
  subjects: [{kind: User, name: a, apiGroup: rbac.authorization.k8s.io}]
""")
    d = json.loads(cli("diff", str(snap), str(snap), "-o", "json").out)
    assert d["incomplete"] == {"old": ["roles in namespace restricted (forbidden)"],
                               "new": ["roles in namespace restricted (forbidden)"]}
    assert "incomplete (new): could not read roles in namespace restricted" in cli("diff", str(snap), str(snap)).out
    g = json.loads(cli("graph", "-f", str(snap), "-o", "json").out)
    assert g["graph"]["incomplete"] == "roles in namespace restricted (forbidden)"
    r = cli("who-can", "get", "pods", "-A", "-f", str(snap), "-o", "json")
    assert json.loads(r.out)["incomplete"] is True and "restricted" in r.err
