"""Generate a deterministic synthetic cluster (multi-document YAML files in a folder) for the benchmarks.

The mix follows ``../shared/samples``: bootstrap-like ClusterRoles with aggregation (admin/edit/view and
``aggregate-to-*`` labels), system controller roles, CRDs with their aggregated roles, ClusterRoleBindings,
and thousands of namespaces each holding ServiceAccounts, Roles (wildcards, resourceNames, subresources),
RoleBindings to admin/edit/view and to local Roles, workloads (Deployments, DaemonSets, CronJobs, Pods) and
ordinary objects (ConfigMaps, Services, Secrets, custom resources). The same ``--seed`` and ``--objects``
always give byte-identical files.

Usage::

    python benchmarks/generate.py --objects 200000 --out /tmp/rbac-bench
"""

from __future__ import annotations

import argparse
import os
import random
import sys
from collections.abc import Iterator
from typing import Any

import yaml

__all__ = ["generate", "main"]

_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
RBAC = "rbac.authorization.k8s.io"
RBAC_V1 = f"{RBAC}/v1"
NS_PER_FILE = 10
_CORE = ["pods", "services", "configmaps", "secrets", "endpoints", "persistentvolumeclaims", "events",
         "serviceaccounts", "replicationcontrollers"]
_APPS = ["deployments", "daemonsets", "statefulsets", "replicasets"]
_BATCH = ["jobs", "cronjobs"]
_TEAMS = ["payments", "search", "checkout", "identity", "data", "ml", "web", "mobile", "infra", "billing"]


def _meta(name: str, namespace: str = "", labels: dict[str, str] | None = None,
          annotations: dict[str, str] | None = None) -> dict[str, Any]:
    m: dict[str, Any] = {"name": name}
    if namespace:
        m["namespace"] = namespace
    if labels:
        m["labels"] = labels
    if annotations:
        m["annotations"] = annotations
    return m


def _rule(verbs: list[str], groups: list[str] | None = None, resources: list[str] | None = None,
          names: list[str] | None = None, urls: list[str] | None = None) -> dict[str, Any]:
    r: dict[str, Any] = {}
    if groups is not None:
        r["apiGroups"] = groups
    if resources is not None:
        r["resources"] = resources
    if names:
        r["resourceNames"] = names
    if urls:
        r["nonResourceURLs"] = urls
    r["verbs"] = verbs
    return r


def _cluster_role(name: str, rules: list[dict[str, Any]] | None, labels: dict[str, str] | None = None,
                  aggregate: list[dict[str, str]] | None = None) -> dict[str, Any]:
    d: dict[str, Any] = {"apiVersion": RBAC_V1, "kind": "ClusterRole", "metadata": _meta(name, labels=labels)}
    if aggregate is not None:
        d["aggregationRule"] = {"clusterRoleSelectors": [{"matchLabels": sel} for sel in aggregate]}
    d["rules"] = rules
    return d


def _binding(kind: str, name: str, namespace: str, role_kind: str, role: str,
             subjects: list[dict[str, Any]]) -> dict[str, Any]:
    return {"apiVersion": RBAC_V1, "kind": kind, "metadata": _meta(name, namespace),
            "roleRef": {"apiGroup": RBAC, "kind": role_kind, "name": role}, "subjects": subjects}


def _user(name: str) -> dict[str, str]:
    return {"apiGroup": RBAC, "kind": "User", "name": name}


def _group(name: str) -> dict[str, str]:
    return {"apiGroup": RBAC, "kind": "Group", "name": name}


def _sa(name: str, namespace: str) -> dict[str, str]:
    return {"kind": "ServiceAccount", "name": name, "namespace": namespace}


