"""``rbac-analyzer diff``: effective access gained and lost per subject, and escalation paths added or removed."""

from __future__ import annotations

import argparse
from typing import TextIO

from ..api import Analysis
from ..errors import UsageError
from ..model.paths import PermissionKey, PolicyDiff
from .common import EXIT_NO, EXIT_OK, dump, load_analysis

HELP = "what changed between two policies: access gained and lost per subject, new and removed escalation paths"
EPILOG = """examples:
  rbac-analyzer diff old-snapshot.yaml new-snapshot.yaml
  rbac-analyzer diff --old cluster-v1/ --new cluster-v2/ --new extra-bindings.yaml -o md
  rbac-analyzer diff main/ pr/ --fail-on gained -o json        (exit 1 in CI when access is gained)

Access is compared as effective permissions per subject - (scope, verb, group, resource, name or URL),
scope "" meaning cluster-wide - not as object diffs: renaming a binding changes nothing here.
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("diff", help=HELP, description=HELP, epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("sides", nargs="*", metavar="OLD NEW", help="the old and the new input (a file or directory each)")
    p.add_argument("--old", action="append", default=[], metavar="PATH", help="an input of the old side (repeatable)")
    p.add_argument("--new", action="append", default=[], metavar="PATH", help="an input of the new side (repeatable)")
    p.add_argument("--default-namespace", default="default", metavar="NS",
                   help="namespace for namespaced objects without metadata.namespace (default: default)")
    p.add_argument("--max-depth", type=int, default=6, metavar="N", help="longest escalation path (default 6)")
    p.add_argument("--fail-on", choices=["gained", "paths"], default=None,
                   help="exit 1 when access is gained (gained) or only when a new escalation path appears (paths)")
    p.add_argument("-o", "--output", choices=["text", "md", "json", "yaml"], default="text",
                   help="output format (default: text)")
    p.add_argument("--max-file-size", type=int, default=None, metavar="BYTES", help="refuse larger input files")
    p.set_defaults(func=run)


def _sides(args: argparse.Namespace) -> tuple[list[str], list[str]]:
    old, new = list(args.old), list(args.new)
    if args.sides:
        if old or new or len(args.sides) != 2:
            raise UsageError("give OLD NEW, or --old PATH ... --new PATH ... (not both)")
        return [args.sides[0]], [args.sides[1]]
    if not old or not new:
        raise UsageError("diff needs both sides: OLD NEW, or --old PATH ... --new PATH ...")
    return old, new


def _load(paths: list[str], args: argparse.Namespace, err: TextIO, label: str) -> Analysis:
    # the shared loader: same limits, --max-file-size check and one-line errors as every other command
    a = load_analysis(argparse.Namespace(**{**vars(args), "paths": paths, "live": False}))
    for issue in a.load_issues:
        err.write(f"{label}: load issue: {issue}\n")
    return a


def perm_text(p: PermissionKey) -> str:
    scope, verb, group, resource, name = p
    where = f"in {scope}" if scope else "cluster-wide"
    if not resource:
        return f"{verb} {name}"
    res = f"{resource}.{group}" if group else resource
    return f"{verb} {res}" + (f" {name!r}" if name else "") + f" {where}"


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    old_paths, new_paths = _sides(args)
    old = _load(old_paths, args, err, "old")
    new = _load(new_paths, args, err, "new")
    d = Analysis.diff(old, new, max_depth=args.max_depth)
    # a side read from a live cluster (or its snapshot) may be incomplete: say so in every format
    incomplete = {side: list(a.inventory.incomplete) for side, a in (("old", old), ("new", new))
                  if a.inventory.incomplete}
    if args.output in ("json", "yaml"):
        data = d.to_dict()
        data["accessGained"] = d.access_gained
        data["incomplete"] = incomplete
        dump(data, args.output, out)
    elif args.output == "md":
        _markdown(d, out)
        for side, what in incomplete.items():
            out.write(f"\n**Incomplete ({side}):** could not read {', '.join(what)}\n")
    else:
        _text(d, out)
        for side, what in incomplete.items():
            out.write(f"incomplete ({side}): could not read {', '.join(what)}\n")
    fail = (args.fail_on == "gained" and d.access_gained) or (args.fail_on == "paths" and bool(d.new_paths))
    return EXIT_NO if fail else EXIT_OK


def _text(d: PolicyDiff, out: TextIO) -> None:
    if d.empty:
        out.write("No change in effective access or escalation paths.\n")
        return
    for title, m, sign in (("Access gained", d.gained, "+"), ("Access lost", d.lost, "-")):
        if m:
            out.write(f"{title} ({len(m)} subject{'s' if len(m) != 1 else ''}):\n")
            for subject, perms in m.items():
                out.write(f"  {subject}\n")
                for p in perms:
                    out.write(f"    {sign} {perm_text(p)}\n")
    for title, paths in (("New escalation paths", d.new_paths), ("Removed escalation paths", d.removed_paths)):
        if paths:
            out.write(f"{title} ({len(paths)}):\n")
            for p in paths:
                out.write(f"  {' → '.join(p.nodes)}{' (potential)' if p.potential else ''}\n")


def _markdown(d: PolicyDiff, out: TextIO) -> None:
    out.write("# RBAC changes\n\n")
    if d.empty:
        out.write("No change in effective access or escalation paths.\n")
        return
    for title, m in (("Access gained", d.gained), ("Access lost", d.lost)):
        if m:
            out.write(f"## {title}\n\n| Subject | Permission |\n|---|---|\n")
            for subject, perms in m.items():
                for p in perms:
                    out.write(f"| `{subject}` | `{perm_text(p)}` |\n")
            out.write("\n")
    for title, paths in (("New escalation paths", d.new_paths), ("Removed escalation paths", d.removed_paths)):
        if paths:
            out.write(f"## {title}\n\n| From | To | Steps | Potential |\n|---|---|---|---|\n")
            for p in paths:
                steps = " → ".join(f"`{n}`" for n in p.nodes)
                out.write(f"| `{p.source}` | `{p.sink}` | {steps} | {'yes' if p.potential else 'no'} |\n")
            out.write("\n")
