"""Views of the permission graph → ``graphviz.Digraph`` (pure), and ``write`` (the only call to ``dot``).

Layers run left to right (workload → subject → group → binding → role → permission); bindings, roles and
rules sit in one frame per namespace, and cluster-wide grants in their own red dashed frame. Colour and
shape follow the node kind (``styles``); danger turns a node red, orange or amber. Every node and
edge has a tooltip (rule text, source file) that SVG viewers show on hover. Output is sorted, so the
same policy always gives the same DOT text.
"""

from __future__ import annotations

import logging
import re
import textwrap
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import graphviz
import networkx as nx

from ..errors import AnalyzerError
from ..graph import CLUSTER_WIDE
from ..workloads import WORKLOAD_KINDS
from . import styles

__all__ = ["GRAPHVIZ_FORMATS", "GraphvizMissing", "to_digraph", "pipe", "write", "INSTALL_HINT"]

logger = logging.getLogger(__name__)

GRAPHVIZ_FORMATS = ("svg", "png", "pdf")
INSTALL_HINT = ("Graphviz's 'dot' program was not found: install Graphviz (apt-get install graphviz | "
                "dnf install graphviz | brew install graphviz | choco install graphviz), or use -o dot")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_KIND_ORDER = ["User", "Group", "ServiceAccount", "Workload", "ClusterRoleBinding", "RoleBinding", "ClusterRole",
               "Role", "Permission", "Request", "Collapsed", "More", "Namespace"]


class GraphvizMissing(AnalyzerError):
    """The ``dot`` program is not installed."""


def _clean(text: str) -> str:
    """User text made literal for a DOT escString: backslashes doubled, control characters blanked."""
    return _CONTROL.sub(" ", str(text)).replace("\\", "\\\\")


def _lines(lines: Iterable[str], *, left: bool = False) -> str:
    """Lines joined with DOT's line breaks (centred ``\\n`` or left-aligned ``\\l``), HTML disabled."""
    parts = [_clean(x) for x in lines if x is not None]
    if left:
        return graphviz.nohtml("".join(p + "\\l" for p in parts))
    return graphviz.nohtml("\\n".join(parts))


def _wrap(text: str, width: int = 46) -> list[str]:
    text = text.replace('[""]', "[core]").replace(",", ", ")  # rule summaries read better spaced
    return textwrap.wrap(text, width=width, break_on_hyphens=False) or [text]


def _is_workload(attrs: dict[str, Any]) -> bool:
    return attrs.get("kind") in WORKLOAD_KINDS


def _display_name(attrs: dict[str, Any]) -> str:
    kind, name, ns = attrs.get("kind", ""), attrs.get("name", ""), attrs.get("namespace", "")
    if kind == "ServiceAccount" and ns:
        return f"{ns}/{name}"
    return name


def _label(attrs: dict[str, Any]) -> str:
    kind = attrs.get("kind", "")
    detail = attrs.get("detail", "")
    titles = attrs.get("danger_titles") or []
    if kind == "Permission":
        lines = _wrap(attrs.get("name", ""))
        if detail:
            lines.append(("⚠ " if attrs.get("danger") else "") + detail)
        return _lines(lines)
    if kind == "Request":
        return _lines(_wrap(attrs.get("name", ""), 30))
    if kind in ("More", "Collapsed"):
        return _lines([attrs.get("name", ""), detail] if detail else [attrs.get("name", "")])
    second = kind
    if attrs.get("implied"):
        second, detail = f"{kind} (implied)", ""
    elif detail and kind in ("Role", "ClusterRole"):
        second = f"{kind} · {detail}"
    lines = [_display_name(attrs), second]
    if detail and kind not in ("Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"):
        lines.append(detail)
    if titles and kind in ("Role", "ClusterRole"):
        lines.append(f"⚠ {titles[0]}")
    return _lines(lines)


def _tooltip(nid: str, attrs: dict[str, Any]) -> str:
    kind = attrs.get("kind", "")
    lines = [nid if kind not in ("Permission", "Request", "More") else f"{kind}: {attrs.get('name', '')}"]
    if attrs.get("detail"):
        lines.append(attrs["detail"])
    if attrs.get("missing"):
        lines.append("referenced but not in the inputs: this binding grants nothing")
    if attrs.get("rule"):
        lines.append("")
        lines.extend(attrs["rule"].splitlines())
    for title in attrs.get("danger_titles") or []:
        lines.append(f"danger: {title}")
    rules = (attrs.get("tooltip_rules") or attrs.get("rules") or [])[:40]  # view nodes, or whole-graph roles
    if rules:
        lines.append("rules:")
        lines.extend(f"  {r}" for r in rules)
        if attrs.get("rule_count", 0) > len(rules):
            lines.append(f"  … {attrs['rule_count'] - len(rules)} more")
    if attrs.get("source"):
        lines.append(f"source: {attrs['source']}")
    return _lines(lines, left=True)


