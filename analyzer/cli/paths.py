"""``rbac-analyzer paths``: privilege-escalation paths from a subject (or every subject) to admin-equivalent sinks."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from ..errors import UsageError
from ..model.paths import CLUSTER_SINKS, NAMESPACE_ADMIN_PREFIX, BlastRadius, EscalationPath, node_text
from .common import (
    EXIT_OK,
    Printer,
    add_as_options,
    add_authenticator_options,
    add_input_options,
    add_output_option,
    asker,
    dump,
    load_analysis,
    progress_printer,
    report_load_problems,
)

HELP = "privilege-escalation paths to cluster-admin and other sinks, step by step with the enabling permission"
EPILOG = """examples:
  rbac-analyzer paths -f cluster/                                   (every non-system subject with a path)
  rbac-analyzer paths ServiceAccount:ci/deployer -f cluster/
  rbac-analyzer paths User:alice --to cluster-admin --all --max-depth 4 -f cluster/
  rbac-analyzer paths --as bob --as-group dev -f cluster/ -o json
  rbac-analyzer paths --kubeconfig ~/.kube/config --context prod -f cluster/   (the context's identity)
  rbac-analyzer paths ServiceAccount:ci/deployer --blast-radius -f cluster/
  rbac-analyzer paths -f cluster/ -o svg > paths.svg

Sinks: cluster-admin, system:masters, secrets:kube-system, nodes, namespace-admin:NS.
A step marked potential depends on objects the inputs may lack (Secrets, running pods, a signer).
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("paths", help=HELP, description=HELP, epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("subject", nargs="?", metavar="SUBJECT",
                   help="User:NAME, Group:NAME or ServiceAccount:NS/NAME (default: every non-system subject)")
    p.add_argument("--to", default=None, metavar="SINK", help="only paths to this sink")
    p.add_argument("--max-depth", type=int, default=6, metavar="N", help="longest path, in steps (default 6)")
    p.add_argument("--all", dest="all_paths", action="store_true",
                   help="every simple path up to --max-depth, not only the shortest (needs a subject)")
    p.add_argument("--blast-radius", action="store_true",
                   help="identities it can become, namespaces it controls, pods carrying its token")
    add_input_options(p)
    add_as_options(p)
    add_authenticator_options(p)  # who a --token/--cert/--kubeconfig credential is
    add_output_option(p, ["text", "json", "yaml", "dot", "svg"], "text")
    p.add_argument("-v", "--verbose", action="count", default=0, help="list every load notice")
    p.set_defaults(func=run)


def _check_sink(sink: str | None) -> None:
    if sink is None or sink in CLUSTER_SINKS:
        return
    if sink.startswith(NAMESPACE_ADMIN_PREFIX) and len(sink) > len(NAMESPACE_ADMIN_PREFIX):
        return
    raise UsageError(f"--to {sink!r}: a sink is one of {', '.join(CLUSTER_SINKS)} or namespace-admin:NAMESPACE")


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    _check_sink(args.to)
    if args.max_depth < 1:
        raise UsageError("--max-depth must be at least 1")
    identity_given = any(getattr(args, k, None) for k in ("as_user", "as_groups", "kubeconfig", "context", "cert",
                                                          "token"))
    if args.subject and identity_given:
        raise UsageError("give either SUBJECT or --as/--kubeconfig/--cert/--token, not both")
    a = load_analysis(args)
    strict = report_load_problems(a, args, err)
    if strict is not None:
        return strict
    source: Any = args.subject
    if source is None and identity_given:
        source = asker(args, a)
    if source is None and args.all_paths:
        raise UsageError("--all needs a SUBJECT (or --as)")
    if args.blast_radius:
        if source is None:
            raise UsageError("--blast-radius needs a SUBJECT (or --as)")
        return _blast(a.blast_radius(source, max_depth=args.max_depth), args, out)
    if source is None:
        paths = a.all_paths(to=args.to, max_depth=args.max_depth, on_progress=progress_printer())
    else:
        paths = a.paths_from(source, to=args.to, max_depth=args.max_depth, all_paths=args.all_paths)
    if args.output in ("json", "yaml"):
        dump({"paths": [p.to_dict() for p in paths]}, args.output, out)
    elif args.output in ("dot", "svg"):
        from ..render.paths import paths_digraph, to_svg

        g = paths_digraph(paths)
        out.write(g.source if args.output == "dot" else to_svg(g))
    else:
        _text(paths, source is None, out)
    return EXIT_OK


def _text(paths: list[EscalationPath], ranked: bool, out: TextIO) -> None:
    if not paths:
        out.write("No escalation path found.\n")
        return
    if ranked:
        rows = [[str(p.hops), p.source, p.sink, "yes" if p.potential else "",
                 " → ".join(node_text(n) for n in p.nodes[1:-1])]
                for p in paths]
        Printer.table(rows, ["HOPS", "SUBJECT", "REACHES", "POTENTIAL", "THROUGH"], out)
        out.write("\n")
    for p in paths:
        pot = ", potential" if p.potential else ""
        out.write(f"{p.source} → {p.sink} ({p.hops} step{'s' if p.hops != 1 else ''}{pot})\n")
        for i, s in enumerate(p.steps, 1):
            mark = " (potential)" if s.potential else ""
            src, dst = node_text(s.source), node_text(s.target)
            if s.technique == "HOLDS":
                out.write(f"  {i}. {src} already holds {dst}{mark}\n")
            else:
                out.write(f"  {i}. {src} --{s.reason} [{s.technique}]--> {dst}{mark}\n")
            if s.grant is not None:
                where = f"  ({s.grant.binding.source})" if s.grant.binding.source.file else ""
                out.write(f"     via {s.grant.describe()}{where}\n")
            if s.detail:
                out.write(f"     {s.detail}\n")
        out.write("\n")


def _blast(br: BlastRadius, args: argparse.Namespace, out: TextIO) -> int:
    if args.output in ("json", "yaml"):
        dump({"blastRadius": br.to_dict()}, args.output, out)
        return EXIT_OK
    if args.output in ("dot", "svg"):
        raise UsageError("--blast-radius is printed as text, json or yaml")
    out.write(f"Blast radius of {br.subject}\n")
    out.write(f"  reaches:    {', '.join(br.sinks) or 'no sink'}\n")
    out.write(f"  namespaces: {', '.join(br.namespaces) or 'none'} (controls)\n")
    out.write(f"  pods carrying its token: {', '.join(br.pods) or 'none in the inputs'}\n")
    out.write(f"  identities it can become ({len(br.identities)}):\n")
    rows = [[node, str(hops), "yes" if pot else ""] for node, hops, pot in br.identities]
    if rows:
        Printer.table(rows, ["IDENTITY", "HOPS", "POTENTIAL"], out)
    return EXIT_OK
