"""Property-based fuzzing (hypothesis, short in CI): the loader never raises on any JSON-shaped or textual
input, and the semantics keep their invariants on random policies and requests.

Longer runs: ``FUZZ_EXAMPLES=5000 python -m pytest tests/test_fuzz.py`` (and ``fuzz/fuzz_loader.py``
with atheris for coverage-guided fuzzing of the YAML path).
"""

from __future__ import annotations

import json
import os
import string

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyzer import Analysis
from analyzer.errors import AnalyzerError, UsageError
from analyzer.loaders.manifests import Limits, ParseContext, load_texts, parse_objects
from analyzer.model import Request, SourceRef, Subject, UserInfo, parse_subject_id
from analyzer.queries import _mismatches, near_misses
from analyzer.semantics import PolicyIndex, rule_allows
from analyzer.semantics.subjects import make_sa_username

# Short in CI; FUZZ_EXAMPLES=5000 for a longer run. Per test, so other modules' settings stay theirs.
FUZZ = settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", "100")), deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

RBAC = "rbac.authorization.k8s.io"

# ---------------------------------------------------------------------------------------------
# The loader never raises
# ---------------------------------------------------------------------------------------------

scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=False),
                    st.text(max_size=12), st.sampled_from(["kind", "List", "Role", "ClusterRole", "rules",
                                                            "RoleBinding", "metadata", "name", ""]))
json_values = st.recursive(scalars, lambda kids: st.one_of(
    st.lists(kids, max_size=4), st.dictionaries(st.text(max_size=8) | st.sampled_from(
        ["kind", "metadata", "name", "namespace", "rules", "verbs", "subjects", "roleRef", "items",
         "aggregationRule", "clusterRoleSelectors", "labels", "apiGroups", "resources"]), kids, max_size=5)),
    max_leaves=15)

KINDS = ["Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding", "ServiceAccount", "List", "RoleList",
         "ConfigMap", "Namespace", "CustomResourceDefinition", "Pod", "Deployment"]
VALID = {
    "Role": {"metadata": {"name": "r", "namespace": "n"}, "rules": [{"verbs": ["get"], "apiGroups": [""],
                                                                      "resources": ["pods"]}]},
    "ClusterRole": {"metadata": {"name": "c", "labels": {"a": "b"}}, "aggregationRule": {
        "clusterRoleSelectors": [{"matchLabels": {"a": "b"}}]}, "rules": []},
    "RoleBinding": {"metadata": {"name": "b", "namespace": "n"}, "roleRef": {"kind": "Role", "name": "r"},
                    "subjects": [{"kind": "User", "name": "u"}]},
    "ClusterRoleBinding": {"metadata": {"name": "cb"}, "roleRef": {"kind": "ClusterRole", "name": "c"},
                           "subjects": [{"kind": "ServiceAccount", "name": "s", "namespace": "n"}]},
    "ServiceAccount": {"metadata": {"name": "s", "namespace": "n"}, "automountServiceAccountToken": False},
}


def _paths(obj, prefix=()):
    yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _paths(v, (*prefix, i))


@st.composite
def mutated_manifests(draw):
    """A valid object of a kind the analyzer reads with one field replaced by anything."""
    import copy
    kind = draw(st.sampled_from(sorted(VALID)))
    obj = copy.deepcopy({"kind": kind, **VALID[kind]})
    paths = [p for p in _paths(obj) if p]
    path = draw(st.sampled_from(paths))
    cur = obj
    for k in path[:-1]:
        cur = cur[k]
    cur[path[-1]] = draw(json_values)
    return obj


def _check_inventory(inv, n_docs: int) -> None:
    for issue in inv.load_issues:
        assert isinstance(issue.field, str) and 1 <= issue.document <= n_docs
        assert "\n" not in str(issue)
    for n in inv.notices:
        assert "\n" not in str(n)


@FUZZ
@given(st.lists(json_values | mutated_manifests(), min_size=1, max_size=6))
def test_parse_objects_never_raises(docs):
    ctx = ParseContext()
    parse_objects(ctx, [(d, SourceRef(file="f", document=i + 1)) for i, d in enumerate(docs)])
    _check_inventory(ctx.inventory, len(docs))
    # at most one load issue per document that is not a List
    for i, d in enumerate(docs):
        if not (isinstance(d, dict) and isinstance(d.get("kind"), str) and d["kind"].endswith("List")):
            assert sum(x.document == i + 1 for x in ctx.inventory.load_issues) <= 1


