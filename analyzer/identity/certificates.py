"""X.509 client certificates as the API server's x509 authenticator sees them (RBAC-SEMANTICS §7.4).

CN → username (the last CN, as Go's pkix does), each O → a group in order, ``system:authenticated`` added,
the credential id ``X509SHA256=<hex>`` as an extra. The certificate must chain to the client CA, be inside
its validity window and allow client authentication (clientAuth or anyExtendedKeyUsage, or no EKU at all);
otherwise the server rejects it, and we still show the identity it maps to.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ..errors import IdentityError
from ..model import UserInfo
from ..semantics import authenticated_user

__all__ = ["CertificateCheck", "load_certificates", "check_client_certificate", "key_matches_certificate",
           "CREDENTIAL_ID_KEY"]

CREDENTIAL_ID_KEY = "authentication.kubernetes.io/credential-id"
_MAX_CHAIN = 8


@dataclass(frozen=True, kw_only=True)
class CertificateCheck:
    """What the x509 authenticator would make of one client certificate (no key material inside)."""

    user: UserInfo | None  # None: no CN, the certificate does not authenticate anyone
    accepted: bool
    rejected_because: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()
    facts: tuple[tuple[str, str], ...] = ()
    fingerprint: str = ""
    not_after: datetime | None = field(default=None, compare=False)


def load_certificates(data: bytes, what: str) -> list[x509.Certificate]:
    """Every certificate in PEM data (or one DER certificate); ``IdentityError`` when there is none."""
    try:
        if b"-----BEGIN" in data:
            certs = x509.load_pem_x509_certificates(data)
        else:
            certs = [x509.load_der_x509_certificate(data)]
    except ValueError:
        raise IdentityError(f"{what}: not a PEM or DER X.509 certificate") from None
    if not certs:
        raise IdentityError(f"{what}: no certificate found")
    return certs


def _when(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    if cert.issuer != issuer.subject:
        return False
    try:
        cert.verify_directly_issued_by(issuer)
        return True
    except (InvalidSignature, ValueError, TypeError, UnsupportedAlgorithm):
        return False


def _chains_to(leaf: x509.Certificate, intermediates: list[x509.Certificate],
               roots: list[x509.Certificate]) -> bool:
    current = leaf
    for _ in range(_MAX_CHAIN):
        if any(_issued_by(current, r) for r in roots):
            return True
        nxt = next((i for i in intermediates if i is not current and _issued_by(current, i)), None)
        if nxt is None:
            return False
        current = nxt
    return False


def _name_values(name: x509.Name, oid: x509.ObjectIdentifier) -> list[str]:
    return [str(a.value) for a in name.get_attributes_for_oid(oid)]


def check_client_certificate(cert_data: bytes, *, client_ca: bytes | None, ca_is_assumption: bool,
                             now: datetime | None = None, what: str = "client certificate") -> CertificateCheck:
    """Authenticate a client certificate offline.

    ``client_ca``: the API server's ``--client-ca-file`` (or the kubeconfig's CA when ``ca_is_assumption``);
    None: the chain cannot be checked, which is said in a warning.
    """
    now = now or datetime.now(UTC)
    chain = load_certificates(cert_data, what)
    leaf, intermediates = chain[0], chain[1:]
    der = leaf.public_bytes(serialization.Encoding.DER)
    digest = hashlib.sha256(der).hexdigest()
    rejected: list[str] = []
    warnings: list[str] = []
    problems: list[str] = []
    facts: list[tuple[str, str]] = [
        ("subject", leaf.subject.rfc4514_string()),
        ("issuer", leaf.issuer.rfc4514_string()),
        ("valid from", _when(leaf.not_valid_before_utc)),
        ("valid until", _when(leaf.not_valid_after_utc)),
        ("serial", format(leaf.serial_number, "x")),
    ]

    # Validity window.
    if now < leaf.not_valid_before_utc:
        rejected.append(f"certificate not yet valid: valid from {_when(leaf.not_valid_before_utc)}")
        problems.append("not-yet-valid")
    elif now > leaf.not_valid_after_utc:
        rejected.append(f"certificate expired on {_when(leaf.not_valid_after_utc)}")
        problems.append("expired")

    # Extended key usage: none at all, clientAuth or anyExtendedKeyUsage.
    try:
        eku = list(leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
    except x509.ExtensionNotFound:
        eku = None
    if eku is None:
        facts.append(("extended key usage", "none (any usage allowed)"))
    else:
        names = [getattr(u, "_name", None) or u.dotted_string for u in eku]
        facts.append(("extended key usage", ", ".join(names)))
        if ExtendedKeyUsageOID.CLIENT_AUTH not in eku and ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE not in eku:
            rejected.append("extended key usage does not allow client authentication "
                            f"({', '.join(names)}; clientAuth needed)")
            problems.append("wrong-key-usage")

    # Signed by the client CA?
    if client_ca is None:
        warnings.append("no client CA known (give --client-ca, the API server's --client-ca-file): "
                        "the certificate's signature was not checked; assuming it is trusted")
        facts.append(("signed by client CA", "not checked"))
    else:
        roots = load_certificates(client_ca, "client CA")
        ok = _chains_to(leaf, intermediates, roots)
        label = "the kubeconfig's certificate-authority" if ca_is_assumption else "--client-ca"
        facts.append(("signed by client CA", ("yes" if ok else "no") + f" ({label})"))
        if ca_is_assumption:
            warnings.append("assuming the API server's --client-ca-file is the kubeconfig's certificate-authority "
                            "(give --client-ca to check against the real one)")
        if not ok:
            rejected.append(f"not signed by the client CA ({label}; issuer {leaf.issuer.rfc4514_string()})")
            problems.append("untrusted-ca")

    cns = _name_values(leaf.subject, NameOID.COMMON_NAME)
    user: UserInfo | None = None
    if not cns or not cns[-1]:
        rejected.append("certificate has no Common Name: the x509 authenticator does not authenticate it")
        problems.append("no-cn")
    else:
        user = authenticated_user(cns[-1], _name_values(leaf.subject, NameOID.ORGANIZATION_NAME),
                                  extra={CREDENTIAL_ID_KEY: [f"X509SHA256={digest}"]})
    return CertificateCheck(user=user, accepted=not rejected, rejected_because=tuple(rejected),
                            warnings=tuple(warnings), problems=tuple(problems), facts=tuple(facts),
                            fingerprint=f"sha256:{digest}", not_after=leaf.not_valid_after_utc)


def key_matches_certificate(cert_data: bytes, key_data: bytes) -> bool | None:
    """Whether the private key belongs to the certificate; None when the key cannot be read (e.g. encrypted)."""
    try:
        cert = load_certificates(cert_data, "client certificate")[0]
        key = serialization.load_pem_private_key(key_data, password=None)
    except (IdentityError, ValueError, TypeError, UnsupportedAlgorithm):
        return None
    fmt = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return key.public_key().public_bytes(*fmt) == cert.public_key().public_bytes(*fmt)
