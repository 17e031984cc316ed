"""One subject's path search skips identities whose rights the source (or their parent) already has, and
asks the others only about their extra rights: the paths and blast radii must be those of the full search."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from analyzer.api import Analysis

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "sample_policies" / "scenarios"
RBAC = "rbac.authorization.k8s.io"


def _inputs(path: Path) -> list[str]:
    return [str(p) for p in sorted(path.rglob("*.yaml")) if p.name != "expected.yaml"]


def _answers(a: Analysis, subjects: list[str]) -> dict[str, tuple]:
    g = a.escalation
    return {s: (tuple(g.paths_from(s)), g.blast_radius(s)) for s in subjects}


def _same_with_and_without_pruning(paths: list[str]) -> int:
    pruned, full = Analysis.from_paths(paths), Analysis.from_paths(paths)
    full.escalation.prune_dominated = False
    subjects = pruned.escalation.subjects()
    assert _answers(pruned, subjects) == _answers(full, subjects)
    return len(subjects)


SETS = sorted(p for p in SCENARIOS.iterdir() if p.is_dir() and _inputs(p)) + [ROOT / "sample_policies" / "demo-cluster"]


@pytest.mark.parametrize("path", SETS, ids=[p.name for p in SETS])
def test_pruning_changes_no_answer(path: Path) -> None:
    _same_with_and_without_pruning(_inputs(path))


def test_pruning_changes_no_answer_on_a_generated_cluster(tmp_path: Path) -> None:
    # the generator's shape is what pruning is for: a CI runner with exec and deploy rights everywhere
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "generate.py"), "--out", str(tmp_path),
                    "--objects", "2500"], check=True, capture_output=True)
    assert _same_with_and_without_pruning([str(tmp_path)]) > 100


def _sa(name: str, ns: str = "dev") -> dict:
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name, "namespace": ns}}


def _role(name: str, rules: list[dict], ns: str = "dev") -> dict:
    return {"apiVersion": f"{RBAC}/v1", "kind": "Role", "metadata": {"name": name, "namespace": ns}, "rules": rules}


def _bind(role: str, sa: str, ns: str = "dev") -> dict:
    return {"apiVersion": f"{RBAC}/v1", "kind": "RoleBinding", "metadata": {"name": f"{role}-{sa}", "namespace": ns},
            "roleRef": {"apiGroup": RBAC, "kind": "Role", "name": role},
            "subjects": [{"kind": "ServiceAccount", "name": sa, "namespace": ns}]}


def _pod(name: str, sa: str, ns: str = "dev") -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": ns},
            "spec": {"serviceAccountName": sa, "containers": [{"name": "c", "image": "busybox"}]}}


EXEC = {"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["create"]}
READ_PODS = {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}


def _both(objects: list[dict], source: str) -> list[tuple[str, ...]]:
    pruned, full = Analysis.from_objects(objects), Analysis.from_objects(objects)
    full.escalation.prune_dominated = False
    found = [p.nodes for p in pruned.escalation.paths_from(source)]
    assert found == [p.nodes for p in full.escalation.paths_from(source)]
    return found


def test_extra_rights_of_a_reached_identity_are_still_followed() -> None:
    # ci can exec into worker's pod; worker's one right beyond ci's (read a token Secret) leads on
    objects = [
        _sa("ci"), _sa("worker"), _sa("admin-sa"), _pod("w", "worker"),
        _role("ci", [EXEC, READ_PODS]), _bind("ci", "ci"),
        _role("worker", [READ_PODS, {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}]),
        _bind("worker", "worker"),
        _role("admin", [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]), _bind("admin", "admin-sa"),
        {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/service-account-token",
         "metadata": {"name": "admin-token", "namespace": "dev",
                      "annotations": {"kubernetes.io/service-account.name": "admin-sa"}}},
    ]
    found = _both(objects, "ServiceAccount:dev/ci")
    assert ("ServiceAccount:dev/ci", "ServiceAccount:dev/worker", "ServiceAccount:dev/admin-sa",
            "namespace-admin:dev") in found


def test_a_role_bound_to_the_reached_identity_counts_not_only_its_rights() -> None:
    # ci holds every right of the role bound to worker (escalate and update on that very role), but only
    # worker can rewrite it and gain anything: a Role bound to ci is what the escalate technique needs
    rewrite = {"apiGroups": [RBAC], "resources": ["roles"], "verbs": ["escalate", "update"],
               "resourceNames": ["self-edit"]}
    objects = [
        _sa("ci"), _sa("worker"), _pod("w", "worker"),
        _role("ci", [EXEC, READ_PODS, rewrite]), _bind("ci", "ci"),
        _role("self-edit", [rewrite]), _bind("self-edit", "worker"),
    ]
    found = _both(objects, "ServiceAccount:dev/ci")
    assert ("ServiceAccount:dev/ci", "ServiceAccount:dev/worker", "namespace-admin:dev") in found


def test_a_role_bound_to_the_reached_identity_may_be_rewritten_with_rights_both_share() -> None:
    # both hold escalate/update on the Role "target" through one shared RoleBinding, and ci holds target's
    # rules through its own Role; but target is bound only to worker, so only worker can rewrite it
    rewrite = {"apiGroups": [RBAC], "resources": ["roles"], "verbs": ["escalate", "update"], "resourceNames": ["target"]}
    shared = {"apiVersion": f"{RBAC}/v1", "kind": "RoleBinding", "metadata": {"name": "shared", "namespace": "dev"},
              "roleRef": {"apiGroup": RBAC, "kind": "Role", "name": "rewriter"},
              "subjects": [{"kind": "ServiceAccount", "name": n, "namespace": "dev"} for n in ("ci", "worker")]}
    objects = [
        _sa("ci"), _sa("worker"), _pod("w", "worker"),
        _role("rewriter", [rewrite]), shared,
        _role("ci", [EXEC, READ_PODS]), _bind("ci", "ci"),
        _role("target", [READ_PODS]), _bind("target", "worker"),
    ]
    found = _both(objects, "ServiceAccount:dev/ci")
    assert ("ServiceAccount:dev/ci", "ServiceAccount:dev/worker", "namespace-admin:dev") in found


def test_techniques_ask_only_about_what_they_declare(monkeypatch: pytest.MonkeyPatch) -> None:
    # both the per-actor fast skip (``Actor.may_touch``) and pruning rely on ``Technique.touches`` naming
    # every resource a technique's ``find`` asks about; record what each one asks on every scenario
    from analyzer.escalation import ALL_TECHNIQUES
    from analyzer.escalation.base import TechniqueContext
    from analyzer.semantics.power import ANY_NAME

    asked: dict[str, set[str]] = {}
    undeclared_names: set[tuple[str, str, str, str]] = set()  # names asked one by one beyond Technique.names
    by_id = {t.id: t for t in ALL_TECHNIQUES}
    current: list[str] = []

    def recorder(name: str):
        original = getattr(TechniqueContext, name)

        def record(self, verbs_or_verb, resource, *args, **kwargs):
            if current:
                sub = kwargs.get("subresource")
                res = f"{resource}/{sub}" if sub else resource
                asked.setdefault(current[-1], set()).add(res)
                t, obj = by_id[current[-1]], kwargs.get("name", "")
                if t.names is not None and obj and obj != ANY_NAME:
                    ns = kwargs.get("namespace", "")
                    if obj not in t.names(self.world, res, ns) or obj not in t.names(self.world, res, ""):
                        undeclared_names.add((t.id, res, ns, obj))
            return original(self, verbs_or_verb, resource, *args, **kwargs)
        return record

    for name in ("grant", "may", "any_grant", "namespaces_where", "namespaces_beyond", "names"):
        monkeypatch.setattr(TechniqueContext, name, recorder(name))
    wrapped = []
    for t in ALL_TECHNIQUES:
        def find(ctx, _t=t, _find=t.find):
            current.append(_t.id)
            try:
                yield from _find(ctx)
            finally:
                current.pop()
        wrapped.append((t, t.find))
        object.__setattr__(t, "find", find)
    try:
        for path in SETS:
            a = Analysis.from_paths(_inputs(path))
            a.escalation.full_graph()
    finally:
        for t, find in wrapped:
            object.__setattr__(t, "find", find)
    assert asked
    missing = {t.id: sorted(asked.get(t.id, set()) - t.touches) for t in ALL_TECHNIQUES}
    assert {k: v for k, v in missing.items() if v} == {}
    # a search sets aside rules whose resourceNames no technique asks about: those that say which names
    # they ask for one by one (in a namespace, and so in every namespace) must ask for no other
    assert undeclared_names == set()
    assert any(t.names is not None for t in ALL_TECHNIQUES)


def test_rules_naming_objects_no_technique_asks_about_are_set_aside() -> None:
    # worker may read two Secrets by name: an Opaque one (no technique asks about it, so ci, which can
    # exec into worker's pod, dominates worker) and, in the second policy, a ServiceAccount token
    read = {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"], "resourceNames": ["db", "admin-token"]}
    objects = [
        _sa("ci"), _sa("worker"), _sa("admin-sa"), _pod("w", "worker"),
        _role("ci", [EXEC, READ_PODS]), _bind("ci", "ci"),
        _role("worker", [READ_PODS, read]), _bind("worker", "worker"),
        _role("admin", [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]), _bind("admin", "admin-sa"),
        {"apiVersion": "v1", "kind": "Secret", "type": "Opaque", "metadata": {"name": "db", "namespace": "dev"}},
    ]
    token = {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/service-account-token",
             "metadata": {"name": "admin-token", "namespace": "dev",
                          "annotations": {"kubernetes.io/service-account.name": "admin-sa"}}}
    graph = Analysis.from_objects(objects).escalation
    built: list[str] = []
    actor_for = graph.actor_for
    graph.actor_for = lambda node, user=None: built.append(node) or actor_for(node, user)  # type: ignore[method-assign]
    assert graph.paths_from("ServiceAccount:dev/ci") == []
    assert "ServiceAccount:dev/worker" not in built  # dominated: not even looked at
    found = _both([*objects, token], "ServiceAccount:dev/ci")
    assert ("ServiceAccount:dev/ci", "ServiceAccount:dev/worker", "ServiceAccount:dev/admin-sa",
            "namespace-admin:dev") in found


def test_a_rule_naming_objects_still_counts_for_holding_a_role() -> None:
    # the named rule no technique asks about lets worker hold every rule of "rewritable", so worker (not
    # ci) may bind it to itself without `bind` and then rewrite it; ci holds every other right of worker
    read = {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"], "resourceNames": ["db"]}
    escalate = {"apiGroups": [RBAC], "resources": ["roles"], "verbs": ["escalate", "update", "get"],
                "resourceNames": ["rewritable"]}
    write = {"apiGroups": [RBAC], "resources": ["rolebindings"], "verbs": ["create"]}
    shared = {"apiVersion": f"{RBAC}/v1", "kind": "RoleBinding", "metadata": {"name": "shared", "namespace": "dev"},
              "roleRef": {"apiGroup": RBAC, "kind": "Role", "name": "rewriter"},
              "subjects": [{"kind": "ServiceAccount", "name": n, "namespace": "dev"} for n in ("ci", "worker")]}
    objects = [
        _sa("ci"), _sa("worker"), _pod("w", "worker"),
        _role("rewriter", [escalate, write]), shared,
        _role("ci", [EXEC, READ_PODS]), _bind("ci", "ci"),
        _role("reads", [read]), _bind("reads", "worker"),
        _role("rewritable", [read, escalate]),
    ]
    found = _both(objects, "ServiceAccount:dev/ci")
    assert ("ServiceAccount:dev/ci", "ServiceAccount:dev/worker", "Role:dev/rewritable@dev",
            "namespace-admin:dev") in found


# -- ESC-BIND yields only the widest bindable roles (World.bind_widest_only) ---------------------------------

_RULE_POOL = [
    {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
    {"apiGroups": [""], "resources": ["pods"], "verbs": ["create"]},
    {"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["create"]},
    {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list"]},
    {"apiGroups": [""], "resources": ["serviceaccounts/token"], "verbs": ["create"]},
    {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["*"]},
    {"apiGroups": ["apps"], "resources": ["*"], "verbs": ["*"]},
    {"apiGroups": [RBAC], "resources": ["rolebindings"], "verbs": ["create", "update"]},
    {"apiGroups": [RBAC], "resources": ["clusterrolebindings"], "verbs": ["create"]},
    {"apiGroups": [RBAC], "resources": ["clusterroles", "roles"], "verbs": ["bind"]},
    {"apiGroups": [RBAC], "resources": ["clusterroles"], "verbs": ["bind"], "resourceNames": ["r1", "r3"]},
    {"apiGroups": [RBAC], "resources": ["roles", "clusterroles"], "verbs": ["escalate", "update"]},
    {"apiGroups": [RBAC], "resources": ["*"], "verbs": ["*"]},
    {"apiGroups": [""], "resources": ["users", "serviceaccounts"], "verbs": ["impersonate"]},
    {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]},
    {"nonResourceURLs": ["/metrics"], "verbs": ["get"]},
    {"apiGroups": [RBAC], "resources": ["rolebindings"], "verbs": ["patch"]},  # existing bindings only
]
_RB_PATCH = _RULE_POOL[-1]


# rules naming Secrets: a ServiceAccount token ("tok", in some namespaces) and an Opaque one ("db")
_NAMED_SECRETS = [
    {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"], "resourceNames": ["db"]},
    {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"], "resourceNames": ["tok", "db"]},
    {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list"], "resourceNames": ["db"]},
]


def _random_policy(seed: int, named_secrets: bool = False) -> list[dict]:
    """Namespaces, ClusterRoles and Roles drawn from rules that bind, escalate and run pods, bound at random
    (``named_secrets``: also rules naming Secrets, a token Secret in some namespaces and pods of s1)."""
    import random

    rnd = random.Random(seed)
    pool = [*_RULE_POOL, *_NAMED_SECRETS] if named_secrets else _RULE_POOL
    namespaces = ["a", "b", "c", "d", "e"][:rnd.choice((3, 5))]
    objects: list[dict] = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}} for ns in namespaces]
    for ns in namespaces:
        objects += [_sa("s1", ns), _sa("s2", ns), _pod(f"p-{ns}", "s2", ns)]
        if named_secrets:
            objects.append(_pod(f"q-{ns}", "s1", ns))
            objects.append({"apiVersion": "v1", "kind": "Secret", "type": "Opaque", "metadata": {"name": "db", "namespace": ns}})
            if rnd.random() < 0.5:
                objects.append({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/service-account-token",
                                "metadata": {"name": "tok", "namespace": ns,
                                             "annotations": {"kubernetes.io/service-account.name": rnd.choice(("s1", "s2"))}}})
    cluster_roles = [f"r{i}" for i in range(6)]
    for name in cluster_roles:
        objects.append({"apiVersion": f"{RBAC}/v1", "kind": "ClusterRole", "metadata": {"name": name},
                        "rules": rnd.sample(pool, rnd.randint(1, 4))})
    for ns in namespaces:
        objects.append(_role("local", rnd.sample(pool[1:], rnd.randint(1, 3)), ns))
    subjects = [{"kind": "ServiceAccount", "name": f"s{i}", "namespace": ns} for i in (1, 2) for ns in namespaces]
    subjects += [{"kind": "User", "name": "alice"}, {"kind": "Group", "name": "dev"}]
    for i in range(rnd.randint(4, 9)):
        subject = rnd.choice(subjects)
        if rnd.random() < 0.3:
            objects.append({"apiVersion": f"{RBAC}/v1", "kind": "ClusterRoleBinding", "metadata": {"name": f"crb{i}"},
                            "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": rnd.choice(cluster_roles)},
                            "subjects": [subject]})
        else:
            ns = rnd.choice(namespaces)
            ref = {"apiGroup": RBAC, "kind": "Role", "name": "local"} if rnd.random() < 0.3 else \
                {"apiGroup": RBAC, "kind": "ClusterRole", "name": rnd.choice(cluster_roles)}
            objects.append({"apiVersion": f"{RBAC}/v1", "kind": "RoleBinding", "metadata": {"name": f"rb{i}", "namespace": ns},
                            "roleRef": ref, "subjects": [subject]})
    if rnd.random() < 0.6:  # RoleBinding writes and bind for one subject in most namespaces (a namespace-set node)
        objects.append({"apiVersion": f"{RBAC}/v1", "kind": "ClusterRole", "metadata": {"name": "binder"},
                        "rules": [rnd.choice((_RULE_POOL[7], _RB_PATCH)), rnd.choice(_RULE_POOL[9:11]),
                                  *rnd.sample(_RULE_POOL, 1)]})
        ref = {"apiGroup": RBAC, "kind": "ClusterRole", "name": "binder"}
        subject = rnd.choice(subjects)
        for ns in namespaces[rnd.randint(0, 1):]:
            objects.append({"apiVersion": f"{RBAC}/v1", "kind": "RoleBinding", "metadata": {"name": "wide", "namespace": ns},
                            "roleRef": ref, "subjects": [subject]})
    return objects


def _reach(a: Analysis) -> dict:
    g = a.escalation
    out: dict = {"all": sorted((p.source, p.sink, p.hops, p.potential) for p in a.all_paths())}
    for s in g.subjects():
        br = g.blast_radius(s)
        out[s] = (sorted((p.sink, p.hops, p.potential) for p in g.paths_from(s)), br.identities, br.namespaces, br.sinks)
    return out


def test_binding_only_the_widest_roles_changes_no_reach() -> None:
    # a role another bindable role includes leads nowhere sooner: hop counts, potential marks and blast
    # radii are those of binding every role, one node per (role, namespace)
    steps = {True: 0, False: 0}
    sets = 0
    for seed in range(60):
        objects = _random_policy(seed)
        widest, every = Analysis.from_objects(objects), Analysis.from_objects(objects)
        every.escalation.world.bind_widest_only = False
        assert _reach(widest) == _reach(every), seed
        for a, flag in ((widest, True), (every, False)):
            steps[flag] += sum(1 for s in a.escalation.subjects() for st in a.escalation.successors(s)
                               if st.technique == "ESC-BIND")
        sets += len(widest.escalation.world.held_scopes)
    assert steps[True] < steps[False]  # the policies do have roles to leave out
    assert sets  # and roles bindable in a set of namespaces


def test_pruning_changes_no_reach_on_random_policies() -> None:
    # one subject's search skips what the source or a parent dominates, and sets aside rules naming
    # objects no technique asks about: the answers are those of the full search
    from analyzer.escalation import build_graph

    built = {True: 0, False: 0}
    for seed in range(60):
        objects = _random_policy(seed, named_secrets=True)
        pruned, full = Analysis.from_objects(objects), Analysis.from_objects(objects)
        full.escalation.prune_dominated = False
        assert _reach(pruned) == _reach(full), seed
        a = Analysis.from_objects(objects)
        for prune in (True, False):
            for s in a.escalation.subjects():  # each search on a fresh graph: count the identities it built
                graph = build_graph(a.inventory, a.index, a.workloads)
                graph.prune_dominated = prune
                seen: set[str] = set()
                actor_for = graph.actor_for
                graph.actor_for = lambda node, user=None, _f=actor_for, _s=seen: _s.add(node) or _f(node, user)  # type: ignore
                graph.paths_from(s)
                built[prune] += len(seen)
    assert built[True] < built[False]  # the searches did skip identities


def test_a_holder_behind_a_role_held_in_many_namespaces_is_found_without_all_its_steps() -> None:
    # op may bind any ClusterRole in five namespaces (one held node for them all); cluster-admin there
    # reaches kube-system's ctrl, bound to cluster-admin: looking at kube-system first is enough
    ops = {"apiVersion": f"{RBAC}/v1", "kind": "ClusterRole", "metadata": {"name": "binder"},
           "rules": [{"apiGroups": [RBAC], "resources": ["rolebindings"], "verbs": ["create"]},
                     {"apiGroups": [RBAC], "resources": ["clusterroles"], "verbs": ["bind"]}]}
    admin = {"apiVersion": f"{RBAC}/v1", "kind": "ClusterRole", "metadata": {"name": "cluster-admin"},
             "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]}
    namespaces = ["a", "b", "c", "d", "kube-system"]
    objects = [admin, ops, _sa("op", "platform"), _sa("ctrl", "kube-system"),
               {"apiVersion": f"{RBAC}/v1", "kind": "ClusterRoleBinding", "metadata": {"name": "ctrl"},
                "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": "cluster-admin"},
                "subjects": [{"kind": "ServiceAccount", "name": "ctrl", "namespace": "kube-system"}]}]
    for ns in namespaces:
        objects += [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}, _sa("app", ns),
                    {"apiVersion": f"{RBAC}/v1", "kind": "RoleBinding", "metadata": {"name": "op", "namespace": ns},
                     "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": "binder"},
                     "subjects": [{"kind": "ServiceAccount", "name": "op", "namespace": "platform"}]}]
    found = _both(objects, "ServiceAccount:platform/op")
    assert len(found) == 1 and found[0][-2:] == ("ServiceAccount:kube-system/ctrl", "cluster-admin")
    graph = Analysis.from_objects(objects).escalation
    graph.paths_from("ServiceAccount:platform/op")
    held = found[0][1]
    assert held.startswith("ClusterRole:cluster-admin@<5 namespaces:")
    assert not graph.has_steps(held)  # only its steps into kube-system (and cluster-wide) were asked


def test_techniques_into_a_namespace_lead_only_there() -> None:
    # a search skips, for techniques marked ``into_namespace``, the namespaces whose ServiceAccounts the
    # source dominates: each must lead only to ServiceAccounts (or hubs) of the namespaces it acts in,
    # and walk namespaces through the context, so that asking one namespace gives exactly its steps
    from analyzer.escalation import ALL_TECHNIQUES
    from analyzer.escalation.base import HUB_PREFIX, TechniqueContext

    def namespace_of(target: str) -> str | None:
        if target.startswith(HUB_PREFIX):
            ns = target.rpartition(":")[2]
            return None if ns == "*" else ns
        assert target.startswith("ServiceAccount:"), target
        return target[len("ServiceAccount:"):].partition("/")[0]

    marked = [t for t in ALL_TECHNIQUES if t.into_namespace]
    assert marked
    checked = 0
    for path in SETS:
        graph = Analysis.from_paths(_inputs(path)).escalation
        world = graph.world
        for subject in graph.subjects():
            actor = graph.actor_for(subject)
            assert actor is not None
            for t in marked:
                full = {r.target for r in t.find(TechniqueContext(actor=actor, world=world))}
                for ns in world.namespaces:
                    one = {r.target for r in t.find(TechniqueContext(actor=actor, world=world,
                                                                     only_namespaces=frozenset({ns})))}
                    assert one == {x for x in full if namespace_of(x) in (ns, None)}, (t.id, subject, ns)
                    checked += bool(one)
    assert checked
