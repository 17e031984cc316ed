"""``rbac-analyzer rules``: list the audit rules (id, severity, title; -o json adds the full text)."""

from __future__ import annotations

import argparse
from typing import TextIO

from ..api import Analysis
from .common import EXIT_OK, Printer, add_output_option, dump

HELP = "list the audit rules: id, severity, title (-o json: description, remediation, references)"
EPILOG = """examples:
  rbac-analyzer rules
  rbac-analyzer rules -o json
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("rules", help=HELP, description=HELP, epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    add_output_option(p, ["table", "json", "yaml"], "table")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    rules = Analysis.rule_catalog()
    if args.output in ("json", "yaml"):
        dump({"rules": rules}, args.output, out)
        return EXIT_OK
    Printer.table([[r["id"], r["severity"], r["title"]] for r in rules], ["ID", "SEVERITY", "TITLE"], out)
    return EXIT_OK
