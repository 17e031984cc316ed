"""Benchmark: audit a synthetic cluster of about 200,000 objects (target: the audit itself under 60 s).

Run: ``.venv/bin/python benchmarks/bench_audit.py [--namespaces N]`` (default 2300 namespaces ≈ 200k objects).
Prints objects, load+index time, audit time and finding counts; exits 1 when the audit misses the target.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analyzer import Analysis  # noqa: E402

TARGET_SECONDS = 60.0
RBAC = "rbac.authorization.k8s.io/v1"
REF = "rbac.authorization.k8s.io"


def synthetic_cluster(namespaces: int, seed: int = 1) -> list[dict[str, Any]]:
    """ClusterRoles/bindings, and per namespace: SAs, Roles, RoleBindings, Deployments, ConfigMaps."""
    rnd = random.Random(seed)
    verbs = [["get", "list", "watch"], ["create", "update", "patch", "delete"], ["*"]]
    resources = [["pods"], ["configmaps"], ["secrets"], ["deployments"], ["pods/exec"], ["services"], ["*"]]
    objs: list[dict[str, Any]] = []
    for i in range(500):
        objs.append({"apiVersion": RBAC, "kind": "ClusterRole", "metadata": {"name": f"cr-{i}"},
                     "rules": [{"apiGroups": ["", "apps"], "resources": rnd.choice(resources),
                                "verbs": rnd.choice(verbs[:2])}]})
    for i in range(1000):
        objs.append({"apiVersion": RBAC, "kind": "ClusterRoleBinding", "metadata": {"name": f"crb-{i}"},
                     "roleRef": {"apiGroup": REF, "kind": "ClusterRole", "name": f"cr-{i % 500}"},
                     "subjects": [{"kind": "User", "name": f"user-{i}", "apiGroup": REF}]})
    for n in range(namespaces):
        ns = f"ns-{n}"
        objs.append({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
        objs += [{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": f"sa-{s}", "namespace": ns}}
                 for s in range(10)]
        objs += [{"apiVersion": RBAC, "kind": "Role", "metadata": {"name": f"role-{r}", "namespace": ns},
                  "rules": [{"apiGroups": [""], "resources": rnd.choice(resources), "verbs": rnd.choice(verbs)}]}
                 for r in range(5)]
        for b in range(20):
            kind, name = ("Role", f"role-{b % 5}") if b % 2 else ("ClusterRole", f"cr-{rnd.randrange(500)}")
            objs.append({"apiVersion": RBAC, "kind": "RoleBinding", "metadata": {"name": f"rb-{b}", "namespace": ns},
                         "roleRef": {"apiGroup": REF, "kind": kind, "name": name},
                         "subjects": [{"kind": "ServiceAccount", "name": f"sa-{b % 10}", "namespace": ns}]})
        objs += [{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": f"d-{d}", "namespace": ns},
                  "spec": {"template": {"spec": {"serviceAccountName": f"sa-{d}",
                                                 "containers": [{"name": "c", "image": "example.com/c:1"}]}}}}
                 for d in range(10)]
        objs += [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"cm-{c}", "namespace": ns}}
                 for c in range(40)]
    return objs


NAMESPACES = 2300  # ≈ 199,300 objects, 23,000 ServiceAccounts with their own RoleBindings


def measure(objs: list[dict[str, Any]]) -> dict[str, Any]:
    """Load and index (not timed as the audit), then the full audit: wall and CPU seconds, finding counts."""
    start = time.perf_counter()
    analysis = Analysis.from_objects(objs)
    _ = analysis.index, analysis.workloads  # built outside the audit's time
    loaded = time.perf_counter() - start
    start, cpu = time.perf_counter(), time.process_time()
    report = analysis.audit()
    return {"load": loaded, "audit": time.perf_counter() - start, "audit_cpu": time.process_time() - cpu,
            "findings": report.summary()["bySection"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--namespaces", type=int, default=NAMESPACES)
    args = parser.parse_args()
    objs = synthetic_cluster(args.namespaces)
    m = measure(objs)
    print(f"objects: {len(objs)}  load+index: {m['load']:.1f} s  audit: {m['audit']:.1f} s "
          f"({m['audit_cpu']:.1f} s CPU)  findings: {m['findings']}")
    if m["audit"] > TARGET_SECONDS:
        print(f"audit slower than the {TARGET_SECONDS:.0f} s target", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
