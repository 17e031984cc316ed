"""Shared CLI plumbing: input and output options, loading with progress, the asker's identity, printing."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable
from typing import Any, TextIO

import yaml

from ..api import Analysis
from ..errors import AnalyzerError, ManifestError, UsageError
from ..loaders.manifests import Limits
from ..model import UserInfo

__all__ = [
    "add_input_options", "add_namespace_options", "add_as_options", "add_output_option", "load_analysis",
    "report_load_problems", "asker", "dump", "Printer", "progress_printer", "EXIT_OK", "EXIT_NO", "EXIT_USAGE",
]

EXIT_OK, EXIT_NO, EXIT_USAGE = 0, 1, 2
logger = logging.getLogger(__name__)


def add_input_options(p: argparse.ArgumentParser, *, required: bool = False) -> None:
    """``-f PATH`` (repeatable), ``--default-namespace``, ``--strict``, ``--max-file-size``."""
    g = p.add_argument_group("inputs")
    g.add_argument("-f", "--filename", dest="paths", action="append", default=[], metavar="PATH",
                   required=required,
                   help="manifest file, directory (read recursively) or - for stdin; repeat for several")
    g.add_argument("--default-namespace", default="default", metavar="NS",
                   help="namespace for namespaced objects without metadata.namespace (default: default)")
    g.add_argument("--strict", action="store_true", help="exit 2 when any document could not be loaded")
    g.add_argument("--max-file-size", type=int, default=None, metavar="BYTES",
                   help="refuse input files larger than this (default 256 MiB)")


def add_namespace_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("-n", "--namespace", default=None, metavar="NS",
                   help="namespace of the request (default: 'default' for namespaced types)")
    p.add_argument("-A", "--all-namespaces", action="store_true",
                   help="a cluster-wide request (namespace \"\"): only ClusterRoleBindings count")


def add_as_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--as", dest="as_user", default=None, metavar="USER",
                   help="user to ask as (system:serviceaccount:NS:NAME for a service account)")
    p.add_argument("--as-group", dest="as_groups", action="append", default=[], metavar="GROUP",
                   help="group to ask as (repeatable); needs --as")
    p.add_argument("--kubeconfig", default=None, metavar="FILE",
                   help="kubeconfig whose context identity is the asker when --as is not given (never contacts a cluster)")
    p.add_argument("--context", default=None, metavar="NAME", help="kubeconfig context (default: current-context)")


def add_output_option(p: argparse.ArgumentParser, choices: list[str], default: str) -> None:
    p.add_argument("-o", "--output", choices=choices, default=default, help=f"output format (default: {default})")


def progress_printer(stream: TextIO | None = None) -> Callable[[str, int, int], None] | None:
    """A progress callback for a terminal; None (quiet) when stderr is piped."""
    stream = stream or sys.stderr
    if not stream.isatty():
        return None

    def show(stage: str, done: int, total: int) -> None:
        end = "\n" if done >= total else ""
        stream.write(f"\r{stage}: {done}/{total} files{end}")
        stream.flush()

    return show


def load_analysis(args: argparse.Namespace) -> Analysis:
    """Load the ``-f`` inputs (no inputs: an empty policy)."""
    max_size = getattr(args, "max_file_size", None)
    if max_size is not None and max_size <= 0:
        raise UsageError("--max-file-size must be a positive number of bytes")
    limits = Limits(max_file_bytes=max_size) if max_size else None
    paths = getattr(args, "paths", []) or []
    try:
        return Analysis.from_paths(paths, default_namespace=getattr(args, "default_namespace", "default"),
                                   limits=limits, on_progress=progress_printer())
    except AnalyzerError:
        raise
    except (RecursionError, MemoryError) as exc:
        raise ManifestError(f"inputs too large or too deeply nested to load ({type(exc).__name__})") from None
    except Exception as exc:  # hostile input must never end in a traceback; the type names the bug
        if os.environ.get("RBAC_ANALYZER_DEBUG"):
            raise
        logger.debug("unexpected error while loading", exc_info=True)
        first = (str(exc).splitlines() or [""])[0][:200]
        raise ManifestError(f"could not load the inputs: unexpected {type(exc).__name__}: {first} "
                            "(please report it; RBAC_ANALYZER_DEBUG=1 shows the traceback)") from None


def report_load_problems(analysis: Analysis, args: argparse.Namespace, err: TextIO) -> int | None:
    """Print load issues (one line each) and a one-line notice summary to stderr.

    Returns EXIT_USAGE when ``--strict`` and there were load issues, else None.
    """
    for issue in analysis.load_issues:
        err.write(f"load issue: {issue}\n")
    notices = analysis.notices
    if notices and getattr(args, "verbose", 0):
        for n in notices:
            err.write(f"notice: {n}\n")
    elif notices:
        err.write(f"{len(notices)} notice(s) while loading (rbac-analyzer load lists them)\n")
    if analysis.inventory.incomplete:
        err.write(f"incomplete: could not read {', '.join(analysis.inventory.incomplete)}\n")
    if getattr(args, "strict", False) and analysis.load_issues:
        err.write(f"--strict: {len(analysis.load_issues)} document(s) could not be loaded\n")
        return EXIT_USAGE
    return None


# The identity of "me" from a kubeconfig is resolved by analyzer.identity when present; this hook lets the
# CLI stay thin: it returns the effective UserInfo or raises UsageError.
def asker(args: argparse.Namespace, analysis: Analysis) -> UserInfo:
    """The user a command asks as: ``--as``/``--as-group`` (built like impersonation), else the kubeconfig."""
    if args.as_groups and not args.as_user:
        raise UsageError("--as-group requires --as (the API server refuses groups without a user)")
    if args.as_user:
        return analysis.impersonate(args.as_user, args.as_groups)
    resolver = getattr(analysis, "identity_user", None)
    if resolver is not None:
        return resolver(kubeconfig=getattr(args, "kubeconfig", None), context=getattr(args, "context", None),
                        cert=getattr(args, "cert", None), token=getattr(args, "token", None))
    raise UsageError("who is asking? give --as USER (or --as system:serviceaccount:NS:NAME)")


def dump(data: Any, fmt: str, out: TextIO) -> None:
    if fmt == "yaml":
        yaml.safe_dump(data, out, sort_keys=False, default_flow_style=False, allow_unicode=True)
    else:
        json.dump(data, out, indent=2, ensure_ascii=False)
        out.write("\n")


class Printer:
    """Plain text tables: columns padded to the widest cell."""

    @staticmethod
    def table(rows: list[list[str]], headers: list[str], out: TextIO) -> None:
        widths = [len(h) for h in headers]
        for r in rows:
            for i, cell in enumerate(r):
                widths[i] = max(widths[i], len(cell))
        fmt = "  ".join(f"{{:<{w}}}" for w in widths)
        out.write(fmt.format(*headers).rstrip() + "\n")
        for r in rows:
            out.write(fmt.format(*r).rstrip() + "\n")
