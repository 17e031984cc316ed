"""Print the speed and memory figures of rbac-analyzer on a synthetic cluster (targets from issue 2).

Usage::

    python benchmarks/run.py                      # 200,000 objects (generated once, cached)
    python benchmarks/run.py --objects 20000      # smaller
    python benchmarks/run.py --only can-i,audit   # some benchmarks only

Benchmarks: load, parse, can-i, who-can, render, audit-generated, paths-generated, paths-operator,
paths-open-pods, audit, paths.

Each benchmark is a function ``bench_x(ctx) -> list[Row]`` listed in ``BENCHMARKS``; adding a figure is
one function and one line. ``ctx.analysis`` is the loaded (and indexed) Analysis; ``ctx.requests`` a
deterministic mix of requests and ``ctx.users`` of users drawn from the policy.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import random
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import yaml

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from generate import generate  # noqa: E402

from analyzer import Analysis  # noqa: E402
from analyzer.model import Request, UserInfo  # noqa: E402

__all__ = ["BENCHMARKS", "Context", "Row", "main"]


@dataclass(frozen=True, kw_only=True)
class Row:
    """One printed figure: name, value with unit, the target (if any) and whether it holds."""

    name: str
    value: str
    target: str = ""
    ok: bool | None = None


@dataclass(kw_only=True)
class Context:
    data_dir: str
    files: list[str]
    objects: int
    seed: int
    analysis: Analysis | None = None
    load_seconds: float = 0.0
    users: list[UserInfo] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)  # for benchmarks that share results


def _maxrss_bytes() -> int:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss if sys.platform == "darwin" else rss * 1024


def _timings(fn: Callable[[Any], Any], items: list[Any]) -> list[float]:
    out = []
    perf = time.thread_time  # CPU time: robust on a shared machine
    for it in items:
        t0 = perf()
        fn(it)
        out.append(perf() - t0)
    return out


def _p99(xs: list[float]) -> float:
    return sorted(xs)[max(0, int(len(xs) * 0.99) - 1)]


def _us(s: float) -> str:
    return f"{s * 1e6:.1f} µs"


def _ms(s: float) -> str:
    return f"{s * 1e3:.2f} ms"


# ---------------------------------------------------------------------------------------------
# Benchmarks (each returns rows; the order of BENCHMARKS is the order they run)
# ---------------------------------------------------------------------------------------------

def bench_load(ctx: Context) -> list[Row]:
    """Load + index (Analysis.from_paths and .index), and peak memory right after."""
    gc.collect()
    rss0 = _maxrss_bytes()
    w0, t0 = time.perf_counter(), time.process_time()
    a = Analysis.from_paths([ctx.data_dir])
    t1 = time.process_time()
    _ = a.index
    t2, w2 = time.process_time(), time.perf_counter()
    ctx.analysis, ctx.load_seconds = a, t2 - t0
    peak = _maxrss_bytes()
    ctx.extra["peak_rss"] = peak
    return [
        Row(name="objects loaded", value=f"{a.inventory.object_count:,} ({len(a.inventory.files)} files, "
            f"{len(a.load_issues)} load issues)"),
        Row(name="load (from_paths)", value=f"{t1 - t0:.2f} s CPU"),
        Row(name="index (PolicyIndex)", value=f"{t2 - t1:.2f} s CPU"),
        Row(name="load + index", value=f"{t2 - t0:.2f} s CPU ({w2 - w0:.2f} s wall)"),
        Row(name="peak memory (maxrss)", value=f"{peak / 2**30:.2f} GiB (before load {rss0 / 2**30:.2f})",
            target="< 2 GiB", ok=peak < 2 * 2**30),
    ]


def bench_parse_only(ctx: Context) -> list[Row]:
    """libyaml (CSafeLoader) parsing the same files, nothing else: the yardstick for the loader."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    gc.collect()
    w0, t0 = time.perf_counter(), time.process_time()
    n = 0
    for f in ctx.files:
        with open(f, encoding="utf-8") as fh:
            for _doc in yaml.load_all(fh.read(), Loader=loader):
                n += 1
    parse, wall = time.process_time() - t0, time.perf_counter() - w0
    rows = [Row(name=f"parse only ({loader.__name__})", value=f"{parse:.2f} s CPU ({wall:.2f} s wall, {n:,} documents)")]
    if ctx.load_seconds:
        ratio = ctx.load_seconds / parse
        rows.append(Row(name="load + index / parse only", value=f"{ratio:.2f}x", target="<= 1.5x", ok=ratio <= 1.5))
    return rows


