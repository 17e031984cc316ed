"""Throw-away test PKI, tokens and kubeconfigs, generated with cryptography and PyJWT (nothing committed)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jwt
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# Fixed instants: library calls get now=NOW; CLI tests use certificates valid far around today.
NOW = datetime(2030, 6, 1, tzinfo=UTC)
LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)
FAR_AHEAD = datetime(2090, 1, 1, tzinfo=UTC)

_RSA = rsa.generate_private_key(public_exponent=65537, key_size=2048)  # shared across tests: key gen is slow


def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def pem_cert(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def pem_key(key: Any) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def pem_public(key: Any) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


def name(cn: str | None = None, orgs: tuple[str, ...] = ()) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in orgs]
    if cn is not None:
        attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(attrs)


class CA:
    """A certificate authority that issues client certificates."""

    def __init__(self, cn: str = "test-ca", *, issuer: CA | None = None) -> None:
        self.key = ec_key()
        subject = name(cn)
        signer_key = issuer.key if issuer else self.key
        signer_name = issuer.cert.subject if issuer else subject
        self.cert = (
            x509.CertificateBuilder().subject_name(subject).issuer_name(signer_name)
            .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(LONG_AGO).not_valid_after(FAR_AHEAD)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(signer_key, hashes.SHA256())
        )

    @property
    def pem(self) -> bytes:
        return pem_cert(self.cert)

    def issue(self, cn: str | None, orgs: tuple[str, ...] = (), *, not_before: datetime = LONG_AGO,
              not_after: datetime = FAR_AHEAD, eku: tuple[x509.ObjectIdentifier, ...] | None = (
                  ExtendedKeyUsageOID.CLIENT_AUTH,), key: Any = None) -> tuple[bytes, bytes]:
        """(certificate PEM, key PEM)."""
        key = key or ec_key()
        b = (x509.CertificateBuilder().subject_name(name(cn, orgs)).issuer_name(self.cert.subject)
             .public_key(key.public_key()).serial_number(x509.random_serial_number())
             .not_valid_before(not_before).not_valid_after(not_after))
        if eku is not None:
            b = b.add_extension(x509.ExtendedKeyUsage(list(eku)), critical=False)
        return pem_cert(b.sign(self.key, hashes.SHA256())), pem_key(key)


def rsa_key() -> rsa.RSAPrivateKey:
    return _RSA


def sign_jwt(claims: dict[str, Any], key: Any = None, *, kid: str = "test-kid", alg: str = "RS256") -> str:
    if alg == "none":
        head = base64.urlsafe_b64encode(json.dumps({"alg": "none", "typ": "JWT"}).encode()).rstrip(b"=")
        body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=")
        return f"{head.decode()}.{body.decode()}."
    return jwt.encode(claims, key or _RSA, algorithm=alg, headers={"kid": kid})


def jwks(key: Any = None, kid: str = "test-kid") -> dict[str, Any]:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk((key or _RSA).public_key()))
    jwk.update({"kid": kid, "use": "sig", "alg": "RS256"})
    return {"keys": [jwk]}


def ts(t: datetime) -> int:
    return int(t.timestamp())


def legacy_sa_claims(ns: str = "ci", sa: str = "builder", uid: str = "uid-1") -> dict[str, Any]:
    return {
        "iss": "kubernetes/serviceaccount",
        "kubernetes.io/serviceaccount/namespace": ns,
        "kubernetes.io/serviceaccount/secret.name": f"{sa}-token-abcde",
        "kubernetes.io/serviceaccount/service-account.name": sa,
        "kubernetes.io/serviceaccount/service-account.uid": uid,
        "sub": f"system:serviceaccount:{ns}:{sa}",
    }


def bound_sa_claims(ns: str = "payments", sa: str = "api", *, exp: datetime = FAR_AHEAD, pod: bool = True,
                    node: bool = True, jti: str = "jti-1") -> dict[str, Any]:
    k8s: dict[str, Any] = {"namespace": ns, "serviceaccount": {"name": sa, "uid": "sa-uid"}}
    if pod:
        k8s["pod"] = {"name": "api-0", "uid": "pod-uid"}
    if node:
        k8s["node"] = {"name": "worker-1", "uid": "node-uid"}
    return {"aud": ["https://kubernetes.default.svc"], "exp": ts(exp), "iat": ts(LONG_AGO), "nbf": ts(LONG_AGO),
            "iss": "https://kubernetes.default.svc", "jti": jti, "kubernetes.io": k8s,
            "sub": f"system:serviceaccount:{ns}:{sa}"}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def write_kubeconfig(path: Path, *, users: dict[str, dict[str, Any]], contexts: dict[str, tuple[str, str]],
                     clusters: dict[str, dict[str, Any]] | None = None, current: str | None = None,
                     namespaces: dict[str, str] | None = None) -> Path:
    """Write a kubeconfig: contexts map name → (cluster, user)."""
    clusters = clusters if clusters is not None else {"test": {"server": "https://test.example.invalid:6443"}}
    doc: dict[str, Any] = {
        "apiVersion": "v1", "kind": "Config",
        "clusters": [{"name": n, "cluster": c} for n, c in clusters.items()],
        "users": [{"name": n, "user": u} for n, u in users.items()],
        "contexts": [{"name": n, "context": {"cluster": c, "user": u,
                                             **({"namespace": namespaces[n]} if namespaces and n in namespaces
                                                else {})}}
                     for n, (c, u) in contexts.items()],
    }
    if current is not None:
        doc["current-context"] = current
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path
