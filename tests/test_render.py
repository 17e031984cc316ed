"""Diagrams: DOT content of every view, escaping of hostile names, one SVG drawn by Graphviz's dot."""

from __future__ import annotations

import re
import shutil

import graphviz
import pytest

from analyzer import Analysis
from analyzer.errors import AnalyzerError
from analyzer.render import dot
from analyzer.render.dot import GraphvizMissing, to_digraph, write

from .graph_fixtures import HOSTILE, SMALL

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot is not installed")


@pytest.fixture(scope="module")
def small() -> Analysis:
    return Analysis.from_texts([("small.yaml", SMALL)])


def node_line(source: str, text: str) -> str:
    """The DOT line of the node whose label contains ``text``."""
    for line in source.splitlines():
        if re.match(r"\s*n\d+ \[", line) and text in line:
            return line
    raise AssertionError(f"no node labelled {text!r} in\n{source}")


def test_subject_dot(small):
    src = small.render_subject("ServiceAccount:ci/builder").source
    assert "rankdir=LR" in src
    assert 'label="What ServiceAccount:ci/builder can do"' in src
    assert 'label="namespace ci"' in src  # a frame per namespace
    sa = node_line(src, "ci/builder\\nServiceAccount")
    assert "shape=hexagon" in sa
    implied = node_line(src, "system:serviceaccounts:ci\\nGroup (implied)")
    assert "dashed" in implied
    role = node_line(src, "reader\\nClusterRole · 2 rules (aggregated)")
    assert "⚠ read Secrets" in role and 'color="#ea580c"' in role
    assert "source: small.yaml:" in role  # tooltip names the file
    rule = node_line(src, "get, list secrets [core]")
    assert "shape=note" in rule and "verbs: [get, list]" in rule
    assert "Legend" in src


def test_cluster_wide_grants_framed_apart(small):
    src = small.render_subject(small.impersonate("carol", ["ops"]), explicit_groups=["ops"]).source
    assert 'label="cluster-wide grants (ClusterRoleBindings)"' in src
    assert re.search(r'subgraph cluster_0 \{\n\t\tcolor="#b91c1c"', src)
    assert "⚠ cluster-admin equivalent (* on *.*)" in node_line(src, "cluster-admin\\nClusterRole")
    assert "carol\\nUser" in src and "ops\\nGroup" in src


def test_who_can_dot(small):
    src = small.render_who_can(small.parse_request("get", "secrets", namespace="ci")).source
    assert 'label="Who can get secrets in namespace ci"' in src
    assert "shape=cds" in node_line(src, "get secrets in namespace ci")
    assert "authorizer: no binding needed" in node_line(src, "system:masters\\nGroup")
    assert 'label="get, list secrets [core]"' in src  # the allowing rule labels the edge
    assert "alice\\nUser" in src and "admins\\nClusterRoleBinding" in src


def test_namespace_dot(small):
    src = small.render_namespace("ci").source
    assert 'label="Namespace ci: who is bound here"' in src
    web = node_line(src, "web\\nDeployment")
    assert "shape=component" in web and "token not mounted" in web
    assert "style=dashed" in src  # the RUNS_AS edge without a token
    missing = node_line(src, "nope\\nRole")
    assert "dashed" in missing and "not found" in missing


def test_overview_dot(demo):
    src = demo.render_overview(max_nodes=40).source
    assert 'label="RBAC policy overview"' in src
    assert "bootstrap system: roles" in src
    assert re.search(r"\+\d+ more roles", src)
    assert "shape=folder" in src


def test_no_legend(small):
    assert "Legend" not in small.render_namespace("ci", legend=False).source


def test_output_is_deterministic(small):
    again = Analysis.from_texts([("small.yaml", "\n---\n".join(reversed(SMALL.split("\n---\n"))))])
    for render in (lambda a: a.render_subject("ServiceAccount:ci/builder"), lambda a: a.render_namespace("ci"),
                   lambda a: a.render_overview(),
                   lambda a: a.render_who_can(a.parse_request("get", "secrets", namespace="ci"))):
        first, second = render(small).source, render(again).source
        # the same policy, documents in another order: only line numbers in tooltips may differ
        strip = re.compile(r"small\.yaml:\d+")
        assert strip.sub("", first) == strip.sub("", second)
        assert render(small).source == first


def test_hostile_names_are_escaped():
    a = Analysis.from_objects(HOSTILE)
    src = a.render_who_can(a.parse_request("get", "secrets", all_namespaces=True)).source
    assert "<b>x</b>\\nClusterRoleBinding" in src  # inside quotes: text, never an HTML label
    assert src.count("label=<") == 1  # only the legend is HTML
    assert "we\\\"ird,role\\\\x" in src  # quote escaped, backslash doubled
    assert "line1 line2" in src  # newline blanked
    assert "\nline2" not in src


@needs_dot
def test_svg_rendered_by_dot(small, tmp_path):
    digraph = small.render_who_can(small.parse_request("get", "secrets", namespace="ci"))
    out = write(digraph, tmp_path / "who.svg", "svg")
    svg = out.read_text()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    assert "get secrets in namespace ci" in svg
    assert "verbs: [get, list]" in svg  # tooltip with the rule text
    assert "source: small.yaml:" in svg  # and the source file


@needs_dot
def test_hostile_names_render(tmp_path):
    a = Analysis.from_objects(HOSTILE)
    for digraph in (a.render_overview(), a.render_subject("User:line1\nline2,'q'\\")):
        svg = dot.pipe(digraph, "svg").decode()
        assert "<svg" in svg and "&lt;b&gt;x&lt;/b&gt;" in svg


def test_write_dot_needs_no_graphviz(small, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    out = write(small.render_namespace("ci"), tmp_path / "ns.dot", "dot")
    assert out.read_text().startswith("digraph rbac {")


def test_missing_dot_says_how_to_install(small, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot here
    with pytest.raises(GraphvizMissing) as info:
        write(small.render_namespace("ci"), tmp_path / "ns.svg", "svg")
    message = str(info.value)
    assert "install Graphviz" in message and "\n" not in message


def test_dot_failure_is_one_line(monkeypatch):
    def broken(*_, **__):
        raise graphviz.CalledProcessError(1, ["dot"], stderr=b"Error: syntax error in line 1\nmore\n")

    monkeypatch.setattr(graphviz.Digraph, "pipe", broken)
    with pytest.raises(AnalyzerError, match="dot failed: Error: syntax error in line 1$"):
        dot.pipe(graphviz.Digraph(), "svg")
    with pytest.raises(AnalyzerError, match="unknown image format"):
        dot.pipe(graphviz.Digraph(), "gif")


def test_to_digraph_draws_the_whole_graph(small):
    src = to_digraph(small.graph, title="everything").source
    assert "label=everything" in src and "runner\\nPod" in src
    assert "rules:\\l  get,list pods" in node_line(src, "reader\\nClusterRole")
