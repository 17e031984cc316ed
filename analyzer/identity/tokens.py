"""Bearer tokens as the API server's token authenticators see them, in their order (RBAC-SEMANTICS §7.3).

Static token file (``--token-auth-file``) → service-account JWTs (legacy and bound) → bootstrap tokens → OIDC
ID tokens (only with the server's ``--oidc-*`` options) → anything else cannot be decided offline.
Signatures are checked only with ``--verify-with`` keys; otherwise that is said, and assumed valid.
"""

from __future__ import annotations

import base64
import binascii
import csv
import hashlib
import io
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import jwt
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization

from ..errors import IdentityError
from ..model import UserInfo
from ..semantics import SA_PREFIX, authenticated_user, sa_user_info

__all__ = ["TokenOptions", "TokenCheck", "check_token", "load_verify_keys", "load_token_auth_file",
           "token_fingerprint", "LEGACY_ISSUER"]

LEGACY_ISSUER = "kubernetes/serviceaccount"
_LEGACY = "kubernetes.io/serviceaccount/"
_MAX_TOKEN = 64 * 1024
_BOOTSTRAP = re.compile(r"^([a-z0-9]{6})\.([a-z0-9]{16})$")


@dataclass(frozen=True, kw_only=True)
class StaticToken:
    user: str
    uid: str
    groups: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class TokenOptions:
    """The API server's token authentication settings, as far as we know them (flags of ``whoami``)."""

    verify_keys: tuple[tuple[str, Any], ...] = ()  # (label, public key or PyJWK)
    oidc_issuer_url: str = ""
    oidc_client_id: str = ""
    oidc_username_claim: str = ""
    oidc_username_prefix: str | None = None
    oidc_groups_claim: str = ""
    oidc_groups_prefix: str = ""
    # sha256(token) → entry: the file's tokens are never kept in clear.
    static_tokens: Mapping[str, StaticToken] = field(default_factory=dict, repr=False)
    static_tokens_source: str = ""

    @property
    def oidc_configured(self) -> bool:
        return bool(self.oidc_username_claim or self.oidc_issuer_url)


@dataclass(frozen=True, kw_only=True)
class TokenCheck:
    """What the token authenticators would make of one token (no token inside)."""

    credential_type: str
    resolvable: bool
    accepted: bool
    user: UserInfo | None = None
    rejected_because: tuple[str, ...] = ()
    unresolvable_reason: str = ""
    warnings: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()
    facts: tuple[tuple[str, str], ...] = ()
    fingerprint: str = ""


def token_fingerprint(token: str) -> str:
    """``sha256:<first 16 hex>`` of the token: enough to tell tokens apart, useless to an attacker."""
    return "sha256:" + hashlib.sha256(token.encode()).hexdigest()[:16]


def _b64json(segment: str) -> Any:
    pad = "=" * (-len(segment) % 4)
    raw = base64.urlsafe_b64decode(segment + pad)
    return json.loads(raw.decode("utf-8"))


def _split_jwt(token: str) -> tuple[dict[str, Any], dict[str, Any], str] | None:
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        header, payload = _b64json(parts[0]), _b64json(parts[1])
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError):
        return None
    if not isinstance(header, dict) or not isinstance(payload, dict):
        return None
    return header, payload, parts[2]


