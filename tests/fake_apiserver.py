"""A small HTTPS Kubernetes API server for tests: 127.0.0.1 only, client certificate required.

Serves list endpoints built from manifest files (``limit``/``continue`` honoured, items without
kind/apiVersion as the API writes them), ``/version``, SelfSubjectReview, configurable 403s and
transient failures (429/5xx with Retry-After: 0). Certificates are generated with ``cryptography``.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import ssl
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from analyzer.loaders.cluster import LIVE_KINDS


@dataclass
class Pem:
    cert: bytes
    key: bytes


def _name(cn: str, orgs: Iterable[str] = ()) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in orgs]
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(attrs)


def _issue(subject: x509.Name, key: Any, issuer: x509.Name, issuer_key: Any, *, ca: bool = False,
           server: bool = False) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    b = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(key.public_key())
         .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
         .not_valid_after(now + datetime.timedelta(days=1))
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if server:
        b = b.add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                         x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                            critical=False)
        b = b.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    elif not ca:
        b = b.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
    return b.sign(issuer_key, hashes.SHA256())


def _pem(cert: x509.Certificate, key: Any) -> Pem:
    return Pem(cert=cert.public_bytes(serialization.Encoding.PEM),
               key=key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption()))


@dataclass
class FakePKI:
    ca: Pem
    server: Pem
    client: Pem  # CN=alice, O=dev
    stranger: Pem  # signed by another CA

    @classmethod
    def generate(cls) -> FakePKI:
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = _name("fake-apiserver-test-ca")
        ca = _issue(ca_name, ca_key, ca_name, ca_key, ca=True)
        srv_key = ec.generate_private_key(ec.SECP256R1())
        srv = _issue(_name("kube-apiserver"), srv_key, ca_name, ca_key, server=True)
        cli_key = ec.generate_private_key(ec.SECP256R1())
        cli = _issue(_name("alice", ["dev"]), cli_key, ca_name, ca_key)
        other_key = ec.generate_private_key(ec.SECP256R1())
        other_name = _name("other-ca")
        str_key = ec.generate_private_key(ec.SECP256R1())
        stranger = _issue(_name("mallory", ["system:masters"]), str_key, other_name, other_key)
        return cls(ca=_pem(ca, ca_key), server=_pem(srv, srv_key), client=_pem(cli, cli_key),
                   stranger=_pem(stranger, str_key))


def read_objects(directory: Path) -> list[dict[str, Any]]:
    """Every object of the manifest files in ``directory`` (List items flattened)."""
    out: list[dict[str, Any]] = []
    for f in sorted(directory.glob("*.yaml")):
        for doc in yaml.safe_load_all(f.read_text()):
            if not isinstance(doc, dict):
                continue
            out.extend(doc["items"] if doc.get("kind") == "List" else [doc])
    return out


@dataclass
class Behaviour:
    forbidden: set[str] = field(default_factory=set)  # paths answered 403
    transient: dict[str, list[int]] = field(default_factory=dict)  # path → statuses to answer first
    tokens: set[str] = field(default_factory=set)  # bearer tokens accepted (others: 401); empty = no check
    git_version: str = "v1.30.2"
    ssr_user: dict[str, Any] | None = None  # SelfSubjectReview answer instead of the client certificate's
    raw: dict[str, bytes] = field(default_factory=dict)  # path → a 200 answer sent as is (hostile servers)


class FakeAPIServer:
    """``with FakeAPIServer(objects, pki) as srv: srv.url``; ``srv.requests`` records what was asked."""

    def __init__(self, objects: list[dict[str, Any]], pki: FakePKI, behaviour: Behaviour | None = None,
                 tmpdir: Path | None = None) -> None:
        self.pki = pki
        self.behaviour = behaviour or Behaviour()
        self.requests: list[dict[str, Any]] = []
        self.lists: dict[str, list[dict[str, Any]]] = {}
        self._tmp = tmpdir
        for k in LIVE_KINDS:
            self.lists[k.path()] = []
        namespaces = {o["metadata"]["name"] for o in objects if o.get("kind") == "Namespace"}
        for k in LIVE_KINDS:
            if k.namespaced:
                for ns in namespaces:
                    self.lists[k.path(ns)] = []
        for o in objects:
            kind = next((k for k in LIVE_KINDS if k.kind == o.get("kind")), None)
            if kind is None:
                continue
            item = json.loads(json.dumps(o))
            item.pop("kind", None)
            item.pop("apiVersion", None)
            meta = item.setdefault("metadata", {})
            meta.setdefault("uid", f"uid-{len(self.requests)}-{meta.get('name')}")
            meta["managedFields"] = [{"manager": "kubectl", "operation": "Apply"}]
            self.lists[kind.path()].append(item)
            if kind.namespaced:
                ns = meta.setdefault("namespace", "default")
                self.lists.setdefault(kind.path(ns), []).append(item)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"https://127.0.0.1:{self._server.server_address[1]}"

    def paths_requested(self, path: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["path"] == path]

    def __enter__(self) -> FakeAPIServer:
        assert self._tmp is not None
        for name, data in (("ca.crt", self.pki.ca.cert), ("server.crt", self.pki.server.cert),
                           ("server.key", self.pki.server.key)):
            (self._tmp / name).write_bytes(data)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self._tmp / "server.crt", self._tmp / "server.key")
        ctx.load_verify_locations(self._tmp / "ca.crt")
        ctx.verify_mode = ssl.CERT_REQUIRED  # like an API server that authenticates by client certificate
        owner = self

        class Handler(_Handler):
            server_owner = owner

        srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        srv.daemon_threads = True
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
        self._server = srv
        self._thread = threading.Thread(target=srv.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()


class _Handler(BaseHTTPRequestHandler):
    server_owner: FakeAPIServer
    protocol_version = "HTTP/1.1"
    wbufsize = -1  # one write per response: headers and body in separate segments meet delayed ACKs (40 ms)

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _status(self, code: int, reason: str, message: str, headers: dict[str, str] | None = None) -> None:
        self._send(code, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": reason,
                          "message": message, "code": code}, headers)

    def _peer(self) -> tuple[str, list[str]]:
        cert = self.connection.getpeercert() or {}
        cn, orgs = "", []
        for rdn in cert.get("subject", ()):
            for key, value in rdn:
                if key == "commonName":
                    cn = value
                elif key == "organizationName":
                    orgs.append(value)
        return cn, orgs

    def _record(self) -> tuple[str, dict[str, list[str]]] | None:
        owner = self.server_owner
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        owner.requests.append({"method": self.command, "path": parts.path, "query": query,
                               "authorization": self.headers.get("Authorization"),
                               "impersonate_user": self.headers.get("Impersonate-User"),
                               "impersonate_groups": self.headers.get_all("Impersonate-Group") or []})
        tokens = owner.behaviour.tokens
        auth = self.headers.get("Authorization")
        if tokens and auth is not None and auth.removeprefix("Bearer ") not in tokens:
            self._status(401, "Unauthorized", "Unauthorized")
            return None
        pending = owner.behaviour.transient.get(parts.path)
        if pending:
            code = pending.pop(0)
            self._status(code, "TooManyRequests" if code == 429 else "InternalError", "try again",
                         {"Retry-After": "0"})
            return None
        return parts.path, query

    def do_GET(self) -> None:  # noqa: N802 (http.server naming)
        got = self._record()
        if got is None:
            return
        path, query = got
        owner = self.server_owner
        if path == "/version":
            self._send(200, {"major": "1", "minor": "30", "gitVersion": owner.behaviour.git_version})
            return
        if path in owner.behaviour.raw:
            data = owner.behaviour.raw[path]
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        if path in owner.behaviour.forbidden:
            cn, _ = self._peer()
            self._status(403, "Forbidden", f'User "{cn}" cannot list this resource')
            return
        items = owner.lists.get(path)
        if items is None:
            self._status(404, "NotFound", "the server could not find the requested resource")
            return
        limit = int(query.get("limit", ["0"])[0] or 0)
        start = int(query.get("continue", ["0"])[0] or 0)
        page = items[start:start + limit] if limit else items[start:]
        meta: dict[str, Any] = {"resourceVersion": "12345"}
        if limit and start + limit < len(items):
            meta["continue"] = str(start + limit)
            meta["remainingItemCount"] = len(items) - start - limit
        self._send(200, {"kind": "List", "apiVersion": "v1", "metadata": meta, "items": page})

    def do_POST(self) -> None:  # noqa: N802
        got = self._record()
        if got is None:
            return
        path, _ = got
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        if path != "/apis/authentication.k8s.io/v1/selfsubjectreviews" or body.get("kind") != "SelfSubjectReview":
            self._status(404, "NotFound", "not found")
            return
        cn, orgs = self._peer()
        user, groups = cn, [*orgs, "system:authenticated"]
        if self.headers.get("Impersonate-User"):
            user = self.headers["Impersonate-User"]
            groups = [*(self.headers.get_all("Impersonate-Group") or []), "system:authenticated"]
        body["status"] = {"userInfo": self.server_owner.behaviour.ssr_user or {"username": user, "groups": groups}}
        self._send(201, body)