def bootstrap_roles(rng: random.Random, n_system: int) -> list[dict[str, Any]]:
    """cluster-admin, aggregated admin/edit/view and their aggregate-to pieces, system:* roles."""
    boot = {"kubernetes.io/bootstrapping": "rbac-defaults"}
    out = [
        _cluster_role("cluster-admin", [_rule(["*"], ["*"], ["*"]), _rule(["*"], urls=["*"])], boot),
        _cluster_role("admin", None, boot, [{f"{RBAC}/aggregate-to-admin": "true"}]),
        _cluster_role("edit", None, {**boot, f"{RBAC}/aggregate-to-admin": "true"},
                      [{f"{RBAC}/aggregate-to-edit": "true"}]),
        _cluster_role("view", None, {**boot, f"{RBAC}/aggregate-to-edit": "true"},
                      [{f"{RBAC}/aggregate-to-view": "true"}]),
        _cluster_role("system:aggregate-to-admin", [
            _rule(["create", "delete", "deletecollection", "patch", "update"], [RBAC], ["roles", "rolebindings"]),
            _rule(["create"], ["authorization.k8s.io"], ["localsubjectaccessreviews"]),
        ], {**boot, f"{RBAC}/aggregate-to-admin": "true"}),
        _cluster_role("system:aggregate-to-edit", [
            _rule(["create", "delete", "deletecollection", "patch", "update"], [""],
                  ["pods", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy", "secrets", "services",
                   "configmaps", "persistentvolumeclaims", "serviceaccounts"]),
            _rule(["impersonate"], [""], ["serviceaccounts"]),
            _rule(["create", "delete", "deletecollection", "patch", "update"], ["apps"],
                  [*_APPS, "deployments/scale", "statefulsets/scale", "deployments/rollback"]),
            _rule(["create", "delete", "deletecollection", "patch", "update"], ["batch"], _BATCH),
            _rule(["get", "list", "watch"], [""], ["secrets"]),
        ], {**boot, f"{RBAC}/aggregate-to-edit": "true"}),
        _cluster_role("system:aggregate-to-view", [
            _rule(["get", "list", "watch"], [""], [r for r in _CORE if r != "secrets"] + ["pods/log", "pods/status"]),
            _rule(["get", "list", "watch"], ["apps"], [*_APPS, "deployments/scale", "statefulsets/scale"]),
            _rule(["get", "list", "watch"], ["batch"], _BATCH),
        ], {**boot, f"{RBAC}/aggregate-to-view": "true"}),
        _cluster_role("system:discovery", [_rule(["get"], urls=["/api", "/api/*", "/apis", "/apis/*",
                                                               "/healthz", "/livez", "/readyz", "/version",
                                                               "/version/"])], boot),
        _cluster_role("system:basic-user", [_rule(["create"], ["authorization.k8s.io"],
                                                  ["selfsubjectaccessreviews", "selfsubjectrulesreviews"])], boot),
        _cluster_role("system:node", [
            _rule(["get", "list", "watch"], [""], ["pods", "services", "nodes", "endpoints"]),
            _rule(["create", "delete"], [""], ["pods"]),
            _rule(["update", "patch"], [""], ["pods/status", "nodes/status"]),
            _rule(["get"], [""], ["secrets", "configmaps", "persistentvolumeclaims"]),
            _rule(["create"], ["certificates.k8s.io"], ["certificatesigningrequests"]),
        ], boot),
    ]
    verbs_pool = [["get", "list", "watch"], ["get", "list", "watch", "update", "patch"], ["*"], ["create", "delete"],
                  ["get"], ["update"]]
    for i in range(n_system):
        rules = []
        for _ in range(rng.randint(2, 8)):
            group, pool = rng.choice([("", _CORE), ("apps", _APPS), ("batch", _BATCH),
                                      ("coordination.k8s.io", ["leases"]), ("*", ["*"])])
            res = rng.sample(pool, k=min(len(pool), rng.randint(1, 3)))
            if rng.random() < 0.15:
                res = [f"{res[0]}/status"]
            names = [f"lock-{i}"] if rng.random() < 0.1 else None
            rules.append(_rule(rng.choice(verbs_pool), [group], res, names))
        if rng.random() < 0.05:
            rules.append(_rule(["get"], urls=[f"/metrics/{i}", "/debug/*"]))
        out.append(_cluster_role(f"system:controller:ctrl-{i}", rules, boot))
    return out


