"""Escalation paths under policy shapes that once made the search blow up (a regression guard, not a target).

Each shape adds a few objects to a generated cluster (``generate.py --out DIR``) and times, on a fresh
escalation graph, one subject's ``paths_from`` and every subject's ``all_paths``. Run::

    .venv/bin/python benchmarks/stress_paths.py --data /tmp/gen20k            # every shape
    .venv/bin/python benchmarks/stress_paths.py --data /tmp/gen20k --only csr,sa-escalate

Shapes are misconfigurations people point this tool at: rights granted to ``system:authenticated`` or
``system:serviceaccounts``, operators that may bind any role, tenants that may bind roles in their own
namespace. Figures are in BENCHMARKS.md ("Stress shapes").
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from run import with_objects  # noqa: E402  (benchmarks/ is on sys.path when this runs as a script)

from analyzer import Analysis  # noqa: E402
from analyzer.escalation import build_graph  # noqa: E402

R = "rbac.authorization.k8s.io"
AUTHENTICATED = {"kind": "Group", "name": "system:authenticated", "apiGroup": R}
SERVICE_ACCOUNTS = {"kind": "Group", "name": "system:serviceaccounts", "apiGroup": R}
Shape = tuple[list[dict[str, Any]], str]  # objects to add, the subject asked alone


def _cluster_role(name: str, rules: list[dict[str, Any]]) -> dict[str, Any]:
    return {"apiVersion": f"{R}/v1", "kind": "ClusterRole", "metadata": {"name": name}, "rules": rules}


def _binding(name: str, role: str, subject: dict[str, str], namespace: str = "") -> dict[str, Any]:
    meta = {"name": name, "namespace": namespace} if namespace else {"name": name}
    return {"apiVersion": f"{R}/v1", "kind": "RoleBinding" if namespace else "ClusterRoleBinding", "metadata": meta,
            "roleRef": {"apiGroup": R, "kind": "ClusterRole", "name": role}, "subjects": [subject]}


def _granted(name: str, rules: list[dict[str, Any]], subject: dict[str, str]) -> list[dict[str, Any]]:
    return [_cluster_role(name, rules), _binding(name, name, subject)]


def _shapes(namespaces: list[str]) -> dict[str, Callable[[], Shape]]:
    teams = [ns for ns in namespaces if ns.startswith("team-")]
    return {
        "impersonate-anything": lambda: (_granted("imp", [{"apiGroups": [""], "verbs": ["impersonate"],
                                                           "resources": ["users", "groups", "serviceaccounts"]}],
                                                  {"kind": "User", "name": "imp-user"}), "User:imp-user"),
        "csr": lambda: (_granted("csr", [
            {"apiGroups": ["certificates.k8s.io"], "resources": ["certificatesigningrequests"], "verbs": ["create"]},
            {"apiGroups": ["certificates.k8s.io"], "resources": ["certificatesigningrequests/approval"],
             "verbs": ["update"]},
            {"apiGroups": ["certificates.k8s.io"], "resources": ["signers"], "verbs": ["approve"]}],
            {"kind": "User", "name": "csr-user"}), "User:csr-user"),
        "authenticated-create-pods": lambda: (_granted("pods", [{"apiGroups": [""], "resources": ["pods"],
                                                                 "verbs": ["create"]}], AUTHENTICATED), "User:nobody"),
        "authenticated-impersonate-sa": lambda: (_granted("imp-sa", [{"apiGroups": [""], "verbs": ["impersonate"],
                                                                      "resources": ["serviceaccounts"]}],
                                                          AUTHENTICATED), "User:nobody"),
        "authenticated-mint-tokens": lambda: (_granted("mint", [{"apiGroups": [""], "resources": ["secrets"],
                                                                 "verbs": ["create", "get"]}], AUTHENTICATED),
                                              "User:nobody"),
        "authenticated-patch-deployments": lambda: (_granted("patch", [
            {"apiGroups": ["apps"], "resources": ["deployments", "daemonsets"], "verbs": ["update", "patch"]}],
            AUTHENTICATED), "User:nobody"),
        "authenticated-bind-anything": lambda: (_granted("bind", [
            {"apiGroups": [R], "resources": ["rolebindings"], "verbs": ["create"]},
            {"apiGroups": [R], "resources": ["clusterroles"], "verbs": ["bind"]}], AUTHENTICATED), "User:nobody"),
        "serviceaccounts-read-secrets": lambda: (_granted("secrets", [{"apiGroups": [""], "resources": ["secrets"],
                                                                       "verbs": ["get", "list"]}], SERVICE_ACCOUNTS),
                                                 "ServiceAccount:default/default"),
        "serviceaccounts-cluster-admin": lambda: ([_binding("sa-admin", "cluster-admin", SERVICE_ACCOUNTS)],
                                                  "ServiceAccount:default/default"),
        "clusterrolebinding-writer": lambda: (_granted("crb", [
            {"apiGroups": [R], "resources": ["clusterrolebindings"], "verbs": ["create"]},
            {"apiGroups": [R], "resources": ["clusterroles"], "verbs": ["bind"]}], {"kind": "User", "name": "crbw"}),
            "User:crbw"),
        # every ServiceAccount may write, escalate and bind Roles in 200 namespaces: each one has steps in
        # all 200 (millions of edges in all), the known limit of a graph with one node per identity
        "serviceaccounts-escalate-in-200-namespaces": lambda: ([_cluster_role("esc", [
            {"apiGroups": [R], "resources": ["roles"], "verbs": ["escalate", "update", "create", "bind"]},
            {"apiGroups": [R], "resources": ["rolebindings"], "verbs": ["create"]}])]
            + [_binding("esc", "esc", SERVICE_ACCOUNTS, ns) for ns in teams[:200]], "ServiceAccount:default/default"),
        "tenant-binders": lambda: ([_cluster_role("tenant-binder", [
            {"apiGroups": [R], "resources": ["rolebindings"], "verbs": ["create"]},
            {"apiGroups": [R], "resources": ["clusterroles"], "verbs": ["bind"]}])]
            + [_binding("tenant-binder", "tenant-binder", {"kind": "Group", "name": f"tenant:{ns}", "apiGroup": R}, ns)
               for ns in teams], f"Group:tenant:{teams[0]}" if teams else "Group:tenant:none"),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", required=True, help="a generated cluster (benchmarks/generate.py --out DIR)")
    p.add_argument("--only", default="", help="comma-separated shape names")
    args = p.parse_args(argv)
    base = Analysis.from_paths([args.data])
    shapes = _shapes(sorted(base.inventory.namespaces))
    names = [n for n in args.only.split(",") if n] or list(shapes)
    unknown = [n for n in names if n not in shapes]
    if unknown:
        print(f"unknown shape(s): {', '.join(unknown)}; known: {', '.join(shapes)}", file=sys.stderr)
        return 2
    print(f"{base.inventory.object_count:,} objects in {args.data}")
    print(f"{'shape':34} {'one subject':>12} {'every subject':>14}")
    for name in names:
        extra, subject = shapes[name]()
        a = with_objects(base, extra)
        index, workloads = a.index, a.workloads  # built before timing
        t = time.perf_counter()
        one = build_graph(a.inventory, index, workloads).paths_from(subject)
        one_s = time.perf_counter() - t
        t = time.perf_counter()
        every = build_graph(a.inventory, index, workloads).all_paths()
        every_s = time.perf_counter() - t
        print(f"{name:34} {one_s:>10.2f} s {every_s:>12.2f} s   ({subject}: {len(one)} paths; "
              f"{len(every):,} in all)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
