"""Formatters of an audit Report: JSON, Markdown, plain text, self-contained HTML and SARIF 2.1.0."""

from __future__ import annotations

from .html import to_html
from .json_report import SCHEMA_VERSION, to_dict, to_json
from .markdown import to_markdown
from .sarif import to_sarif
from .text import to_text

__all__ = ["SCHEMA_VERSION", "to_dict", "to_json", "to_markdown", "to_text", "to_html", "to_sarif"]