def bench_can_i(ctx: Context) -> list[Row]:
    """One can-i (Analysis.check, evidence and near misses included) over a mix of users and requests."""
    a = ctx.analysis
    assert a is not None
    rng = random.Random(ctx.seed)
    pairs = [(rng.choice(ctx.users), rng.choice(ctx.requests)) for _ in range(5000)]
    for u, r in pairs[:200]:  # warm caches
        a.check(u, r)
    times = _timings(lambda p: a.check(*p), pairs)
    allowed = sum(a.index.allows(u, r) for u, r in pairs)
    mean, p99 = statistics.fmean(times), _p99(times)
    heavy = [(u, r) for u in ctx.extra.get("heavy_users", []) for r in ctx.requests[:200]]
    htimes = _timings(lambda p: a.check(*p), heavy) if heavy else [0.0]
    hnames = ", ".join(u.username or u.groups[0] for u in ctx.extra.get("heavy_users", [])[:3])
    return [Row(name=f"can-i mean ({len(pairs)} checks, {allowed} allowed)", value=_us(mean), target="< 100 µs",
                ok=mean < 100e-6),
            Row(name="can-i p99", value=_us(p99)),
            Row(name="can-i mean, 5 most-bound subjects", value=f"{_us(statistics.fmean(htimes))} ({hnames}, ...)"),
            Row(name="can-i decision only (index.authorize)",
                value=_us(statistics.fmean(_timings(lambda p: a.index.authorize(*p), pairs))))]


def bench_who_can(ctx: Context) -> list[Row]:
    """One who-can (Analysis.who_can_request) over namespaced, cluster-wide and URL requests."""
    a = ctx.analysis
    assert a is not None
    reqs = ctx.requests[:1000]
    for r in reqs[:50]:
        a.who_can_request(r)
    times = _timings(a.who_can_request, reqs)
    mean, p99 = statistics.fmean(times), _p99(times)
    return [Row(name=f"who-can mean ({len(reqs)} requests)", value=_ms(mean), target="< 5 ms", ok=mean < 5e-3),
            Row(name="who-can p99", value=_ms(p99))]


def _timed(fn: Callable[[], Any], *, collect: bool = False) -> tuple[Any, float, float]:
    """(result, wall seconds, CPU seconds of this thread). ``collect``: a full garbage collection first,
    so that a query is not charged for collecting what earlier benchmarks left."""
    if collect:
        gc.collect()
    w0, c0 = time.perf_counter(), time.thread_time()
    out = fn()
    return out, time.perf_counter() - w0, time.thread_time() - c0


