"""Benchmark: escalation paths on a synthetic cluster of about 200,000 objects.

Targets (issue 6): paths for every subject under 60 s; one subject's under 2 s.
Run: ``.venv/bin/python benchmarks/bench_paths.py [--namespaces N]`` (default 1150 namespaces ≈ 200k objects).
Prints objects, load+index time, the slowest single-subject search among a sample, and the all-subjects
time; exits 1 when a target is missed.
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

ALL_TARGET, ONE_TARGET = 60.0, 2.0
RBAC = "rbac.authorization.k8s.io/v1"
REF = "rbac.authorization.k8s.io"


def synthetic_cluster(namespaces: int, seed: int = 1) -> list[dict[str, Any]]:
    """Per namespace: 20 SAs, 10 Roles, 20 RoleBindings, 50 Pods + 50 Deployments, 20 token Secrets;
    400 small ClusterRoles, 2,000 ClusterRoleBindings (5 to cluster-admin), 5,000 users."""
    r = random.Random(seed)
    objs: list[dict[str, Any]] = [{"apiVersion": RBAC, "kind": "ClusterRole", "metadata": {"name": "cluster-admin"},
                                   "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]}]
    for i in range(400):
        objs.append({"apiVersion": RBAC, "kind": "ClusterRole", "metadata": {"name": f"cr-{i}"},
                     "rules": [{"apiGroups": [""],
                                "resources": [r.choice(["pods", "configmaps", "services", "secrets", "pods/exec"])],
                                "verbs": r.sample(["get", "list", "create", "update", "patch", "delete"], 2)}]})
    for n in range(namespaces):
        ns = f"ns-{n}"
        objs.append({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
        objs += [{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": f"sa-{j}", "namespace": ns}}
                 for j in range(20)]
        objs += [{"apiVersion": RBAC, "kind": "Role", "metadata": {"name": f"role-{j}", "namespace": ns},
                  "rules": [{"apiGroups": [""], "resources": [r.choice(["pods", "configmaps", "secrets"])],
                             "verbs": r.sample(["get", "list", "create", "update", "delete"], 2)}]}
                 for j in range(10)]
        for j in range(20):
            role = {"kind": "Role", "name": f"role-{r.randrange(10)}"} if r.random() < 0.6 else \
                {"kind": "ClusterRole", "name": f"cr-{r.randrange(400)}"}
            objs.append({"apiVersion": RBAC, "kind": "RoleBinding", "metadata": {"name": f"rb-{j}", "namespace": ns},
                         "roleRef": {"apiGroup": REF, **role},
                         "subjects": [{"kind": "ServiceAccount", "name": f"sa-{r.randrange(20)}", "namespace": ns},
                                      {"kind": "User", "name": f"user-{r.randrange(5000)}", "apiGroup": REF}]})
        for j in range(100):
            sa = f"sa-{r.randrange(20)}"
            if j % 2:
                objs.append({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": f"w-{j}", "namespace": ns},
                             "spec": {"template": {"spec": {"serviceAccountName": sa,
                                                            "containers": [{"name": "a", "image": "x"}]}}}})
            else:
                objs.append({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"w-{j}", "namespace": ns},
                             "spec": {"serviceAccountName": sa, "nodeName": f"node-{r.randrange(200)}",
                                      "containers": [{"name": "a", "image": "x"}]}})
        objs += [{"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/service-account-token",
                  "metadata": {"name": f"sa-{j}-token", "namespace": ns,
                               "annotations": {"kubernetes.io/service-account.name": f"sa-{j}"}}} for j in range(20)]
    for i in range(2000):
        objs.append({"apiVersion": RBAC, "kind": "ClusterRoleBinding", "metadata": {"name": f"crb-{i}"},
                     "roleRef": {"apiGroup": REF, "kind": "ClusterRole",
                                 "name": "cluster-admin" if i < 5 else f"cr-{r.randrange(400)}"},
                     "subjects": [{"kind": "ServiceAccount", "name": f"sa-{r.randrange(20)}",
                                   "namespace": f"ns-{r.randrange(namespaces)}"}]})
    return objs


NAMESPACES = 1150  # ≈ 200,000 objects


def measure(objs: list[dict[str, Any]], sample: int = 40) -> dict[str, Any]:
    """The slowest single-subject search among ``sample`` subjects, then every subject on fresh caches."""
    t = time.perf_counter()
    a = Analysis.from_objects(objs)
    _ = a.index, a.workloads
    out: dict[str, Any] = {"load": time.perf_counter() - t}
    subjects = [f"ServiceAccount:{b.subjects[0].namespace}/{b.subjects[0].name}"
                for b in a.inventory.bindings if b.kind == "ClusterRoleBinding"][-sample:]
    worst, worst_subject, found = 0.0, "", 0
    for s in subjects:
        t = time.perf_counter()
        found += bool(a.paths_from(s))
        dt = time.perf_counter() - t
        if dt > worst:
            worst, worst_subject = dt, s
    out.update(one=worst, one_subject=worst_subject, found=found, sampled=len(subjects))
    b = Analysis.from_objects(objs)  # fresh caches
    _ = b.index, b.workloads
    t, cpu = time.perf_counter(), time.process_time()
    paths = b.all_paths()
    out.update(every=time.perf_counter() - t, every_cpu=time.process_time() - cpu, paths=len(paths))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--namespaces", type=int, default=NAMESPACES)
    parser.add_argument("--sample", type=int, default=40, help="single subjects to time")
    args = parser.parse_args()
    objs = synthetic_cluster(args.namespaces)
    m = measure(objs, args.sample)
    print(f"objects: {len(objs)}  load+index: {m['load']:.1f} s")
    print(f"one subject: slowest {m['one']:.2f} s ({m['one_subject']}); {m['found']}/{m['sampled']} with a path")
    print(f"every subject: {m['every']:.1f} s, {m['paths']} paths")
    ok = m["every"] < ALL_TARGET and m["one"] < ONE_TARGET
    print("OK" if ok else "MISSED a target")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
