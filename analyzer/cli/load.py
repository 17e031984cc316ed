"""``rbac-analyzer load``: what was loaded, load issues and notices."""

from __future__ import annotations

import argparse
from typing import TextIO

from .common import EXIT_OK, EXIT_USAGE, add_input_options, add_output_option, dump, load_analysis

HELP = "parse inputs and print counts per kind, aggregated roles, load issues and notices"
EPILOG = """examples:
  rbac-analyzer load -f sample_policies/
  rbac-analyzer load -f install.yaml --default-namespace argocd -v
  kubectl get clusterroles,clusterrolebindings,roles,rolebindings -A -o yaml | rbac-analyzer load -f -
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("load", help=HELP, description=HELP, epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    add_input_options(p)
    add_output_option(p, ["text", "json", "yaml"], "text")
    p.add_argument("-v", "--verbose", action="count", default=0, help="list every notice")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    a = load_analysis(args)
    s = a.summary()
    if args.output != "text":
        data = dict(s)
        data["loadIssues"] = [i.to_dict() for i in a.load_issues]
        data["notices"] = [n.to_dict() for n in a.notices]
        data["incomplete"] = list(a.inventory.incomplete)
        if a.inventory.metadata:
            data["source"] = dict(a.inventory.metadata)
        dump(data, args.output, out)
    else:
        out.write(f"Loaded {s['objects']} objects from {s['files']} file(s), {s['namespaces']} namespace(s)\n")
        meta = a.inventory.metadata
        if meta.get("context") or meta.get("clusterVersion"):
            out.write(f"Cluster: context {meta.get('context') or '(unnamed)'}, {meta.get('clusterVersion') or 'version unknown'}, "
                      f"read at {meta.get('capturedAt') or '(unknown)'}\n")
        for kind, n in s["kinds"].items():
            out.write(f"  {kind:<34} {n:>6}\n")
        if s["aggregatedClusterRoles"]:
            out.write(f"Aggregated ClusterRoles ({len(s['aggregatedClusterRoles'])}): "
                      f"{', '.join(s['aggregatedClusterRoles'])}\n")
        if a.load_issues:
            out.write(f"Load issues ({len(a.load_issues)}): these documents were not loaded\n")
            for issue in a.load_issues:
                out.write(f"  {issue}\n")
        else:
            out.write("Load issues: none\n")
        notices = a.notices
        if notices:
            by_code = ", ".join(f"{n} {code}" for code, n in s["notices"].items())
            out.write(f"Notices ({len(notices)}): {by_code}\n")
            shown = notices if args.verbose else notices[:10]
            for n in shown:
                out.write(f"  {n}\n")
            if len(shown) < len(notices):
                out.write(f"  ... {len(notices) - len(shown)} more (-v lists all)\n")
        if a.inventory.incomplete:
            out.write(f"Incomplete: could not read {', '.join(a.inventory.incomplete)}\n")
    if args.strict and a.load_issues:
        err.write(f"--strict: {len(a.load_issues)} document(s) could not be loaded\n")
        return EXIT_USAGE
    return EXIT_OK
