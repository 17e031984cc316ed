"""``rbac-analyzer render``: a diagram that answers one question (a subject, a who-can, a namespace)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from ..errors import UsageError
from ..render.dot import GRAPHVIZ_FORMATS, pipe
from .common import (
    EXIT_OK,
    add_as_options,
    add_authenticator_options,
    add_input_options,
    add_namespace_options,
    asker,
    load_analysis,
    report_load_problems,
)

HELP = "draw one question as a diagram: --subject S | --who-can VERB TYPE | --namespace-view NS (dot, svg, png, pdf)"
EPILOG = """examples:
  rbac-analyzer render --who-can get secrets -n payments -f cluster/ -o svg --output-file who.svg
  rbac-analyzer render --subject ServiceAccount:ci/deployer -f cluster/ -o png --output-file ci.png
  rbac-analyzer render --subject Group:dev -n dev -f cluster/ > dev.dot     (cluster-wide and namespace dev only)
  rbac-analyzer render --as alice --as-group dev -f cluster/ -o svg > alice.svg
  rbac-analyzer render --namespace-view payments -f cluster/ -o svg > payments.svg
  rbac-analyzer render -f cluster/ --max-nodes 80 -o svg > overview.svg     (no view: the whole policy, collapsed)

Layers run left to right: subject → binding → role → rule (or the request). Bindings, roles and rules sit in a
frame per namespace; cluster-wide grants in a red dashed frame. Red/orange/amber marks danger (cluster-admin
equivalents, escalate/bind/impersonate, secrets, exec, tokens). Hover a node in the SVG for its rules and
source file. DOT always works; svg/png/pdf need Graphviz's dot program.
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("render", help=HELP, description=HELP, epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    views = p.add_argument_group("the view (at most one; none draws the whole policy, collapsed)")
    excl = views.add_mutually_exclusive_group()
    excl.add_argument("--subject", default=None, metavar="S",
                      help="what S can do: User:NAME, Group:NAME or ServiceAccount:NS/NAME (or use --as)")
    excl.add_argument("--who-can", nargs=2, default=None, metavar=("VERB", "TYPE"),
                      help="who can do VERB on TYPE[/NAME] (or a /url); with -n/-A, --subresource, --api-group")
    excl.add_argument("--namespace-view", default=None, metavar="NS", help="everything bound in namespace NS")
    add_as_options(p)
    add_authenticator_options(p)  # who a --token/--cert/--kubeconfig credential is
    add_namespace_options(p)
    p.add_argument("--subresource", default="", metavar="S", help="--who-can: subresource, e.g. exec, log")
    p.add_argument("--api-group", default=None, metavar="G", help="--who-can: API group; TYPE taken literally")
    add_input_options(p)
    p.add_argument("-o", "--output", choices=["dot", *GRAPHVIZ_FORMATS], default="dot",
                   help="dot (text, no Graphviz needed) or an image drawn by Graphviz (default: dot)")
    p.add_argument("--output-file", default=None, metavar="F", help="write here instead of stdout")
    p.add_argument("--max-nodes", type=int, default=150, metavar="N",
                   help="collapse into '+N more' nodes beyond about N nodes (default 150)")
    p.add_argument("--no-legend", dest="legend", action="store_false", help="leave the legend out")
    p.add_argument("-v", "--verbose", action="count", default=0, help="list every load notice")
    p.set_defaults(func=run)


def _check_flags(args: argparse.Namespace) -> str:
    """Which view the flags ask for; UsageError when they contradict each other."""
    identity = bool(args.as_user or args.as_groups or args.kubeconfig or args.context)
    if args.subject and identity:
        raise UsageError("give either --subject or --as/--kubeconfig, not both")
    if identity and (args.who_can or args.namespace_view):
        raise UsageError("--as/--kubeconfig draw the asker's own view: use them without --who-can/--namespace-view")
    view = ("subject" if args.subject or identity else "who-can" if args.who_can
            else "namespace" if args.namespace_view else "overview")
    if view != "who-can":
        if args.all_namespaces:
            raise UsageError("-A/--all-namespaces applies to --who-can only")
        if args.subresource or args.api_group is not None:
            raise UsageError("--subresource and --api-group apply to --who-can only")
        if args.namespace is not None and view != "subject":
            raise UsageError("-n/--namespace applies to --who-can and --subject (use --namespace-view NS)")
    if args.max_nodes < 10:
        raise UsageError("--max-nodes must be at least 10")
    return view


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    view = _check_flags(args)
    if args.output in ("png", "pdf") and not args.output_file and (out is not sys.stdout or out.isatty()):
        raise UsageError(f"-o {args.output} is binary: give --output-file F (or redirect stdout to a file)")
    a = load_analysis(args)
    strict = report_load_problems(a, args, err)
    if strict is not None:
        return strict
    if view == "subject":
        if args.subject:
            digraph = a.render_subject(args.subject, namespace=args.namespace, max_nodes=args.max_nodes,
                                       legend=args.legend)
        else:
            user = asker(args, a)
            digraph = a.render_subject(user, explicit_groups=args.as_groups, namespace=args.namespace,
                                       max_nodes=args.max_nodes, legend=args.legend)
    elif view == "who-can":
        verb, target = args.who_can
        req = a.parse_request(verb, target, namespace=args.namespace, all_namespaces=args.all_namespaces,
                              subresource=args.subresource, api_group=args.api_group)
        digraph = a.render_who_can(req, max_nodes=args.max_nodes, legend=args.legend)
    elif view == "namespace":
        digraph = a.render_namespace(args.namespace_view, max_nodes=args.max_nodes, legend=args.legend)
    else:
        digraph = a.render_overview(max_nodes=args.max_nodes, legend=args.legend)
    data = digraph.source.encode("utf-8") if args.output == "dot" else pipe(digraph, args.output)
    if args.output_file:
        try:
            Path(args.output_file).write_bytes(data)
        except OSError as exc:
            raise UsageError(f"cannot write {args.output_file}: {exc.strerror or exc}") from exc
        err.write(f"wrote {args.output_file}\n")
    elif args.output in ("png", "pdf"):
        out.flush()
        sys.stdout.buffer.write(data)
    else:
        out.write(data.decode("utf-8"))
    return EXIT_OK