def _cluster_sort_key(cluster: str) -> tuple[int, str]:
    return (0, "") if cluster == CLUSTER_WIDE else (1, cluster)


def _node_sort_key(item: tuple[str, dict[str, Any]]) -> tuple[int, str]:
    nid, attrs = item
    return (int(attrs.get("layer", 0)), nid)


def to_digraph(view: nx.MultiDiGraph, *, title: str | None = None, legend: bool = True) -> graphviz.Digraph:
    """Draw a view (``analyzer.graph.*_view``, ``overview``, or the whole graph) as a Digraph.

    Pure: no files, no ``dot``. ``title`` defaults to the view's ``title`` graph attribute.
    """
    title = title if title is not None else view.graph.get("title", "")
    dg = graphviz.Digraph(name="rbac", engine="dot")
    dg.attr("graph", rankdir="LR", fontname=styles.FONT, fontsize="16", labelloc="t", labeljust="l",
            label=_lines([title]) if title else "", tooltip=_lines([title or "RBAC"]), nodesep="0.25",
            ranksep="0.7", newrank="true", compound="true", bgcolor="white")
    dg.attr("node", fontname=styles.FONT, fontsize="11", margin="0.12,0.06")
    dg.attr("edge", fontname=styles.FONT, fontsize="9", arrowsize="0.7")
    by_cluster: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for nid, attrs in view.nodes(data=True):
        by_cluster.setdefault(attrs.get("cluster", "") or "", []).append((nid, attrs))
    kinds: set[str] = set()
    dangers: set[str] = set()
    # DOT ids are opaque (n0, n1, ...) in sorted order: readable ids hold ':' which DOT reads as a port
    ids = {nid: f"n{i}" for i, nid in enumerate(sorted(view.nodes))}

    def add_nodes(target: graphviz.Digraph, items: list[tuple[str, dict[str, Any]]]) -> None:
        for nid, attrs in sorted(items, key=_node_sort_key):
            workload = _is_workload(attrs)
            kinds.add("Workload" if workload else attrs.get("kind", ""))
            if attrs.get("danger"):
                dangers.add(attrs["danger"])
            style = styles.node_style(attrs.get("kind", ""), attrs.get("danger", ""),
                                      implied=bool(attrs.get("implied")), missing=bool(attrs.get("missing")),
                                      is_workload=workload)
            target.node(ids[nid], label=_label(attrs), tooltip=_tooltip(nid, attrs), **style)

    free = by_cluster.pop("", [])
    add_nodes(dg, free)
    # subjects, implied groups and workloads outside frames line up in their own columns
    for layer in (0, 1, 2):
        same = sorted(ids[n] for n, a in free if a.get("layer") == layer)
        if len(same) > 1:
            with dg.subgraph() as sub:
                sub.attr(rank="same")
                for n in same:
                    sub.node(n)
    for i, cluster in enumerate(sorted(by_cluster, key=_cluster_sort_key)):
        if cluster == CLUSTER_WIDE:
            label, style = "cluster-wide grants (ClusterRoleBindings)", styles.CLUSTER_STYLES["cluster-wide"]
        else:
            label, style = f"namespace {cluster.partition(':')[2]}", styles.CLUSTER_STYLES["namespace"]
        with dg.subgraph(name=f"cluster_{i}") as sub:
            sub.attr(label=_lines([label]), tooltip=_lines([label]), fontname=styles.FONT, fontsize="12",
                     labeljust="l", **style)
            add_nodes(sub, by_cluster[cluster])
    for u, v, key, attrs in sorted(view.edges(keys=True, data=True), key=lambda e: (e[0], e[1], str(e[2]))):
        extra: dict[str, str] = {}
        if attrs.get("label"):
            extra["label"] = _lines(_wrap(attrs["label"], 36))
        tip = [f"{u} → {v} ({str(key).partition(':')[0]})"]
        if attrs.get("rule"):
            tip.extend(["", *attrs["rule"].splitlines()])
        if attrs.get("source"):
            tip.append(f"source: {attrs['source']}")
        if attrs.get("implied"):
            tip.append("implied membership (added by the API server)")
        if attrs.get("automount_token") is False:
            tip.append("automountServiceAccountToken: false (no token in the pod)")
            extra["style"] = "dashed"
        extra["tooltip"] = _lines(tip, left=True)
        dg.edge(ids[u], ids[v], **{**styles.edge_style(str(key)), **extra})
    if legend:
        edge_keys = {str(k).partition(":")[0] for _, _, k in view.edges(keys=True)}
        with dg.subgraph() as sub:
            sub.attr(rank="sink")
            sub.node("legend", label=_legend(kinds, dangers, edge_keys, bool(by_cluster)), shape="plaintext",
                     margin="0", tooltip="legend", fontsize="9")
    return dg


