"""Meta-tests over ALL_RULES: well-formed, documented, each fires on its scenario, nothing fires on baseline."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest
import yaml

from analyzer import Analysis
from analyzer.model import Severity
from analyzer.rules import ALL_RULES
from analyzer.rules.risky_permissions import RISKY_PERMISSIONS

from .conftest import ROOT

SCENARIOS = ROOT / "sample_policies" / "scenarios"


def _expected(folder: Path) -> list[str] | None:
    data = yaml.safe_load((folder / "expected.yaml").read_text()) or {}
    findings = data.get("findings")
    return None if findings is None else list(findings)


SCENARIO_DIRS = sorted(p for p in SCENARIOS.iterdir() if p.is_dir() and (p / "expected.yaml").is_file()
                       and _expected(p) is not None)


@cache
def scenario(name: str) -> Analysis:
    folder = SCENARIOS / name
    return Analysis.from_paths([str(p) for p in sorted(folder.rglob("*.y*ml")) if p.name != "expected.yaml"])


def test_ids_are_unique_and_well_formed():
    ids = [r.id for r in ALL_RULES]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"RBAC-\d{3}", i) for i in ids), ids


@pytest.mark.parametrize("rule", ALL_RULES, ids=[r.id for r in ALL_RULES])
def test_rule_is_documented(rule):
    assert rule.title and rule.description and rule.remediation
    assert isinstance(rule.severity, Severity)
    assert rule.title[0].isupper() and not rule.title.endswith(".")


def test_catalog_rows_are_rules():
    assert {r.id for r in RISKY_PERMISSIONS} <= {r.id for r in ALL_RULES}


def test_every_rule_is_expected_by_some_scenario():
    expected = {rid for d in SCENARIO_DIRS for rid in _expected(d) or ()}
    missing = [r.id for r in ALL_RULES if r.id not in expected]
    assert not missing, f"no scenario expects {missing}"


@pytest.mark.parametrize("folder", SCENARIO_DIRS, ids=[p.name for p in SCENARIO_DIRS])
def test_scenario_fires_exactly_what_it_expects(folder):
    a = scenario(folder.name)
    assert not a.load_issues, a.load_issues
    report = a.audit()
    assert sorted({f.rule for f in report.user}) == sorted(_expected(folder))
    if folder.name != "baseline":
        assert not report.platform  # scenarios hold no Kubernetes defaults


def test_baseline_is_clean_but_holds_kubernetes_defaults():
    report = scenario("baseline").audit()
    assert report.user == ()
    assert report.platform  # the bootstrap policy is audited, and set aside
    assert all(f.section == "platform" for f in report.platform)
    # --include-system merges them into the user's section
    merged = scenario("baseline").audit(include_system=True)
    assert len(merged.user) == len(report.platform)
