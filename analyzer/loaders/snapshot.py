"""Write an Inventory as one ``List`` file (YAML, gzip'd YAML or JSON) with an ``rbacAnalyzer:`` header.

The file is what ``kubectl get -o yaml`` would write (``apiVersion: v1``, ``kind: List``, ``items``) plus a
top-level block the manifest loader reads back into ``Inventory.metadata`` and ``Inventory.incomplete``::

    rbacAnalyzer:
      clusterVersion: v1.30.2
      capturedAt: "2026-11-27T14:00:00Z"
      context: prod
      incomplete: ["roles in namespace restricted (forbidden)"]

Items are normalised (namespace filled in, sorted by kind, namespace and name) so two snapshots diff
cleanly; loading the file gives the same answers as the inputs it was taken from.
"""

from __future__ import annotations

import copy
import gzip
import json
import os
import tempfile
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import yaml

from ..errors import UsageError
from ..model import Binding, Inventory, KubeObject, LabelSelector, PolicyRule, Role, ServiceAccount

__all__ = ["SNAPSHOT_KEY", "SNAPSHOT_FORMATS", "snapshot_format", "inventory_items", "snapshot_document",
           "write_snapshot"]

SNAPSHOT_KEY = "rbacAnalyzer"
SNAPSHOT_FORMATS = {".yaml": "yaml", ".yml": "yaml", ".yaml.gz": "yaml.gz", ".yml.gz": "yaml.gz", ".json": "json",
                    ".json.gz": "json.gz"}
_RBAC_V1 = "rbac.authorization.k8s.io/v1"
_ORDER = {k: i for i, k in enumerate(("Namespace", "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding",
                                      "Role", "RoleBinding", "ServiceAccount"))}

_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def snapshot_format(path: str) -> str:
    """``yaml``, ``yaml.gz``, ``json`` or ``json.gz`` from the file name; UsageError otherwise."""
    lower = path.lower()
    for suffix in sorted(SNAPSHOT_FORMATS, key=len, reverse=True):
        if lower.endswith(suffix):
            return SNAPSHOT_FORMATS[suffix]
    raise UsageError(f"{path}: the snapshot file name must end in .yaml, .yml, .yaml.gz or .json")


def _rule(r: PolicyRule) -> dict[str, Any]:
    out: dict[str, Any] = {"verbs": list(r.verbs)}
    for key, values in (("apiGroups", r.api_groups), ("resources", r.resources), ("resourceNames", r.resource_names),
                        ("nonResourceURLs", r.non_resource_urls)):
        if values:
            out[key] = list(values)
    return out


def _selector(s: LabelSelector) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if s.match_labels:
        out["matchLabels"] = dict(s.match_labels)
    if s.match_expressions:
        out["matchExpressions"] = [{"key": e.key, "operator": e.operator, **({"values": list(e.values)} if e.values
                                                                              else {})} for e in s.match_expressions]
    return out


def _meta(name: str, namespace: str, labels: Mapping[str, str], annotations: Mapping[str, str] | None = None
          ) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name}
    if namespace:
        out["namespace"] = namespace
    if labels:
        out["labels"] = dict(labels)
    if annotations:
        out["annotations"] = dict(annotations)
    return out


def _role(r: Role) -> dict[str, Any]:
    rules = r.written_rules if r.written_rules is not None else r.rules
    out: dict[str, Any] = {"apiVersion": _RBAC_V1, "kind": r.kind,
                           "metadata": _meta(r.name, r.namespace, r.labels, r.annotations)}
    if r.aggregation_rule is not None:
        out["aggregationRule"] = {"clusterRoleSelectors": [_selector(s) for s in r.aggregation_rule]}
    out["rules"] = [_rule(x) for x in rules]
    return out


def _binding(b: Binding) -> dict[str, Any]:
    subjects = []
    for s in b.subjects:
        d: dict[str, Any] = {"kind": s.kind, "name": s.name}
        if s.api_group:
            d["apiGroup"] = s.api_group
        if s.namespace:
            d["namespace"] = s.namespace
        subjects.append(d)
    return {"apiVersion": _RBAC_V1, "kind": b.kind, "metadata": _meta(b.name, b.namespace, b.labels, b.annotations),
            "roleRef": {"apiGroup": b.role_ref.api_group, "kind": b.role_ref.kind, "name": b.role_ref.name},
            "subjects": subjects}


def _service_account(s: ServiceAccount) -> dict[str, Any]:
    out: dict[str, Any] = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta(s.name, s.namespace, s.labels)}
    if s.automount_token is not None:
        out["automountServiceAccountToken"] = s.automount_token
    if s.secrets:
        out["secrets"] = [{"name": n} for n in s.secrets]
    return out


