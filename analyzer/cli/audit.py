"""``rbac-analyzer audit``: every risky permission with its evidence, as text, Markdown, HTML, JSON or SARIF."""

from __future__ import annotations

import argparse
from typing import TextIO

from ..api import Analysis
from ..model import Severity
from ..report import to_html, to_json, to_markdown, to_sarif, to_text
from .common import (
    EXIT_NO,
    EXIT_OK,
    add_input_options,
    add_output_option,
    load_analysis,
    progress_printer,
    report_load_problems,
    write_text_file,
)

HELP = "audit the policy: risky permissions, with evidence and blast radius (text, md, html, json, sarif)"
EPILOG = """examples:
  rbac-analyzer audit -f cluster/
  rbac-analyzer audit -f cluster/ -o html --output-file audit.html
  rbac-analyzer audit -f cluster/ -o sarif --output-file rbac.sarif --fail-on high
  rbac-analyzer audit -f cluster/ -o json --output-file baseline.json      (then, later:)
  rbac-analyzer audit -f cluster/ --baseline baseline.json --fail-on medium  (only what is new)
  rbac-analyzer audit -f cluster/ --exclusions accepted-risks.yaml --include-system

Findings about Kubernetes' own defaults (bootstrap roles, controllers, nodes) go to a separate
"platform" section unless --include-system. --fail-on exits 1 when a finding of your policy at or
above that severity remains after exclusions and the baseline. `rbac-analyzer rules` lists the rules.

Exclusions file (YAML):
  exclusions:
    - rule: RBAC-130                       (id or glob)
      subject: "ServiceAccount:ci/*"       (glob over KIND:NAME ids)
      namespace: "*"                       (glob; "" = cluster-wide findings)
      reason: debugging pipeline, reviewed  (required)
      owner: platform-team
      expires: 2027-03-31                  (afterwards it stops applying and is flagged)
"""

_SEVERITIES = [s.value for s in Severity]
MAX_DIAGRAMS = 40


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("audit", help=HELP, description=HELP, epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    add_input_options(p)
    add_output_option(p, ["text", "md", "html", "json", "sarif"], "text")
    p.add_argument("--output-file", default=None, metavar="F", help="write the report to F instead of stdout")
    p.add_argument("--fail-on", default=None, choices=_SEVERITIES, metavar="SEVERITY",
                   help=f"exit 1 when a finding at or above SEVERITY remains ({', '.join(_SEVERITIES)})")
    p.add_argument("--baseline", default=None, metavar="F",
                   help="a previous `audit -o json` report: report only findings whose id is not in it")
    p.add_argument("--exclusions", default=None, metavar="F", help="YAML file of accepted risks")
    p.add_argument("--include-system", action="store_true",
                   help="list findings about Kubernetes' own defaults among yours")
    p.add_argument("-v", "--verbose", action="count", default=0,
                   help="text: every evidence line and the platform section; also list load notices")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    exclusions = Analysis.load_exclusions(args.exclusions) if args.exclusions else ()
    baseline = Analysis.load_baseline(args.baseline) if args.baseline else frozenset()
    a = load_analysis(args)
    strict = report_load_problems(a, args, err)
    if strict is not None:
        return strict
    report = a.audit(include_system=args.include_system, exclusions=exclusions, baseline=baseline,
                     on_progress=progress_printer())
    fmt = args.output
    if fmt == "json":
        text = to_json(report)
    elif fmt == "sarif":
        text = to_sarif(report)
    elif fmt == "md":
        text = to_markdown(report)
    elif fmt == "html":
        # diagrams for the subjects of the user's findings, most severe first; a bounded page size
        subjects = list(dict.fromkeys(f.subject.id for f in report.user if f.subject is not None))[:MAX_DIAGRAMS]
        text = to_html(report, diagrams=a.subject_diagrams(subjects))
    else:
        text = to_text(report, verbose=bool(args.verbose))
    for e in report.expired_exclusions:
        err.write(f"warning: exclusion {e.source} expired on {e.expires}; it no longer applies\n")
    if args.output_file:
        write_text_file(args.output_file, text)
        err.write(f"wrote {fmt} report to {args.output_file}: {len(report.user)} finding(s)\n")
    else:
        out.write(text)
    if args.fail_on:
        failing = report.failing(Severity(args.fail_on))
        if failing:
            err.write(f"--fail-on {args.fail_on}: {len(failing)} finding(s) at or above {args.fail_on}\n")
            return EXIT_NO
    return EXIT_OK