@FUZZ
@given(mutated_manifests())
def test_a_wrong_field_is_a_load_issue_naming_a_field_or_loads(obj):
    ctx = ParseContext()
    parse_objects(ctx, [(obj, SourceRef(file="f", document=1))])
    inv = ctx.inventory
    if inv.load_issues:
        (issue,) = inv.load_issues
        assert issue.document == 1 and issue.message
        assert issue.field or "not a map" in issue.message
    else:
        assert inv.object_count == 1


@FUZZ
@given(st.lists(json_values | mutated_manifests(), min_size=1, max_size=4), st.sampled_from(["yaml", "json"]))
def test_load_texts_never_raises_on_serialised_documents(docs, fmt):
    if fmt == "json":
        texts = [(f"d{i}.json", json.dumps(d)) for i, d in enumerate(docs)]
    else:
        texts = [("all.yaml", yaml.safe_dump_all(docs))]
    inv = load_texts(texts)
    _check_inventory(inv, len(docs))


@FUZZ
@given(st.text(alphabet=string.printable + "{}[]&*!|>-:?#'\"\u00e9\u2028", max_size=300))
def test_load_texts_never_raises_on_random_text(text):
    try:
        inv = load_texts([("r.yaml", text)], limits=Limits(max_depth=20, max_alias_nodes=10_000))
    except AnalyzerError as exc:  # a limit: one line naming the input
        assert str(exc).startswith("r.yaml") and "\n" not in str(exc)
        return
    for issue in inv.load_issues:
        assert issue.file == "r.yaml" and issue.document >= 1


# ---------------------------------------------------------------------------------------------
# Semantics
# ---------------------------------------------------------------------------------------------

VERBS = ["get", "list", "create", "delete", "*"]
RESOURCES = ["pods", "pods/log", "pods/*", "secrets", "*", "*/scale", "deployments", "deployments/scale"]
GROUPS = ["", "apps", "*"]
NAMES = ["a", "b"]
URLS = ["/healthz", "/api/*", "*", "/metrics"]
NAMESPACES = ["n0", "n1"]
USERS = ["u0", "u1"]
GROUP_NAMES = ["g0", "g1", "system:authenticated"]


@st.composite
def rules(draw):
    if draw(st.integers(0, 5)) == 0:
        return {"verbs": draw(st.lists(st.sampled_from(VERBS), max_size=2)),
                "nonResourceURLs": draw(st.lists(st.sampled_from(URLS), min_size=1, max_size=2))}
    r = {"verbs": draw(st.lists(st.sampled_from(VERBS), min_size=1, max_size=2)),
         "apiGroups": draw(st.lists(st.sampled_from(GROUPS), min_size=1, max_size=2)),
         "resources": draw(st.lists(st.sampled_from(RESOURCES), min_size=1, max_size=2))}
    if draw(st.booleans()):
        r["resourceNames"] = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=2))
    return r


subjects = st.one_of(
    st.builds(lambda n: {"kind": "User", "name": n, "apiGroup": RBAC}, st.sampled_from(USERS)),
    st.builds(lambda n: {"kind": "Group", "name": n, "apiGroup": RBAC}, st.sampled_from(GROUP_NAMES)),
    st.builds(lambda n, ns: {"kind": "ServiceAccount", "name": n, **({"namespace": ns} if ns else {})},
              st.sampled_from(["s0", "s1"]), st.sampled_from(["", *NAMESPACES])),
)


@st.composite
def roles(draw):
    out = []
    for i in range(draw(st.integers(1, 3))):
        out.append({"kind": "ClusterRole", "metadata": {"name": f"c{i}"}, "rules": draw(st.lists(rules(), max_size=3))})
    for ns in NAMESPACES:
        if draw(st.booleans()):
            out.append({"kind": "Role", "metadata": {"name": "r0", "namespace": ns},
                        "rules": draw(st.lists(rules(), max_size=3))})
    return out


