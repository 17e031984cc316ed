"""``rbac-analyzer kubeconfig-audit``: every context of a kubeconfig - who it is, what is wrong, how powerful."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from ..identity import audit_kubeconfig
from ..model import IdentityReport
from .common import (
    EXIT_OK,
    Printer,
    add_authenticator_options,
    add_input_options,
    add_output_option,
    authenticator_options,
    dump,
    load_analysis,
    report_load_problems,
)
from .whoami import policy_view

HELP = "audit every context of a kubeconfig: identity, credential type, problems and (with -f) its power"
EPILOG = """examples:
  rbac-analyzer kubeconfig-audit                                 # KUBECONFIG (merged) or ~/.kube/config
  rbac-analyzer kubeconfig-audit --kubeconfig ~/.kube/config -f cluster/
  rbac-analyzer kubeconfig-audit --kubeconfig admin.conf -f cluster/ -o json

Problems: expired, not-yet-valid, untrusted-ca, wrong-key-usage, no-cn, key-mismatch, unsigned, bad-signature,
legacy-token, exec-plugin, auth-provider, basic-auth, no-credential, impersonation, insecure-tls,
dangling-reference. With -f the POWER column asks the policy: cluster-admin equivalent, admin in namespaces,
can read secrets, limited permissions, or nothing. Nothing contacts a cluster; exec plugins run only with
--allow-exec. Tokens, keys and passwords are never printed.
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("kubeconfig-audit", help=HELP, description=HELP, epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--kubeconfig", default=None, metavar="FILE",
                   help="kubeconfig to audit (default: KUBECONFIG merged as kubectl does, else ~/.kube/config)")
    p.add_argument("--allow-exec", action="store_true", help="run exec credential plugins to learn who they are")
    add_authenticator_options(p)
    add_input_options(p)
    add_output_option(p, ["text", "json"], "text")
    p.add_argument("-v", "--verbose", action="count", default=0, help="list every load notice")
    p.set_defaults(func=run)


def _identity(r: IdentityReport) -> str:
    if not r.resolvable or r.user is None:
        return "?"
    groups = [g for g in r.user.groups if g != "system:authenticated"]
    who = r.user.username + (f" [{', '.join(groups)}]" if groups else "")
    if r.authenticated_as is not None:
        who += f" (as, really {r.authenticated_as.username})"
    return who


def _problems(r: IdentityReport) -> str:
    tags = list(r.problems)
    if r.resolvable and not r.accepted and "rejected" not in tags:
        tags.insert(0, "REJECTED")
    return ", ".join(tags) or "-"


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    reports = audit_kubeconfig(args.kubeconfig, authenticator_options(args))
    views: list[dict[str, Any]] = [{} for _ in reports]
    if args.paths:
        a = load_analysis(args)
        strict = report_load_problems(a, args, err)
        if strict is not None:
            return strict
        views = [policy_view(a, r) if r.resolvable else {} for r in reports]
    if args.output == "json":
        rows = []
        for r, v in zip(reports, views, strict=True):
            row: dict[str, Any] = {"context": r.context, "userInfo": r.user.to_dict() if r.user else {}}
            row.update(r.analysis())
            row.update(v)
            rows.append(row)
        dump({"contexts": rows}, "json", out)
        return EXIT_OK
    headers = ["CONTEXT", "IDENTITY", "CREDENTIAL", "PROBLEMS"]
    table = []
    for r, v in zip(reports, views, strict=True):
        row = [r.context, _identity(r), r.credential_type, _problems(r)]
        if args.paths:
            power = v.get("power", {}).get("summary", "?")
            if v.get("impersonationAllowed") is False:
                power += " (impersonation denied by RBAC)"
            row.append(power)
        table.append(row)
    if args.paths:
        headers.append("POWER")
    Printer.table(table, headers, out)
    notes = [r for r in reports if not r.resolvable]
    for r in notes:
        out.write(f"{r.context}: {r.unresolvable_reason}\n")
    return EXIT_OK