def crds_and_roles(rng: random.Random, n_crds: int) -> tuple[list[dict[str, Any]], list[tuple[str, str, str]]]:
    """CRDs (with a realistic schema) and, per API group, aggregate-to-view/edit ClusterRoles."""
    docs: list[dict[str, Any]] = []
    kinds: list[tuple[str, str, str]] = []
    groups: dict[str, list[str]] = {}
    for i in range(n_crds):
        group = f"{rng.choice(['acme', 'example', 'corp', 'ops'])}{i // 8}.io"
        kind = f"Widget{i}"
        plural = f"widget{i}s"
        kinds.append((group, kind, plural))
        groups.setdefault(group, []).append(plural)
        scope = "Namespaced" if rng.random() < 0.85 else "Cluster"
        props = {f"field{j}": {"type": rng.choice(["string", "integer", "boolean"]),
                               "description": f"Field {j} of {kind}."} for j in range(rng.randint(3, 10))}
        docs.append({
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": _meta(f"{plural}.{group}"),
            "spec": {"group": group, "scope": scope,
                     "names": {"kind": kind, "listKind": f"{kind}List", "plural": plural, "singular": plural[:-1],
                               "shortNames": [f"w{i}"]},
                     "versions": [{"name": "v1", "served": True, "storage": True,
                                   "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                                       "spec": {"type": "object", "properties": props}}}}}]},
        })
    for group, plurals in sorted(groups.items()):
        docs.append(_cluster_role(f"{group}-view", [_rule(["get", "list", "watch"], [group], plurals)],
                                  {f"{RBAC}/aggregate-to-view": "true"}))
        docs.append(_cluster_role(f"{group}-edit", [_rule(["create", "update", "patch", "delete"], [group],
                                                          plurals + [f"{p}/status" for p in plurals])],
                                  {f"{RBAC}/aggregate-to-edit": "true"}))
    return docs, kinds


def _container(rng: random.Random, name: str) -> dict[str, Any]:
    return {
        "name": name, "image": f"registry.example.com/{name}:v{rng.randint(1, 9)}.{rng.randint(0, 30)}",
        "imagePullPolicy": "IfNotPresent",
        "args": [f"--port={rng.randint(8000, 9000)}", "--log-level=info"],
        "env": [{"name": f"VAR_{j}", "value": str(rng.randint(0, 10_000))} for j in range(rng.randint(1, 4))],
        "ports": [{"containerPort": 8080, "name": "http", "protocol": "TCP"}],
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
        "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True},
    }


def _pod_spec(rng: random.Random, app: str, sa: str) -> dict[str, Any]:
    spec: dict[str, Any] = {"serviceAccountName": sa, "containers": [_container(rng, app)],
                            "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}}
    if rng.random() < 0.3:
        spec["automountServiceAccountToken"] = False
    return spec


def namespace_docs(rng: random.Random, ns: str, crd_kinds: list[tuple[str, str, str]]) -> list[dict[str, Any]]:
    """About 40 objects of one team namespace."""
    team = rng.choice(_TEAMS)
    labels = {"team": team, "app.kubernetes.io/part-of": ns}
    docs: list[dict[str, Any]] = [{"apiVersion": "v1", "kind": "Namespace", "metadata": _meta(ns, labels=labels)}]
    sas = ["default"] + [f"{ns}-{x}" for x in ("api", "worker", "deployer", "monitor", "batch")]
    for sa in sas:
        d: dict[str, Any] = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta(sa, ns, labels)}
        if sa == "default" and rng.random() < 0.5:
            d["automountServiceAccountToken"] = False
        docs.append(d)
    docs.append({"apiVersion": RBAC_V1, "kind": "Role", "metadata": _meta("app-reader", ns, labels),
                 "rules": [_rule(["get", "list", "watch"], [""], ["pods", "pods/log", "configmaps", "services"]),
                           _rule(["get"], ["apps"], ["deployments", "deployments/scale"])]})
    docs.append({"apiVersion": RBAC_V1, "kind": "Role", "metadata": _meta("secret-reader", ns, labels),
                 "rules": [_rule(["get"], [""], ["secrets"], [f"{ns}-db", f"{ns}-tls"])]})
    deployer_rules = [_rule(["get", "list", "create", "update", "patch", "delete"], ["apps"],
                            ["deployments", "deployments/scale", "replicasets"]),
                      _rule(["create"], [""], ["pods/exec"])]
    if rng.random() < 0.2:
        deployer_rules.append(_rule(["*"], ["*"], ["*"]))  # the risky wildcard some teams have
    docs.append({"apiVersion": RBAC_V1, "kind": "Role", "metadata": _meta("deployer", ns, labels),
                 "rules": deployer_rules})
    owners = [f"{team}-lead-{rng.randint(0, 99)}@example.com", f"dev-{rng.randint(0, 4999)}@example.com"]
    docs.append(_binding("RoleBinding", "team-admin", ns, "ClusterRole", "admin",
                         [_user(owners[0]), _group(f"team:{team}:admins")]))
    docs.append(_binding("RoleBinding", "team-edit", ns, "ClusterRole", "edit",
                         [_user(owners[1]), _group(f"team:{team}")]))
    docs.append(_binding("RoleBinding", "monitoring-view", ns, "ClusterRole", "view",
                         [_sa("prometheus", "monitoring"), _sa(f"{ns}-monitor", ns)]))
    docs.append(_binding("RoleBinding", "ci-deployer", ns, "Role", "deployer",
                         [{"kind": "ServiceAccount", "name": f"{ns}-deployer"}, _sa("runner", "ci")]))
    docs.append(_binding("RoleBinding", "api-reads", ns, "Role", "app-reader",
                         [_sa(f"{ns}-api", ns), _sa(f"{ns}-worker", ns)]))
    docs.append(_binding("RoleBinding", "api-secrets", ns, "Role", "secret-reader", [_sa(f"{ns}-api", ns)]))
    for i in range(6):
        app = f"{ns}-app{i}"
        docs.append({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": _meta(app, ns, {"app": app}),
                     "spec": {"replicas": rng.randint(1, 5), "selector": {"matchLabels": {"app": app}},
                              "template": {"metadata": {"labels": {"app": app}},
                                           "spec": _pod_spec(rng, app, rng.choice(sas[1:]))}}})
    if rng.random() < 0.3:
        docs.append({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": _meta(f"{ns}-agent", ns),
                     "spec": {"selector": {"matchLabels": {"app": "agent"}},
                              "template": {"metadata": {"labels": {"app": "agent"}},
                                           "spec": _pod_spec(rng, "agent", f"{ns}-monitor")}}})
    for i in range(2):
        docs.append({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": _meta(f"{ns}-job{i}", ns),
                     "spec": {"schedule": f"{rng.randint(0, 59)} * * * *",
                              "jobTemplate": {"spec": {"template": {"spec": {
                                  **_pod_spec(rng, f"job{i}", f"{ns}-batch"), "restartPolicy": "OnFailure"}}}}}})
    for i in range(3):
        docs.append({"apiVersion": "v1", "kind": "Pod", "metadata": _meta(f"{ns}-debug{i}", ns),
                     "spec": _pod_spec(rng, f"debug{i}", rng.choice(sas))})
    for i in range(4):
        docs.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": _meta(f"{ns}-config{i}", ns),
                     "data": {f"key{j}": f"value-{rng.randint(0, 10**6)}" for j in range(rng.randint(2, 6))}})
    for i in range(4):
        docs.append({"apiVersion": "v1", "kind": "Service", "metadata": _meta(f"{ns}-app{i}", ns),
                     "spec": {"selector": {"app": f"{ns}-app{i}"},
                              "ports": [{"port": 80, "targetPort": 8080, "protocol": "TCP"}]}})
    docs.append({"apiVersion": "v1", "kind": "Secret", "metadata": _meta(f"{ns}-db", ns), "type": "Opaque",
                 "data": {"password": "c2VjcmV0"}})
    for i in range(2):
        group, kind, _plural = rng.choice(crd_kinds)
        docs.append({"apiVersion": f"{group}/v1", "kind": kind, "metadata": _meta(f"{ns}-w{i}", ns),
                     "spec": {"field0": "x", "field1": rng.randint(0, 100)}})
    return docs


def _cluster_bindings(rng: random.Random, roles: list[dict[str, Any]], n: int) -> list[dict[str, Any]]:
    names = [r["metadata"]["name"] for r in roles]
    out = [
        _binding("ClusterRoleBinding", "cluster-admin", "", "ClusterRole", "cluster-admin", [_group("system:masters")]),
        _binding("ClusterRoleBinding", "system:discovery", "", "ClusterRole", "system:discovery",
                 [_group("system:authenticated")]),
        _binding("ClusterRoleBinding", "system:basic-user", "", "ClusterRole", "system:basic-user",
                 [_group("system:authenticated")]),
        _binding("ClusterRoleBinding", "platform-admins", "", "ClusterRole", "cluster-admin",
                 [_group("platform:admins"), _user("root@example.com")]),
        _binding("ClusterRoleBinding", "ci-view", "", "ClusterRole", "view", [_sa("runner", "ci")]),
    ]
    for i in range(n):
        role = rng.choice(names)
        subjects = [_sa(f"ctrl-{i}", "kube-system")]
        if rng.random() < 0.2:
            subjects.append(_group(f"ops:{rng.choice(_TEAMS)}"))
        out.append(_binding("ClusterRoleBinding", f"binding-{i}", "", "ClusterRole", role, subjects))
    out.append(_binding("ClusterRoleBinding", "dangling", "", "ClusterRole", "does-not-exist", [_user("ghost")]))
    return out


def generate(out_dir: str, objects: int = 200_000, seed: int = 1) -> dict[str, int]:
    """Write about ``objects`` objects as YAML files into ``out_dir``; returns counts (files, objects)."""
    rng = random.Random(seed)
    os.makedirs(out_dir, exist_ok=True)
    n_crds = max(10, objects // 1000)
    n_system = max(20, objects // 1000)
    roles = bootstrap_roles(rng, n_system)
    crd_docs, crd_kinds = crds_and_roles(rng, n_crds)
    agg_roles = [d for d in crd_docs if d["kind"] == "ClusterRole"]
    crbs = _cluster_bindings(rng, roles + agg_roles, max(20, objects // 500))
    written = 0
    files = 0

    def write(name: str, docs: list[dict[str, Any]], as_list: bool = False) -> None:
        nonlocal written, files
        path = os.path.join(out_dir, name)
        with open(path, "w", encoding="utf-8") as fh:
            if as_list:  # what `kubectl get ... -o yaml` writes
                yaml.dump({"apiVersion": "v1", "kind": "List", "items": docs}, fh, Dumper=_Dumper, sort_keys=False)
            else:
                yaml.dump_all(docs, fh, Dumper=_Dumper, sort_keys=False, explicit_start=True)
        written += len(docs)
        files += 1

    write("00-bootstrap-roles.yaml", roles, as_list=True)
    write("01-crds.yaml", crd_docs)
    write("02-cluster-bindings.yaml", crbs)
    cluster_ns = []
    for ns in ("kube-system", "monitoring", "ci"):
        cluster_ns.append({"apiVersion": "v1", "kind": "Namespace", "metadata": _meta(ns)})
    cluster_ns.append({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta("prometheus", "monitoring")})
    cluster_ns.append({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta("runner", "ci")})
    cluster_ns.extend({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta(f"ctrl-{i}", "kube-system")}
                      for i in range(len(crbs)))
    write("03-system-namespaces.yaml", cluster_ns)
    i = 0
    batch: list[dict[str, Any]] = []
    while written + len(batch) < objects:
        batch.extend(namespace_docs(rng, f"team-{i:05d}", crd_kinds))
        i += 1
        if i % NS_PER_FILE == 0:
            write(f"ns-{i // NS_PER_FILE:05d}.yaml", batch)
            batch = []
    if batch:
        write(f"ns-{i // NS_PER_FILE + 1:05d}.yaml", batch)
    return {"files": files, "objects": written, "namespaces": i}


def _iter_sizes(out_dir: str) -> Iterator[int]:
    for name in os.listdir(out_dir):
        yield os.path.getsize(os.path.join(out_dir, name))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--objects", type=int, default=200_000, help="about how many objects (default 200000)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", required=True, help="output folder (created)")
    args = p.parse_args(argv)
    counts = generate(args.out, args.objects, args.seed)
    mib = sum(_iter_sizes(args.out)) / 2**20
    print(f"{counts['objects']} objects, {counts['namespaces']} namespaces, {counts['files']} files, "
          f"{mib:.1f} MiB in {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
