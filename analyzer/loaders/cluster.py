"""Read the policy live from a cluster's API server (official ``kubernetes`` client) into manifest dicts.

The connection comes from the project's own kubeconfig resolution (``analyzer.identity``): any object with
the ``Connection`` fields (``server``, ``context_name``, ``ca_data``, ``client_cert_data``,
``client_key_data``, ``token``, ``insecure_skip_tls_verify``, ``impersonate_user``, ``impersonate_groups``,
``tls_server_name``) will do. The client library's ``load_kube_config`` is never called, so no ``exec``
plugin or auth-provider runs here. Credentials live only in the client configuration and in a private
temporary directory (0700, files 0600) removed when the session ends; they are never logged.

Lists are paginated (``limit``/``continue``), each request has a timeout, and 429/5xx answers and
connection errors are retried with exponential backoff (``Retry-After`` honoured, capped). A list the
credential may not read (403) does not abort: it is recorded in ``ClusterFetch.incomplete`` and, for a
namespaced kind, the namespaces are then tried one by one so that only the unreadable ones are missing.
The objects are handed to ``loaders.manifests.parse_objects``: files and clusters share one parser.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import random
import re
import shutil
import tempfile
import time
import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..errors import ClusterError
from ..model import Inventory, SourceRef, UserInfo
from .manifests import ParseContext, finish, parse_objects

__all__ = [
    "LiveKind", "LIVE_KINDS", "FetchOptions", "ClusterFetch", "ClusterSession", "open_session", "fetch_cluster",
    "add_cluster_objects", "load_cluster", "self_subject_review", "build_configuration",
]

logger = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]

_LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


@dataclass(frozen=True, kw_only=True)
class LiveKind:
    """One listable kind: ``kind``/``apiVersion`` are set on list items, which the API omits."""

    kind: str
    api_version: str
    plural: str
    namespaced: bool

    @property
    def group(self) -> str:
        return self.api_version.rpartition("/")[0]

    def path(self, namespace: str = "") -> str:
        base = f"/apis/{self.api_version}" if self.group else f"/api/{self.api_version}"
        return f"{base}/namespaces/{namespace}/{self.plural}" if namespace else f"{base}/{self.plural}"

    @property
    def label(self) -> str:
        """How ``incomplete`` names it: ``roles``, ``deployments.apps``."""
        return f"{self.plural}.{self.group}" if self.group and self.group != "rbac.authorization.k8s.io" else self.plural


# Namespaces first: a namespaced list that is forbidden cluster-wide is retried per namespace.
LIVE_KINDS: tuple[LiveKind, ...] = (
    LiveKind(kind="Namespace", api_version="v1", plural="namespaces", namespaced=False),
    LiveKind(kind="CustomResourceDefinition", api_version="apiextensions.k8s.io/v1",
             plural="customresourcedefinitions", namespaced=False),
    LiveKind(kind="ClusterRole", api_version="rbac.authorization.k8s.io/v1", plural="clusterroles", namespaced=False),
    LiveKind(kind="ClusterRoleBinding", api_version="rbac.authorization.k8s.io/v1", plural="clusterrolebindings",
             namespaced=False),
    LiveKind(kind="Role", api_version="rbac.authorization.k8s.io/v1", plural="roles", namespaced=True),
    LiveKind(kind="RoleBinding", api_version="rbac.authorization.k8s.io/v1", plural="rolebindings", namespaced=True),
    LiveKind(kind="ServiceAccount", api_version="v1", plural="serviceaccounts", namespaced=True),
    LiveKind(kind="Pod", api_version="v1", plural="pods", namespaced=True),
    LiveKind(kind="ReplicationController", api_version="v1", plural="replicationcontrollers", namespaced=True),
    LiveKind(kind="Deployment", api_version="apps/v1", plural="deployments", namespaced=True),
    LiveKind(kind="DaemonSet", api_version="apps/v1", plural="daemonsets", namespaced=True),
    LiveKind(kind="StatefulSet", api_version="apps/v1", plural="statefulsets", namespaced=True),
    LiveKind(kind="ReplicaSet", api_version="apps/v1", plural="replicasets", namespaced=True),
    LiveKind(kind="Job", api_version="batch/v1", plural="jobs", namespaced=True),
    LiveKind(kind="CronJob", api_version="batch/v1", plural="cronjobs", namespaced=True),
)


@dataclass(frozen=True, kw_only=True)
class FetchOptions:
    """Paging, timeouts and retries for talking to the API server."""

    page_size: int = 500
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    max_attempts: int = 5  # per request, for 429, 5xx and connection errors
    backoff_base: float = 0.5  # seconds; doubled per attempt, with jitter
    backoff_max: float = 10.0  # also caps Retry-After
    max_pages: int = 100_000  # a server that never stops sending `continue` is cut off here
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False, repr=False)


@dataclass(frozen=True, kw_only=True)
class ClusterFetch:
    """What one read of a cluster returned: manifest-shaped objects and what could not be read."""

    objects: tuple[dict[str, Any], ...]
    incomplete: tuple[str, ...] = ()
    context: str = ""
    server: str = ""
    cluster_version: str = ""
    captured_at: str = ""

    @property
    def source(self) -> str:
        return f"cluster:{self.context or self.server or 'in-cluster'}"

    def metadata(self) -> dict[str, Any]:
        """The snapshot-header fields (``rbacAnalyzer:``) for this read."""
        return {"clusterVersion": self.cluster_version, "capturedAt": self.captured_at, "context": self.context,
                "incomplete": list(self.incomplete)}


class _Forbidden(Exception):
    pass


class _NotFound(Exception):
    pass


class _ListFailed(ClusterError):
    """One list failed for good (an HTTP error after retries, or not a list): recorded, not fatal."""


# ---------------------------------------------------------------------------------------------
# Connection → client configuration
# ---------------------------------------------------------------------------------------------

def _write_private(directory: str, name: str, data: bytes | str) -> str:
    path = os.path.join(directory, name)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data.encode() if isinstance(data, str) else data)
    return path


def build_configuration(connection: Any, directory: str) -> Any:
    """A ``kubernetes.client.Configuration`` for ``connection``; key material goes to files in ``directory``.

    ``directory`` must be private (``tempfile.mkdtemp`` makes it 0700) and removed by the caller.
    """
    from kubernetes import client

    server = getattr(connection, "server", "") or ""
    try:
        parts = urllib.parse.urlsplit(server)
        parts.port  # noqa: B018 (raises ValueError on a bad port)
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("https", "http") or not parts.hostname:
        raise ClusterError(f"the API server address {server[:200]!r} is not an http(s) URL")
    cfg = client.Configuration()
    cfg.host = server.rstrip("/")
    cfg.verify_ssl = not bool(getattr(connection, "insecure_skip_tls_verify", False))
    if not cfg.verify_ssl:
        logger.warning("TLS verification of %s is off (insecure-skip-tls-verify in the kubeconfig)", cfg.host)
    ca = getattr(connection, "ca_data", None)
    if ca:
        cfg.ssl_ca_cert = _write_private(directory, "ca.crt", ca)
    cert, key = getattr(connection, "client_cert_data", None), getattr(connection, "client_key_data", None)
    if cert and key:
        cfg.cert_file = _write_private(directory, "client.crt", cert)
        cfg.key_file = _write_private(directory, "client.key", key)
    elif cert or key:
        raise ClusterError("the kubeconfig user has a client certificate without its key (or a key without its certificate)")
    token = getattr(connection, "token", None)
    if token:
        cfg.api_key = {"authorization": token}
        cfg.api_key_prefix = {"authorization": "Bearer"}
    server_name = getattr(connection, "tls_server_name", None)
    if server_name:
        cfg.tls_server_name = server_name
    cfg.retries = False  # retries are ours (below), with backoff and Retry-After
    cfg.debug = False
    return cfg


class _ImpersonatingPool:
    """Wraps urllib3's pool manager to send Impersonate-* headers, one header per group as the API expects
    (the generated client keeps headers in a plain dict, which cannot repeat a name)."""

    def __init__(self, pool: Any, user: str, groups: Sequence[str]) -> None:
        self._pool = pool
        self._user = user
        self._groups = tuple(groups)

    def request(self, method: str, url: str, *args: Any, headers: Any = None, **kwargs: Any) -> Any:
        try:
            from urllib3 import HTTPHeaderDict
        except ImportError:  # urllib3 1.x
            from urllib3._collections import HTTPHeaderDict

        h = HTTPHeaderDict(headers or {})
        h["Impersonate-User"] = self._user
        for g in self._groups:
            h.add("Impersonate-Group", g)
        return self._pool.request(method, url, *args, headers=h, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pool, name)


class ClusterSession:
    """One authenticated client, with paging, retries and timeouts. Use ``open_session`` to get one."""

    def __init__(self, api: Any, connection: Any, options: FetchOptions) -> None:
        self.api = api
        self.connection = connection
        self.options = options

    @property
    def server(self) -> str:
        return str(getattr(self.connection, "server", "") or "")

    def request(self, method: str, path: str, query: Sequence[tuple[str, str]] = (),
                body: Any = None) -> tuple[int, Any]:
        """(status, decoded JSON or None) after retries; raises ClusterError when the server is unreachable."""
        import urllib3
        from kubernetes.client.exceptions import ApiException

        opts = self.options
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        last = ""
        for attempt in range(1, opts.max_attempts + 1):
            m, url, hdrs, b, post = self.api.param_serialize(method=method, resource_path=path,
                                                             query_params=list(query), header_params=dict(headers),
                                                             body=body, auth_settings=["BearerToken"])
            retry_after: float | None = None
            try:
                resp = self.api.call_api(m, url, header_params=hdrs, body=b, post_params=post,
                                         _request_timeout=(opts.connect_timeout, opts.read_timeout))
                data = resp.read()
                status = resp.status
            except (urllib3.exceptions.HTTPError, ApiException, OSError) as exc:
                status, data = 0, b""
                last = _describe_transport_error(exc)
                if last.startswith("TLS:"):
                    break  # a certificate problem does not go away by asking again
            else:
                if status == 429 or status >= 500:
                    last = f"HTTP {status}"
                    retry_after = _retry_after(resp.getheader("Retry-After"))
                else:
                    return status, _decode_json(data, path)
            if attempt == opts.max_attempts:
                break
            delay = retry_after if retry_after is not None else opts.backoff_base * 2 ** (attempt - 1)
            delay = min(opts.backoff_max, delay) * (1.0 if retry_after is not None else random.uniform(0.8, 1.2))
            logger.info("%s %s: %s; retrying in %.1fs (attempt %d of %d)", method, path, last, delay, attempt,
                        opts.max_attempts)
            opts.sleep(delay)
        if status == 0 and last.startswith("TLS:"):
            raise ClusterError(f"TLS with the API server at {self.server} failed: {last[5:]}")
        if status == 0:
            raise ClusterError(f"cannot reach the API server at {self.server}: {last}")
        return status, None

    def get_list(self, kind: LiveKind, namespace: str = "",
                 on_page: Callable[[int], None] | None = None) -> list[dict[str, Any]]:
        """Every item of one list (all pages), with kind/apiVersion set. Raises _Forbidden / _NotFound /
        ClusterError."""
        path = kind.path(namespace)
        items: list[dict[str, Any]] = []
        token = ""
        restarted = False
        pages = 0
        while True:
            query = [("limit", str(self.options.page_size))]
            if token:
                query.append(("continue", token))
            status, data = self.request("GET", path, query)
            if status == 410 and token and not restarted:
                # the continue token expired (the list took too long): start over once, consistently
                logger.info("%s: continue token expired; listing again from the start", path)
                items, token, restarted = [], "", True
                continue
            _raise_for_status(status, data, path)
            if not isinstance(data, dict) or not isinstance(data.get("items", []), list):
                raise _ListFailed("the answer is not a list")
            for item in data.get("items") or []:
                if isinstance(item, dict):
                    items.append(_manifest(item, kind))
            meta = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
            token = meta.get("continue") or ""
            pages += 1
            if on_page is not None:
                on_page(len(items))
            if not token or not isinstance(token, str):
                return items
            if pages >= self.options.max_pages:
                raise ClusterError(f"{path}: more than {self.options.max_pages} pages (limit max_pages)")


_SSL_DETAIL = re.compile(r"\[(?:SSL|X509|PEM)[^\]]*\][^'\")]*|certificate verify failed[^'\")]*|"
                         r"tlsv1 alert [a-z ]+|sslv3 alert [a-z ]+")


def _describe_transport_error(exc: BaseException) -> str:
    """One short line: the TLS complaint when there is one, else the connection error."""
    text = str(getattr(exc, "reason", None) or exc)
    m = _SSL_DETAIL.search(text)
    if m:
        return "TLS: " + re.sub(r"\s*\(_ssl\.c:\d+\)?$", "", m.group(0).strip())[:300]
    lines = [ln for ln in text.splitlines() if ln.strip()]
    return (lines[-1] if lines else type(exc).__name__)[:300]


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _decode_json(data: bytes | None, path: str) -> Any:
    if not data:
        return None
    try:
        return json.loads(data)
    except (ValueError, RecursionError):
        logger.info("%s: answer is not JSON", path)
        return None


def _raise_for_status(status: int, data: Any, path: str) -> None:
    if 200 <= status < 300:
        return
    if status == 401:
        raise ClusterError(f"the API server rejected the credentials (401 Unauthorized) for {path}")
    if status == 403:
        raise _Forbidden(path)
    if status == 404:
        raise _NotFound(path)
    message = data.get("message") if isinstance(data, dict) else None
    detail = f": {str(message)[:200]}" if isinstance(message, str) and message else ""
    raise _ListFailed(f"HTTP {status}{detail}")


@contextlib.contextmanager
def open_session(connection: Any, options: FetchOptions | None = None) -> Iterator[ClusterSession]:
    """A session with the API server of ``connection``; key files are deleted when it closes.

    Example::

        with open_session(conn) as s:
            status, version = s.request("GET", "/version")
    """
    from kubernetes import client

    directory = tempfile.mkdtemp(prefix="rbac-analyzer-")
    try:
        cfg = build_configuration(connection, directory)
        api = client.ApiClient(cfg)
        try:
            user = getattr(connection, "impersonate_user", None) or ""
            groups = tuple(getattr(connection, "impersonate_groups", None) or ())
            if groups and not user:
                raise ClusterError("the kubeconfig impersonates groups without a user (the API server refuses that)")
            if user:
                api.rest_client.pool_manager = _ImpersonatingPool(api.rest_client.pool_manager, user, groups)
            api.user_agent = "rbac-analyzer"
            yield ClusterSession(api, connection, options or FetchOptions())
        finally:
            with contextlib.suppress(Exception):
                api.close()
    finally:
        shutil.rmtree(directory, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# Objects
# ---------------------------------------------------------------------------------------------

def _pod_specs(obj: dict[str, Any]) -> Iterator[dict[str, Any]]:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return
    if obj.get("kind") == "Pod":
        yield spec
        return
    if obj.get("kind") == "CronJob":
        job = spec.get("jobTemplate")
        spec = job.get("spec") if isinstance(job, dict) else None
        if not isinstance(spec, dict):
            return
    template = spec.get("template")
    if isinstance(template, dict) and isinstance(template.get("spec"), dict):
        yield template["spec"]


def _redact(obj: dict[str, Any]) -> None:
    """Drop what a policy snapshot must not carry or does not need: env values (often passwords),
    the last-applied annotation (a copy of the object, env included) and managedFields."""
    meta = obj.get("metadata")
    if isinstance(meta, dict):
        meta.pop("managedFields", None)
        ann = meta.get("annotations")
        if isinstance(ann, dict):
            ann.pop(_LAST_APPLIED, None)
    for spec in _pod_specs(obj):
        for key in ("containers", "initContainers", "ephemeralContainers"):
            containers = spec.get(key)
            if not isinstance(containers, list):
                continue
            for c in containers:
                env = c.get("env") if isinstance(c, dict) else None
                if isinstance(env, list):
                    for e in env:
                        if isinstance(e, dict) and "value" in e:
                            e["value"] = "(redacted)"


def _manifest(item: dict[str, Any], kind: LiveKind) -> dict[str, Any]:
    item["kind"] = kind.kind
    item["apiVersion"] = kind.api_version
    # key order as kubectl writes it: apiVersion, kind, metadata, ...
    out = {"apiVersion": kind.api_version, "kind": kind.kind}
    out.update(item)
    _redact(out)
    return out


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def fetch_cluster(connection: Any, *, kinds: Sequence[LiveKind] = LIVE_KINDS, options: FetchOptions | None = None,
                  on_progress: Progress | None = None) -> ClusterFetch:
    """List every kind of ``kinds`` from the cluster of ``connection``.

    A forbidden list is retried per namespace (namespaced kinds) and whatever stays unreadable is named in
    ``incomplete`` (``roles (forbidden)``, ``roles in namespace x (forbidden)``). Raises ``ClusterError``
    when the server cannot be reached or rejects the credentials.
    """
    incomplete: list[str] = []
    objects: list[dict[str, Any]] = []
    total = len(kinds)
    with open_session(connection, options) as s:
        status, version = s.request("GET", "/version")
        _raise_unauthorized(status)
        cluster_version = version.get("gitVersion", "") if isinstance(version, dict) and status == 200 else ""
        cluster_version = cluster_version if isinstance(cluster_version, str) else ""
        captured_at = _now()
        namespaces: list[str] | None = None
        seen_namespaces: set[str] = set()
        for i, kind in enumerate(kinds):
            on_page = None
            if on_progress:
                on_progress(f"reading {kind.label}", i, total)

                def on_page(n: int, label: str = kind.label, i: int = i) -> None:
                    on_progress(f"reading {label} ({n})", i, total)
            try:
                items = s.get_list(kind, on_page=on_page)
            except _NotFound:
                logger.info("%s: not served by this cluster", kind.path())
                items = []
            except _Forbidden:
                items = _per_namespace(s, kind, namespaces, seen_namespaces, connection, incomplete)
            except _ListFailed as exc:
                logger.warning("%s: %s", kind.path(), exc)
                incomplete.append(f"{kind.label} (error: {exc})")
                items = []
            objects.extend(items)
            if kind.kind == "Namespace" and items:
                namespaces = sorted(str((o.get("metadata") or {}).get("name") or "") for o in items)
            for o in items:
                meta = o.get("metadata")
                if isinstance(meta, dict) and isinstance(meta.get("namespace"), str) and meta["namespace"]:
                    seen_namespaces.add(meta["namespace"])
        if on_progress:
            on_progress("reading cluster", total, total)
    return ClusterFetch(objects=tuple(objects), incomplete=tuple(incomplete),
                        context=str(getattr(connection, "context_name", "") or ""), server=s.server,
                        cluster_version=cluster_version, captured_at=captured_at)


def _raise_unauthorized(status: int) -> None:
    if status == 401:
        raise ClusterError("the API server rejected the credentials (401 Unauthorized)")


_MAX_NAMED_NAMESPACES = 20  # more forbidden namespaces than this for one kind: one entry names them all


def _per_namespace(s: ClusterSession, kind: LiveKind, namespaces: list[str] | None, seen: set[str],
                   connection: Any, incomplete: list[str]) -> list[dict[str, Any]]:
    if not kind.namespaced:
        incomplete.append(f"{kind.label} (forbidden)")
        return []
    candidates = list(namespaces) if namespaces is not None else sorted(
        seen | ({connection.namespace} if getattr(connection, "namespace", "") else set()))
    if not candidates:
        incomplete.append(f"{kind.label} (forbidden)")
        return []
    items: list[dict[str, Any]] = []
    forbidden: list[str] = []
    for ns in candidates:
        try:
            items.extend(s.get_list(kind, ns))
        except _NotFound:
            continue
        except _Forbidden:
            forbidden.append(ns)
        except _ListFailed as exc:
            incomplete.append(f"{kind.label} in namespace {ns} (error: {exc})")
    if forbidden and len(forbidden) == len(candidates) and namespaces is not None:
        incomplete.append(f"{kind.label} (forbidden)")
    elif len(forbidden) > _MAX_NAMED_NAMESPACES:
        incomplete.append(f"{kind.label} in {len(forbidden)} namespaces (forbidden): {', '.join(forbidden)}")
    else:
        incomplete.extend(f"{kind.label} in namespace {ns} (forbidden)" for ns in forbidden)
    if namespaces is None:
        # the namespace list itself was unreadable: other namespaces may hold more
        incomplete.append(f"{kind.label} in namespaces other than {', '.join(candidates)} (forbidden)")
    return items


def add_cluster_objects(ctx: ParseContext, fetched: ClusterFetch) -> None:
    """Parse fetched objects into ``ctx`` (no ``finish``: files may follow) and record what is missing."""
    src = fetched.source
    parse_objects(ctx, ((o, SourceRef(file=src, document=i + 1)) for i, o in enumerate(fetched.objects)))
    inv = ctx.inventory
    inv.files.append(src)
    for item in fetched.incomplete:
        if item not in inv.incomplete:
            inv.incomplete.append(item)
    inv.metadata.update({k: v for k, v in fetched.metadata().items() if k != "incomplete"})
    inv.metadata["source"] = src


def load_cluster(connection: Any, *, default_namespace: str = "default", options: FetchOptions | None = None,
                 on_progress: Progress | None = None) -> Inventory:
    """Fetch and parse a cluster into a finished Inventory (``incomplete`` says what could not be read)."""
    ctx = ParseContext(default_namespace=default_namespace)
    add_cluster_objects(ctx, fetch_cluster(connection, options=options, on_progress=on_progress))
    finish(ctx)
    return ctx.inventory


def self_subject_review(connection: Any, *, options: FetchOptions | None = None) -> UserInfo:
    """Who the API server says the credential of ``connection`` is (SelfSubjectReview, v1 then beta/alpha)."""
    with open_session(connection, options) as s:
        for version in ("v1", "v1beta1", "v1alpha1"):
            body = {"apiVersion": f"authentication.k8s.io/{version}", "kind": "SelfSubjectReview"}
            status, data = s.request("POST", f"/apis/authentication.k8s.io/{version}/selfsubjectreviews", body=body)
            if status == 404:
                continue
            _raise_unauthorized(status)
            if status == 403:
                raise ClusterError("the API server refused the SelfSubjectReview (403 Forbidden)")
            if not 200 <= status < 300:
                raise ClusterError(f"SelfSubjectReview failed: HTTP {status}")
            return _user_info(data)
    raise ClusterError("the API server does not serve SelfSubjectReview (it needs Kubernetes 1.27 or later)")


def _user_info(data: Any) -> UserInfo:
    status = data.get("status") if isinstance(data, dict) else None
    info = status.get("userInfo") if isinstance(status, dict) else None
    if not isinstance(info, dict):
        raise ClusterError("SelfSubjectReview: the answer has no status.userInfo")
    username = info.get("username") if isinstance(info.get("username"), str) else ""
    uid = info.get("uid") if isinstance(info.get("uid"), str) else ""
    groups = tuple(g for g in info.get("groups") or () if isinstance(g, str))
    extra_raw = info.get("extra") if isinstance(info.get("extra"), dict) else {}
    extra = {str(k): tuple(x for x in v if isinstance(x, str)) for k, v in extra_raw.items() if isinstance(v, list)}
    return UserInfo(username=username, groups=groups, uid=uid, extra=extra)