def _team_namespace(a: Analysis) -> str:
    """A namespace with ServiceAccounts and RoleBindings (the generator's team namespaces)."""
    bound = {b.namespace for b in a.inventory.bindings if b.kind == "RoleBinding"}
    with_sa = sorted({sa.namespace for sa in a.inventory.service_accounts} & bound)
    return with_sa[len(with_sa) // 2] if with_sa else sorted(a.inventory.namespaces)[0]


def bench_render(ctx: Context) -> list[Row]:
    """Focused views rendered to SVG by Graphviz (view built + ``dot`` run), wall time each."""
    from analyzer.render.dot import pipe

    a = ctx.analysis
    assert a is not None
    ns = _team_namespace(a)
    sa = sorted(s.id for s in a.inventory.service_accounts if s.namespace == ns)[0]
    views = [
        (f"who-can get secrets -n {ns}", lambda: a.render_who_can(a.parse_request("get", "secrets", namespace=ns))),
        ("who-can list secrets -A", lambda: a.render_who_can(a.parse_request("list", "secrets", all_namespaces=True))),
        (f"subject {sa}", lambda: a.render_subject(sa)),
        (f"namespace {ns}", lambda: a.render_namespace(ns)),
    ]
    rows = []
    for label, build in views:
        svg, wall, cpu = _timed(lambda build=build: pipe(build(), "svg"))
        rows.append(Row(name=f"render {label}"[:44], value=f"{wall:.2f} s wall ({cpu:.2f} s CPU, {len(svg) // 1024} KiB svg)",
                        target="< 2 s", ok=wall < 2.0))
    return rows


def bench_audit(ctx: Context) -> list[Row]:
    """The full audit (every rule and the escalation-path findings) of ``bench_audit.py``'s cluster
    (≈199,300 objects, 23,000 ServiceAccounts with their own RoleBindings: the escalation source's worst case)."""
    import bench_audit as standalone

    objs = standalone.synthetic_cluster(standalone.NAMESPACES)
    m = standalone.measure(objs)
    return [Row(name=f"audit, bench_audit.py cluster ({len(objs):,} obj.)",
                value=f"{m['audit']:.1f} s wall ({m['audit_cpu']:.1f} s CPU), findings {m['findings']}",
                target="< 60 s", ok=m["audit"] < 60.0)]


def bench_paths(ctx: Context) -> list[Row]:
    """Escalation paths on ``bench_paths.py``'s cluster (≈200,000 objects): one subject, then every subject."""
    import bench_paths as standalone

    objs = standalone.synthetic_cluster(standalone.NAMESPACES)
    m = standalone.measure(objs)
    return [Row(name=f"paths, one subject (slowest of {m['sampled']})",
                value=f"{m['one']:.2f} s wall ({m['one_subject']}; {m['found']} with a path)",
                target="< 2 s", ok=m["one"] < 2.0),
            Row(name=f"paths, every subject ({len(objs):,} obj.)",
                value=f"{m['every']:.1f} s wall ({m['every_cpu']:.1f} s CPU, {m['paths']} paths)",
                target="< 60 s", ok=m["every"] < 60.0)]


def bench_audit_generated(ctx: Context) -> list[Row]:
    """The full audit of the generated cluster: a fresh Analysis over the loaded inventory, so the policy
    index, every rule and the escalation-path findings are all computed inside the timing."""
    from analyzer.audit import PARALLEL_FROM_BINDINGS
    from analyzer.runtime import can_fork_workers

    a = ctx.analysis
    assert a is not None
    fresh = Analysis(a.inventory)
    worker = can_fork_workers() and len(a.inventory.bindings) >= PARALLEL_FROM_BINDINGS
    report, wall, cpu = _timed(fresh.audit)  # as `rbac-analyzer audit` runs it
    one = Analysis(a.inventory)
    report1, wall1, _ = _timed(lambda: one.audit(parallel=False))
    assert [f.id for f in report1.findings] == [f.id for f in report.findings]
    how = "paths in a worker process; CPU: this process" if worker else "one process"
    return [Row(name="audit, generated cluster (with index)",
                value=f"{wall:.1f} s wall ({cpu:.1f} s CPU; {how}), {len(report.findings):,} findings",
                target="< 60 s", ok=wall < 60.0),
            Row(name="audit, generated cluster, one process", value=f"{wall1:.1f} s wall (parallel=False)")]


def bench_paths_generated(ctx: Context) -> list[Row]:
    """Escalation paths of the generated cluster, each on a fresh escalation graph (the policy index is
    built before timing): one subject's paths (slowest of a sample, as ``paths SUBJECT`` runs them), the
    most-bound subjects' one by one, then every subject's (``paths`` without a subject)."""
    from analyzer.escalation import build_graph

    a = ctx.analysis
    assert a is not None
    index, workloads = a.index, a.workloads
    subjects = build_graph(a.inventory, index, workloads).subjects()
    rng = random.Random(ctx.seed)
    sample = sorted(rng.sample(subjects, k=min(40, len(subjects))))
    slowest, worst = 0.0, ""
    for s in sample:
        _, wall, _ = _timed(lambda s=s: build_graph(a.inventory, index, workloads).paths_from(s), collect=True)
        if wall > slowest:
            slowest, worst = wall, s
    # the subjects named by the most bindings, measured apart: rights in every namespace mean a
    # search that reaches nearly every identity
    named: dict[str, int] = {}
    for b in a.inventory.bindings:
        for sub in b.subjects:
            ns = sub.namespace or (b.namespace if b.kind == "RoleBinding" else "")
            key = f"ServiceAccount:{ns}/{sub.name}" if sub.kind == "ServiceAccount" else f"{sub.kind}:{sub.name}"
            named[key] = named.get(key, 0) + 1
    heavy = [s for s in sorted(named, key=lambda s: (-named[s], s)) if s in set(subjects)][:3]
    heavy_times = []
    for s in heavy:
        _, wall, _ = _timed(lambda s=s: build_graph(a.inventory, index, workloads).paths_from(s), collect=True)
        heavy_times.append(f"{s} {wall:.2f} s")
    heavy_slowest = max((float(t.rsplit(" ", 2)[1]) for t in heavy_times), default=0.0)
    paths, wall, cpu = _timed(lambda: build_graph(a.inventory, index, workloads).all_paths(), collect=True)
    return [Row(name=f"paths, one subject (slowest of {len(sample)})", value=f"{slowest:.2f} s wall ({worst})",
                target="< 2 s", ok=slowest < 2.0),
            Row(name="paths, the 3 most-bound subjects", value="; ".join(heavy_times) + " (wall)",
                target="< 2 s", ok=heavy_slowest < 2.0),
            Row(name="paths, every subject, generated cluster", value=f"{wall:.1f} s wall ({cpu:.1f} s CPU, "
                f"{len(paths):,} paths)", target="< 60 s", ok=wall < 60.0)]


_RBAC = "rbac.authorization.k8s.io"


def with_objects(a: Analysis, extra: list[dict[str, Any]]) -> Analysis:
    """A new Analysis of the loaded inventory plus some objects (the files are not read again)."""
    more = Analysis.from_objects(extra).inventory
    inv = a.inventory
    return Analysis(type(inv)(roles=inv.roles + more.roles, bindings=inv.bindings + more.bindings,
                              service_accounts=inv.service_accounts + more.service_accounts,
                              objects=inv.objects + more.objects))


def _with_operator(a: Analysis) -> tuple[Analysis, str]:
    """The generated cluster plus a namespace operator: RoleBinding writes and ``bind`` on any ClusterRole
    through a RoleBinding in every namespace, but not its own new one (so not "every namespace")."""
    namespaces = sorted(a.inventory.namespaces)
    extra: list[dict[str, Any]] = [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "namespace-operator", "namespace": "platform"}},
        {"apiVersion": f"{_RBAC}/v1", "kind": "ClusterRole", "metadata": {"name": "namespace-operator"},
         "rules": [{"apiGroups": [_RBAC], "resources": ["rolebindings"], "verbs": ["create", "update", "patch"]},
                   {"apiGroups": [_RBAC], "resources": ["clusterroles"], "verbs": ["bind"]}]},
    ]
    extra += [{"apiVersion": f"{_RBAC}/v1", "kind": "RoleBinding",
               "metadata": {"name": "namespace-operator", "namespace": ns},
               "roleRef": {"apiGroup": _RBAC, "kind": "ClusterRole", "name": "namespace-operator"},
               "subjects": [{"kind": "ServiceAccount", "name": "namespace-operator", "namespace": "platform"}]}
              for ns in namespaces]
    return with_objects(a, extra), "ServiceAccount:platform/namespace-operator"


