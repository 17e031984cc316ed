"""The permission graph as files other tools read: GraphML, node-link JSON, a Cypher script, Neo4j CSV.

Every writer sorts nodes and edges, so one policy always gives the same bytes. List attributes (a
role's rule summaries) become one newline-separated string where the format has no lists.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import networkx as nx

__all__ = ["EXPORT_FORMATS", "to_graphml", "to_json", "to_cypher", "neo4j_csv_tables", "write_neo4j_csv",
           "NEO4J_IMPORT_COMMAND", "cypher_string"]

EXPORT_FORMATS = ("graphml", "json", "cypher", "neo4j-csv")
NODE_LABEL = "RbacNode"  # every node carries it (the id constraint hangs on it) besides its kind
NEO4J_IMPORT_COMMAND = ("neo4j-admin database import full --nodes=nodes.csv --relationships=relationships.csv "
                        "--multiline-fields=true neo4j")
_FIRST = ("kind", "name", "namespace", "source")


def _flat(value: Any) -> Any:
    """A value the flat formats can hold: lists joined by newlines, None as ""."""
    if value is None:
        return ""
    if isinstance(value, list | tuple | set | frozenset):
        return "\n".join(str(v) for v in value)
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    return str(value)


def _sorted_nodes(g: nx.MultiDiGraph) -> list[tuple[str, dict[str, Any]]]:
    return sorted(((str(n), dict(a)) for n, a in g.nodes(data=True)), key=lambda x: x[0])


def _sorted_edges(g: nx.MultiDiGraph) -> list[tuple[str, str, str, dict[str, Any]]]:
    return sorted(((str(u), str(v), str(k), dict(a)) for u, v, k, a in g.edges(keys=True, data=True)),
                  key=lambda e: (e[0], e[1], e[2]))


def _columns(rows: Iterable[dict[str, Any]], first: tuple[str, ...] = ()) -> list[str]:
    names: set[str] = set()
    for r in rows:
        names.update(r)
    return [c for c in first if c in names] + sorted(names - set(first))


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml(value: Any) -> Any:
    """XML 1.0 cannot hold most control characters, even escaped: they become U+FFFD."""
    return _NOT_XML.sub("\ufffd", value) if isinstance(value, str) else value


def to_graphml(g: nx.MultiDiGraph) -> str:
    """GraphML (Gephi, yEd, Cytoscape): one attribute key per node/edge attribute; edge ids are the kinds."""
    flat = nx.MultiDiGraph()
    if g.graph.get("incomplete"):
        flat.graph["incomplete"] = _xml(str(g.graph["incomplete"]))
    for n, attrs in _sorted_nodes(g):
        flat.add_node(_xml(n), **{k: _xml(_flat(v)) for k, v in sorted(attrs.items())})
    for u, v, k, attrs in _sorted_edges(g):
        flat.add_edge(_xml(u), _xml(v), key=k, kind=k, **{a: _xml(_flat(x)) for a, x in sorted(attrs.items())})
    body = "\n".join(nx.generate_graphml(flat, prettyprint=True, encoding="utf-8"))
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"


def to_json(g: nx.MultiDiGraph) -> str:
    """networkx node-link JSON (``nodes``, ``edges`` with ``source``/``target``/``key``)."""
    ordered = nx.MultiDiGraph()
    ordered.graph.update({"generator": "rbac-analyzer", **{k: v for k, v in g.graph.items() if k == "incomplete"}})
    for n, attrs in _sorted_nodes(g):
        ordered.add_node(n, **attrs)
    for u, v, k, attrs in _sorted_edges(g):
        ordered.add_edge(u, v, key=k, **attrs)
    data = nx.node_link_data(ordered, edges="edges")
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n"


# -- Cypher -------------------------------------------------------------------------------------------


def cypher_string(text: str) -> str:
    """A Cypher string literal: single quotes, backslash escapes, control characters as ``\\uXXXX``.

    >>> print(cypher_string("it's a \\\\ \\n"))
    'it\\'s a \\\\ \\n'
    """
    out = ["'"]
    for ch in str(text):
        if ch == "\\":
            out.append("\\\\")
        elif ch == "'":
            out.append("\\'")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F or ch in "\u2028\u2029":
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append("'")
    return "".join(out)


def _cypher_name(name: str) -> str:
    """A label, type or property name quoted with backticks (a backtick doubled)."""
    return "`" + str(name).replace("`", "``") + "`"


def _cypher_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return repr(value)
    if isinstance(value, list | tuple | set | frozenset):
        return "[" + ", ".join(cypher_string(str(v)) for v in value) + "]"
    return cypher_string("" if value is None else str(value))


def _cypher_map(attrs: dict[str, Any]) -> str:
    items = [f"{_cypher_name(k)}: {_cypher_value(v)}" for k, v in sorted(attrs.items()) if v is not None]
    return "{" + ", ".join(items) + "}"


def to_cypher(g: nx.MultiDiGraph) -> str:
    """A Cypher script (``cypher-shell -f FILE``): MERGE every node by id, then every relationship.

    Each node gets the label ``RbacNode`` and its kind as a second label; relationship types are the
    edge kinds. Re-running the script updates instead of duplicating.
    """
    lines = [
        "// rbac-analyzer permission graph. Load with: cypher-shell -f THIS_FILE",
        f"CREATE CONSTRAINT rbac_node_id IF NOT EXISTS FOR (n:{NODE_LABEL}) REQUIRE n.id IS UNIQUE;",
    ]
    for n, attrs in _sorted_nodes(g):
        kind = attrs.get("kind") or "Node"
        props = {k: v for k, v in attrs.items() if k != "id"}
        lines.append(f"MERGE (n:{NODE_LABEL} {{id: {cypher_string(n)}}}) SET n:{_cypher_name(kind)}, "
                     f"n += {_cypher_map(props)};")
    for u, v, k, attrs in _sorted_edges(g):
        rel = k.partition(":")[0]
        lines.append(f"MATCH (a:{NODE_LABEL} {{id: {cypher_string(u)}}}), (b:{NODE_LABEL} {{id: {cypher_string(v)}}}) "
                     f"MERGE (a)-[r:{_cypher_name(rel)}]->(b) SET r += {_cypher_map(attrs)};")
    return "\n".join(lines) + "\n"


# -- neo4j-admin CSV ----------------------------------------------------------------------------------


def _csv_type(values: list[Any]) -> str:
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, bool) for v in present):
        return ":boolean"
    if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return ":long"
    return ""


def _csv_cell(value: Any, typ: str) -> str:
    if value is None:
        return ""
    if typ == ":boolean":
        return "true" if value else "false"
    return str(_flat(value))


def _csv_text(header: list[str], rows: list[list[str]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def neo4j_csv_tables(g: nx.MultiDiGraph) -> dict[str, str]:
    """``nodes.csv`` and ``relationships.csv`` in the header format ``neo4j-admin database import`` reads.

    Nodes: ``id:ID``, ``:LABEL`` (``RbacNode;<kind>``), then one column per attribute (typed
    ``:boolean``/``:long`` when every value is). Relationships: ``:START_ID``, ``:END_ID``, ``:TYPE``,
    then attributes. Fields are RFC 4180 quoted (a quote doubled); multi-line fields need
    ``--multiline-fields=true``.
    """
    nodes = _sorted_nodes(g)
    cols = _columns((a for _, a in nodes), _FIRST)
    types = {c: _csv_type([a.get(c) for _, a in nodes]) for c in cols}
    header = ["id:ID", ":LABEL", *(f"{c}{types[c]}" for c in cols)]
    rows = [[n, f"{NODE_LABEL};{a.get('kind') or 'Node'}", *(_csv_cell(a.get(c), types[c]) for c in cols)]
            for n, a in nodes]
    edges = _sorted_edges(g)
    ecols = _columns(a for *_, a in edges)
    etypes = {c: _csv_type([a.get(c) for *_, a in edges]) for c in ecols}
    eheader = [":START_ID", ":END_ID", ":TYPE", *(f"{c}{etypes[c]}" for c in ecols)]
    erows = [[u, v, k.partition(":")[0], *(_csv_cell(a.get(c), etypes[c]) for c in ecols)] for u, v, k, a in edges]
    readme = ("Import into an empty (or new) Neo4j database, with the server stopped:\n\n"
              f"  {NEO4J_IMPORT_COMMAND}\n\n"
              "Every node has the label RbacNode and its kind (User, Group, ServiceAccount, RoleBinding, ...);\n"
              "relationship types are SUBJECT_OF, GRANTS, AGGREGATES, MEMBER_OF, RUNS_AS.\n")
    return {"nodes.csv": _csv_text(header, rows), "relationships.csv": _csv_text(eheader, erows),
            "IMPORT.txt": readme}


def write_neo4j_csv(g: nx.MultiDiGraph, folder: str | Path) -> list[Path]:
    """Write the CSV bundle into ``folder`` (created if needed); returns the files written."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in neo4j_csv_tables(g).items():
        p = out / name
        p.write_text(text, encoding="utf-8", newline="")
        written.append(p)
    return written
