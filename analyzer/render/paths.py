"""Draw escalation paths as a ``graphviz.Digraph`` (pure: never computes analysis, never writes files)."""

from __future__ import annotations

from collections.abc import Sequence

import graphviz

from ..model.paths import EscalationPath, describe_node, is_sink
from .styles import DANGER_COLOURS, DANGER_FILLS, DEFAULT_NODE_STYLE, FONT, NODE_STYLES

__all__ = ["paths_digraph", "to_svg", "SINK_STYLE"]

# Sinks are drawn as the critical danger level of render/styles.py; other kinds use its node styles.
SINK_STYLE = {"shape": "doubleoctagon", "style": "filled,bold", "fillcolor": DANGER_FILLS["critical"],
              "color": DANGER_COLOURS["critical"]}


def _style(kind: str) -> dict[str, str]:
    return SINK_STYLE if kind == "Sink" else dict(NODE_STYLES.get(kind, DEFAULT_NODE_STYLE))


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
    g = graphviz.Digraph("escalation", graph_attr={"rankdir": "LR", "fontname": FONT, "label": title,
                                                    "labelloc": "t"},
                         node_attr={"fontname": FONT, "fontsize": "11"},
                         edge_attr={"fontname": FONT, "fontsize": "9"})
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
        g.node(gid, label=_label(node), tooltip=node, **_style(kind))
    for (src, dst, reason), potential in edges.items():
        attrs = {"label": reason + (" (potential)" if potential else "")}
        if potential:
            attrs["style"] = "dashed"
        g.edge(ids[src], ids[dst], **attrs)
    return g


def to_svg(digraph: graphviz.Digraph) -> str:
    """Lay out with Graphviz ``dot`` and return SVG text."""
    return digraph.pipe(format="svg").decode("utf-8")
