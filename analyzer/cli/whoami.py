"""``rbac-analyzer whoami``: who a kubeconfig context, certificate or token is, as the API server would see it."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from ..api import Analysis
from ..errors import UsageError
from ..model import Decision, IdentityReport, UserInfo
from .common import (
    EXIT_OK,
    add_as_options,
    add_authenticator_options,
    add_input_options,
    add_output_option,
    credential_identity,
    dump,
    load_analysis,
    report_load_problems,
)

EXIT_UNDECIDABLE = 3

HELP = "who is this kubeconfig context, certificate or token - offline, exactly as the API server would see it"
EPILOG = """examples:
  rbac-analyzer whoami                                   # current context of KUBECONFIG or ~/.kube/config
  rbac-analyzer whoami --kubeconfig ~/.kube/config --context prod -o json
  rbac-analyzer whoami --cert alice.crt --client-ca /etc/kubernetes/pki/ca.crt
  rbac-analyzer whoami --token token.jwt --verify-with sa.pub
  kubectl create token builder -n ci | rbac-analyzer whoami --token -
  rbac-analyzer whoami --token id.jwt --oidc-username-claim email --oidc-groups-claim groups --oidc-groups-prefix oidc:
  rbac-analyzer whoami --context admin --as jane --as-group dev -f cluster/   # may the real identity impersonate?
  rbac-analyzer whoami --live --context prod          # also ask the API server (SelfSubjectReview); both when they differ

