"""Drawing: views of the permission graph as Graphviz diagrams (``dot``), and graph exports (``export``)."""

from __future__ import annotations

from .dot import GRAPHVIZ_FORMATS, to_digraph, write

__all__ = ["GRAPHVIZ_FORMATS", "to_digraph", "write"]