@st.composite
def bindings(draw, n_min=0, prefix="b"):
    out = []
    for i in range(draw(st.integers(n_min, 4))):
        ns = draw(st.sampled_from(["", *NAMESPACES]))
        ref = draw(st.sampled_from([("ClusterRole", "c0"), ("ClusterRole", "c1"), ("Role", "r0"),
                                    ("ClusterRole", "missing")]))
        kind = "RoleBinding" if ns else "ClusterRoleBinding"
        out.append({"kind": kind, "metadata": {"name": f"{prefix}{i}", **({"namespace": ns} if ns else {})},
                    "roleRef": {"apiGroup": RBAC, "kind": ref[0], "name": ref[1]},
                    "subjects": draw(st.lists(subjects, min_size=1, max_size=3))})
    return out


resource_requests = st.builds(
    lambda v, r, sub, g, name, ns: Request(verb=v, resource=r, subresource=sub, api_group=g, name=name,
                                           namespace=ns),
    st.sampled_from(["get", "list", "create", "delete", "watch"]), st.sampled_from(["pods", "secrets", "deployments"]),
    st.sampled_from(["", "log", "scale"]), st.sampled_from(["", "apps"]), st.sampled_from(["", "a", "c"]),
    st.sampled_from(["", *NAMESPACES]))
url_requests = st.builds(lambda v, p: Request(verb=v, path=p, resource_request=False),
                         st.sampled_from(["get", "post"]), st.sampled_from(["/healthz", "/api/v1", "/metrics", "/x"]))
requests = st.one_of(resource_requests, url_requests)
users = st.one_of(
    st.builds(lambda u, gs: UserInfo(username=u, groups=tuple(gs)), st.sampled_from(USERS),
              st.lists(st.sampled_from(GROUP_NAMES), max_size=2, unique=True)),
    st.builds(lambda ns, n: UserInfo(username=make_sa_username(ns, n), groups=("system:serviceaccounts",)),
              st.sampled_from(NAMESPACES), st.sampled_from(["s0", "s1"])),
)


def _analysis(objs) -> Analysis:
    return Analysis.from_objects(objs)


@FUZZ
@given(roles(), bindings(), st.lists(users, min_size=1, max_size=3), st.lists(requests, min_size=1, max_size=4))
def test_a_rolebinding_never_allows_a_cluster_wide_request(rs, bs, us, reqs):
    a = _analysis(rs + bs)
    for u in us:
        for r in reqs:
            if r.resource_request and r.namespace:
                continue
            for g in a.index.authorize(u, r).grants:
                assert g.binding.kind == "ClusterRoleBinding"


@FUZZ
@given(rules(), resource_requests)
def test_a_rule_with_resource_names_never_allows_a_request_without_a_name(rule, req):
    from analyzer.loaders.manifests import parse_rule
    pr = parse_rule(rule)
    if pr.resource_names:
        nameless = Request(verb=req.verb, resource=req.resource, subresource=req.subresource,
                           api_group=req.api_group, namespace=req.namespace)
        assert not rule_allows(pr, nameless)


@FUZZ
@given(roles(), bindings(), bindings(n_min=1, prefix="extra"), st.lists(users, min_size=1, max_size=3),
       st.lists(requests, min_size=1, max_size=4))
def test_adding_a_binding_never_removes_access(rs, bs, extra, us, reqs):
    before, after = _analysis(rs + bs), _analysis(rs + bs + extra)
    for u in us:
        for r in reqs:
            if before.index.allows(u, r):
                assert after.index.allows(u, r)


def _member(s: Subject) -> UserInfo:
    if s.kind == "User":
        return UserInfo(username=s.name)
    if s.kind == "Group":
        return UserInfo(username="someone", groups=(s.name,))
    return UserInfo(username=make_sa_username(s.namespace, s.name))


@FUZZ
@given(roles(), bindings(), requests, st.lists(users, min_size=1, max_size=4))
def test_who_can_and_can_i_agree(rs, bs, req, us):
    a = _analysis(rs + bs)
    listed, _ = a.who_can_request(req)
    for sa in listed:
        assert a.check(_member(sa.subject), req).allowed, sa.subject
    # and conversely: a user the authorizer allows is listed under its name, a group or its SA
    names = {(x.subject.kind, x.subject.namespace, x.subject.name) for x in listed}
    for u in us:
        if a.check(u, req).allowed:
            mine = {("User", "", u.username)} | {("Group", "", g) for g in u.groups}
            if u.username.startswith("system:serviceaccount:"):
                ns, name = u.username.split(":")[2:4]
                mine.add(("ServiceAccount", ns, name))
            assert mine & names


