"""``rbac-analyzer can-i``: kubectl's ``auth can-i`` answered from the policy, with the evidence chain."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from ..api import Analysis
from ..errors import UsageError
from ..model import Decision, Grant, RulesReview, UserInfo, parse_subject_id
from .common import (
    EXIT_NO,
    EXIT_OK,
    Printer,
    add_as_options,
    add_authenticator_options,
    add_input_options,
    add_namespace_options,
    add_output_option,
    asker,
    dump,
    load_analysis,
    report_load_problems,
)

HELP = "can a user do VERB on TYPE[/NAME] (or a URL)? yes/no with the binding → role → rule evidence"
EPILOG = """examples:
  rbac-analyzer can-i get secrets -n kube-system --as alice -f cluster/
  rbac-analyzer can-i create pods --as system:serviceaccount:ci:deployer -n payments -f cluster/
  rbac-analyzer can-i create pods/exec -n dev --as bob --as-group dev -f cluster/
  rbac-analyzer can-i get /healthz --as system:anonymous -f cluster/
  rbac-analyzer can-i --list -n dev --as alice -f cluster/
  rbac-analyzer can-i --list -A --as system:serviceaccount:ci:deployer -f cluster/ -o json

Exit codes: 0 yes, 1 no, 2 unusable input (like kubectl).
--as builds the identity the way the API server's impersonation does: system:authenticated is added, and a
service account gets system:serviceaccounts and system:serviceaccounts:NS when no --as-group is given.
"""

WHAT_CAN_HELP = "what can SUBJECT do? (alias of can-i --list; SUBJECT is User:x, Group:x or ServiceAccount:ns/name)"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("can-i", help=HELP, description=HELP, epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("verb", nargs="?", metavar="VERB")
    p.add_argument("target", nargs="?", metavar="TYPE[/NAME]|URL")
    p.add_argument("--list", action="store_true", help="list everything the user can do (SubjectRulesReview)")
    p.add_argument("--subresource", default="", metavar="S", help="subresource, e.g. log, exec, status")
    p.add_argument("--api-group", default=None, metavar="G",
                   help="API group of TYPE; TYPE is then taken literally as the resource name")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing; only the exit code answers")
    _common(p)
    p.set_defaults(func=run)

    w = sub.add_parser("what-can", help=WHAT_CAN_HELP, description=WHAT_CAN_HELP,
                       epilog="examples:\n  rbac-analyzer what-can ServiceAccount:ci/deployer -A -f cluster/\n"
                              "  rbac-analyzer what-can User:alice -n dev -f cluster/ -o json\n",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    w.add_argument("subject", nargs="?", metavar="SUBJECT")
    _common(w)
    w.set_defaults(func=run_what_can)


def _common(p: argparse.ArgumentParser) -> None:
    add_input_options(p)
    add_namespace_options(p)
    add_as_options(p)
    add_authenticator_options(p)  # who a --token/--cert/--kubeconfig credential is
    add_output_option(p, ["text", "json", "yaml"], "text")
    p.add_argument("-v", "--verbose", action="count", default=0, help="list every load notice")


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    a = load_analysis(args)
    strict = report_load_problems(a, args, err)
    if strict is not None:
        return strict
    if args.list:
        if args.verb or args.target:
            raise UsageError("can-i --list takes no VERB or TYPE")
        return _list(a, asker(args, a), args, out)
    if not args.verb or not args.target:
        raise UsageError("can-i needs VERB and TYPE[/NAME] (or a URL such as /healthz), or --list")
    user = asker(args, a)
    req = a.parse_request(args.verb, args.target, namespace=args.namespace, all_namespaces=args.all_namespaces,
                          subresource=args.subresource, api_group=args.api_group)
    d = a.check(user, req)
    if args.quiet:
        return EXIT_OK if d.allowed else EXIT_NO
    if args.output != "text":
        review = decision_to_review(d)
        if a.inventory.incomplete:
            review["incomplete"] = list(a.inventory.incomplete)
        dump(review, args.output, out)
    else:
        _print_decision(d, out)
        _print_incomplete(a, out)
    return EXIT_OK if d.allowed else EXIT_NO


def _print_incomplete(a: Analysis, out: TextIO) -> None:
    # a "no" (or a short list) may be wrong when part of the policy could not be read
    if a.inventory.incomplete:
        out.write(f"incomplete: could not read {', '.join(a.inventory.incomplete)}\n")


def run_what_can(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    a = load_analysis(args)
    strict = report_load_problems(a, args, err)
    if strict is not None:
        return strict
    if args.subject:
        if args.as_user:
            raise UsageError("give SUBJECT or --as, not both")
        user = a.user_for_subject(parse_subject_id(args.subject))
    else:
        user = asker(args, a)
    return _list(a, user, args, out)


def decision_to_review(d: Decision) -> dict[str, Any]:
    """The SubjectAccessReview for this decision, with ``evidence`` and ``nearMisses`` added."""
    spec: dict[str, Any] = {"user": d.user.username, "groups": list(d.user.groups)}
    if d.user.uid:
        spec["uid"] = d.user.uid
    spec.update(d.request.to_attributes())
    status: dict[str, Any] = {"allowed": d.allowed}
    if d.reason:
        status["reason"] = d.reason
    return {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SubjectAccessReview",
        "spec": spec,
        "status": status,
        "evidence": [{"authorizer": "system:masters"}] if d.authorizer == "system:masters"
        else [g.to_dict() | {"subject": g.subject.to_dict()} for g in d.evidence],
        "nearMisses": [m.to_dict() for m in d.near_misses],
    }


def _chain(user: UserInfo, g: Grant) -> list[str]:
    s = g.subject
    if s.kind == "Group":
        who = f"{user.username or '(member)'} ∈ Group {s.name}"
    elif s.kind == "ServiceAccount":
        who = f"ServiceAccount {s.namespace or g.binding.namespace}/{s.name}"
    else:
        who = f"User {s.name}"
    b, r = g.binding, g.role
    bname = f"{b.namespace}/{b.name}" if b.namespace else b.name
    rname = f"{r.namespace}/{r.name}" if r.namespace else r.name
    agg = " (aggregated)" if r.aggregation_rule is not None else ""
    return [
        f"  {who}",
        f"    → {b.kind} {bname}  [{b.source}]",
        f"    → {r.kind} {rname}{agg}  [{r.source}]",
        f"    → rule #{g.rule_index + 1}: {g.rule.summary()}",
    ]


def _print_decision(d: Decision, out: TextIO) -> None:
    out.write("yes\n" if d.allowed else "no\n")
    user = d.user
    out.write(f"asked as {user.username or '(no user)'}"
              + (f" (groups: {', '.join(user.groups)})" if user.groups else "") + f": {d.request.describe()}\n")
    if d.authorizer == "system:masters":
        out.write("allowed by the system:masters group: the API server allows it before RBAC is asked\n")
        return
    if d.reason:
        out.write(f"reason: {d.reason}\n")
    if d.allowed:
        out.write(f"evidence ({len(d.evidence)} grant(s)):\n")
        for g in d.evidence:
            out.write("\n".join(_chain(user, g)) + "\n")
        return
    if d.near_misses:
        out.write("near misses:\n")
        for m in d.near_misses:
            b = m.binding
            bname = f"{b.namespace}/{b.name}" if b.namespace else b.name
            rule = f" rule {m.rule.summary()}:" if m.rule is not None else ""
            out.write(f"  {b.kind} {bname} → {b.role_ref.kind} {b.role_ref.name}:{rule} {m.detail or ', '.join(m.reasons)}"
                      f"  [{b.source}]\n")
    else:
        out.write("no binding of this user comes close\n")


def _status_rows(review: RulesReview, scope: str) -> list[list[str]]:
    rows = []
    if review.all_powerful:
        rows.append([scope, "*", "*", "", "*", "system:masters (no binding needed)"])
    for g in review.grants:
        r = g.rule
        b = g.binding
        via = f"{b.kind} {b.namespace + '/' if b.namespace else ''}{b.name} → {g.role.kind} {g.role.name}"
        if r.resources:
            rows.append([scope, ",".join(r.resources), ",".join(g if g else '""' for g in r.api_groups),
                         ",".join(r.resource_names), ",".join(r.verbs), via])
        if r.non_resource_urls and not (b.kind == "RoleBinding"):
            rows.append([scope, ",".join(r.non_resource_urls), "(url)", "", ",".join(r.verbs), via])
    return rows


def _list(a: Analysis, user: UserInfo, args: argparse.Namespace, out: TextIO) -> int:
    if args.namespace is not None and args.all_namespaces:
        raise UsageError("use either -n/--namespace or -A/--all-namespaces, not both")
    if args.all_namespaces:
        cluster, per_ns = a.rules_everywhere(user)
        if args.output != "text":
            data = {"clusterWide": cluster.to_status(), "namespaces": {ns: r.to_status() for ns, r in per_ns.items()}}
            if a.inventory.incomplete:
                data["incomplete"] = list(a.inventory.incomplete)
            dump(data, args.output, out)
            return EXIT_OK
        rows = _status_rows(cluster, "cluster")
        errors = [e for r in (cluster, *per_ns.values()) if r.evaluation_error for e in r.evaluation_error.split(", ")]
        for ns, r in per_ns.items():
            rows.extend(row for row in _status_rows(r, ns) if row[5].startswith("RoleBinding"))
    else:
        ns = args.namespace if args.namespace is not None else "default"
        review = a.rules_for(user, namespace=ns)
        if args.output != "text":
            data = {"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectRulesReview",
                    "spec": {"namespace": ns}, "status": review.to_status()}
            if a.inventory.incomplete:
                data["incomplete"] = list(a.inventory.incomplete)
            dump(data, args.output, out)
            return EXIT_OK
        errors = review.evaluation_error.split(", ") if review.evaluation_error else []
        rows = _status_rows(review, "cluster" if not ns else ns)
        rows = [r if r[5].startswith("RoleBinding") else ["cluster", *r[1:]] for r in rows]
    errors = list(dict.fromkeys(errors))
    out.write(f"{user.username or '(member)'} (groups: {', '.join(user.groups) or 'none'})\n")
    _print_incomplete(a, out)
    for error in errors:
        out.write(f"note: a binding of this user refers to a missing role: {error}\n")
    if not rows:
        out.write("no permissions\n")
        return EXIT_OK
    Printer.table(rows, ["SCOPE", "RESOURCES", "API GROUPS", "NAMES", "VERBS", "VIA"], out)
    return EXIT_OK
