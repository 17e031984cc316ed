"""Report formats: SARIF validates against the 2.1.0 schema; HTML is self-contained; Markdown, text, CLI."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest

from analyzer.audit import parse_exclusions
from analyzer.report import to_html, to_json, to_markdown, to_sarif, to_text

from .conftest import DEMO
from .test_catalog import SCENARIOS, scenario

SCHEMA = json.loads((Path(__file__).parent / "schemas" / "sarif-2.1.0-rtm.5.json").read_text())


def _validate(doc: dict) -> None:
    jsonschema.validators.validator_for(SCHEMA)(SCHEMA).validate(doc)


@pytest.fixture(scope="module")
def demo_report(demo):
    exclusions = parse_exclusions([{"rule": "RBAC-197", "reason": "events are shipped elsewhere", "owner": "sre"},
                                   {"rule": "RBAC-101", "reason": "migration", "expires": "2020-01-31"}])
    return demo.audit(exclusions=exclusions)


def test_sarif_validates_against_the_schema(demo_report):
    doc = json.loads(to_sarif(demo_report))
    _validate(doc)
    run = doc["runs"][0]
    assert doc["version"] == "2.1.0" and run["tool"]["driver"]["name"] == "rbac-analyzer"
    results = run["results"]
    assert len(results) == len(demo_report.user) + len(demo_report.excluded)
    rules = run["tool"]["driver"]["rules"]
    for r in results:
        assert rules[r["ruleIndex"]]["id"] == r["ruleId"]
        assert r["level"] in ("error", "warning", "note")
        loc = r["locations"][0]["physicalLocation"]
        assert loc["artifactLocation"]["uri"].startswith("sample_policies/demo-cluster/") or \
            loc["artifactLocation"]["uri"].startswith("file:")
        assert loc["region"]["startLine"] >= 1
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert "expired" in notes[0]["message"]["text"]
    suppressed = [r for r in results if r.get("suppressions")]
    assert suppressed and all(r["ruleId"] == "RBAC-197" for r in suppressed)


def test_sarif_of_every_scenario_validates():
    for folder in sorted(p for p in SCENARIOS.iterdir() if p.is_dir()):
        _validate(json.loads(to_sarif(scenario(folder.name).audit())))


def test_sarif_points_at_the_binding_line():
    doc = json.loads(to_sarif(scenario("nodes-proxy").audit()))
    (result,) = doc["runs"][0]["results"]
    loc = result["locations"][0]["physicalLocation"]
    text = Path(SCENARIOS / "nodes-proxy" / "policy.yaml").read_text().splitlines()
    line = loc["region"]["startLine"]
    assert "ClusterRoleBinding" in "\n".join(text[line - 1: line + 2])


def test_html_is_self_contained(demo, demo_report):
    subjects = [f.subject.id for f in demo_report.user if f.subject is not None][:3]
    page = to_html(demo_report, diagrams=demo.subject_diagrams(subjects))
    assert page.startswith("<!DOCTYPE html>") and "</html>" in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "<script>" in page and "RBAC-101" in page and "legacy-cms" in page
    assert "Evidence" in page and "Blast radius" in page


def test_html_escapes_hostile_names():
    from analyzer import Analysis

    a = Analysis.from_texts([("p.yaml", """
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: x}
rules: [{apiGroups: ["*"], resources: ["*"], verbs: ["*"]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: x}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: x}
subjects: [{kind: User, name: "<script>alert(1)</script>"}]
""")])
    page = to_html(a.audit())
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page


def test_diagrams_degrade_gracefully_without_a_renderer(demo):
    diagrams = demo.subject_diagrams(["ServiceAccount:web/legacy-cms"])
    assert isinstance(diagrams, dict)
    if not hasattr(demo, "render_subject"):
        assert diagrams == {}


def test_html_inlines_given_diagrams_only(demo_report):
    svg = '<?xml version="1.0"?><!DOCTYPE svg><svg xmlns="http://www.w3.org/2000/svg"><script>x()</script><g/></svg>'
    page = to_html(demo_report, diagrams={"ServiceAccount:web/legacy-cms": svg})
    assert '<div class="diagram"><svg' in page and "x()" not in page and "<?xml" not in page


def test_markdown_and_text(demo_report):
    md = to_markdown(demo_report)
    assert md.startswith("# RBAC audit") and "## Findings" in md and "## Excluded" in md
    assert "| user |" in md
    text = to_text(demo_report)
    assert "[CRITICAL] RBAC-101" in text and "legacy-cms" in text
    assert json.loads(to_json(demo_report))["summary"]["bySection"]["excluded"] > 0


def test_clean_report_says_so():
    assert "No findings in your policy." in to_text(scenario("baseline").audit())


# -- the CLI ---------------------------------------------------------------------------------------------
def test_cli_audit_text_and_fail_on(cli):
    r = cli("audit", "-f", str(DEMO))
    assert r.code == 0 and "RBAC-101" in r.out
    r = cli("audit", "-f", str(DEMO), "--fail-on", "critical")
    assert r.code == 1 and "--fail-on critical" in r.err
    r = cli("audit", "-f", str(SCENARIOS / "baseline"), "--fail-on", "info")
    assert r.code == 0


def test_cli_formats_and_output_file(cli, tmp_path):
    for fmt in ("md", "html", "json", "sarif"):
        target = tmp_path / f"report.{fmt}"
        r = cli("audit", "-f", str(DEMO), "-o", fmt, "--output-file", str(target))
        assert r.code == 0 and r.out == "" and target.read_text()
    json.loads((tmp_path / "report.json").read_text())
    _validate(json.loads((tmp_path / "report.sarif").read_text()))


def test_cli_baseline_and_exclusions(cli, tmp_path):
    policy = str(SCENARIOS / "grant-any-cluster-role" / "policy.yaml")
    base = tmp_path / "base.json"
    assert cli("audit", "-f", policy, "-o", "json", "--output-file", str(base)).code == 0
    r = cli("audit", "-f", policy, "--baseline", str(base), "--fail-on", "low")
    assert r.code == 0 and "3 already in the baseline" in r.out
    ex = tmp_path / "ex.yaml"
    ex.write_text("exclusions:\n- {rule: 'RBAC-15*', subject: 'User:mallory', reason: accepted, expires: 2020-01-01}\n")
    r = cli("audit", "-f", policy, "--exclusions", str(ex), "--fail-on", "critical")
    assert r.code == 1 and "expired" in r.err
    ex.write_text("exclusions:\n- {rule: 'RBAC-15*', subject: 'User:mallory', reason: accepted}\n")
    r = cli("audit", "-f", policy, "--exclusions", str(ex), "--fail-on", "info")
    assert r.code == 0 and "3 excluded" in r.out
    ex.write_text("exclusions:\n- {rule: RBAC-150}\n")
    r = cli("audit", "-f", policy, "--exclusions", str(ex))
    assert r.code == 2 and "reason" in r.err and "Traceback" not in r.err


def test_cli_include_system(cli):
    path = str(SCENARIOS / "baseline")
    assert "No findings in your policy." in cli("audit", "-f", path).out
    assert "load issue" not in cli("audit", "-f", path + "/manifests").err
    r = cli("audit", "-f", path, "--include-system", "-o", "json")
    data = json.loads(r.out)
    assert data["summary"]["bySection"]["user"] > 0 and data["summary"]["bySection"]["platform"] == 0


def test_cli_rules(cli):
    r = cli("rules")
    assert r.code == 0 and "RBAC-101" in r.out and "critical" in r.out
    data = json.loads(cli("rules", "-o", "json").out)
    assert all({"id", "severity", "title", "description", "remediation"} <= set(x) for x in data["rules"])


def test_html_diagrams_through_a_renderer(cli, tmp_path, monkeypatch):
    import shutil

    import graphviz

    from analyzer import Analysis

    if shutil.which("dot") is None:
        pytest.skip("Graphviz dot not installed")

    def render_subject(self, subject):
        g = graphviz.Digraph()
        g.node("s", label=str(subject))
        return g

    monkeypatch.setattr(Analysis, "render_subject", render_subject, raising=False)
    target = tmp_path / "audit.html"
    r = cli("audit", "-f", str(SCENARIOS / "nodes-proxy" / "policy.yaml"), "-o", "html", "--output-file", str(target))
    assert r.code == 0
    page = target.read_text()
    assert '<div class="diagram"><svg' in page and "User:mallory" in page and 'href="#diagram-0"' in page


def test_very_large_json_reports_are_written_compactly(monkeypatch) -> None:
    # indented JSON goes through the slow pure-Python encoder: huge reports are one line, same data
    import json
    from pathlib import Path

    from analyzer import Analysis
    from analyzer.report import json_report, sarif
    demo = Path(__file__).resolve().parent.parent / "sample_policies" / "demo-cluster"
    report = Analysis.from_paths([str(demo)]).audit()
    pretty = json_report.to_json(report)
    assert "\n  " in pretty
    monkeypatch.setattr(json_report, "PRETTY_UP_TO", 0)
    compact = json_report.to_json(report)
    assert compact.count("\n") == 1 and json.loads(compact) == json.loads(pretty)
    assert sarif.to_sarif(report).count("\n") == 1
