"""The command line: ``main(argv) -> exit code``; one module per command, each a thin layer over ``api``."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from typing import TextIO

from .. import __version__
from ..errors import AnalyzerError
from . import (
    audit,
    can_i,
    dashboard,
    diff,
    graph,
    kubeconfig_audit,
    load,
    paths,
    render,
    review,
    rules,
    snapshot,
    who_can,
    whoami,
)

__all__ = ["main", "build_parser", "COMMANDS"]

# Each module registers its subcommand(s); the order is the order of `--help`.
COMMANDS = (
    load,
    who_can,
    can_i,
    review,
    whoami,
    kubeconfig_audit,
    graph,
    render,
    audit,
    rules,
    paths,
    diff,
    snapshot,
    dashboard,
)

DESCRIPTION = """Kubernetes RBAC analyzer: who can do what, where - exactly as the API server decides it.

Point it at manifests (-f FILE|DIR|-) and ask. Every answer shows its evidence
(binding → role → rule, with source files)."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rbac-analyzer", description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"rbac-analyzer {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMANDS:
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run the CLI; returns the exit code (0 ok/yes, 1 no/failing check, 2 unusable input)."""
    out = out or sys.stdout
    err = err or sys.stderr
    logging.basicConfig(level=logging.WARNING, stream=err, format="%(levelname)s: %(message)s")
    parser = build_parser()
    try:
        args = parser.parse_args(list(argv) if argv is not None else None)
    except SystemExit as exc:  # argparse already printed usage or help
        return int(exc.code or 0) if exc.code in (0, None) else 2
    if not getattr(args, "func", None):
        parser.print_help(out)
        return 2
    try:
        return args.func(args, out, err)
    except AnalyzerError as exc:
        err.write(f"error: {exc}\n")
        return 2
    except KeyboardInterrupt:
        err.write("interrupted\n")
        return 130
    except BrokenPipeError:
        return 0
    except (RecursionError, MemoryError) as exc:
        err.write(f"error: input too large or too deeply nested ({type(exc).__name__})\n")
        return 2
    except Exception as exc:  # never a traceback for a user; the type says which bug to report
        if os.environ.get("RBAC_ANALYZER_DEBUG"):
            raise
        logging.getLogger(__name__).debug("internal error", exc_info=True)
        first = (str(exc).splitlines() or [""])[0][:200]
        err.write(f"error: internal error ({type(exc).__name__}: {first}); please report it "
                  "(RBAC_ANALYZER_DEBUG=1 shows the traceback)\n")
        return 2
