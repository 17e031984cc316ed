"""Kubernetes' own authorizer test tables (tests/conformance, copied from ../shared/conformance) through our API."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml

from analyzer import (
    Analysis,
    PolicyRule,
    Request,
    UserInfo,
    aggregated_rules,
    applies_to,
    covers,
    make_sa_username,
    non_resource_url_covers,
    parse_rule,
    rule_allows,
    sa_matches_username,
    sa_user_info,
    split_sa_username,
)
from analyzer.errors import UsageError
from analyzer.loaders.manifests import parse_subject

VECTORS = Path(__file__).parent / "conformance" / "k8s"
CASE_KINDS = {"spec", "whoCan", "ruleAllows", "rulesFor", "appliesTo", "aggregate", "covers", "urlCovers",
              "saMatchesUsername", "saMakeUsername", "saUserInfo"}


def _cases():
    for path in sorted(VECTORS.glob("*.yaml")):
        doc = yaml.safe_load(path.read_text())
        for i, case in enumerate(doc.get("cases") or []):
            keys = CASE_KINDS & set(case)
            assert len(keys) == 1, f"{path.name} case {i}: unknown case kind {sorted(case)}"
            yield pytest.param(doc, case, next(iter(keys)), id=f"{path.stem}-{i}-{next(iter(keys))}")


_analysis_cache: dict[int, Analysis] = {}


def _analysis(doc) -> Analysis:
    key = id(doc)
    if key not in _analysis_cache:
        _analysis_cache[key] = Analysis.from_objects(doc.get("objects") or [], super_user=doc.get("superUser") or "")
    return _analysis_cache[key]


def _request(attrs: dict, *, resource: bool) -> Request:
    if resource:
        return Request(verb=attrs.get("verb", ""), resource=attrs.get("resource", ""),
                       api_group=attrs.get("group", ""), subresource=attrs.get("subresource", ""),
                       name=attrs.get("name", ""), namespace=attrs.get("namespace", ""))
    return Request(verb=attrs.get("verb", ""), path=attrs.get("path", ""), resource_request=False)


def _rule_key(rule: PolicyRule) -> tuple:
    return (rule.verbs, rule.api_groups, rule.resources, rule.resource_names, rule.non_resource_urls)


def test_every_case_kind_is_present():
    kinds = {k for _, _, k in (p.values for p in _cases())}
    assert kinds == CASE_KINDS


@pytest.mark.parametrize(("doc", "case", "kind"), list(_cases()))
def test_conformance(doc, case, kind):
    if kind == "spec":
        a = _analysis(doc)
        sar = {"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview", "spec": case["spec"]}
        spec = case["spec"]
        # Through the public machine interface...
        if spec.get("user") or spec.get("groups"):
            status = a.review(sar)["status"]
            assert status["allowed"] is case["allowed"], status
        # ...and the Python API (RBAC alone: the vectors never include system:masters).
        ra = spec.get("resourceAttributes")
        req = _request(ra, resource=True) if ra is not None else _request(spec["nonResourceAttributes"], resource=False)
        user = UserInfo(username=spec.get("user", ""), groups=tuple(spec.get("groups") or ()))
        assert a.check(user, req).allowed is case["allowed"]
    elif kind == "whoCan":
        a = _analysis(doc)
        attrs = case["whoCan"]["attributes"]
        if "resourceAttributes" in attrs:
            req = _request(attrs["resourceAttributes"], resource=True)
        else:
            req = _request(attrs["nonResourceAttributes"], resource=False)

        def norm(s):
            return (s["kind"], s["name"], s.get("namespace", "") or "")

        expected = [norm(s) for s in case["whoCan"]["subjects"]]
        located, _ = a.index.locate_subjects(req)
        # Kubernetes' locator: same list, in order, duplicates kept.
        assert [(s.subject.kind, s.subject.name, s.subject.namespace) for s in located] == expected
        # The user-facing who-can: the same subjects, once each.
        merged = {(s.subject.kind, s.subject.name, s.subject.namespace) for s in a.who_can_request(req)[0]}
        assert merged == set(expected)
    elif kind == "ruleAllows":
        c = case["ruleAllows"]
        rule = parse_rule(c["rule"])
        if "resourceAttributes" in c:
            req = _request(c["resourceAttributes"], resource=True)
        else:
            req = _request(c["nonResourceAttributes"], resource=False)
        assert rule_allows(rule, req) is case["allowed"]
    elif kind == "rulesFor":
        a = _analysis(doc)
        c = case["rulesFor"]
        review = a.rules_for(c["user"], c.get("groups") or [], namespace=c["namespace"])
        got = Counter(_rule_key(g.rule) for g in review.grants)
        want = Counter(_rule_key(parse_rule(r)) for r in c["rules"])
        assert got == want
    elif kind == "appliesTo":
        c = case["appliesTo"]
        subjects = [parse_subject(s, "s") for s in c["subjects"]]
        idx = applies_to(subjects, c["user"], c.get("groups") or [], c.get("namespace", ""))
        assert (idx >= 0) is c["applies"]
        if c["applies"]:
            assert idx == c["index"]
    elif kind == "aggregate":
        c = case["aggregate"]
        a = Analysis.from_objects(c["objects"])
        roles = {r.name: r for r in a.inventory.roles if r.kind == "ClusterRole"}
        target = roles[c["clusterRoleToSync"]]
        new_rules = aggregated_rules(target, list(roles.values()))
        want = tuple(parse_rule(r) for r in c["rules"])
        assert new_rules == want
        assert (new_rules != target.rules) is c["updated"]
    elif kind == "covers":
        c = case["covers"]
        owner = [parse_rule(r) for r in c["ownerRules"]]
        servant = [parse_rule(r) for r in c["servantRules"]]
        ok, uncovered = covers(owner, servant)
        assert ok is c["covered"]
        assert {_rule_key(r) for r in uncovered} == {_rule_key(parse_rule(r)) for r in c.get("uncovered") or []}
    elif kind == "urlCovers":
        c = case["urlCovers"]
        assert non_resource_url_covers(c["owner"], c["requested"]) is c["want"]
    elif kind == "saMatchesUsername":
        c = case["saMatchesUsername"]
        assert sa_matches_username(c["namespace"], c["name"], c["username"]) is c["expect"]
    elif kind == "saMakeUsername":
        c = case["saMakeUsername"]
        username = make_sa_username(c["namespace"], c["name"])
        if c["splitError"]:
            with pytest.raises(UsageError):
                split_sa_username(username)
        else:
            assert split_sa_username(username) == (c["namespace"], c["name"])
    elif kind == "saUserInfo":
        c = case["saUserInfo"]
        b = c.get("bound") or {}
        info = sa_user_info(c["namespace"], c["name"], pod_name=b.get("podName", ""), pod_uid=b.get("podUID", ""),
                            node_name=b.get("nodeName", ""), node_uid=b.get("nodeUID", ""))
        assert info.username == c["user"]
        assert list(info.groups) == c["groups"]
        assert {k: list(v) for k, v in info.extra.items()} == (c.get("extra") or {})
