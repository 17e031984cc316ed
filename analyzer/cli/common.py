"""Shared CLI plumbing: input and output options, loading with progress, the asker's identity, printing."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

import yaml

from ..api import Analysis
from ..errors import AnalyzerError, IdentityError, ManifestError, UsageError
from ..identity import (
    AuthenticatorOptions,
    TokenOptions,
    load_token_auth_file,
    load_verify_keys,
    read_token_argument,
    resolve_identity,
)
from ..identity.kubeconfig import read_file_bytes
from ..loaders.manifests import Limits
from ..model import IdentityReport, UserInfo

__all__ = [
    "add_input_options", "add_namespace_options", "add_as_options", "add_authenticator_options",
    "authenticator_options", "credential_identity", "add_output_option", "load_analysis",
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
    g.add_argument("--live", action="store_true",
                   help="read the policy from the cluster of the kubeconfig context (or in-cluster), alone or with -f")
    _add_kubeconfig_options(p)


def _add_kubeconfig_options(p: argparse.ArgumentParser) -> None:
    # Input and --as options both take --kubeconfig/--context(/--allow-exec): added here only when missing,
    # and a later add_as_options may redefine them ("resolve": the later definition wins, same dest).
    p.conflict_handler = p._optionals.conflict_handler = "resolve"
    have = p._option_string_actions
    if "--kubeconfig" not in have:
        p.add_argument("--kubeconfig", default=None, metavar="FILE",
                       help="kubeconfig for --live and for the asker when --as is not given (default: $KUBECONFIG, "
                            "~/.kube/config)")
    if "--context" not in have:
        p.add_argument("--context", default=None, metavar="NAME", help="kubeconfig context (default: current-context)")
    if "--allow-exec" not in have:
        p.add_argument("--allow-exec", action="store_true",
                       help="let the kubeconfig run exec credential plugins / auth-providers (off by default)")


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
    p.add_argument("--cert", default=None, metavar="FILE",
                   help="client certificate (PEM) whose identity (CN, O) is the asker when --as is not given")
    p.add_argument("--token", default=None, metavar="FILE|-",
                   help="file holding a bearer token (- for stdin) whose identity is the asker when --as is not given")
    p.add_argument("--allow-exec", action="store_true",
                   help="run the kubeconfig's exec credential plugin (to learn who it is, and for --live); "
                        "never done otherwise")


def add_authenticator_options(p: argparse.ArgumentParser) -> None:
    """The API server's authentication settings that decide who a credential is (all optional)."""
    g = p.add_argument_group("API server authentication settings (to decide offline what the server would)")
    g.add_argument("--client-ca", default=None, metavar="FILE",
                   help="the API server's --client-ca-file (default: assume the kubeconfig's certificate-authority)")
    g.add_argument("--verify-with", action="append", default=[], metavar="FILE",
                   help="public key (PEM), certificate or JWKS to verify token signatures (repeatable)")
    g.add_argument("--oidc-issuer-url", default="", metavar="URL", help="the API server's --oidc-issuer-url")
    g.add_argument("--oidc-client-id", default="", metavar="ID", help="the API server's --oidc-client-id")
    g.add_argument("--oidc-username-claim", default="", metavar="CLAIM",
                   help="the API server's --oidc-username-claim (e.g. email, sub)")
    g.add_argument("--oidc-username-prefix", default=None, metavar="PREFIX",
                   help="the API server's --oidc-username-prefix ('-' for none; default: ISSUER# unless the claim is email)")
    g.add_argument("--oidc-groups-claim", default="", metavar="CLAIM", help="the API server's --oidc-groups-claim")
    g.add_argument("--oidc-groups-prefix", default="", metavar="PREFIX", help="the API server's --oidc-groups-prefix")
    g.add_argument("--anonymous-auth", choices=["true", "false"], default="true",
                   help="the API server's --anonymous-auth: are requests without a credential system:anonymous? "
                        "(default: true)")
    g.add_argument("--token-auth-file", default=None, metavar="FILE",
                   help="the API server's static token file (CSV token,user,uid,\"group1,group2\")")


