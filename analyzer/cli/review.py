"""``rbac-analyzer review``: SubjectAccessReviews in, the same with ``status`` out (machine interface)."""

from __future__ import annotations

import argparse
from typing import TextIO

from ..loaders.manifests import read_documents
from .common import (
    EXIT_OK,
    EXIT_USAGE,
    add_input_options,
    add_output_option,
    dump,
    load_analysis,
    report_load_problems,
)

HELP = "answer SubjectAccessReview objects exactly as the API server would (JSON List out)"
EPILOG = """examples:
  rbac-analyzer review -f cluster/ reviews.yaml
  echo '{"apiVersion":"authorization.k8s.io/v1","kind":"SubjectAccessReview",
         "spec":{"user":"alice","groups":["dev"],"resourceAttributes":{"namespace":"dev","verb":"get","resource":"pods"}}}' \\
    | rbac-analyzer review -f sample_policies/ -

Groups are used exactly as given (no system:authenticated is added), as in the API.
Exit 0 when every review was answered, 2 when any was malformed (it gets status.evaluationError).
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("review", help=HELP, description=HELP, epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    add_input_options(p)
    p.add_argument("reviews", metavar="FILE|-", help="SubjectAccessReview objects (multi-document YAML/JSON or a List)")
    add_output_option(p, ["json", "yaml"], "json")
    p.add_argument("-v", "--verbose", action="count", default=0, help="list every load notice")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    a = load_analysis(args)
    strict = report_load_problems(a, args, err)
    if strict is not None:
        return strict
    docs = read_documents(args.reviews)
    items = []
    code = EXIT_OK
    for doc, data, error in docs:
        if error:
            items.append({"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
                          "status": {"allowed": False, "evaluationError": f"document {doc}: {error}"}})
            code = EXIT_USAGE
            continue
        answered = a.review(data)
        if "evaluationError" in answered["status"]:
            code = EXIT_USAGE
            err.write(f"{args.reviews}: document {doc}: {answered['status']['evaluationError']}\n")
        items.append(answered)
    result: dict = {"apiVersion": "v1", "kind": "List", "items": items}
    if a.inventory.incomplete:  # a denial may be wrong when part of the policy could not be read
        result["incomplete"] = list(a.inventory.incomplete)
    dump(result, args.output, out)
    return code
