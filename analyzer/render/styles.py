"""Style tables for diagrams: node kind → shape and colours, danger severity → colours, edge kinds."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

__all__ = ["FONT", "NODE_STYLES", "WORKLOAD_STYLE", "DEFAULT_NODE_STYLE", "DANGER_COLOURS", "DANGER_FILLS",
           "DANGER_LABELS", "EDGE_STYLES", "DEFAULT_EDGE_STYLE", "CLUSTER_STYLES", "KIND_LABELS", "node_style",
           "edge_style"]

FONT = "Helvetica"

# Colours chosen to stay readable in print and for common colour-vision deficiencies: kinds differ by
# shape first, colour second; danger is a red/orange/amber border plus fill.
NODE_STYLES: MappingProxyType[str, dict[str, str]] = MappingProxyType({
    "User": {"shape": "ellipse", "style": "filled", "fillcolor": "#dbeafe", "color": "#1d4ed8"},
    "Group": {"shape": "ellipse", "style": "filled", "fillcolor": "#e0e7ff", "color": "#4338ca",
              "peripheries": "2"},
    "ServiceAccount": {"shape": "hexagon", "style": "filled", "fillcolor": "#ccfbf1", "color": "#0f766e"},
    "RoleBinding": {"shape": "box", "style": "rounded,filled", "fillcolor": "#f1f5f9", "color": "#475569"},
    "ClusterRoleBinding": {"shape": "box", "style": "rounded,filled,bold", "fillcolor": "#fef3c7",
                           "color": "#92400e"},
    "Role": {"shape": "box3d", "style": "filled", "fillcolor": "#dcfce7", "color": "#15803d"},
    "ClusterRole": {"shape": "box3d", "style": "filled", "fillcolor": "#d9f99d", "color": "#3f6212"},
    "Permission": {"shape": "note", "style": "filled", "fillcolor": "#ffffff", "color": "#64748b",
                   "fontsize": "10"},
    "Request": {"shape": "cds", "style": "filled,bold", "fillcolor": "#fde68a", "color": "#78350f",
                "fontsize": "13"},
    "More": {"shape": "box", "style": "dashed,rounded", "color": "#94a3b8", "fontcolor": "#475569"},
    "Collapsed": {"shape": "folder", "style": "filled", "fillcolor": "#e5e7eb", "color": "#6b7280"},
    "Namespace": {"shape": "tab", "style": "filled", "fillcolor": "#f8fafc", "color": "#64748b"},
})
WORKLOAD_STYLE = {"shape": "component", "style": "filled", "fillcolor": "#ede9fe", "color": "#6d28d9"}
DEFAULT_NODE_STYLE = {"shape": "box"}

KIND_LABELS: MappingProxyType[str, str] = MappingProxyType({
    "User": "User", "Group": "Group", "ServiceAccount": "ServiceAccount", "RoleBinding": "RoleBinding",
    "ClusterRoleBinding": "ClusterRoleBinding", "Role": "Role", "ClusterRole": "ClusterRole",
    "Permission": "rule", "Request": "the request", "More": "more, not drawn", "Collapsed": "grouped",
    "Namespace": "Namespace", "Workload": "workload (pod or pod template)",
})

DANGER_COLOURS: MappingProxyType[str, str] = MappingProxyType({
    "critical": "#b91c1c", "high": "#ea580c", "medium": "#ca8a04", "low": "#2563eb", "info": "#6b7280",
})
DANGER_FILLS: MappingProxyType[str, str] = MappingProxyType({
    "critical": "#fecaca", "high": "#fed7aa", "medium": "#fef08a", "low": "#dbeafe", "info": "#f3f4f6",
})
DANGER_LABELS: MappingProxyType[str, str] = MappingProxyType({
    "critical": "critical: cluster-admin equivalent, escalate",
    "high": "high: secrets, bind, impersonate, exec, tokens",
    "medium": "medium: create pods, write bindings",
})

EDGE_STYLES: MappingProxyType[str, dict[str, str]] = MappingProxyType({
    "SUBJECT_OF": {"color": "#334155"},
    "GRANTS": {"color": "#334155", "penwidth": "1.4"},
    "MEMBER_OF": {"style": "dashed", "color": "#4338ca", "arrowhead": "onormal"},
    "AGGREGATES": {"style": "dotted", "color": "#3f6212", "arrowhead": "empty", "constraint": "false"},
    "RUNS_AS": {"color": "#6d28d9", "arrowhead": "vee"},
    "RULE": {"color": "#94a3b8", "arrowhead": "none"},
    "MORE": {"style": "dashed", "color": "#94a3b8", "arrowhead": "none"},
    "ESCALATES_TO": {"color": "#b91c1c", "penwidth": "2", "style": "bold"},
})
DEFAULT_EDGE_STYLE = {"color": "#334155"}

CLUSTER_STYLES: MappingProxyType[str, dict[str, str]] = MappingProxyType({
    "cluster-wide": {"style": "rounded,filled,dashed", "color": "#b91c1c", "fillcolor": "#fff7ed",
                     "penwidth": "2", "fontcolor": "#b91c1c"},
    "namespace": {"style": "rounded,filled", "color": "#94a3b8", "fillcolor": "#f8fafc", "fontcolor": "#334155"},
})


def node_style(kind: str, danger: str = "", *, implied: bool = False, missing: bool = False,
               is_workload: bool = False) -> dict[str, Any]:
    """Graphviz attributes for a node of ``kind`` with a danger severity ("" for none)."""
    style = dict(WORKLOAD_STYLE if is_workload else NODE_STYLES.get(kind, DEFAULT_NODE_STYLE))
    if danger in DANGER_COLOURS and danger in ("critical", "high", "medium"):
        style["color"] = DANGER_COLOURS[danger]
        style["fillcolor"] = DANGER_FILLS[danger]
        style["penwidth"] = "3" if danger == "critical" else "2"
        if "filled" not in style.get("style", ""):
            style["style"] = ",".join(filter(None, [style.get("style", ""), "filled"]))
    if implied or missing:
        parts = [p for p in style.get("style", "").split(",") if p and p != "bold"]
        style["style"] = ",".join([*parts, "dashed"])
    if missing:
        style["color"] = "#9ca3af"
        style["fontcolor"] = "#6b7280"
        style["fillcolor"] = "#f9fafb"
    return style


def edge_style(key: str) -> dict[str, str]:
    """Graphviz attributes for an edge key (``RULE:3`` styles like ``RULE``)."""
    return dict(EDGE_STYLES.get(key.partition(":")[0], DEFAULT_EDGE_STYLE))