def _reference_near_misses(index: PolicyIndex, user: UserInfo, request: Request, limit: int = 20):
    """The straightforward near-miss search (every binding, every rule) the optimised one must equal."""
    out = []
    for binding, subject in index.bindings_applying_anywhere(user):
        role = index.role_for(binding)
        if role is None:
            if binding.kind == "ClusterRoleBinding" or binding.namespace == request.namespace:
                out.append((binding.name, subject, ("missing-role",), None))
            continue
        for rule in role.rules:
            reasons = _mismatches(rule, binding, request)
            if reasons is None or len(reasons) != 1:
                continue
            out.append((binding.name, subject, (reasons[0],), rule))
            if len(out) >= limit:
                return out
    return out


@FUZZ
@given(roles(), bindings(), users, requests, st.integers(1, 5))
def test_near_misses_equal_the_reference_search(rs, bs, u, req, limit):
    a = _analysis(rs + bs)
    ours = [(m.binding.name, m.subject, m.reasons, m.rule) for m in near_misses(a.index, u, req, limit=limit)]
    assert ours == _reference_near_misses(a.index, u, req, limit)


# ---------------------------------------------------------------------------------------------
# Subject ids
# ---------------------------------------------------------------------------------------------

@FUZZ
@given(st.one_of(st.text(max_size=30), st.builds(lambda k, r: f"{k}:{r}", st.sampled_from(
    ["User", "Group", "ServiceAccount", "sa", "user", "Bogus", ""]), st.text(max_size=20))))
def test_parse_subject_id_round_trips_or_says_why(text):
    try:
        s = parse_subject_id(text)
    except UsageError as exc:
        assert "\n" not in str(exc) and str(exc)
        return
    assert s.kind in ("User", "Group", "ServiceAccount") and s.name
    again = parse_subject_id(f"{s.kind}:{s.namespace}/{s.name}" if s.kind == "ServiceAccount" else f"{s.kind}:{s.name}")
    assert again == s


@FUZZ
@given(st.lists(rules(), max_size=5), st.lists(rules(), min_size=1, max_size=3))
def test_rule_coverage_index_agrees_with_rule_covers(owner, servant):
    # the indexed owner side must answer exactly what ruleCovers over every owner rule answers
    from analyzer.loaders.manifests import parse_rule
    from analyzer.semantics.covers import RuleCoverage, breakdown_rule, rule_covers
    owner_rules = [parse_rule(r) for r in owner]
    index = RuleCoverage(owner_rules)
    servant_rules = [parse_rule(s) for s in servant]
    every = True
    for rule in servant_rules:
        for piece in breakdown_rule(rule):
            covered = any(rule_covers(o, piece) for o in owner_rules)
            assert index.covers_piece(piece) == covered, piece
            every = every and covered
    assert index.holds(servant_rules) == every


@FUZZ
@given(roles(), bindings(), st.lists(users, min_size=1, max_size=3), st.lists(rules(), min_size=1, max_size=3))
def test_memoised_namespace_admin_agrees_with_the_definition(rs, bs, us, admin_rules):
    # "admin" is the servant; every user is asked in every namespace so the memo is hit across users
    from analyzer.semantics.covers import covers
    from analyzer.semantics.power import is_namespace_admin
    a = _analysis([*rs, {"kind": "ClusterRole", "metadata": {"name": "admin"}, "rules": admin_rules}, *bs])
    admin = a.index.cluster_roles["admin"]
    everything = Request(verb="*", api_group="*", resource="*")
    for ns in NAMESPACES:
        for u in us:
            grants, _ = a.index.rules_for(u, ns)
            owner = [g.rule for g in grants]
            expected = (a.index.allows(u, everything) or a.index.allows(u, Request(
                verb="*", api_group="*", resource="*", namespace=ns)) or covers(owner, admin.rules)[0])
            assert is_namespace_admin(a.index, u, ns) == expected
