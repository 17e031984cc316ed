"""client-go credential plugins (``exec``): describe them safely, and run one only when the caller opts in.

Running follows client-go: no shell, the entry's ``env`` added to ours, ``KUBERNETES_EXEC_INFO`` set, stdin
closed (never interactive), a timeout, and the ``ExecCredential`` on stdout parsed. The returned token or key
is handed back to the caller and never logged.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..errors import IdentityError

__all__ = ["ExecCredential", "describe_exec", "run_exec_plugin", "EXEC_TIMEOUT_SECONDS"]

logger = logging.getLogger(__name__)

EXEC_TIMEOUT_SECONDS = 30.0
_MAX_OUTPUT = 1024 * 1024
_SECRET_WORDS = ("token", "secret", "password", "passwd", "key", "credential")


@dataclass(frozen=True, kw_only=True)
class ExecCredential:
    """What a plugin returned. Secrets are excluded from ``repr``."""

    token: str | None = field(default=None, repr=False)
    client_cert_data: bytes | None = field(default=None, repr=False)
    client_key_data: bytes | None = field(default=None, repr=False)
    expiration: datetime | None = None
    command: str = ""


def _redact_arg(arg: str, previous: str) -> str:
    low = arg.lower()
    if "=" in arg and any(w in low.split("=", 1)[0] for w in _SECRET_WORDS):
        return arg.split("=", 1)[0] + "=<redacted>"
    if previous.startswith("-") and any(w in previous.lower() for w in _SECRET_WORDS) and not arg.startswith("-"):
        return "<redacted>"
    return arg


def describe_exec(spec: Any) -> str:
    """``aws --region eu-west-1 eks get-token ...``: the command line, with secret-looking values redacted."""
    if not isinstance(spec, Mapping):
        return "exec plugin (malformed)"
    cmd = str(spec.get("command") or "?")
    args = spec.get("args") or []
    shown: list[str] = []
    prev = ""
    for a in args if isinstance(args, list) else []:
        a = str(a)
        shown.append(_redact_arg(a, prev))
        prev = a
    env = spec.get("env") or []
    names = [str(e.get("name")) for e in env if isinstance(e, Mapping) and e.get("name")] if isinstance(env, list) else []
    line = " ".join([cmd, *shown])
    if names:
        line += f" (env: {', '.join(names)})"
    return line


def _resolve_command(cmd: str, base_dir: str) -> str:
    # client-go resolves a command with a path separator against the kubeconfig's folder; others via PATH.
    if os.sep in cmd or (os.altsep and os.altsep in cmd):
        return cmd if os.path.isabs(cmd) else os.path.join(base_dir, cmd)
    found = shutil.which(cmd)
    if not found:
        raise IdentityError(f"exec plugin {cmd!r} not found on PATH")
    return found


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def run_exec_plugin(spec: Mapping[str, Any], *, base_dir: str, cluster: Mapping[str, Any] | None = None,
                    timeout: float = EXEC_TIMEOUT_SECONDS) -> ExecCredential:
    """Run the plugin and return its credential; ``IdentityError`` with a one-line reason on any failure."""
    if not isinstance(spec, Mapping) or not spec.get("command"):
        raise IdentityError("exec plugin has no command")
    api_version = str(spec.get("apiVersion") or "client.authentication.k8s.io/v1")
    if spec.get("interactiveMode") == "Always":
        raise IdentityError(f"exec plugin {describe_exec(spec)} needs an interactive terminal (interactiveMode: "
                            "Always); cannot run it non-interactively")
    cmd = _resolve_command(str(spec["command"]), base_dir)
    args = [str(a) for a in (spec.get("args") or [])]
    env = dict(os.environ)
    for e in spec.get("env") or []:
        if isinstance(e, Mapping) and e.get("name"):
            env[str(e["name"])] = str(e.get("value", ""))
    info: dict[str, Any] = {"apiVersion": api_version, "kind": "ExecCredential", "spec": {"interactive": False}}
    if spec.get("provideClusterInfo") and cluster:
        info["spec"]["cluster"] = {k: v for k, v in cluster.items()
                                   if k in ("server", "tls-server-name", "insecure-skip-tls-verify",
                                            "certificate-authority-data", "proxy-url")}
    env["KUBERNETES_EXEC_INFO"] = json.dumps(info)
    shown = describe_exec(spec)
    logger.info("running exec plugin: %s", shown)
    try:
        proc = subprocess.run([cmd, *args], stdin=subprocess.DEVNULL, capture_output=True, env=env,
                              timeout=timeout, shell=False, check=False)
    except subprocess.TimeoutExpired:
        raise IdentityError(f"exec plugin {shown} did not finish within {timeout:g}s") from None
    except OSError as exc:
        raise IdentityError(f"exec plugin {shown} could not be started: {exc.strerror or exc}") from None
    if proc.returncode != 0:
        last = (proc.stderr or b"").decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
        hint = f": {last[0][:200]}" if last[0] else ""
        raise IdentityError(f"exec plugin {shown} failed with exit code {proc.returncode}{hint}")
    if len(proc.stdout) > _MAX_OUTPUT:
        raise IdentityError(f"exec plugin {shown} wrote more than {_MAX_OUTPUT} bytes")
    try:
        doc = json.loads(proc.stdout.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise IdentityError(f"exec plugin {shown} did not print an ExecCredential (invalid JSON)") from None
    if not isinstance(doc, Mapping) or doc.get("kind") != "ExecCredential":
        raise IdentityError(f"exec plugin {shown} did not print an ExecCredential")
    if doc.get("apiVersion") != api_version:
        raise IdentityError(f"exec plugin {shown} returned apiVersion {doc.get('apiVersion')!r}, "
                            f"expected {api_version!r}")
    status = doc.get("status") or {}
    if not isinstance(status, Mapping):
        raise IdentityError(f"exec plugin {shown}: status must be a map")
    token = status.get("token") or None
    cert = status.get("clientCertificateData") or None
    key = status.get("clientKeyData") or None
    if bool(cert) != bool(key):
        raise IdentityError(f"exec plugin {shown}: clientCertificateData and clientKeyData must come together")
    if not token and not cert:
        raise IdentityError(f"exec plugin {shown} returned neither a token nor a client certificate")
    return ExecCredential(
        token=str(token) if token else None,
        client_cert_data=str(cert).encode() if cert else None,
        client_key_data=str(key).encode() if key else None,
        expiration=_parse_time(status.get("expirationTimestamp")),
        command=shown,
    )
