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
