"""The access matrix: effective rules laid out as resources × verbs, as written (no matching, no expansion)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .results import Grant

__all__ = ["AccessMatrix", "COMMON_VERBS"]

# The column order people expect; other verbs (bind, escalate, impersonate, use, approve, *) follow.
COMMON_VERBS = ("get", "list", "watch", "create", "update", "patch", "delete", "deletecollection")


@dataclass(frozen=True, kw_only=True)
class AccessMatrix:
    """Rows are resources (``secrets``, ``deployments.apps``, ``pods/exec``, ``/metrics``), columns verbs.

    A cell is ``"✓"`` when some rule grants that verb on every object of the resource, ``"names: a, b"``
    when only on named objects, ``""`` otherwise. Wildcards stay literal: a ``*`` verb is its own column
    and a ``*`` resource its own row, exactly as the rules say.
    """

    verbs: tuple[str, ...]
    resources: tuple[str, ...]
    cells: tuple[tuple[str, ...], ...]  # one tuple per resource, aligned with ``verbs``

    @classmethod
    def from_grants(cls, grants: Iterable[Grant]) -> AccessMatrix:
        full: dict[str, set[str]] = {}
        named: dict[str, dict[str, set[str]]] = {}
        verbs_seen: set[str] = set()
        for g in grants:
            r = g.rule
            targets: list[str] = []
            for res in r.resources:
                for group in r.api_groups or ("",):
                    targets.append(res if group == "" else f"{res}.{group}")
            targets.extend(r.non_resource_urls)
            for t in targets:
                for v in r.verbs:
                    verbs_seen.add(v)
                    if r.resource_names and not t.startswith("/"):
                        named.setdefault(t, {}).setdefault(v, set()).update(r.resource_names)
                    else:
                        full.setdefault(t, set()).add(v)
        verbs = tuple(v for v in COMMON_VERBS if v in verbs_seen) + tuple(
            sorted(verbs_seen - set(COMMON_VERBS), key=lambda v: (v == "*", v)))
        resources = tuple(sorted(set(full) | set(named), key=lambda t: (t.startswith("/"), t != "*", t)))
        cells = []
        for t in resources:
            row = []
            for v in verbs:
                if v in full.get(t, ()):
                    row.append("✓")
                elif v in named.get(t, {}):
                    row.append("names: " + ", ".join(sorted(named[t][v])))
                else:
                    row.append("")
            cells.append(tuple(row))
        return cls(verbs=verbs, resources=resources, cells=tuple(cells))

    def rows(self) -> list[dict[str, str]]:
        """One dict per resource: ``{"resource": ..., verb: cell, ...}`` (plain strings, for tables)."""
        return [{"resource": t, **dict(zip(self.verbs, row, strict=True))}
                for t, row in zip(self.resources, self.cells, strict=True)]
