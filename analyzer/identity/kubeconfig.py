"""Kubeconfig selection, merging and context resolution exactly as kubectl does it; live connection settings.

Selection: ``--kubeconfig FILE``, else every file of ``KUBECONFIG`` merged (a named cluster, user or context
is taken whole from the first file that defines it; ``current-context`` from the first file that sets one;
missing files skipped), else ``~/.kube/config``. Relative paths inside a file are resolved against that
file's folder. Nothing here touches the network or runs a plugin unless ``allow_exec`` is given.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import IdentityError

__all__ = [
    "KubeconfigEntry",
    "Kubeconfig",
    "ContextSelection",
    "Connection",
    "load_kubeconfig",
    "kubeconfig_paths",
    "select_context",
    "read_data_or_file",
    "resolve_connection",
    "in_cluster_connection",
    "IN_CLUSTER_DIR",
    "MAX_KUBECONFIG_BYTES",
]

logger = logging.getLogger(__name__)

MAX_KUBECONFIG_BYTES = 16 * 1024 * 1024
MAX_CREDENTIAL_FILE_BYTES = 4 * 1024 * 1024
IN_CLUSTER_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"

# Fields whose relative paths kubectl resolves against the folder of the file that named them
# (clientcmd ResolveLocalPaths).
_CLUSTER_PATHS = ("certificate-authority",)
_USER_PATHS = ("client-certificate", "client-key", "tokenFile")


@dataclass(frozen=True, kw_only=True)
class KubeconfigEntry:
    """One named cluster, user or context, with the file it came from (for relative paths)."""

    name: str
    body: Mapping[str, Any]
    source: str  # the kubeconfig file that defined it

    @property
    def base_dir(self) -> str:
        return os.path.dirname(os.path.abspath(self.source)) if self.source else os.getcwd()

    def __repr__(self) -> str:  # bodies may hold tokens and keys: never show them
        return f"KubeconfigEntry(name={self.name!r}, source={self.source!r})"


@dataclass(frozen=True, kw_only=True)
class Kubeconfig:
    """The merged view of one or more kubeconfig files."""

    files: tuple[str, ...]
    clusters: Mapping[str, KubeconfigEntry]
    users: Mapping[str, KubeconfigEntry]
    contexts: Mapping[str, KubeconfigEntry]
    current_context: str = ""

    def __repr__(self) -> str:
        return (f"Kubeconfig(files={self.files!r}, contexts={sorted(self.contexts)!r}, "
                f"current_context={self.current_context!r})")


@dataclass(frozen=True, kw_only=True)
class ContextSelection:
    """A context with the cluster and user entries it names (resolved, not yet interpreted)."""

    name: str
    cluster: KubeconfigEntry
    user: KubeconfigEntry
    namespace: str = ""

    def __repr__(self) -> str:
        return f"ContextSelection(name={self.name!r}, cluster={self.cluster.name!r}, user={self.user.name!r})"


@dataclass(frozen=True, kw_only=True)
class Connection:
    """Everything a client needs to talk to the cluster of one context. ``repr`` never shows secrets."""

    server: str
    context_name: str = ""
    namespace: str = ""
    ca_data: bytes | None = None
    insecure_skip_tls_verify: bool = False
    client_cert_data: bytes | None = None
    client_key_data: bytes | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)
    impersonate_user: str = ""
    impersonate_groups: tuple[str, ...] = ()
    tls_server_name: str = ""

    def __repr__(self) -> str:
        return (f"Connection(server={self.server!r}, context_name={self.context_name!r}, "
                f"namespace={self.namespace!r}, ca_data={'<set>' if self.ca_data else None}, "
                f"insecure_skip_tls_verify={self.insecure_skip_tls_verify}, "
                f"client_cert_data={'<set>' if self.client_cert_data else None}, "
                f"client_key_data={'<redacted>' if self.client_key_data else None}, "
                f"token={'<redacted>' if self.token else None}, impersonate_user={self.impersonate_user!r}, "
                f"impersonate_groups={self.impersonate_groups!r}, tls_server_name={self.tls_server_name!r})")


# -- reading and merging ---------------------------------------------------------------------------------
def kubeconfig_paths(explicit: str | None = None, env: Mapping[str, str] | None = None) -> tuple[list[str], bool]:
    """The files kubectl would read, and whether they were named explicitly (missing ones are then errors).

    ``--kubeconfig`` wins; else ``KUBECONFIG`` (split on ``os.pathsep``, empty entries and duplicates
    dropped); else ``~/.kube/config``.
    """
    env = os.environ if env is None else env
    if explicit:
        return [explicit], True
    value = env.get("KUBECONFIG", "")
    if value:
        seen: list[str] = []
        for p in value.split(os.pathsep):
            if p and p not in seen:
                seen.append(p)
        if seen:
            return seen, False
    home = env.get("HOME") or os.path.expanduser("~")
    return [os.path.join(home, ".kube", "config")], False


def _read_yaml(path: str) -> Mapping[str, Any]:
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_KUBECONFIG_BYTES + 1)
    except FileNotFoundError:
        raise IdentityError(f"{path}: no such kubeconfig file") from None
    except IsADirectoryError:
        raise IdentityError(f"{path}: is a directory, not a kubeconfig file") from None
    except OSError as exc:
        raise IdentityError(f"{path}: cannot read kubeconfig: {exc.strerror or exc}") from None
    if len(raw) > MAX_KUBECONFIG_BYTES:
        raise IdentityError(f"{path}: kubeconfig larger than {MAX_KUBECONFIG_BYTES} bytes, refused")
    try:
        doc = yaml.safe_load(raw) if raw.strip() else {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise IdentityError(f"{path}: not valid YAML{where}") from None
    except RecursionError:
        raise IdentityError(f"{path}: nested too deeply, refused") from None
    if doc is None:
        return {}
    if not isinstance(doc, Mapping):
        raise IdentityError(f"{path}: a kubeconfig must be a map (kind: Config)")
    return doc


def _named_entries(doc: Mapping[str, Any], key: str, inner: str, path: str) -> list[KubeconfigEntry]:
    items = doc.get(key) or []
    if not isinstance(items, list):
        raise IdentityError(f"{path}: {key} must be a list")
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, Mapping) or not isinstance(item.get("name"), str) or not item.get("name"):
            raise IdentityError(f"{path}: {key}[{i}] has no name")
        body = item.get(inner) or {}
        if not isinstance(body, Mapping):
            raise IdentityError(f"{path}: {key}[{i}] ({item['name']}): {inner} must be a map")
        out.append(KubeconfigEntry(name=item["name"], body=dict(body), source=path))
    return out


def load_kubeconfig(explicit: str | None = None, env: Mapping[str, str] | None = None) -> Kubeconfig:
    """Read and merge kubeconfig files by kubectl's rules; ``IdentityError`` when nothing usable exists."""
    paths, named = kubeconfig_paths(explicit, env)
    clusters: dict[str, KubeconfigEntry] = {}
    users: dict[str, KubeconfigEntry] = {}
    contexts: dict[str, KubeconfigEntry] = {}
    current = ""
    read: list[str] = []
    for path in paths:
        if not named and not os.path.exists(path):
            logger.debug("kubeconfig %s does not exist, skipped", path)
            continue
        doc = _read_yaml(path)
        read.append(path)
        # The first file to define a name wins, whole (clientcmd's merge of maps).
        for target, key, inner in ((clusters, "clusters", "cluster"), (users, "users", "user"),
                                   (contexts, "contexts", "context")):
            for entry in _named_entries(doc, key, inner, path):
                target.setdefault(entry.name, entry)
        cc = doc.get("current-context")
        if not current and isinstance(cc, str) and cc:
            current = cc
    if not read:
        raise IdentityError(f"no kubeconfig found (looked at {', '.join(paths)}); give --kubeconfig FILE")
    return Kubeconfig(files=tuple(read), clusters=clusters, users=users, contexts=contexts, current_context=current)


