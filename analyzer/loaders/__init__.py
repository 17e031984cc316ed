"""Inputs: manifests from files, directories and streams (and, later, live clusters) → Inventory."""

from __future__ import annotations

from .manifests import Limits, ParseContext, load_manifests, parse_objects

__all__ = ["Limits", "ParseContext", "load_manifests", "parse_objects"]