def authenticator_options(args: argparse.Namespace) -> AuthenticatorOptions:
    """``AuthenticatorOptions`` from the flags ``add_authenticator_options``/``add_as_options`` add."""
    ca_path = getattr(args, "client_ca", None)
    client_ca = read_file_bytes(ca_path, "--client-ca") if ca_path else None
    tf = getattr(args, "token_auth_file", None)
    tokens = TokenOptions(
        verify_keys=load_verify_keys(getattr(args, "verify_with", []) or []),
        oidc_issuer_url=getattr(args, "oidc_issuer_url", "") or "",
        oidc_client_id=getattr(args, "oidc_client_id", "") or "",
        oidc_username_claim=getattr(args, "oidc_username_claim", "") or "",
        oidc_username_prefix=getattr(args, "oidc_username_prefix", None),
        oidc_groups_claim=getattr(args, "oidc_groups_claim", "") or "",
        oidc_groups_prefix=getattr(args, "oidc_groups_prefix", "") or "",
        static_tokens=load_token_auth_file(tf) if tf else {},
        static_tokens_source=tf or "",
    )
    return AuthenticatorOptions(client_ca=client_ca, client_ca_source=ca_path or "", tokens=tokens,
                                anonymous_auth=getattr(args, "anonymous_auth", "true") != "false",
                                allow_exec=bool(getattr(args, "allow_exec", False)))


def credential_identity(args: argparse.Namespace, *, as_user: str | None = None, as_groups: Sequence[str] = (),
                        as_uid: str | None = None) -> IdentityReport:
    """Resolve ``--kubeconfig/--context`` or ``--cert/--token`` offline (kubectl's default kubeconfig otherwise)."""
    token_arg = getattr(args, "token", None)
    return resolve_identity(kubeconfig=getattr(args, "kubeconfig", None), context=getattr(args, "context", None),
                            cert_file=getattr(args, "cert", None),
                            token=read_token_argument(token_arg) if token_arg else None,
                            options=authenticator_options(args), as_user=as_user, as_groups=as_groups,
                            as_uid=as_uid)


def add_output_option(p: argparse.ArgumentParser, choices: list[str], default: str) -> None:
    p.add_argument("-o", "--output", choices=choices, default=default, help=f"output format (default: {default})")


def progress_printer(stream: TextIO | None = None) -> Callable[[str, int, int], None] | None:
    """A progress callback for a terminal; None (quiet) when stderr is piped."""
    stream = stream or sys.stderr
    if not stream.isatty():
        return None

    def show(stage: str, done: int, total: int) -> None:
        end = "\n" if done >= total else ""
        unit = " files" if stage == "loading" else ""
        stream.write(f"\r{stage}: {done}/{total}{unit}\x1b[K{end}")
        stream.flush()

    return show


def _load_live(args: argparse.Namespace) -> Analysis:
    """``--live``: the cluster of the kubeconfig context (or in-cluster) together with the ``-f`` inputs."""
    limits = Limits(max_file_bytes=args.max_file_size) if getattr(args, "max_file_size", None) else None
    return Analysis.from_sources(getattr(args, "paths", []) or [], live=True,
                                 kubeconfig=getattr(args, "kubeconfig", None), context=getattr(args, "context", None),
                                 allow_exec=bool(getattr(args, "allow_exec", False)),
                                 default_namespace=getattr(args, "default_namespace", "default"), limits=limits,
                                 on_progress=progress_printer())


def load_analysis(args: argparse.Namespace) -> Analysis:
    """Load the ``-f`` inputs (no inputs: an empty policy)."""
    max_size = getattr(args, "max_file_size", None)
    if max_size is not None and max_size <= 0:
        raise UsageError("--max-file-size must be a positive number of bytes")
    if getattr(args, "live", False):
        return _load_live(args)
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


def asker(args: argparse.Namespace, analysis: Analysis) -> UserInfo:
    """The user a command asks as: ``--as``/``--as-group`` (built like impersonation), else the identity of
    ``--cert``/``--token`` or the kubeconfig context (kubectl's selection), resolved offline as the API server
    would see it (implied groups, impersonation). Never contacts a cluster."""
    if args.as_groups and not args.as_user:
        raise UsageError("--as-group requires --as (the API server refuses groups without a user)")
    if args.as_user:
        return analysis.impersonate(args.as_user, args.as_groups)
    explicit = any(getattr(args, k, None) for k in ("kubeconfig", "context", "cert", "token"))
    try:
        report = credential_identity(args)
    except IdentityError as exc:
        if explicit:
            raise
        raise UsageError(f"who is asking? give --as USER (or --as system:serviceaccount:NS:NAME), or --kubeconfig "
                         f"({exc})") from None
    if not report.resolvable or report.user is None:
        raise UsageError(f"cannot tell offline who {_where(report)} is: {report.unresolvable_reason or 'unknown'}; "
                         "give --as USER")
    if not report.accepted:
        logger.warning("the API server would reject %s (%s); answering for the identity it maps to, %s",
                       _where(report), "; ".join(report.rejected_because), report.user.username)
    return report.user


def _where(report: IdentityReport) -> str:
    return f"context {report.context!r}" if report.context else (report.source or "the credential")


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


def write_text_file(path: str, text: str) -> None:
    """Write a command's output to ``--output-file``; an unwritable path is a one-line UsageError."""
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{path}: cannot write ({exc.strerror or exc})") from None