def select_context(config: Kubeconfig, context: str | None = None) -> ContextSelection:
    """The context ``--context`` names, else ``current-context``, with its cluster and user; clear errors."""
    name = context or config.current_context
    files = ", ".join(config.files)
    if not name:
        raise IdentityError(f"{files}: current-context is not set; give --context "
                            f"(contexts: {', '.join(sorted(config.contexts)) or 'none'})")
    ctx = config.contexts.get(name)
    if ctx is None:
        raise IdentityError(f"context {name!r} not found in {files} "
                            f"(contexts: {', '.join(sorted(config.contexts)) or 'none'})")
    user_name = ctx.body.get("user") or ""
    cluster_name = ctx.body.get("cluster") or ""
    if not isinstance(user_name, str) or not isinstance(cluster_name, str):
        raise IdentityError(f"context {name!r}: user and cluster must be names")
    if user_name and user_name not in config.users:
        raise IdentityError(f"context {name!r} names user {user_name!r}, which is not defined in {files}")
    if not cluster_name:
        raise IdentityError(f"context {name!r} names no cluster")
    if cluster_name not in config.clusters:
        raise IdentityError(f"context {name!r} names cluster {cluster_name!r}, which is not defined in {files}")
    # A context without a user means no credentials at all (an anonymous request).
    user = config.users.get(user_name) or KubeconfigEntry(name="", body={}, source=ctx.source)
    ns = ctx.body.get("namespace") or ""
    return ContextSelection(name=name, cluster=config.clusters[cluster_name], user=user,
                            namespace=ns if isinstance(ns, str) else "")


