"""``rbac-analyzer graph``: export the permission graph as GraphML, JSON, a Cypher script or Neo4j CSV."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TextIO

from ..errors import UsageError
from ..render.export import (
    EXPORT_FORMATS,
    NEO4J_IMPORT_COMMAND,
    to_cypher,
    to_graphml,
    to_json,
    write_neo4j_csv,
)
from .common import EXIT_OK, add_input_options, load_analysis, report_load_problems, write_text_file

HELP = "export the permission graph (subjects, bindings, roles, groups, workloads): graphml | json | cypher | neo4j-csv"
EPILOG = f"""examples:
  rbac-analyzer graph -f cluster/ -o graphml --output-file rbac.graphml     (Gephi, yEd, Cytoscape)
  rbac-analyzer graph -f cluster/ -o json | jq '.nodes | length'             (networkx node-link JSON)
  rbac-analyzer graph -f cluster/ -o cypher --output-file rbac.cypher        (cypher-shell -f rbac.cypher)
  rbac-analyzer graph -f cluster/ -o neo4j-csv --output-file import/         (a folder; then, in it:)
      {NEO4J_IMPORT_COMMAND}

Node ids read like ServiceAccount:ns/name and ClusterRole:admin. Edges: SUBJECT_OF, GRANTS, AGGREGATES,
MEMBER_OF (implied groups), RUNS_AS (workloads). Permissions stay as rule summaries on role nodes.
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("graph", help=HELP, description=HELP, epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    add_input_options(p)
    p.add_argument("-o", "--output", choices=list(EXPORT_FORMATS), default="graphml",
                   help="export format (default: graphml)")
    p.add_argument("--output-file", default=None, metavar="F",
                   help="write here instead of stdout (a folder for neo4j-csv, created if needed)")
    p.add_argument("-v", "--verbose", action="count", default=0, help="list every load notice")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    if args.output == "neo4j-csv" and not args.output_file:
        raise UsageError("-o neo4j-csv writes a folder: give --output-file DIR")
    a = load_analysis(args)
    strict = report_load_problems(a, args, err)
    if strict is not None:
        return strict
    g = a.graph
    if args.output == "neo4j-csv":
        target = Path(args.output_file)
        if target.exists() and not target.is_dir():
            raise UsageError(f"{target}: -o neo4j-csv needs a folder, and this is a file")
        files = write_neo4j_csv(g, target)
        err.write(f"wrote {', '.join(str(f) for f in files)} "
                  f"({g.number_of_nodes()} nodes, {g.number_of_edges()} relationships)\n")
        return EXIT_OK
    text = {"graphml": to_graphml, "json": to_json, "cypher": to_cypher}[args.output](g)
    if args.output_file:
        write_text_file(args.output_file, text)
        err.write(f"wrote {args.output_file} ({g.number_of_nodes()} nodes, {g.number_of_edges()} edges)\n")
    else:
        out.write(text)
    return EXIT_OK