def _legend(kinds: set[str], dangers: set[str], edge_keys: set[str], clusters: bool) -> str:
    """An HTML-table legend of what appears in this diagram (fixed texts only, so no escaping needed)."""
    shapes = {"ellipse": "oval", "hexagon": "hexagon", "box": "box", "box3d": "3-D box", "note": "note",
              "cds": "arrow box", "folder": "folder", "component": "component", "tab": "tab"}
    rows = ['<TR><TD COLSPAN="2" ALIGN="LEFT"><B>Legend</B></TD></TR>']
    for kind in _KIND_ORDER:
        if kind not in kinds:
            continue
        st = styles.WORKLOAD_STYLE if kind == "Workload" else styles.NODE_STYLES[kind]
        shape = shapes.get(st.get("shape", "box"), st.get("shape", "box"))
        rows.append(f'<TR><TD BGCOLOR="{st.get("fillcolor", "#ffffff")}" WIDTH="18"></TD>'
                    f'<TD ALIGN="LEFT">{styles.KIND_LABELS[kind]} ({shape})</TD></TR>')
    for sev in ("critical", "high", "medium"):
        if sev in dangers:
            rows.append(f'<TR><TD BGCOLOR="{styles.DANGER_FILLS[sev]}" WIDTH="18"></TD>'
                        f'<TD ALIGN="LEFT"><FONT COLOR="{styles.DANGER_COLOURS[sev]}">'
                        f'{styles.DANGER_LABELS[sev]}</FONT></TD></TR>')
    edge_notes = {"MEMBER_OF": "dashed arrow: member of a group (dashed node: implied group)",
                  "AGGREGATES": "dotted arrow: aggregates the rules of",
                  "RUNS_AS": "runs as (dashed: token not mounted)"}
    for key in ("MEMBER_OF", "AGGREGATES", "RUNS_AS"):
        if key in edge_keys:
            rows.append(f'<TR><TD></TD><TD ALIGN="LEFT">{edge_notes[key]}</TD></TR>')
    if clusters:
        rows.append('<TR><TD></TD><TD ALIGN="LEFT"><FONT COLOR="#b91c1c">red dashed frame: cluster-wide'
                    '</FONT>; grey frame: one namespace</TD></TR>')
    rows.append('<TR><TD></TD><TD ALIGN="LEFT">hover a node or edge for rules and source files</TD></TR>')
    return ('<<TABLE BORDER="1" CELLBORDER="0" CELLSPACING="1" CELLPADDING="2" COLOR="#cbd5e1">'
            + "".join(rows) + "</TABLE>>")


def pipe(digraph: graphviz.Digraph, fmt: str) -> bytes:
    """Run ``dot`` and return the image bytes (``fmt``: svg, png or pdf)."""
    if fmt not in GRAPHVIZ_FORMATS:
        raise AnalyzerError(f"unknown image format {fmt!r}: use one of {', '.join(GRAPHVIZ_FORMATS)} or dot")
    try:
        return digraph.pipe(format=fmt)
    except graphviz.ExecutableNotFound as exc:
        raise GraphvizMissing(INSTALL_HINT) from exc
    except graphviz.CalledProcessError as exc:
        stderr = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else str(exc.stderr or "")
        first = stderr.strip().splitlines()[0] if stderr.strip() else str(exc)
        raise AnalyzerError(f"dot failed: {first}") from exc


def write(digraph: graphviz.Digraph, path: str | Path, fmt: str = "svg") -> Path:
    """Write the diagram to ``path``: DOT text for ``fmt="dot"``, else the image ``dot`` draws."""
    out = Path(path)
    if fmt == "dot":
        out.write_text(digraph.source, encoding="utf-8")
    else:
        out.write_bytes(pipe(digraph, fmt))
    return out