# -- reading *-data and file forms -----------------------------------------------------------------------
def resolve_path(entry: KubeconfigEntry, value: str) -> str:
    """A path from a kubeconfig, relative to the folder of the file that named it."""
    return value if os.path.isabs(value) else os.path.join(entry.base_dir, value)


def read_file_bytes(path: str, what: str) -> bytes:
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_CREDENTIAL_FILE_BYTES + 1)
    except OSError as exc:
        raise IdentityError(f"{what}: cannot read {path}: {exc.strerror or exc}") from None
    if len(data) > MAX_CREDENTIAL_FILE_BYTES:
        raise IdentityError(f"{what}: {path} is larger than {MAX_CREDENTIAL_FILE_BYTES} bytes, refused")
    return data


def read_data_or_file(entry: KubeconfigEntry, key: str) -> tuple[bytes | None, str]:
    """``KEY-data`` (base64, wins as in client-go) or the file ``KEY`` names: (bytes, where it came from)."""
    data = entry.body.get(f"{key}-data")
    if data:
        if not isinstance(data, str):
            raise IdentityError(f"{entry.name}: {key}-data must be a base64 string")
        try:
            return base64.b64decode("".join(data.split()), validate=True), f"{key}-data"
        except (binascii.Error, ValueError):
            raise IdentityError(f"{entry.name}: {key}-data is not valid base64") from None
    path = entry.body.get(key)
    if path:
        if not isinstance(path, str):
            raise IdentityError(f"{entry.name}: {key} must be a file path")
        full = resolve_path(entry, path)
        return read_file_bytes(full, f"{entry.name}: {key}"), full
    return None, ""


def read_token(entry: KubeconfigEntry) -> tuple[str | None, str]:
    """The bearer token of a user entry. As in client-go, a readable ``tokenFile`` wins over ``token`` (the
    transport re-reads the file and prefers it); an unreadable one is an error only without ``token``."""
    token = entry.body.get("token")
    if token and not isinstance(token, str):
        raise IdentityError(f"user {entry.name!r}: token must be a string")
    path = entry.body.get("tokenFile")
    if path:
        if not isinstance(path, str):
            raise IdentityError(f"user {entry.name!r}: tokenFile must be a file path")
        full = resolve_path(entry, path)
        try:
            raw = read_file_bytes(full, f"user {entry.name!r}: tokenFile")
            text = raw.decode("utf-8").strip()
        except (IdentityError, UnicodeDecodeError) as exc:
            if token:
                return token.strip(), "token"
            if isinstance(exc, IdentityError):
                raise
            raise IdentityError(f"user {entry.name!r}: tokenFile {full} is not text") from None
        if text:
            return text, full
    if token:
        return token.strip(), "token"
    return None, ""