# Keys whose string values are credentials wherever they appear (kubeconfigs, ExecCredentials, CR specs).
_SENSITIVE_KEYS = frozenset({"token", "password", "client-key-data", "id-token", "refresh-token", "access-token",
                             "client-secret", "bearerToken", "privateKey", "private-key"})
REDACTED = "(redacted)"


def redact_body(kind: str, body: Any) -> Any:
    """A copy of an object body with secret material replaced: a policy snapshot never carries credentials.

    Secret ``data``/``stringData`` values, container ``env`` values, and credential-looking keys
    (``token``, ``password``, ``client-key-data``, ...) anywhere, e.g. in a kubeconfig given as input.
    """
    def walk(value: Any, key: str = "") -> Any:
        if isinstance(value, dict):
            out = {}
            for k, v in value.items():
                if isinstance(k, str) and k in _SENSITIVE_KEYS and isinstance(v, str | bytes) and v:
                    out[k] = REDACTED
                elif k == "env" and isinstance(v, list):
                    out[k] = [{**e, "value": REDACTED} if isinstance(e, dict) and "value" in e else walk(e)
                              for e in v]
                else:
                    out[k] = walk(v, k if isinstance(k, str) else "")
            return out
        if isinstance(value, list):
            return [walk(v, key) for v in value]
        return value

    redacted = walk(body)
    if kind == "Secret" and isinstance(redacted, dict):
        for field in ("data", "stringData"):
            if isinstance(redacted.get(field), dict):
                redacted[field] = {k: REDACTED for k in redacted[field]}
    return redacted


def _object(o: KubeObject) -> dict[str, Any]:
    body = redact_body(o.kind, copy.deepcopy(dict(o.body)))
    out: dict[str, Any] = {"apiVersion": body.pop("apiVersion", None) or o.api_version, "kind": o.kind}
    body.pop("kind", None)
    meta = body.pop("metadata", None)
    meta = dict(meta) if isinstance(meta, dict) else {}
    if o.namespace:
        meta["namespace"] = o.namespace  # the default namespace the loader applied
    out["metadata"] = meta
    out.update(body)
    return out


def inventory_items(inventory: Inventory) -> list[dict[str, Any]]:
    """Every object of the inventory as a manifest dict, in a stable order (kind, namespace, name)."""
    items: list[tuple[tuple[int, str, str, str], dict[str, Any]]] = []

    def add(kind: str, namespace: str, name: str, d: dict[str, Any]) -> None:
        items.append(((_ORDER.get(kind, len(_ORDER)), kind, namespace, name), d))

    for r in inventory.roles:
        add(r.kind, r.namespace, r.name, _role(r))
    for b in inventory.bindings:
        add(b.kind, b.namespace, b.name, _binding(b))
    for s in inventory.service_accounts:
        add("ServiceAccount", s.namespace, s.name, _service_account(s))
    for o in inventory.objects:
        add(o.kind, o.namespace, o.name, _object(o))
    items.sort(key=lambda t: t[0])
    return [d for _, d in items]


def snapshot_document(inventory: Inventory, *, cluster_version: str = "", context: str = "",
                      captured_at: str = "") -> dict[str, Any]:
    """The snapshot: a ``List`` of the inventory's objects with the ``rbacAnalyzer`` header.

    Header fields default to what ``inventory.metadata`` holds (a live read or a loaded snapshot).
    """
    meta = inventory.metadata
    header = {
        "clusterVersion": cluster_version or str(meta.get("clusterVersion") or ""),
        "capturedAt": captured_at or str(meta.get("capturedAt") or "") or
        datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        "context": context or str(meta.get("context") or ""),
        "incomplete": list(inventory.incomplete),
    }
    return {"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, SNAPSHOT_KEY: header,
            "items": inventory_items(inventory)}


def write_snapshot(document: Mapping[str, Any], path: str) -> str:
    """Write ``document`` to ``path`` in the format its suffix names (atomically); returns the format."""
    fmt = snapshot_format(path)
    if fmt.startswith("json"):
        data = (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode()
    else:
        data = yaml.dump(dict(document), Dumper=_Dumper, sort_keys=False, default_flow_style=False,
                         allow_unicode=True).encode()
    if fmt.endswith(".gz"):
        data = gzip.compress(data, mtime=0)  # mtime 0: the same snapshot gives the same bytes
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".snapshot-", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return fmt


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
