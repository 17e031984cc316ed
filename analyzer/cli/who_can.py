"""``rbac-analyzer who-can``: every subject that can do a request, once each, with every grant."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from ..model import Request, SubjectAccess
from .common import (
    EXIT_OK,
    Printer,
    add_input_options,
    add_namespace_options,
    add_output_option,
    dump,
    load_analysis,
    report_load_problems,
)

HELP = "who can do VERB on TYPE[/NAME] (or a URL)? every subject once, with its bindings, roles and rules"
EPILOG = """examples:
  rbac-analyzer who-can get secrets -n kube-system -f cluster/
  rbac-analyzer who-can create pods/exec -n payments -f cluster/      (or: create pods --subresource exec)
  rbac-analyzer who-can list secrets -A -f cluster/                   (cluster-wide: ClusterRoleBindings only)
  rbac-analyzer who-can create widgets --api-group example.com -f cluster/ -o json
  rbac-analyzer who-can get /metrics -f cluster/

Groups are listed as groups (their members are not known to the API server's policy).
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("who-can", help=HELP, description=HELP, epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("verb", metavar="VERB")
    p.add_argument("target", metavar="TYPE[/NAME]|URL")
    p.add_argument("--subresource", default="", metavar="S", help="subresource, e.g. log, exec, status")
    p.add_argument("--api-group", default=None, metavar="G",
                   help="API group of TYPE; TYPE is then taken literally as the resource name")
    add_input_options(p)
    add_namespace_options(p)
    add_output_option(p, ["table", "wide", "json", "yaml"], "table")
    p.add_argument("-v", "--verbose", action="count", default=0, help="list every load notice")
    p.set_defaults(func=run)


def who_can_json(request: Request, subjects: list[SubjectAccess], incomplete: bool, errors: list[str]) -> dict[str, Any]:
    req: dict[str, Any] = {"verb": request.verb}
    if request.resource_request:
        req.update({"group": request.api_group, "resource": request.resource, "subresource": request.subresource,
                    "name": request.name, "namespace": request.namespace})
    else:
        req["path"] = request.path
    out: dict[str, Any] = {"request": req, "subjects": [s.to_dict() for s in subjects], "incomplete": incomplete}
    if errors:
        out["errors"] = list(dict.fromkeys(errors))
    return out


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    a = load_analysis(args)
    strict = report_load_problems(a, args, err)
    if strict is not None:
        return strict
    req = a.parse_request(args.verb, args.target, namespace=args.namespace, all_namespaces=args.all_namespaces,
                          subresource=args.subresource, api_group=args.api_group)
    subjects, errors = a.who_can_request(req)
    incomplete = bool(a.inventory.incomplete)
    if args.output in ("json", "yaml"):
        dump(who_can_json(req, subjects, incomplete, errors), args.output, out)
        return EXIT_OK
    out.write(f"Who can {req.describe()}:\n")
    wide = args.output == "wide"
    rows: list[list[str]] = []
    for s in subjects:
        base = [s.subject.kind, s.subject.name, s.subject.namespace]
        if s.authorizer:
            note = "system:masters authorizer (no binding needed)" if s.authorizer == "system:masters" else s.authorizer
            rows.append(base + [note] + (["", ""] if wide else []))
            continue
        for i, g in enumerate(s.grants):
            b = g.binding
            via = f"{b.kind} {b.namespace + '/' if b.namespace else ''}{b.name} → {g.role.kind} {g.role.name}"
            cells = base if i == 0 else ["", "", ""]
            if wide:
                rows.append(cells + [via, g.rule.summary(), str(b.source)])
            elif i == 0:
                rows.append(cells + [via + (f" (+{len(s.grants) - 1} more)" if len(s.grants) > 1 else "")])
    headers = ["KIND", "NAME", "NAMESPACE", "VIA"] + (["RULE", "SOURCE"] if wide else [])
    Printer.table(rows, headers, out)
    for e in dict.fromkeys(errors):
        out.write(f"note: a binding in scope refers to a missing role: {e}\n")
    if incomplete:
        out.write(f"incomplete: could not read {', '.join(a.inventory.incomplete)}\n")
    return EXIT_OK