# -- live connection settings ------------------------------------------------------------------------------
def resolve_connection(kubeconfig: str | None, context: str | None, allow_exec: bool = False) -> Connection:
    """Connection settings of a context (for the live loaders). Runs an exec plugin only with ``allow_exec``.

    Raises ``IdentityError`` for missing files, contexts, users or clusters, and for exec / auth-provider
    users when ``allow_exec`` is false.
    """
    config = load_kubeconfig(kubeconfig)
    sel = select_context(config, context)
    cluster = sel.cluster
    server = cluster.body.get("server") or ""
    if not isinstance(server, str) or not server:
        raise IdentityError(f"cluster {cluster.name!r} has no server")
    ca, _ = read_data_or_file(cluster, "certificate-authority")
    user = sel.user
    cert, _ = read_data_or_file(user, "client-certificate")
    key, _ = read_data_or_file(user, "client-key")
    token, _ = read_token(user)
    if user.body.get("exec") and not (cert or token):
        from .exec_plugin import run_exec_plugin  # runs a program: only on explicit request

        if not allow_exec:
            from .exec_plugin import describe_exec

            raise IdentityError(f"context {sel.name!r} gets its credential from an exec plugin "
                                f"({describe_exec(user.body['exec'])}); pass --allow-exec to run it")
        cred = run_exec_plugin(user.body["exec"], base_dir=user.base_dir, cluster=cluster.body)
        token, cert, key = cred.token, cred.client_cert_data, cred.client_key_data
    elif user.body.get("auth-provider") and not (cert or token):
        provider = user.body["auth-provider"]
        cfg = (provider.get("config") or {}) if isinstance(provider, Mapping) else {}
        id_token = cfg.get("id-token") if isinstance(cfg, Mapping) else None
        if isinstance(id_token, str) and id_token:
            token = id_token
        else:
            name = provider.get("name", "?") if isinstance(provider, Mapping) else "?"
            raise IdentityError(f"context {sel.name!r} uses the {name!r} auth-provider, which kubectl no longer "
                                "supports; switch to an exec plugin")
    groups = user.body.get("as-groups") or []
    return Connection(
        server=server, context_name=sel.name, namespace=sel.namespace, ca_data=ca,
        insecure_skip_tls_verify=bool(cluster.body.get("insecure-skip-tls-verify", False)),
        client_cert_data=cert, client_key_data=key, token=token,
        impersonate_user=str(user.body.get("as") or ""),
        impersonate_groups=tuple(str(g) for g in groups) if isinstance(groups, list) else (),
        tls_server_name=str(cluster.body.get("tls-server-name") or ""),
    )


def in_cluster_connection(base_dir: str = IN_CLUSTER_DIR, env: Mapping[str, str] | None = None) -> Connection | None:
    """The pod's own ServiceAccount connection (token, CA, namespace), or None when not running in a pod."""
    env = os.environ if env is None else env
    host, port = env.get("KUBERNETES_SERVICE_HOST", ""), env.get("KUBERNETES_SERVICE_PORT", "443")
    token_path = Path(base_dir) / "token"
    if not host or not token_path.is_file():
        return None
    token = read_file_bytes(str(token_path), "in-cluster token").decode("utf-8", "replace").strip()
    ca_path = Path(base_dir) / "ca.crt"
    ca = read_file_bytes(str(ca_path), "in-cluster CA") if ca_path.is_file() else None
    ns_path = Path(base_dir) / "namespace"
    ns = ns_path.read_text(encoding="utf-8").strip() if ns_path.is_file() else "default"
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"  # IPv6
    return Connection(server=f"https://{host}:{port}", context_name="in-cluster", namespace=ns, ca_data=ca,
                      token=token or None)