def _when(ts: Any) -> str:
    try:
        return datetime.fromtimestamp(float(ts), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (TypeError, ValueError, OverflowError, OSError):
        return str(ts)


def _num(v: Any) -> float | None:
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None


# -- server settings ---------------------------------------------------------------------------------------
def load_verify_keys(paths: Sequence[str]) -> tuple[tuple[str, Any], ...]:
    """Public keys to verify JWT signatures: PEM public keys, certificates, private keys (their public half)
    or JWKS documents (``{"keys": [...]}``)."""
    keys: list[tuple[str, Any]] = []
    for path in paths:
        try:
            with open(path, "rb") as fh:
                data = fh.read(4 * 1024 * 1024)
        except OSError as exc:
            raise IdentityError(f"--verify-with: cannot read {path}: {exc.strerror or exc}") from None
        text = data.strip()
        if text.startswith(b"{"):
            try:
                jwks = jwt.PyJWKSet.from_dict(json.loads(text))
            except (ValueError, RecursionError, jwt.PyJWTError) as exc:
                raise IdentityError(f"--verify-with {path}: not a usable JWKS ({exc})") from None
            keys.extend((f"{path}#{k.key_id or i}", k) for i, k in enumerate(jwks.keys))
            continue
        try:
            if b"CERTIFICATE" in text:
                keys.append((path, x509.load_pem_x509_certificate(text).public_key()))
            elif b"PRIVATE KEY" in text:
                keys.append((path, serialization.load_pem_private_key(text, password=None).public_key()))
            else:
                keys.append((path, serialization.load_pem_public_key(text)))
        except (ValueError, TypeError, UnsupportedAlgorithm):
            raise IdentityError(f"--verify-with {path}: not a PEM public key, certificate or JWKS") from None
    return tuple(keys)


def load_token_auth_file(path: str) -> dict[str, StaticToken]:
    """The API server's ``--token-auth-file``: CSV ``token,user,uid,"group1,group2"``."""
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read(16 * 1024 * 1024)
    except (OSError, UnicodeDecodeError) as exc:
        raise IdentityError(f"--token-auth-file: cannot read {path}: {getattr(exc, 'strerror', None) or exc}") \
            from None
    out: dict[str, StaticToken] = {}
    for n, record in enumerate(csv.reader(io.StringIO(text), skipinitialspace=True), start=1):
        if not record or (len(record) == 1 and not record[0].strip()):
            continue
        if len(record) < 3:
            raise IdentityError(f"--token-auth-file {path}: line {n}: needs at least token,user,uid")
        token = record[0].strip()
        groups = tuple(g.strip() for g in record[3].split(",") if g.strip()) if len(record) > 3 else ()
        out[hashlib.sha256(token.encode()).hexdigest()] = StaticToken(user=record[1], uid=record[2], groups=groups)
    return out


# -- the check -------------------------------------------------------------------------------------------
def check_token(token: str, options: TokenOptions | None = None, *, now: datetime | None = None) -> TokenCheck:
    """Authenticate a bearer token offline, trying the authenticators in the API server's order."""
    options = options or TokenOptions()
    now = now or datetime.now(UTC)
    token = token.strip()
    fp = token_fingerprint(token)
    if not token:
        raise IdentityError("the token is empty")
    if len(token) > _MAX_TOKEN:
        raise IdentityError(f"the token is longer than {_MAX_TOKEN} bytes, refused")

    static = options.static_tokens.get(hashlib.sha256(token.encode()).hexdigest()) if options.static_tokens else None
    if static is not None:
        return TokenCheck(credential_type="static-token", resolvable=True, accepted=True,
                          user=authenticated_user(static.user, static.groups, static.uid),
                          facts=(("token file", options.static_tokens_source),), fingerprint=fp)

    parsed = _split_jwt(token)
    if parsed is None:
        return _opaque(token, options, fp)
    header, claims, signature = parsed
    facts: list[tuple[str, str]] = [("algorithm", str(header.get("alg", "?")))]
    if header.get("kid"):
        facts.append(("key id", str(header["kid"])))
    for claim in ("iss", "sub", "aud"):
        if claim in claims:
            v = claims[claim]
            facts.append((claim, ", ".join(map(str, v)) if isinstance(v, list) else str(v)))
    for claim in ("iat", "nbf", "exp"):
        if claim in claims:
            facts.append((claim, _when(claims[claim])))

    if claims.get("iss") == LEGACY_ISSUER or any(k.startswith(_LEGACY) for k in claims):
        kind, user, rejected, warnings, problems = _legacy_sa(claims)
    elif isinstance(claims.get("kubernetes.io"), Mapping):
        kind, user, rejected, warnings, problems = _bound_sa(claims, facts)
    elif options.oidc_configured:
        kind, user, rejected, warnings, problems = _oidc(claims, options)
    else:
        iss = claims.get("iss", "?")
        return TokenCheck(
            credential_type="oidc-token", resolvable=False, accepted=False, fingerprint=fp, facts=tuple(facts),
            unresolvable_reason=(f"a JWT from issuer {iss!r} that is not a service-account token: its username and "
                                 "groups depend on the API server's OIDC settings (give --oidc-username-claim, "
                                 "--oidc-username-prefix, --oidc-groups-claim, --oidc-groups-prefix) or on a "
                                 "webhook authenticator"))

    # Checks every JWT authenticator makes.
    alg = str(header.get("alg", ""))
    if alg.lower() == "none" or not signature:
        rejected.insert(0, "unsigned token (alg: none / no signature): every authenticator refuses it")
        problems.append("unsigned")
    exp, nbf = _num(claims.get("exp")), _num(claims.get("nbf"))
    for claim in ("exp", "nbf"):
        if claim in claims and _num(claims[claim]) is None:
            rejected.append(f"{claim} is not a number: the token is malformed")
            problems.append("malformed")
    if exp is not None and now.timestamp() >= exp:
        rejected.append(f"token expired at {_when(exp)}")
        problems.append("expired")
    if nbf is not None and now.timestamp() < nbf:
        rejected.append(f"token not valid before {_when(nbf)}")
        problems.append("not-yet-valid")
    if kind == "oidc-token" and exp is None:
        rejected.append("OIDC ID token without exp: the OIDC authenticator refuses it")
    if "unsigned" not in problems:
        verified = _verify(token, alg, options.verify_keys)
        if verified is None and options.verify_keys:
            warnings.append(f"none of the --verify-with keys has this token's key id {header.get('kid')!r}: "
                            "signature not checked; assuming it is valid")
            facts.append(("signature", "not checked"))
        elif verified is None:
            warnings.append("signature not verified offline (give --verify-with the signing public key or the "
                            "issuer's JWKS); assuming it is valid")
            facts.append(("signature", "not checked"))
        elif verified:
            facts.append(("signature", f"verified with {verified}"))
        else:
            rejected.append("signature does not verify with the --verify-with key(s)")
            problems.append("bad-signature")
            facts.append(("signature", "INVALID"))
    return TokenCheck(credential_type=kind, resolvable=True, accepted=not rejected, user=user,
                      rejected_because=tuple(rejected), warnings=tuple(warnings), problems=tuple(problems),
                      facts=tuple(facts), fingerprint=fp)


_Result = tuple[str, UserInfo | None, list[str], list[str], list[str]]


def _legacy_sa(claims: Mapping[str, Any]) -> _Result:
    ns = claims.get(_LEGACY + "namespace")
    name = claims.get(_LEGACY + "service-account.name")
    uid = claims.get(_LEGACY + "service-account.uid")
    secret = claims.get(_LEGACY + "secret.name")
    rejected: list[str] = []
    missing = [k for k, v in (("namespace", ns), ("service-account.name", name), ("service-account.uid", uid),
                              ("secret.name", secret)) if not isinstance(v, str) or not v]
    if missing:
        rejected.append(f"legacy service-account token without {', '.join(missing)} claim(s)")
    warnings = [f"legacy Secret-based token: valid only while Secret {ns}/{secret} exists (and the ServiceAccount "
                "with that uid); unused legacy tokens are invalidated by newer API servers"]
    if not (isinstance(ns, str) and ns and isinstance(name, str) and name):
        return "serviceaccount-token-legacy", None, rejected, warnings, ["legacy-token"]
    user = sa_user_info(ns, name, uid if isinstance(uid, str) else "")
    sub = claims.get("sub")
    if sub != user.username:
        rejected.append(f"sub {sub!r} does not name the service account {user.username}")
    return ("serviceaccount-token-legacy", authenticated_user(user.username, user.groups, user.uid, user.extra),
            rejected, warnings, ["legacy-token"])


def _ref(obj: Any) -> tuple[str, str]:
    if not isinstance(obj, Mapping):
        return "", ""
    return str(obj.get("name") or ""), str(obj.get("uid") or "")


def _bound_sa(claims: Mapping[str, Any], facts: list[tuple[str, str]]) -> _Result:
    k8s = claims["kubernetes.io"]
    ns = k8s.get("namespace")
    sa_name, sa_uid = _ref(k8s.get("serviceaccount"))
    pod_name, pod_uid = _ref(k8s.get("pod"))
    node_name, node_uid = _ref(k8s.get("node"))
    secret_name, _ = _ref(k8s.get("secret"))
    rejected: list[str] = []
    warnings: list[str] = []
    if not isinstance(ns, str) or not ns or not sa_name:
        rejected.append("service-account token without kubernetes.io namespace / serviceaccount name")
        return "serviceaccount-token", None, rejected, warnings, []
    jti = claims.get("jti")
    base = sa_user_info(ns, sa_name, sa_uid, pod_name=pod_name, pod_uid=pod_uid, node_name=node_name,
                        node_uid=node_uid, credential_id=f"JTI={jti}" if isinstance(jti, str) and jti else "")
    sub = claims.get("sub")
    if sub != base.username:
        rejected.append(f"sub {sub!r} does not name the service account {base.username}")
    if "exp" not in claims:
        rejected.append("bound service-account token without exp")
    bound = []
    if pod_name:
        bound.append(f"pod {ns}/{pod_name}")
    if node_name:
        bound.append(f"node {node_name}")
    if secret_name:
        bound.append(f"secret {ns}/{secret_name}")
    aud = claims.get("aud")
    warnings.append(f"assuming issuer {claims.get('iss')!r} and audience "
                    f"{', '.join(map(str, aud)) if isinstance(aud, list) else aud!r} are the API server's "
                    "--service-account-issuer and --api-audiences")
    if bound:
        facts.append(("bound to", ", ".join(bound)))
        warnings.append(f"valid only while the bound object(s) exist with the uid in the token: {', '.join(bound)}")
    return ("serviceaccount-token", authenticated_user(base.username, base.groups, base.uid, base.extra),
            rejected, warnings, [])


def _oidc(claims: Mapping[str, Any], o: TokenOptions) -> _Result:
    rejected: list[str] = []
    warnings: list[str] = []
    iss = claims.get("iss")
    if o.oidc_issuer_url and iss != o.oidc_issuer_url:
        rejected.append(f"issuer {iss!r} is not the API server's --oidc-issuer-url {o.oidc_issuer_url!r}")
    if o.oidc_client_id:
        aud = claims.get("aud")
        auds = aud if isinstance(aud, list) else [aud]
        if o.oidc_client_id not in auds:
            rejected.append(f"audience {aud!r} does not include --oidc-client-id {o.oidc_client_id!r}")
    claim = o.oidc_username_claim or "sub"
    value = claims.get(claim)
    if not isinstance(value, str) or not value:
        rejected.append(f"username claim {claim!r} is missing or not a string")
        return "oidc-token", None, rejected, warnings, []
    if claim == "email" and "email_verified" in claims and claims.get("email_verified") is not True:
        rejected.append("email_verified is false: the OIDC authenticator refuses an unverified email as username")
    prefix = o.oidc_username_prefix
    if prefix is None:
        # kube-apiserver's default: "<issuer>#" unless the claim is email.
        prefix = "" if claim == "email" else f"{o.oidc_issuer_url or iss}#"
    elif prefix == "-":
        prefix = ""
    groups: list[str] = []
    if o.oidc_groups_claim:
        raw = claims.get(o.oidc_groups_claim)
        if isinstance(raw, str):
            groups = [raw]
        elif isinstance(raw, list) and all(isinstance(g, str) for g in raw):
            groups = list(raw)
        elif raw is not None:
            rejected.append(f"groups claim {o.oidc_groups_claim!r} is not a string or a list of strings")
        groups = [o.oidc_groups_prefix + g for g in groups]
    username = prefix + value
    if username.startswith("system:") or any(g.startswith("system:") for g in groups):
        warnings.append("OIDC usernames and groups with the system: prefix are refused by newer API servers "
                        "when set through the structured authentication configuration")
    if username.startswith(SA_PREFIX):
        warnings.append("an OIDC username that looks like a service account: RBAC treats it as that service account")
    return "oidc-token", authenticated_user(username, groups), rejected, warnings, []


def _opaque(token: str, o: TokenOptions, fp: str) -> TokenCheck:
    m = _BOOTSTRAP.match(token)
    if m:
        tid = m.group(1)
        return TokenCheck(
            credential_type="bootstrap-token", resolvable=True, accepted=True, fingerprint=fp,
            user=authenticated_user(f"system:bootstrap:{tid}", ["system:bootstrappers"]),
            facts=(("token id", tid),),
            warnings=(f"accepted only when the bootstrap authenticator is enabled and Secret kube-system/"
                      f"bootstrap-token-{tid} exists; its auth-extra-groups (not visible offline) add groups",))
    where = (f"it is not in --token-auth-file {o.static_tokens_source}" if o.static_tokens
             else "give the API server's --token-auth-file to resolve static tokens")
    return TokenCheck(credential_type="token", resolvable=False, accepted=False, fingerprint=fp,
                      unresolvable_reason=f"an opaque bearer token: {where}; otherwise only the cluster (a webhook "
                                          "or cloud authenticator) knows who it is")


def _kid(token: str) -> str:
    try:
        return str(jwt.get_unverified_header(token).get("kid") or "")
    except jwt.PyJWTError:
        return ""


def _verify(token: str, alg: str, keys: Sequence[tuple[str, Any]]) -> str | bool | None:
    """Label of the key that verifies the signature; False when none does; None when there are no keys."""
    if not keys:
        return None
    kid = _kid(token)
    with_kid = [k for _, k in keys if isinstance(k, jwt.PyJWK) and k.key_id]
    if kid and with_kid and len(with_kid) == len(keys) and not any(k.key_id == kid for k in with_kid):
        return None  # none of the given keys is this token's signer: unknown, not invalid
    opts = {"verify_signature": True, "verify_exp": False, "verify_nbf": False, "verify_iat": False,
            "verify_aud": False, "verify_iss": False, "verify_sub": False, "verify_jti": False}
    for label, key in keys:
        k = key.key if isinstance(key, jwt.PyJWK) else key
        try:
            jwt.decode(token, k, algorithms=[alg], options=opts)
            return label
        except (jwt.PyJWTError, ValueError, TypeError, UnsupportedAlgorithm):
            continue
    return False