def bench_paths_operator(ctx: Context) -> list[Row]:
    """The generated cluster with an operator that may bind any ClusterRole in (nearly) every namespace:
    its paths (one subject), then every subject's, each on a fresh escalation graph."""
    from analyzer.escalation import build_graph

    assert ctx.analysis is not None
    a, operator = _with_operator(ctx.analysis)
    index, workloads = a.index, a.workloads  # built before timing
    namespaces = sum(1 for b in a.inventory.bindings if b.name == "namespace-operator")
    paths, wall, _ = _timed(lambda: build_graph(a.inventory, index, workloads).paths_from(operator), collect=True)
    every, wall_all, cpu_all = _timed(lambda: build_graph(a.inventory, index, workloads).all_paths(), collect=True)
    return [Row(name=f"paths, an operator binding any ClusterRole in {namespaces:,} namespaces (one subject)",
                value=f"{wall:.2f} s wall ({len(paths):,} paths)", target="< 2 s", ok=wall < 2.0),
            Row(name="paths, every subject, same cluster with that operator",
                value=f"{wall_all:.1f} s wall ({cpu_all:.1f} s CPU, {len(every):,} paths)", target="< 60 s",
                ok=wall_all < 60.0)]


def bench_paths_open_pods(ctx: Context) -> list[Row]:
    """The generated cluster misconfigured so that every authenticated user may create pods anywhere
    (a ClusterRoleBinding to system:authenticated): every identity can then become every ServiceAccount.
    A user bound to nothing else (one subject), then every subject, each on a fresh escalation graph."""
    from analyzer.escalation import build_graph

    assert ctx.analysis is not None
    a = with_objects(ctx.analysis, [
        {"apiVersion": f"{_RBAC}/v1", "kind": "ClusterRole", "metadata": {"name": "pods-for-all"},
         "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["create"]}]},
        {"apiVersion": f"{_RBAC}/v1", "kind": "ClusterRoleBinding", "metadata": {"name": "pods-for-all"},
         "roleRef": {"apiGroup": _RBAC, "kind": "ClusterRole", "name": "pods-for-all"},
         "subjects": [{"apiGroup": _RBAC, "kind": "Group", "name": "system:authenticated"}]}])
    index, workloads = a.index, a.workloads  # built before timing
    paths, wall, _ = _timed(lambda: build_graph(a.inventory, index, workloads).paths_from("User:new-hire"),
                            collect=True)
    every, wall_all, cpu_all = _timed(lambda: build_graph(a.inventory, index, workloads).all_paths(), collect=True)
    return [Row(name="paths, system:authenticated may create pods: a user bound to nothing else",
                value=f"{wall:.2f} s wall ({len(paths):,} paths)", target="< 2 s", ok=wall < 2.0),
            Row(name="paths, every subject, same cluster", value=f"{wall_all:.1f} s wall ({cpu_all:.1f} s CPU, "
                f"{len(every):,} paths)", target="< 60 s", ok=wall_all < 60.0)]


# Benchmarks that build their own cluster (the generated one is not loaded for them alone).
SELF_CONTAINED = {"audit", "paths"}

# Add a benchmark: write bench_x(ctx) -> list[Row] above and one line here.
BENCHMARKS: list[tuple[str, Callable[[Context], list[Row]]]] = [
    ("load", bench_load),
    ("parse", bench_parse_only),
    ("can-i", bench_can_i),
    ("who-can", bench_who_can),
    ("render", bench_render),
    ("audit-generated", bench_audit_generated),
    ("paths-generated", bench_paths_generated),
    ("paths-operator", bench_paths_operator),
    ("paths-open-pods", bench_paths_open_pods),
    ("audit", bench_audit),
    ("paths", bench_paths),
]


# ---------------------------------------------------------------------------------------------
# Users and requests drawn from the loaded policy (deterministic)
# ---------------------------------------------------------------------------------------------

def sample_queries(ctx: Context) -> None:
    a = ctx.analysis
    assert a is not None
    rng = random.Random(ctx.seed)
    inv = a.inventory
    counts: dict[Any, int] = {}
    for b in inv.bindings:
        for s in b.subjects:
            if s.kind == "ServiceAccount" and not s.namespace:
                s = type(s)(kind=s.kind, name=s.name, namespace=b.namespace)
            if s.kind in ("User", "Group") or (s.kind == "ServiceAccount" and s.namespace):
                counts[s] = counts.get(s, 0) + 1
    distinct = sorted(counts, key=lambda s: (s.kind, s.namespace, s.name))

    def as_user(s: Any) -> UserInfo:
        if s.kind == "Group":
            return UserInfo(username=f"member-of-{s.name}", groups=(s.name, "system:authenticated"))
        return a.user_for_subject(s)

    # a random asker: uniform over the distinct subjects; the most-bound ones are measured apart
    users = [as_user(s) for s in rng.sample(distinct, k=min(500, len(distinct)))]
    ctx.extra["heavy_users"] = [as_user(s) for s in sorted(distinct, key=lambda s: -counts[s])[:5]]
    users.append(UserInfo(username="nobody", groups=("system:authenticated",)))
    namespaces = sorted(inv.namespaces)
    shapes = [("get", "pods", "", ""), ("list", "secrets", "", ""), ("get", "secrets", "", "db"),
              ("create", "pods", "exec", ""), ("update", "deployments", "", ""), ("patch", "deployments", "scale", ""),
              ("delete", "configmaps", "", ""), ("create", "rolebindings", "", ""), ("watch", "jobs", "", ""),
              ("get", "pods", "log", "")]
    groups = {"pods": "", "secrets": "", "configmaps": "", "deployments": "apps", "rolebindings": "rbac.authorization.k8s.io",
              "jobs": "batch"}
    reqs: list[Request] = []
    for _ in range(2000):
        verb, res, sub, name = rng.choice(shapes)
        roll = rng.random()
        ns = "" if roll < 0.1 else rng.choice(namespaces)
        if name == "db" and ns:
            name = f"{ns}-db"
        reqs.append(Request(verb=verb, resource=res, api_group=groups[res], subresource=sub, name=name, namespace=ns))
    for path in ("/healthz", "/metrics", "/apis/apps/v1", "/debug/pprof"):
        reqs.append(Request(verb="get", path=path, resource_request=False))
    rng.shuffle(reqs)
    ctx.users, ctx.requests = users, reqs


def _data_dir(objects: int, seed: int, explicit: str | None) -> str:
    d = explicit or os.path.join(tempfile.gettempdir(), f"rbac-analyzer-bench-{objects}-{seed}")
    stamp = os.path.join(d, ".complete")
    if not os.path.exists(stamp):
        print(f"generating {objects:,} objects into {d} ...", file=sys.stderr)
        generate(d, objects, seed)
        with open(stamp, "w") as fh:
            fh.write("ok\n")
    return d


def _machine() -> str:
    return (f"{platform.python_implementation()} {platform.python_version()}, PyYAML {yaml.__version__} "
            f"(libyaml {'yes' if getattr(yaml, '__with_libyaml__', False) else 'no'}), {os.cpu_count()} cores, "
            f"{platform.system()} {platform.machine()}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--objects", type=int, default=200_000, help="cluster size in objects (default 200000)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--data", default=None, help="folder for the generated cluster (default: a cached temp folder)")
    p.add_argument("--only", default="", help="comma-separated benchmark names (load runs first when one needs the generated cluster): " + ", ".join(n for n, _ in BENCHMARKS))
    args = p.parse_args(argv)
    data = _data_dir(args.objects, args.seed, args.data)
    files = sorted(os.path.join(data, f) for f in os.listdir(data) if f.endswith((".yaml", ".yml", ".json")))
    ctx = Context(data_dir=data, files=files, objects=args.objects, seed=args.seed)
    wanted = {w.strip() for w in args.only.split(",") if w.strip()}
    unknown = wanted - {name for name, _ in BENCHMARKS}
    if unknown:
        p.error(f"unknown benchmark {', '.join(sorted(unknown))}: choose from {', '.join(n for n, _ in BENCHMARKS)}")
    size = sum(os.path.getsize(f) for f in files) / 2**20
    print(f"rbac-analyzer benchmarks: {args.objects:,} objects requested, {len(files)} files, {size:.1f} MiB")
    print(f"machine: {_machine()}")
    print("times are CPU time of this process (robust on a shared machine); wall time where shown")
    print(f"{'figure':<44}  {'value':<44}  target", flush=True)
    if wanted and wanted <= SELF_CONTAINED:
        wanted.discard("load")  # nothing asked for needs the generated cluster
    else:
        wanted |= {"load"} if wanted else set()
    for name, fn in BENCHMARKS:
        if wanted and name not in wanted:
            continue
        for r in fn(ctx):  # printed as each benchmark finishes
            mark = "" if r.ok is None else ("  ok" if r.ok else "  MISSED")
            print(f"{r.name:<44}  {r.value:<44}  {r.target}{mark}".rstrip(), flush=True)
        if name == "load":
            sample_queries(ctx)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
