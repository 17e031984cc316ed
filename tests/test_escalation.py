"""Escalation techniques: every scenario's paths match its expected.yaml; refused prerequisites give no path."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from analyzer.api import Analysis
from analyzer.escalation import ALL_TECHNIQUES, HOLDS
from analyzer.model.paths import node_text

SCENARIOS = Path(__file__).resolve().parent.parent / "sample_policies" / "scenarios"
ESC = sorted(p for p in SCENARIOS.iterdir() if p.is_dir() and p.name.startswith(("esc-", "neg-"))
             and (p / "expected.yaml").exists())


def _load(path: Path) -> tuple[Analysis, dict]:
    expected = yaml.safe_load((path / "expected.yaml").read_text()) or {}
    return Analysis.from_paths([str(p) for p in sorted(path.glob("*.yaml")) if p.name != "expected.yaml"]), expected


@pytest.mark.parametrize("path", ESC, ids=[p.name for p in ESC])
def test_scenario_paths(path: Path) -> None:
    a, expected = _load(path)
    assert not a.load_issues
    found = a.all_paths()
    assert {p.nodes for p in found} == {tuple(p) for p in expected.get("paths") or []}
    used = {s.technique for p in found for s in p.steps} - {HOLDS}
    assert used == set(expected.get("techniques") or [])


def test_every_technique_has_a_positive_scenario() -> None:
    ids = [t.id for t in ALL_TECHNIQUES]
    assert len(ids) == len(set(ids))
    covered: set[str] = set()
    for path in ESC:
        covered.update((yaml.safe_load((path / "expected.yaml").read_text()) or {}).get("techniques") or [])
    assert set(ids) <= covered
    for t in ALL_TECHNIQUES:
        assert t.id.startswith("ESC-") and t.id.upper() == t.id
        assert t.title and t.short_reason and t.yields and t.requires


def test_potential_marks() -> None:
    a, _ = _load(SCENARIOS / "esc-secret-read")
    (p,) = a.paths_from("ServiceAccount:dev/ci")
    assert not p.potential  # the token Secret is in the inputs
    a, _ = _load(SCENARIOS / "esc-secret-create")
    (p,) = a.paths_from("ServiceAccount:dev/ci")
    assert p.potential and p.steps[0].potential and not p.steps[1].potential
    a, _ = _load(SCENARIOS / "esc-csr")
    assert all(p.potential for p in a.paths_from("User:alice"))


def test_step_evidence_and_json_shape() -> None:
    a, _ = _load(SCENARIOS / "esc-pod-create")
    (p,) = a.paths_from("ServiceAccount:dev/ci", to="cluster-admin")
    d = p.to_dict()
    assert d["from"] == {"kind": "ServiceAccount", "name": "ci", "namespace": "dev"}
    assert d["to"] == "cluster-admin" and d["potential"] is False
    first = d["steps"][0]
    assert first["technique"] == "ESC-POD-CREATE"
    assert first["to"] == {"kind": "ServiceAccount", "name": "admin-sa", "namespace": "dev"}
    assert first["via"]["binding"] == {"kind": "RoleBinding", "name": "ci-powers", "namespace": "dev"}
    assert first["via"]["role"]["name"] == "ci-powers"
    assert first["via"]["rule"]["verbs"] == ["create"]
    assert first["via"]["source"]["file"].endswith("policy.yaml")


def test_as_identity_with_groups() -> None:
    a, _ = _load(SCENARIOS / "esc-pod-create")
    assert a.paths_from(a.impersonate("system:serviceaccount:dev:ci"))
    assert not a.paths_from(a.impersonate("mallory"))
    assert a.paths_from("User:mallory") == []


def test_max_depth_and_all() -> None:
    a, _ = _load(SCENARIOS / "esc-pod-create")
    assert a.paths_from("ServiceAccount:dev/ci", max_depth=1) == []
    assert len(a.paths_from("ServiceAccount:dev/ci", all_paths=True)) == 1


def test_blast_radius() -> None:
    a, _ = _load(SCENARIOS / "esc-pod-exec")
    br = a.blast_radius("ServiceAccount:dev/ci")
    assert ("ServiceAccount:dev/admin-sa", 1, False) in br.identities
    assert br.namespaces == ("*",) and "cluster-admin" in br.sinks
    assert a.blast_radius("ServiceAccount:dev/admin-sa").pods == ("Pod:dev/runner",)


def test_group_subject_is_a_member() -> None:
    a = Analysis.from_objects([
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "cluster-admin"},
         "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": "ops"},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
         "subjects": [{"kind": "Group", "name": "ops", "apiGroup": "rbac.authorization.k8s.io"}]},
    ])
    assert [p.nodes for p in a.all_paths()] == [("Group:ops", "cluster-admin")]


def test_diff() -> None:
    old, _ = _load(SCENARIOS / "neg-pod-exec-get-only")
    new, _ = _load(SCENARIOS / "esc-pod-exec")
    d = Analysis.diff(old, new)
    assert d.access_gained
    assert ("dev", "create", "", "pods/exec", "runner") in d.gained["ServiceAccount:dev/ci"]
    assert ("dev", "get", "", "pods/exec", "") in d.lost["ServiceAccount:dev/ci"]
    assert [p.nodes for p in d.new_paths] == [("ServiceAccount:dev/ci", "ServiceAccount:dev/admin-sa", "cluster-admin")]
    assert Analysis.diff(new, new).empty


def _policy(verbs: list[str]) -> Analysis:
    return Analysis.from_objects([
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "r", "namespace": "dev"},
         "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": verbs}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
         "metadata": {"name": "b", "namespace": "dev"},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "r"},
         "subjects": [{"kind": "User", "name": "alice", "apiGroup": "rbac.authorization.k8s.io"}]},
    ])


def test_diff_is_effective_not_literal() -> None:
    # listing "get" where "*" already was gains nothing; dropping "*" for "get" loses every other verb
    d = Analysis.diff(_policy(["*"]), _policy(["*", "get"]))
    assert d.empty
    d = Analysis.diff(_policy(["*"]), _policy(["get"]))
    assert not d.gained and d.lost["User:alice"] == (("dev", "*", "", "pods", ""),)


def test_audit_reports_paths_to_cluster_admin() -> None:
    a, _ = _load(SCENARIOS / "esc-pod-exec")
    found = [f for f in a.audit().user if f.rule == "ESC-PATH"]
    assert [(f.subject.id, f.severity.value, f.object) for f in found] == [
        ("ServiceAccount:dev/ci", "critical", "cluster-admin")]
    assert any("blast radius" in e.detail for e in found[0].evidence)
    a, _ = _load(SCENARIOS / "esc-secret-create")
    assert [f.severity.value for f in a.audit().user if f.rule == "ESC-PATH"] == ["high"]  # potential


@pytest.mark.parametrize("path", ESC, ids=[p.name for p in ESC])
def test_blast_radius_is_the_same_from_the_whole_graph(path: Path) -> None:
    # the audit computes blast radii on the whole graph; `paths --blast-radius` explores from the subject
    fresh, _ = _load(path)
    subjects = fresh.escalation.subjects()
    alone = {s: fresh.blast_radius(s) for s in subjects}
    whole, _ = _load(path)
    whole.escalation.full_graph()
    assert whole.escalation._full is not None
    assert {s: whole.blast_radius(s) for s in subjects} == alone


def test_blast_radius_prefers_a_certain_way_to_an_identity() -> None:
    # two one-step ways to dev/admin-sa: create a pod (certain: the SA is defined) and read the token
    # Secret the SA lists (potential: that Secret is not in the inputs); the radius reports the certain one
    rbac = "rbac.authorization.k8s.io"
    a = Analysis.from_objects([
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "ci", "namespace": "dev"}},
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "admin-sa", "namespace": "dev"},
         "secrets": [{"name": "admin-sa-token"}]},
        {"apiVersion": f"{rbac}/v1", "kind": "Role", "metadata": {"name": "ci", "namespace": "dev"},
         "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"], "resourceNames": ["admin-sa-token"]},
                   {"apiGroups": [""], "resources": ["pods"], "verbs": ["create"]}]},
        {"apiVersion": f"{rbac}/v1", "kind": "RoleBinding", "metadata": {"name": "ci", "namespace": "dev"},
         "roleRef": {"apiGroup": rbac, "kind": "Role", "name": "ci"},
         "subjects": [{"kind": "ServiceAccount", "name": "ci", "namespace": "dev"}]},
    ])
    steps = a.escalation.successors("ServiceAccount:dev/ci")
    assert any(s.target == "ServiceAccount:dev/admin-sa" and s.potential for s in steps)  # the direct, potential edge
    for built in (False, True):
        if built:
            a.escalation.full_graph()
        br = a.blast_radius("ServiceAccount:dev/ci")
        assert ("ServiceAccount:dev/admin-sa", 1, False) in br.identities


_RBAC = "rbac.authorization.k8s.io"
_REWRITE_SELF = {"apiGroups": [_RBAC], "resources": ["roles"], "verbs": ["escalate", "update"],
                 "resourceNames": ["self-edit"]}


def _dev_policy(roles: dict[str, list[dict]], bound: dict[str, str]) -> Analysis:
    objects: list[dict] = [{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": sa, "namespace": "dev"}}
                           for sa in sorted(set(bound.values()))]
    for name, rules in roles.items():
        objects.append({"apiVersion": f"{_RBAC}/v1", "kind": "Role", "metadata": {"name": name, "namespace": "dev"},
                        "rules": rules})
    for role, sa in bound.items():
        objects.append({"apiVersion": f"{_RBAC}/v1", "kind": "RoleBinding",
                        "metadata": {"name": role, "namespace": "dev"},
                        "roleRef": {"apiGroup": _RBAC, "kind": "Role", "name": role},
                        "subjects": [{"kind": "ServiceAccount", "name": sa, "namespace": "dev"}]})
    return Analysis.from_objects(objects)


def test_rewriting_a_namespace_role_bound_to_you() -> None:
    # escalate + update on a Role (not a ClusterRole) bound to you: that namespace's admin
    a = _dev_policy({"self-edit": [_REWRITE_SELF]}, {"self-edit": "worker"})
    steps = a.escalation.successors("ServiceAccount:dev/worker")
    assert [(s.technique, s.target) for s in steps] == [("ESC-ESCALATE", "namespace-admin:dev")]


def test_binding_a_rewritable_role_you_already_hold_is_a_step() -> None:
    # ci holds every rule of self-edit through its own role, but only once self-edit is bound to it may
    # ci rewrite self-edit (escalate on a role bound to you): binding it gains something after all
    ci_rules = [_REWRITE_SELF, {"apiGroups": [_RBAC], "resources": ["rolebindings"], "verbs": ["create"]},
                {"apiGroups": [_RBAC], "resources": ["roles"], "verbs": ["bind"]}]
    a = _dev_policy({"ci": ci_rules, "self-edit": [_REWRITE_SELF]}, {"ci": "ci"})
    [path] = [p for p in a.escalation.paths_from("ServiceAccount:dev/ci") if p.sink == "namespace-admin:dev"]
    assert [s.technique for s in path.steps] == ["ESC-BIND", "ESC-ESCALATE"]
    assert path.steps[0].target.endswith("self-edit@dev")


def test_every_subjects_paths_report_progress() -> None:
    # `paths` without a subject builds the whole graph: seconds on large policies, so it reports progress
    demo = Path(__file__).resolve().parent.parent / "sample_policies" / "demo-cluster"
    a = Analysis.from_paths([str(demo)])
    seen: list[tuple[str, int, int]] = []
    paths = a.all_paths(on_progress=lambda *args: seen.append(args))
    total = len(a.escalation.subjects())
    assert paths and seen and seen[-1] == ("escalation graph", total, total)
    assert [d for _, d, _ in seen] == sorted({d for _, d, _ in seen})  # increasing, each count once
    again: list[tuple[str, int, int]] = []
    assert a.all_paths(on_progress=lambda *args: again.append(args)) == paths and again == []  # cached graph


def test_binding_a_rewritable_role_you_hold_needs_no_bind_verb() -> None:
    # the API server lets you bind a role whose every permission you hold, without `bind`; for a role you
    # may then rewrite, that is a step (a role you merely hold would gain you nothing: no step)
    create_rb = {"apiGroups": [_RBAC], "resources": ["rolebindings"], "verbs": ["create"]}
    a = _dev_policy({"ci": [_REWRITE_SELF, create_rb], "self-edit": [_REWRITE_SELF]}, {"ci": "ci"})
    [path] = [p for p in a.escalation.paths_from("ServiceAccount:dev/ci") if p.sink == "namespace-admin:dev"]
    assert [s.technique for s in path.steps] == ["ESC-BIND", "ESC-ESCALATE"]
    assert "no bind needed" in path.steps[0].detail and path.steps[0].grant.rule.resources == ("rolebindings",)
    plain = _dev_policy({"ci": [create_rb, {"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}],
                         "reader": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]}, {"ci": "ci"})
    assert not [s for s in plain.escalation.successors("ServiceAccount:dev/ci") if s.technique == "ESC-BIND"]


def _binder_in(namespaces: list[str], extra_namespaces: tuple[str, ...] = (), more: tuple[dict, ...] = ()) -> Analysis:
    """ServiceAccount ops/binder with RoleBinding writes and bind (a ClusterRole bound by a RoleBinding in
    each of ``namespaces``); ``extra_namespaces`` exist too, without its RoleBindings."""
    objects: list[dict] = [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "binder", "namespace": "ops"}},
        {"apiVersion": f"{_RBAC}/v1", "kind": "ClusterRole", "metadata": {"name": "binder"},
         "rules": [{"apiGroups": [_RBAC], "resources": ["rolebindings"], "verbs": ["create"]},
                   {"apiGroups": [_RBAC], "resources": ["clusterroles"], "verbs": ["bind"]}]},
        {"apiVersion": f"{_RBAC}/v1", "kind": "ClusterRole", "metadata": {"name": "admin"},
         "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]},
        {"apiVersion": f"{_RBAC}/v1", "kind": "ClusterRole", "metadata": {"name": "pod-reader"},
         "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]},
    ]
    for ns in (*namespaces, *extra_namespaces):
        objects.append({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    for ns in namespaces:
        objects.append({"apiVersion": f"{_RBAC}/v1", "kind": "RoleBinding", "metadata": {"name": "binder", "namespace": ns},
                        "roleRef": {"apiGroup": _RBAC, "kind": "ClusterRole", "name": "binder"},
                        "subjects": [{"kind": "ServiceAccount", "name": "binder", "namespace": "ops"}]})
    return Analysis.from_objects([*objects, *more])


def test_a_clusterrole_bindable_in_every_namespace_is_one_held_node() -> None:
    # RoleBinding writes and bind in every namespace: each ClusterRole is one "held in every namespace" node,
    # not one per namespace (ClusterRoles x namespaces nodes would swamp large clusters)
    namespaces = ["ops", "a", "b", "c"]
    a = _binder_in(namespaces)
    held = sorted(s.target for s in a.escalation.successors("ServiceAccount:ops/binder") if s.technique == "ESC-BIND")
    assert held == ["ClusterRole:admin@<all-namespaces>"]  # pod-reader too, but admin includes it: left out
    step = next(s for s in a.escalation.successors("ServiceAccount:ops/binder") if s.target.startswith("ClusterRole:admin"))
    assert "each of the 4 namespaces" in step.detail and step.grant.binding.kind == "RoleBinding"
    paths = {p.sink: p for p in a.paths_from("ServiceAccount:ops/binder")}
    assert set(paths) == {f"namespace-admin:{ns}" for ns in namespaces}
    for p in paths.values():  # bind admin in every namespace, then hold that namespace's admin
        assert [(s.technique, s.target) for s in p.steps] == [("ESC-BIND", "ClusterRole:admin@<all-namespaces>"),
                                                              ("HOLDS", p.sink)]
    # one namespace without its RoleBinding: per namespace, as before
    b = _binder_in(["ops", "a"], extra_namespaces=("b",))
    held = sorted(s.target for s in b.escalation.successors("ServiceAccount:ops/binder") if s.technique == "ESC-BIND")
    assert held == ["ClusterRole:admin@a", "ClusterRole:admin@ops"]
    # every bindable role, one node per namespace: what the search would otherwise walk through
    c = _binder_in(namespaces)
    c.escalation.world.bind_widest_only = False
    held = sorted(s.target for s in c.escalation.successors("ServiceAccount:ops/binder") if s.technique == "ESC-BIND")
    assert held == sorted(f"ClusterRole:{r}@{ns}" for r in ("admin", "pod-reader") for ns in namespaces)


def test_a_clusterrole_bindable_in_many_namespaces_is_one_node_for_that_set() -> None:
    # RoleBinding writes and bind in 5 of 6 namespaces: one node, the role held in those 5
    bound = ["ops", "a", "b", "c", "d"]
    a = _binder_in(bound, extra_namespaces=("e",))
    [step] = [s for s in a.escalation.successors("ServiceAccount:ops/binder") if s.technique == "ESC-BIND"]
    assert step.target.startswith("ClusterRole:admin@<5 namespaces:")
    assert "each of the 5 namespaces" in step.detail
    paths = {p.sink: p for p in a.paths_from("ServiceAccount:ops/binder")}
    assert set(paths) == {f"namespace-admin:{ns}" for ns in bound}  # not e: no RoleBinding writes there
    d = paths["namespace-admin:a"].to_dict()
    assert d["steps"][0]["to"] == {"kind": "ClusterRole", "name": "admin", "scope": "5 namespaces"}
    assert node_text(step.target) == "ClusterRole:admin (bound in 5 namespaces)"


def test_of_roles_with_the_same_permissions_cluster_admin_is_the_one_bound() -> None:
    # every `*` role includes the others: the path names the one people know
    star = [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}, {"nonResourceURLs": ["*"], "verbs": ["*"]}]
    more = tuple({"apiVersion": f"{_RBAC}/v1", "kind": "ClusterRole", "metadata": {"name": name}, "rules": star}
                 for name in ("argocd-application-controller", "cluster-admin"))
    a = _binder_in(["ops", "a"], more=more)
    held = {s.target for s in a.escalation.successors("ServiceAccount:ops/binder") if s.technique == "ESC-BIND"}
    assert held == {"ClusterRole:cluster-admin@ops", "ClusterRole:cluster-admin@a"}


def test_lifting_pod_security_of_a_namespace_named_by_a_clusterrolebinding() -> None:
    # patch on namespaces is cluster-scoped: a ClusterRoleBinding's rule naming `dev` allows it there (with
    # pods created in dev); the same rule bound by a RoleBinding in dev allows nothing
    def policy(binding_kind: str) -> Analysis:
        meta = {"name": "psa"} if binding_kind == "ClusterRoleBinding" else {"name": "psa", "namespace": "dev"}
        return Analysis.from_objects([
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}} for name in ("dev", "prod")] + [
            {"apiVersion": f"{_RBAC}/v1", "kind": "ClusterRole", "metadata": {"name": "psa"},
             "rules": [{"apiGroups": [""], "resources": ["namespaces"], "verbs": ["patch"], "resourceNames": ["dev"]},
                       {"apiGroups": [""], "resources": ["pods"], "verbs": ["create"]}]},
            {"apiVersion": f"{_RBAC}/v1", "kind": binding_kind, "metadata": meta,
             "roleRef": {"apiGroup": _RBAC, "kind": "ClusterRole", "name": "psa"},
             "subjects": [{"kind": "User", "name": "alice"}]}])

    steps = [s for s in policy("ClusterRoleBinding").escalation.successors("User:alice")
             if s.technique == "ESC-NAMESPACE-PSA"]
    assert [(s.target, "namespace dev" in s.detail) for s in steps] == [("nodes", True)]
    assert not [s for s in policy("RoleBinding").escalation.successors("User:alice") if s.technique == "ESC-NAMESPACE-PSA"]


def test_impersonating_groups_named_by_a_clusterrolebinding_only() -> None:
    # groups are cluster-scoped: a ClusterRoleBinding's rule naming `dev` allows impersonating dev (with a
    # user); a RoleBinding's rule (here with impersonate on ServiceAccounts of its namespace) allows no group
    def policy(binding_kind: str) -> Analysis:
        meta = {"name": "imp"} if binding_kind == "ClusterRoleBinding" else {"name": "imp", "namespace": "ns1"}
        objects = [{"apiVersion": f"{_RBAC}/v1", "kind": "ClusterRole", "metadata": {"name": "imp"},
                    "rules": [{"apiGroups": [""], "resources": ["groups"], "verbs": ["impersonate"], "resourceNames": ["dev"]},
                              {"apiGroups": [""], "resources": ["serviceaccounts"], "verbs": ["impersonate"]}]},
                   {"apiVersion": f"{_RBAC}/v1", "kind": binding_kind, "metadata": meta,
                    "roleRef": {"apiGroup": _RBAC, "kind": "ClusterRole", "name": "imp"},
                    "subjects": [{"kind": "User", "name": "alice"}]},
                   {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "sa", "namespace": "ns1"}}]
        for group in ("dev", "ops"):  # groups the policy names
            objects.append({"apiVersion": f"{_RBAC}/v1", "kind": "ClusterRoleBinding", "metadata": {"name": group},
                            "roleRef": {"apiGroup": _RBAC, "kind": "ClusterRole", "name": "imp"},
                            "subjects": [{"kind": "Group", "name": group, "apiGroup": _RBAC}]})
        return Analysis.from_objects(objects)

    def groups(a: Analysis) -> list[str]:
        return [s.target for s in a.escalation.successors("User:alice") if s.technique == "ESC-IMPERSONATE-GROUP"]

    assert groups(policy("ClusterRoleBinding")) == ["Group:dev"]
    assert groups(policy("RoleBinding")) == []


def test_updating_a_named_mutating_webhook_needs_a_clusterrolebinding() -> None:
    adm = "admissionregistration.k8s.io"

    def steps(binding_kind: str) -> list[str]:
        meta = {"name": "hooks"} if binding_kind == "ClusterRoleBinding" else {"name": "hooks", "namespace": "dev"}
        a = Analysis.from_objects([
            {"apiVersion": f"{adm}/v1", "kind": "MutatingWebhookConfiguration", "metadata": {"name": "hook-a"}},
            {"apiVersion": f"{_RBAC}/v1", "kind": "ClusterRole", "metadata": {"name": "hooks"},
             "rules": [{"apiGroups": [adm], "resources": ["mutatingwebhookconfigurations"], "verbs": ["update"],
                        "resourceNames": ["hook-a"]}]},
            {"apiVersion": f"{_RBAC}/v1", "kind": binding_kind, "metadata": meta,
             "roleRef": {"apiGroup": _RBAC, "kind": "ClusterRole", "name": "hooks"},
             "subjects": [{"kind": "User", "name": "alice"}]}])
        return [s.target for s in a.escalation.successors("User:alice") if s.technique == "ESC-MUTATING-WEBHOOK"]

    assert steps("ClusterRoleBinding") == ["hub:pods:*"]
    assert steps("RoleBinding") == []
