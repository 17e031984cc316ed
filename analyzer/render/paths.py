"""Draw escalation paths as a ``graphviz.Digraph`` (pure: never computes analysis, never writes files)."""

from __future__ import annotations

from collections.abc import Sequence

import graphviz

from ..model.paths import EscalationPath, describe_node, is_sink

__all__ = ["paths_digraph", "to_svg", "NODE_STYLES"]

# node kind → graphviz attributes (kept here until a shared render/styles.py exists)
NODE_STYLES: dict[str, dict[str, str]] = {
    "User": {"shape": "ellipse", "style": "filled", "fillcolor": "#dbeafe"},
    "Group": {"shape": "ellipse", "style": "filled", "fillcolor": "#e0e7ff"},
    "ServiceAccount": {"shape": "ellipse", "style": "filled", "fillcolor": "#dcfce7"},
    "ClusterRole": {"shape": "box", "style": "filled,rounded", "fillcolor": "#fef9c3"},
    "Role": {"shape": "box", "style": "filled,rounded", "fillcolor": "#fef9c3"},
    "Sink": {"shape": "doubleoctagon", "style": "filled", "fillcolor": "#fecaca", "color": "#b91c1c"},
}


def _label(node: str) -> str:
    d = describe_node(node)
    if d["kind"] == "Sink":
        return node
    name = f"{d['namespace']}/{d['name']}" if d.get("namespace") else d["name"]
    text = f"{d['kind']}\n{name}"
    if "scope" in d:
        text += f"\nbound in {d['scope']}"
    return text


def paths_digraph(paths: Sequence[EscalationPath], *, title: str = "") -> graphviz.Digraph:
    """One diagram of several paths: nodes once each, one edge per distinct step (dashed when potential)."""
    g = graphviz.Digraph("escalation", graph_attr={"rankdir": "LR", "fontname": "Helvetica", "label": title,
                                                    "labelloc": "t"},
                         node_attr={"fontname": "Helvetica", "fontsize": "11"},
                         edge_attr={"fontname": "Helvetica", "fontsize": "9"})
    nodes: dict[str, None] = {}
    edges: dict[tuple[str, str, str], bool] = {}
    for p in paths:
        for node in p.nodes:
            nodes.setdefault(node)
        for s in p.steps:
            key = (s.source, s.target, s.reason or s.technique)
            edges[key] = edges.get(key, True) and s.potential
    ids = {node: f"n{i}" for i, node in enumerate(nodes)}  # node ids hold ':' (graphviz port syntax)
    for node, gid in ids.items():
        kind = "Sink" if is_sink(node) else describe_node(node)["kind"]
        g.node(gid, label=_label(node), tooltip=node, **NODE_STYLES.get(kind, {}))
    for (src, dst, reason), potential in edges.items():
        attrs = {"label": reason + (" (potential)" if potential else "")}
        if potential:
            attrs["style"] = "dashed"
        g.edge(ids[src], ids[dst], **attrs)
    return g


def to_svg(digraph: graphviz.Digraph) -> str:
    """Lay out with Graphviz ``dot`` and return SVG text."""
    return digraph.pipe(format="svg").decode("utf-8")
