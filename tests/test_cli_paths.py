"""The ``paths`` and ``diff`` commands through main(argv): outputs, JSON shape, exit codes."""

from __future__ import annotations

import json

from .conftest import DEMO, ROOT

SC = ROOT / "sample_policies" / "scenarios"


def _p(name: str) -> str:
    return str(SC / name / "policy.yaml")


def test_paths_subject_json_shape(cli):
    r = cli("paths", "ServiceAccount:dev/ci", "-f", _p("esc-pod-create"), "-o", "json")
    assert r.code == 0, r
    (path,) = json.loads(r.out)["paths"]
    assert path["from"] == {"kind": "ServiceAccount", "name": "ci", "namespace": "dev"}
    assert path["to"] == "cluster-admin" and path["potential"] is False
    assert [s["technique"] for s in path["steps"]] == ["ESC-POD-CREATE", "HOLDS"]
    step = path["steps"][0]
    assert set(step) >= {"technique", "from", "to", "potential", "via"}
    assert set(step["via"]) == {"binding", "role", "rule", "source"}


def test_paths_ranked_without_subject(cli):
    r = cli("paths", "-f", str(DEMO))
    assert r.code == 0, r
    lines = r.out.splitlines()
    assert lines[0].split()[:3] == ["HOPS", "SUBJECT", "REACHES"]
    assert "ServiceAccount:web/legacy-cms" in lines[1]
    assert "ServiceAccount:ci/deployer" in r.out
    assert "system:" not in "".join(line.split()[1] for line in lines[1:] if line and line[0].isdigit())


def test_paths_as_and_to(cli):
    r = cli("paths", "--as", "system:serviceaccount:dev:ci", "--to", "cluster-admin", "-f", _p("esc-pod-create"))
    assert r.code == 0 and "ESC-POD-CREATE" in r.out
    r = cli("paths", "User:nobody", "-f", _p("esc-pod-create"))
    assert r.code == 0 and "No escalation path" in r.out


def test_paths_usage_errors(cli):
    assert cli("paths", "--to", "root", "-f", _p("esc-pod-create")).code == 2
    assert cli("paths", "--all", "-f", _p("esc-pod-create")).code == 2
    assert cli("paths", "Bogus:x", "-f", _p("esc-pod-create")).code == 2


def test_paths_all_and_depth(cli):
    r = cli("paths", "ServiceAccount:dev/ci", "--all", "--max-depth", "1", "-f", _p("esc-pod-create"), "-o", "json")
    assert json.loads(r.out)["paths"] == []


def test_paths_dot_and_svg(cli):
    r = cli("paths", "-f", _p("esc-pod-create"), "-o", "dot")
    assert r.code == 0 and r.out.startswith("digraph") and "create pod" in r.out
    r = cli("paths", "-f", _p("esc-secret-create"), "-o", "svg")
    assert r.code == 0 and "<svg" in r.out


def test_blast_radius(cli):
    r = cli("paths", "ServiceAccount:dev/ci", "--blast-radius", "-f", _p("esc-pod-exec"), "-o", "json")
    data = json.loads(r.out)["blastRadius"]
    assert data["sinks"] == ["cluster-admin"] and data["namespaces"] == ["*"]
    assert [i["id"] for i in data["identities"]] == ["ServiceAccount:dev/admin-sa"]
    r = cli("paths", "ServiceAccount:dev/admin-sa", "--blast-radius", "-f", _p("esc-pod-exec"))
    assert "Pod:dev/runner" in r.out


def test_diff(cli):
    old, new = _p("neg-pod-exec-get-only"), _p("esc-pod-exec")
    r = cli("diff", old, new, "--fail-on", "gained")
    assert r.code == 1, r
    assert "+ create pods/exec 'runner' in dev" in r.out and "New escalation paths (1)" in r.out
    assert cli("diff", new, new, "--fail-on", "gained").code == 0
    r = cli("diff", "--old", old, "--new", new, "-o", "json")
    data = json.loads(r.out)
    assert data["accessGained"] is True and data["newPaths"][0]["to"] == "cluster-admin"
    r = cli("diff", old, new, "-o", "md")
    assert r.out.startswith("# RBAC changes") and "## Access gained" in r.out
    assert cli("diff", new, new, "--fail-on", "paths").code == 0
    assert cli("diff", old).code == 2