-o json prints a SelfSubjectReview (authentication.k8s.io/v1) whose status.userInfo is what the server would fill
in, plus an "analysis" object (credentialType, accepted, rejectedBecause, resolvable, authenticatedAs, warnings;
with --live also "server": the server's userInfo and whether it agrees).
Exit codes: 0 identity resolved (accepted or not: see "accepted"), 2 unusable input, 3 undecidable offline
(e.g. an exec plugin that was not run: --allow-exec runs it). Tokens, keys and passwords are never printed.
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("whoami", help=HELP, description=HELP, epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    add_as_options(p)
    p.add_argument("--as-uid", dest="as_uid", default=None, metavar="UID", help="uid to impersonate; needs --as")
    add_authenticator_options(p)
    add_input_options(p)
    add_output_option(p, ["text", "json", "yaml"], "text")
    p.add_argument("-v", "--verbose", action="count", default=0, help="list every load notice")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    report = credential_identity(args, as_user=args.as_user, as_groups=args.as_groups, as_uid=args.as_uid)
    policy: dict[str, Any] = {}
    server = server_view(args, report) if args.live else None
    if (args.paths or args.live) and report.resolvable:
        a = load_analysis(args)
        strict = report_load_problems(a, args, err)
        if strict is not None:
            return strict
        policy = policy_view(a, report)
    if args.output == "text":
        print_report(report, policy, out)
        if server is not None:
            print_server(server, out)
    else:
        review = report.to_review()
        review["analysis"].update(policy)
        if server is not None:
            review["analysis"]["server"] = server
        dump(review, args.output, out)
    if server is not None:
        return EXIT_OK  # the server said who it is: nothing left undecided
    if not report.resolvable:
        err.write(f"whoami: cannot decide offline: {report.unresolvable_reason}\n")
        return EXIT_UNDECIDABLE
    return EXIT_OK


def server_view(args: argparse.Namespace, report: IdentityReport) -> dict[str, Any]:
    """``--live``: the API server's own answer (SelfSubjectReview) and whether it matches the offline one."""
    if getattr(args, "cert", None) or getattr(args, "token", None):
        raise UsageError("whoami --live asks the server about the kubeconfig context's credential; "
                         "drop --cert/--token")
    if args.as_user:
        raise UsageError("whoami --live asks the server who the credential is; drop --as (the kubeconfig's as: "
                         "is honoured)")
    user = Analysis.server_user(kubeconfig=args.kubeconfig, context=args.context,
                                allow_exec=bool(getattr(args, "allow_exec", False)))
    offline = report.user if report.resolvable else None
    # uid and extra differ legitimately (credential ids the server adds); name and groups must not
    agrees = offline is not None and offline.username == user.username and set(offline.groups) == set(user.groups)
    return {"userInfo": user.to_dict(), "agrees": agrees}


def print_server(server: dict[str, Any], out: TextIO) -> None:
    if server["agrees"]:
        out.write(f"{'server':<14}agrees (SelfSubjectReview)\n")
        return
    info = server["userInfo"]
    u = UserInfo(username=info.get("username", ""), groups=tuple(info.get("groups", ())), uid=info.get("uid", ""),
                 extra={k: tuple(v) for k, v in (info.get("extra") or {}).items()})
    lines = ["the API server answers differently (SelfSubjectReview):", *_user_lines("server says", u)]
    out.write("\n".join(lines) + "\n")


def policy_view(a: Analysis, report: IdentityReport) -> dict[str, Any]:
    """What the policy says about this identity: its power, and whether the real one may impersonate."""
    out: dict[str, Any] = {}
    if report.user is not None:
        out["power"] = a.power_of(report.user).to_dict()
    if report.impersonation is not None and report.authenticated_as is not None:
        decisions = a.impersonation_checks(report.authenticated_as, report.impersonation)
        out["impersonationAllowed"] = all(d.allowed for d in decisions)
        out["impersonationChecks"] = [_check_dict(d) for d in decisions]
    if a.inventory.incomplete:  # the power shown may be short of the truth
        out["incomplete"] = list(a.inventory.incomplete)
    return out


def _check_dict(d: Decision) -> dict[str, Any]:
    row: dict[str, Any] = {"request": d.request.to_attributes()["resourceAttributes"], "allowed": d.allowed}
    if d.reason:
        row["reason"] = d.reason
    return row


def _user_lines(label: str, u: UserInfo) -> list[str]:
    lines = [f"{label:<14}{u.username}", f"{'groups':<14}{', '.join(u.groups) or '(none)'}"]
    if u.uid:
        lines.append(f"{'uid':<14}{u.uid}")
    for k, vals in u.extra.items():
        lines.append(f"{'extra':<14}{k}: {', '.join(vals)}")
    return lines


def print_report(r: IdentityReport, policy: dict[str, Any], out: TextIO) -> None:
    lines: list[str] = []
    if r.context:
        where = ", ".join(x for x in (f"cluster {r.cluster}" if r.cluster else "", r.server,
                                     f"namespace {r.namespace}" if r.namespace else "") if x)
        lines.append(f"{'context':<14}{r.context}" + (f"  ({where})" if where else ""))
    elif r.source:
        lines.append(f"{'from':<14}{r.source}")
    cred = r.credential_description + (f"  [{r.fingerprint}]" if r.fingerprint else "")
    lines.append(f"{'credential':<14}{cred}")
    if not r.resolvable:
        lines.append(f"{'identity':<14}cannot be decided offline")
        lines.append(f"{'because':<14}{r.unresolvable_reason}")
    elif r.user is not None:
        if r.authenticated_as is not None:
            lines.extend(_user_lines("acting as", r.user))
            lines.append(f"{'':<14}(impersonated; the real identity below must be allowed to impersonate)")
            lines.extend(_user_lines("real identity", r.authenticated_as))
        else:
            lines.extend(_user_lines("username", r.user))
    else:
        lines.append(f"{'identity':<14}none: the credential does not authenticate anyone")
    if r.resolvable:
        lines.append(f"{'accepted':<14}" + ("yes" if r.accepted else "NO - the API server would reject it"))
        for reason in r.rejected_because:
            lines.append(f"{'':<14}- {reason}")
    if "impersonationAllowed" in policy:
        verdict = "yes" if policy["impersonationAllowed"] else "NO"
        lines.append(f"{'impersonation':<14}allowed by RBAC in the policy: {verdict}")
        for c in policy["impersonationChecks"]:
            req = c["request"]
            what = req.get("resource", "") + (f"/{req['subresource']}" if req.get("subresource") else "")
            ns = f" -n {req['namespace']}" if req.get("namespace") else ""
            lines.append(f"{'':<14}- impersonate {what} {req.get('name', '')!r}{ns}: "
                         f"{'allowed' if c['allowed'] else 'denied'}")
    if "power" in policy:
        lines.append(f"{'in the policy':<14}{policy['power']['summary']}")
    if r.facts:
        lines.append("details")
        width = max(len(k) for k, _ in r.facts) + 2
        lines.extend(f"  {k:<{width}}{v}" for k, v in r.facts)
    if r.warnings:
        lines.append("warnings")
        lines.extend(f"  - {w}" for w in r.warnings)
    out.write("\n".join(lines) + "\n")
