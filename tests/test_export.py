"""Graph exports checked as text: GraphML, node-link JSON, Cypher and the neo4j-admin CSV bundle.

No Neo4j server is available here: Cypher and CSV are checked for headers, ID columns and escaping.
"""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET

import networkx as nx
import pytest

from analyzer import Analysis
from analyzer.render.export import (
    NEO4J_IMPORT_COMMAND,
    cypher_string,
    neo4j_csv_tables,
    to_cypher,
    to_graphml,
    to_json,
    write_neo4j_csv,
)

from .graph_fixtures import HOSTILE, SMALL

WEIRD_ROLE = 'ClusterRole:we"ird,role\\x'
WEIRD_USER = "User:line1\nline2,'q'\\"


@pytest.fixture(scope="module")
def small() -> Analysis:
    return Analysis.from_texts([("small.yaml", SMALL)])


@pytest.fixture(scope="module")
def hostile() -> Analysis:
    return Analysis.from_objects(HOSTILE)


def test_graphml_round_trip(small):
    text = to_graphml(small.graph)
    ET.fromstring(text)  # well-formed XML
    back = nx.read_graphml(io.BytesIO(text.encode()), force_multigraph=True)
    assert set(back.nodes) == set(small.graph.nodes)
    assert {(u, v, k) for u, v, k in back.edges(keys=True)} == set(small.graph.edges(keys=True))
    reader = back.nodes["ClusterRole:reader"]
    assert reader["rules"] == 'get,list pods [""]\nget,list secrets [""]'
    assert reader["aggregated"] is True and reader["rule_count"] == 2
    assert 'attr.name="automount_token" attr.type="boolean"' in text


def test_graphml_escapes(hostile):
    text = to_graphml(hostile.graph)
    back = nx.read_graphml(io.BytesIO(text.encode()), force_multigraph=True)
    assert {WEIRD_ROLE, WEIRD_USER, "ClusterRoleBinding:<b>x</b>"} <= set(back.nodes)
    assert "<b>x</b>" not in text  # as &lt;b&gt;


def test_json_node_link(small):
    data = json.loads(to_json(small.graph))
    assert data["directed"] is True and data["multigraph"] is True
    ids = [n["id"] for n in data["nodes"]]
    assert ids == sorted(ids) and "ServiceAccount:ci/builder" in ids
    assert {(e["source"], e["target"], e["key"]) for e in data["edges"]} == set(small.graph.edges(keys=True))
    node = next(n for n in data["nodes"] if n["id"] == "ClusterRole:reader")
    assert node["rules"] == ['get,list pods [""]', 'get,list secrets [""]']
    assert to_json(small.graph) == to_json(small.graph)


def test_cypher_script(small):
    text = to_cypher(small.graph)
    lines = text.splitlines()
    assert lines[1] == "CREATE CONSTRAINT rbac_node_id IF NOT EXISTS FOR (n:RbacNode) REQUIRE n.id IS UNIQUE;"
    merges = [x for x in lines if x.startswith("MERGE (n:RbacNode")]
    rels = [x for x in lines if x.startswith("MATCH (a:RbacNode")]
    assert len(merges) == small.graph.number_of_nodes() and len(rels) == small.graph.number_of_edges()
    assert all(x.endswith(";") for x in lines[1:])
    assert ("MERGE (n:RbacNode {id: 'ServiceAccount:ci/builder'}) SET n:`ServiceAccount`, n += {`automount_token`: "
            "false, `defined`: true, `kind`: 'ServiceAccount', `name`: 'builder', `namespace`: 'ci', `source`: "
            "'small.yaml:2'};") in lines
    assert ("MATCH (a:RbacNode {id: 'RoleBinding:ci/builder-read'}), (b:RbacNode {id: 'ClusterRole:reader'}) "
            "MERGE (a)-[r:`GRANTS`]->(b) SET r += {`namespace`: 'ci'};") in lines
    assert "`rules`: ['get,list pods [\"\"]', 'get,list secrets [\"\"]']" in text


def test_cypher_escaping(hostile):
    text = to_cypher(hostile.graph)
    assert "{id: 'User:line1\\nline2,\\'q\\'\\\\'}" in text
    assert "{id: 'ClusterRole:we\"ird,role\\\\x'}" in text
    assert "`name`: 'a:b -> c; `x`'" in text  # backticks are fine inside a string
    # every statement stays on one line: a newline in a name never splits a statement
    assert all(line.endswith(";") for line in text.splitlines()[1:])
    assert cypher_string("tab\tcr\r\x01") == "'tab\\tcr\\r\\u0001'"


def _read(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def test_neo4j_csv_headers_and_ids(small):
    tables = neo4j_csv_tables(small.graph)
    nodes, rels = _read(tables["nodes.csv"]), _read(tables["relationships.csv"])
    assert nodes[0][:6] == ["id:ID", ":LABEL", "kind", "name", "namespace", "source"]
    assert "automount_token:boolean" in nodes[0] and "rule_count:long" in nodes[0]
    assert rels[0][:3] == [":START_ID", ":END_ID", ":TYPE"]
    ids = {r[0] for r in nodes[1:]}
    assert ids == set(small.graph.nodes)
    assert all(r[0] in ids and r[1] in ids for r in rels[1:])  # every relationship joins known ids
    assert {r[2] for r in rels[1:]} == {"SUBJECT_OF", "GRANTS", "AGGREGATES", "MEMBER_OF", "RUNS_AS"}
    row = next(r for r in nodes[1:] if r[0] == "ServiceAccount:ci/builder")
    assert row[1] == "RbacNode;ServiceAccount"
    assert dict(zip(nodes[0], row, strict=True))["automount_token:boolean"] == "false"
    assert NEO4J_IMPORT_COMMAND in tables["IMPORT.txt"]


def test_neo4j_csv_escaping(hostile, tmp_path):
    files = write_neo4j_csv(hostile.graph, tmp_path / "bundle")
    assert sorted(f.name for f in files) == ["IMPORT.txt", "nodes.csv", "relationships.csv"]
    raw = (tmp_path / "bundle" / "nodes.csv").read_text(encoding="utf-8")
    assert '"ClusterRole:we""ird,role\\x"' in raw  # RFC 4180: quoted, the quote doubled, backslash kept
    assert "\"User:line1\nline2,'q'\\\"" in raw  # a newline stays inside its quoted field
    nodes = _read(raw)
    assert {WEIRD_ROLE, WEIRD_USER} <= {r[0] for r in nodes[1:]}
    assert all(len(r) == len(nodes[0]) for r in nodes)
    rels = _read((tmp_path / "bundle" / "relationships.csv").read_text(encoding="utf-8"))
    assert [WEIRD_USER, "ClusterRoleBinding:<b>x</b>", "SUBJECT_OF"] in [r[:3] for r in rels]


def test_graphml_survives_control_characters():
    a = Analysis.from_objects([{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                                "metadata": {"name": "b\x01"}, "roleRef": {"kind": "ClusterRole", "name": "r",
                                                                         "apiGroup": "rbac.authorization.k8s.io"},
                                "subjects": [{"kind": "User", "name": "u\x0bv"}]}])
    back = nx.read_graphml(io.BytesIO(to_graphml(a.graph).encode()), force_multigraph=True)
    assert {"ClusterRoleBinding:b\ufffd", "User:u\ufffdv"} <= set(back.nodes)
