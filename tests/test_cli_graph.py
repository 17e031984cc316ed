"""``rbac-analyzer graph`` and ``rbac-analyzer render`` through main(argv)."""

from __future__ import annotations

import json
import shutil

import pytest

from .conftest import DEMO

D = str(DEMO)
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot is not installed")


def test_graph_json_to_stdout(cli):
    r = cli("graph", "-f", D, "-o", "json")
    assert r.code == 0, r
    data = json.loads(r.out)
    ids = {n["id"] for n in data["nodes"]}
    assert "ServiceAccount:web/legacy-cms" in ids and "ClusterRole:admin" in ids


@pytest.mark.parametrize(("fmt", "start"), [("graphml", "<?xml"), ("cypher", "// rbac-analyzer")])
def test_graph_text_formats(cli, fmt, start, tmp_path):
    r = cli("graph", "-f", D, "-o", fmt)
    assert r.code == 0 and r.out.startswith(start)
    target = tmp_path / f"g.{fmt}"
    r = cli("graph", "-f", D, "-o", fmt, "--output-file", str(target))
    assert r.code == 0 and r.out == "" and target.read_text().startswith(start)
    assert f"wrote {target}" in r.err


def test_graph_neo4j_csv_needs_a_folder(cli, tmp_path):
    r = cli("graph", "-f", D, "-o", "neo4j-csv")
    assert r.code == 2 and "--output-file DIR" in r.err
    f = tmp_path / "file"
    f.write_text("x")
    assert cli("graph", "-f", D, "-o", "neo4j-csv", "--output-file", str(f)).code == 2
    r = cli("graph", "-f", D, "-o", "neo4j-csv", "--output-file", str(tmp_path / "out"))
    assert r.code == 0, r
    assert (tmp_path / "out" / "nodes.csv").read_text().startswith("id:ID,:LABEL,kind,name,namespace,source")
    assert (tmp_path / "out" / "relationships.csv").read_text().startswith(":START_ID,:END_ID,:TYPE")


def test_render_who_can_dot(cli):
    r = cli("render", "--who-can", "get", "secrets", "-n", "payments", "-f", D)
    assert r.code == 0, r
    assert r.out.startswith("digraph rbac {")
    assert "Who can get secrets in namespace payments" in r.out
    assert "legacy-cms" in r.out  # cluster-admin via a ClusterRoleBinding
    a = cli("render", "--who-can", "get", "secrets", "-A", "-f", D)
    assert "payments-devs-edit" not in a.out and "cluster-wide" in a.out


def test_render_who_can_subresource_and_group(cli):
    r = cli("render", "--who-can", "create", "pods", "--subresource", "exec", "-n", "payments", "-f", D)
    assert r.code == 0 and "create pods/exec in namespace payments" in r.out
    r = cli("render", "--who-can", "get", "featureflags", "--api-group", "flags.acme.example.com", "-n", "web",
            "-f", D)
    assert r.code == 0 and "featureflags.flags.acme.example.com" in r.out


def test_render_subject_forms(cli):
    r = cli("render", "--subject", "ServiceAccount:ci/deployer", "-f", D)
    assert r.code == 0 and "What ServiceAccount:ci/deployer can do" in r.out
    assert "Group (implied)" in r.out
    r = cli("render", "--as", "system:serviceaccount:ci:deployer", "-f", D)
    assert r.code == 0 and "What ServiceAccount:ci/deployer can do" in r.out
    r = cli("render", "--as", "alice@example.com", "--as-group", "payments-devs", "-n", "payments", "-f", D)
    assert r.code == 0 and "payments-devs\\nGroup" in r.out and "payments-devs\\nGroup (implied)" not in r.out
    r = cli("render", "--subject", "Group:sre", "-f", D)
    assert r.code == 0 and "What Group:sre can do" in r.out


def test_render_namespace_and_overview(cli):
    r = cli("render", "--namespace-view", "payments", "-f", D)
    assert r.code == 0 and "Namespace payments: who is bound here" in r.out
    r = cli("render", "-f", D, "--max-nodes", "30", "--no-legend")
    assert r.code == 0 and "RBAC policy overview" in r.out and "Legend" not in r.out


@pytest.mark.parametrize("argv", [
    ["--subject", "User:a", "--namespace-view", "x"],  # two views
    ["--who-can", "get"],  # VERB TYPE
    ["--subject", "User:a", "--as", "a"],
    ["--as", "a", "--who-can", "get", "pods"],
    ["--namespace-view", "x", "-n", "y"],
    ["--subject", "User:a", "-A"],
    ["--subject", "User:a", "--subresource", "exec"],
    ["--subject", "alice"],  # not KIND:NAME
    ["--max-nodes", "3"],
    ["positional"],
    ["--who-can", "get", "nosuchtype"],
])
def test_render_bad_flags_exit_2(cli, argv):
    r = cli("render", *argv, "-f", D)
    assert r.code == 2, r
    assert "Traceback" not in r.err


def test_render_binary_needs_a_file(cli):
    r = cli("render", "--namespace-view", "payments", "-f", D, "-o", "png")
    assert r.code == 2 and "--output-file" in r.err


@needs_dot
def test_render_svg_file(cli, tmp_path):
    target = tmp_path / "who.svg"
    r = cli("render", "--who-can", "get", "secrets", "-n", "payments", "-f", D, "-o", "svg",
            "--output-file", str(target))
    assert r.code == 0, r
    svg = target.read_text()
    assert "<svg" in svg and "web/legacy&#45;cms" in svg  # dot writes - as &#45;
    r = cli("render", "--namespace-view", "payments", "-f", D, "-o", "svg")
    assert r.code == 0 and "<svg" in r.out


def test_render_without_graphviz(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    r = cli("render", "--namespace-view", "payments", "-f", D, "-o", "svg")
    assert r.code == 2
    assert r.err.count("\n") == 2 and "install Graphviz" in r.err  # the notice line, then one error line
    r = cli("render", "--namespace-view", "payments", "-f", D)
    assert r.code == 0  # DOT needs no Graphviz


def test_readme_example_svg_is_committed():
    from .conftest import ROOT

    svg = (ROOT / "docs" / "demo-who-can.svg").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "<svg" in svg and "Who can get secrets in namespace payments" in svg
    assert "rbac-analyzer render --who-can get secrets -n payments -f sample_policies/demo-cluster/ -o svg " \
           "--output-file docs/demo-who-can.svg" in readme
