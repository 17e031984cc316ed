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


def test_techniques_ask_only_about_what_they_declare(monkeypatch: pytest.MonkeyPatch) -> None:
    # both the per-actor fast skip (``Actor.may_touch``) and pruning rely on ``Technique.touches`` naming
    # every resource a technique's ``find`` asks about; record what each one asks on every scenario
    from analyzer.escalation import ALL_TECHNIQUES
    from analyzer.escalation.base import TechniqueContext

    asked: dict[str, set[str]] = {}
    current: list[str] = []

    def recorder(name: str):
        original = getattr(TechniqueContext, name)

        def record(self, verbs_or_verb, resource, *args, **kwargs):
            if current:
                sub = kwargs.get("subresource")
                asked.setdefault(current[-1], set()).add(f"{resource}/{sub}" if sub else resource)
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
