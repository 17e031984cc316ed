"""``rbac-analyzer snapshot``: write the policy (live cluster and/or files) to one List file for offline use."""

from __future__ import annotations

import argparse
from typing import TextIO

from ..errors import UsageError
from ..loaders.snapshot import snapshot_format
from .common import EXIT_OK, add_input_options, load_analysis, report_load_problems

HELP = "save the policy of a live cluster (or of -f inputs) as one List file: .yaml, .yaml.gz or .json"
EPILOG = """examples:
  rbac-analyzer snapshot --live --output-file prod-2026-11-27.yaml.gz
  rbac-analyzer snapshot --live --context staging --output-file staging.json
  rbac-analyzer snapshot -f manifests/ --output-file normalised.yaml        (files → one normalised List)
  rbac-analyzer who-can get secrets -n payments -f prod-2026-11-27.yaml.gz   (offline, later)

The file is what `kubectl get -o yaml` writes (kind: List) plus a top-level `rbacAnalyzer:` block
(clusterVersion, capturedAt, context, incomplete). Loading it with -f gives the same answers as the
cluster gave, and says again what could not be read. Environment variable values in pod templates,
managedFields and last-applied annotations are not kept; Secrets are never read.
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("snapshot", help=HELP, description=HELP, epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--output-file", required=True, metavar="FILE",
                   help="where to write; the suffix picks the format (.yaml, .yml, .yaml.gz, .json, .json.gz)")
    add_input_options(p)
    p.add_argument("-v", "--verbose", action="count", default=0, help="list every load notice")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    snapshot_format(args.output_file)  # refuse a bad name before talking to a cluster
    if not args.live and not args.paths:
        raise UsageError("snapshot of what? give --live (the cluster of the kubeconfig context) and/or -f PATH")
    a = load_analysis(args)
    strict = report_load_problems(a, args, err)
    if strict is not None:
        return strict
    fmt = a.write_snapshot(args.output_file)
    inv = a.inventory
    where = f" of context {inv.metadata['context']}" if inv.metadata.get("context") else ""
    out.write(f"Wrote {inv.object_count} objects{where} to {args.output_file} ({fmt})\n")
    if inv.incomplete:
        out.write(f"incomplete: could not read {', '.join(inv.incomplete)}\n")
    return EXIT_OK
