"""From a kubeconfig context, a certificate or a token to the API server's user: ``resolve_identity``.

Follows the API server: client certificate first (it wins when it verifies), then the bearer token, then
anonymous; impersonation (``as``/``--as``) builds the effective user as §7.5 says, the real one is kept
in ``authenticated_as``. The result is an ``IdentityReport`` without any secret in it.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..errors import IdentityError, UsageError
from ..model import IdentityReport, Impersonation, Request, UserInfo
from ..semantics import ANONYMOUS, UNAUTHENTICATED, impersonated_user, split_sa_username
from .certificates import CertificateCheck, check_client_certificate, key_matches_certificate
from .exec_plugin import EXEC_TIMEOUT_SECONDS, describe_exec, run_exec_plugin
from .kubeconfig import (
    ContextSelection,
    KubeconfigEntry,
    load_kubeconfig,
    read_data_or_file,
    read_file_bytes,
    read_token,
    select_context,
)
from .tokens import TokenCheck, TokenOptions, check_token

__all__ = ["AuthenticatorOptions", "resolve_identity", "audit_kubeconfig", "impersonation_requests",
           "anonymous_user", "read_token_argument"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class AuthenticatorOptions:
    """What we know of the API server's authentication settings, and whether plugins may run."""

    client_ca: bytes | None = None  # --client-ca-file; None: assume the kubeconfig's CA
    client_ca_source: str = ""
    tokens: TokenOptions = field(default_factory=TokenOptions)
    anonymous_auth: bool = True
    allow_exec: bool = False
    exec_timeout: float = EXEC_TIMEOUT_SECONDS


def anonymous_user() -> UserInfo:
    """``system:anonymous`` in ``system:unauthenticated`` (§7.2)."""
    return UserInfo(username=ANONYMOUS, groups=(UNAUTHENTICATED,))


def read_token_argument(value: str) -> str:
    """``--token FILE`` or ``--token -`` (stdin): the token text, stripped."""
    if value == "-":
        text = sys.stdin.read(64 * 1024 + 1)
    else:
        raw = read_file_bytes(value, "--token")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise IdentityError(f"--token {value}: not a text file") from None
    text = text.strip()
    if not text:
        raise IdentityError("--token: the token is empty")
    return text


@dataclass
class _Acc:
    """Findings collected while resolving one credential."""

    credential_type: str = "none"
    user: UserInfo | None = None
    accepted: bool = True
    resolvable: bool = True
    unresolvable_reason: str = ""
    rejected: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    facts: list[tuple[str, str]] = field(default_factory=list)
    fingerprint: str = ""

    def problem(self, tag: str) -> None:
        if tag not in self.problems:
            self.problems.append(tag)

    def absorb(self, check: CertificateCheck | TokenCheck, credential_type: str) -> None:
        """Take over one authenticator's findings."""
        self.credential_type = credential_type
        self.user = check.user
        self.accepted = check.accepted
        self.rejected.extend(check.rejected_because)
        self.warnings.extend(check.warnings)
        for p in check.problems:
            self.problem(p)
        self.facts.extend(check.facts)
        self.fingerprint = check.fingerprint


def _impersonation_from(entry: KubeconfigEntry | None, as_user: str | None, as_groups: Sequence[str],
                        as_uid: str | None) -> Impersonation | None:
    body: Mapping[str, Any] = entry.body if entry is not None else {}
    flags = bool(as_user or as_groups or as_uid)
    user = as_user if as_user is not None else str(body.get("as") or "")
    raw_groups = body.get("as-groups") or []
    groups = tuple(as_groups) if as_groups else tuple(str(g) for g in raw_groups if isinstance(g, str | int))
    uid = as_uid if as_uid is not None else str(body.get("as-uid") or "")
    raw_extra = body.get("as-user-extra") or {}
    extra: dict[str, tuple[str, ...]] = {}
    if isinstance(raw_extra, Mapping):
        for k, v in raw_extra.items():
            vals = v if isinstance(v, list) else [v]
            extra[str(k)] = tuple(str(x) for x in vals)
    if not (user or groups or uid or extra):
        return None
    return Impersonation(user=user, groups=groups, uid=uid, extra=extra, source="flags" if flags else "kubeconfig")


def impersonation_requests(imp: Impersonation) -> list[Request]:
    """The ``impersonate`` checks the API server makes for the real caller, one per requested value (§7.5)."""
    out: list[Request] = []
    if imp.user:
        try:
            ns, name = split_sa_username(imp.user)
            out.append(Request(verb="impersonate", resource="serviceaccounts", namespace=ns, name=name))
        except UsageError:
            out.append(Request(verb="impersonate", resource="users", name=imp.user))
    out.extend(Request(verb="impersonate", resource="groups", name=g) for g in imp.groups)
    if imp.uid:
        out.append(Request(verb="impersonate", resource="uids", api_group="authentication.k8s.io", name=imp.uid))
    for key, values in imp.extra.items():
        out.extend(Request(verb="impersonate", resource="userextras", api_group="authentication.k8s.io",
                           subresource=key, name=v) for v in values)
    return out


# -- credentials ---------------------------------------------------------------------------------------
def _apply_cert(acc: _Acc, cert: bytes, key: bytes | None, *, client_ca: bytes | None, ca_is_assumption: bool,
                now: datetime, need_key: bool) -> _Acc:
    acc.absorb(check_client_certificate(cert, client_ca=client_ca, ca_is_assumption=ca_is_assumption, now=now),
               "x509")
    if key is not None:
        match = key_matches_certificate(cert, key)
        if match is False:
            acc.rejected.append("the client key does not belong to the certificate: the TLS handshake fails")
            acc.accepted = False
            acc.problem("key-mismatch")
        elif match is None:
            acc.warnings.append("the client key could not be read (encrypted or unsupported); not checked")
    elif need_key:
        acc.rejected.append("client certificate without a client key: the client cannot present it")
        acc.accepted = False
    return acc


def _apply_token(acc: _Acc, token: str, options: TokenOptions, now: datetime) -> _Acc:
    t = check_token(token, options, now=now)
    acc.absorb(t, t.credential_type)
    acc.resolvable = t.resolvable
    acc.unresolvable_reason = t.unresolvable_reason
    return acc


def _combine(cert: bytes | None, key: bytes | None, token: str | None, opts: AuthenticatorOptions,
             client_ca: bytes | None, ca_is_assumption: bool, now: datetime, need_key: bool) -> _Acc:
    """The API server's order: certificate (wins when it verifies), else token, else anonymous."""
    if cert is not None and token is not None:
        c = _apply_cert(_Acc(), cert, key, client_ca=client_ca, ca_is_assumption=ca_is_assumption, now=now,
                        need_key=need_key)
        if c.accepted and c.user is not None:
            c.warnings.insert(0, "both a client certificate and a token are configured: the API server "
                                 "authenticates the certificate and never looks at the token")
            c.facts.append(("also configured", "bearer token (unused)"))
            return c
        t = _apply_token(_Acc(), token, opts.tokens, now)
        t.warnings.insert(0, "both a client certificate and a token are configured: the certificate would be "
                             f"rejected ({'; '.join(c.rejected)}), so the API server falls back to the token")
        t.facts = [(f"certificate {k}", v) for k, v in c.facts] + t.facts
        for p in c.problems:
            t.problem(p)
        if t.resolvable and not t.accepted:
            t.rejected = [f"certificate: {r}" for r in c.rejected] + [f"token: {r}" for r in t.rejected]
        return t
    if cert is not None:
        acc = _apply_cert(_Acc(), cert, key, client_ca=client_ca, ca_is_assumption=ca_is_assumption, now=now,
                          need_key=need_key)
        if acc.user is None and acc.problems == ["no-cn"] and opts.anonymous_auth:
            # A verified certificate without CN is "not authenticated", not an error: anonymous follows.
            acc.user = anonymous_user()
            acc.warnings.append("the certificate authenticates nobody, so the request is served as "
                                "system:anonymous (when anonymous auth is enabled, else 401)")
        return acc
    if token is not None:
        return _apply_token(_Acc(), token, opts.tokens, now)
    acc = _Acc(credential_type="none", user=anonymous_user())
    if opts.anonymous_auth:
        acc.warnings.append("no credential: the API server treats the request as system:anonymous "
                            "(when anonymous auth is disabled it answers 401 Unauthorized)")
    else:
        acc.user = None
        acc.accepted = False
        acc.rejected.append("no credential and anonymous auth is disabled: 401 Unauthorized")
    acc.problem("no-credential")
    return acc


def _from_user_entry(sel: ContextSelection, opts: AuthenticatorOptions, now: datetime,
                     cert_override: bytes | None, token_override: str | None) -> _Acc:
    user, cluster = sel.user, sel.cluster
    ca, _ = read_data_or_file(cluster, "certificate-authority")
    client_ca = opts.client_ca if opts.client_ca is not None else ca
    ca_is_assumption = opts.client_ca is None and ca is not None
    cert, _ = read_data_or_file(user, "client-certificate")
    key, _ = read_data_or_file(user, "client-key")
    token, _ = read_token(user)
    if cert_override is not None:
        cert, key = cert_override, None
    if token_override is not None:
        token = token_override
    need_key = cert_override is None
    facts: list[tuple[str, str]] = []
    problems: list[str] = []
    exec_spec, provider = user.body.get("exec"), user.body.get("auth-provider")
    if cert is None and token is None and exec_spec:
        shown = describe_exec(exec_spec)
        if not opts.allow_exec:
            return _Acc(credential_type="exec", accepted=False, resolvable=False, user=None, problems=["exec-plugin"],
                        facts=[("exec plugin", shown)],
                        unresolvable_reason=f"the credential comes from an exec plugin that was not run: {shown} "
                                            "(pass --allow-exec to run it)")
        cred = run_exec_plugin(exec_spec, base_dir=user.base_dir, cluster=cluster.body, timeout=opts.exec_timeout)
        cert, key, token = cred.client_cert_data, cred.client_key_data, cred.token
        facts.append(("exec plugin", shown))
        if cred.expiration is not None:
            facts.append(("exec credential expires", cred.expiration.strftime("%Y-%m-%dT%H:%M:%SZ")))
        problems.append("exec-plugin")
    elif cert is None and token is None and provider:
        name = str(provider.get("name", "?")) if isinstance(provider, Mapping) else "?"
        cfg = (provider.get("config") or {}) if isinstance(provider, Mapping) else {}
        id_token = cfg.get("id-token") if isinstance(cfg, Mapping) else None
        facts.append(("auth-provider", name))
        problems.append("auth-provider")
        if name == "oidc" and isinstance(id_token, str) and id_token:
            token = id_token  # the cached ID token is what kubectl sends; refreshing it would need the network
        else:
            return _Acc(credential_type="auth-provider", accepted=False, resolvable=False, problems=problems,
                        facts=facts,
                        unresolvable_reason=f"the credential comes from the {name!r} auth-provider, which runs "
                                            "only inside kubectl (removed for gcp and azure since kubectl 1.26)")
    if user.body.get("username") or user.body.get("password"):
        if cert is None and token is None:
            acc = _combine(None, None, None, opts, client_ca, ca_is_assumption, now, need_key)
            acc.credential_type = "basic-auth"
            acc.accepted = False
            acc.rejected.insert(0, "basic auth (username/password) is not supported by the API server since "
                                   "Kubernetes 1.19: the password is ignored")
            acc.warnings = ["the request is served as system:anonymous"] if opts.anonymous_auth else []
            acc.problems = ["basic-auth"]
            acc.facts.append(("username (basic auth)", str(user.body.get("username") or "")))
            return acc
        facts.append(("also configured", "basic auth username/password (ignored by the API server)"))
    acc = _combine(cert, key, token, opts, client_ca, ca_is_assumption, now, need_key)
    acc.facts = facts + acc.facts
    for p in problems:
        acc.problem(p)
    if cluster.body.get("insecure-skip-tls-verify"):
        acc.warnings.append("insecure-skip-tls-verify: the server's certificate is not checked")
        acc.problem("insecure-tls")
    return acc


def _finish(acc: _Acc, imp: Impersonation | None, **where: str) -> IdentityReport:
    real = acc.user
    user = real
    authenticated_as = None
    rejected = list(acc.rejected)
    warnings = list(acc.warnings)
    problems = list(acc.problems)
    if imp is not None:
        problems.append("impersonation")
        if not imp.user:
            rejected.append("impersonating groups, a uid or extras without a user is refused by the API server")
        else:
            user = impersonated_user(imp.user, imp.groups, imp.uid, imp.extra)
            authenticated_as = real
            warnings.append(f"impersonating {imp.user}: every request also needs RBAC 'impersonate' permission "
                            f"for the real identity ({real.username if real else 'unknown'})")
    accepted = acc.accepted and not rejected and acc.resolvable
    if not acc.resolvable:
        user, accepted = None, False
    return IdentityReport(
        credential_type=acc.credential_type, resolvable=acc.resolvable, accepted=accepted, user_info=user,
        authenticated_as=authenticated_as, rejected_because=tuple(rejected),
        unresolvable_reason=acc.unresolvable_reason, warnings=tuple(dict.fromkeys(warnings)),
        problems=tuple(dict.fromkeys(problems)), fingerprint=acc.fingerprint, facts=tuple(acc.facts),
        impersonation=imp, **where)


def resolve_identity(*, kubeconfig: str | None = None, context: str | None = None, cert_file: str | None = None,
                     token: str | None = None, options: AuthenticatorOptions | None = None,
                     as_user: str | None = None, as_groups: Sequence[str] = (), as_uid: str | None = None,
                     now: datetime | None = None, env: Mapping[str, str] | None = None) -> IdentityReport:
    """Who the API server would take this credential for.

    With ``cert_file`` or ``token`` (the token text) and no ``kubeconfig``/``context``, only those are
    looked at; otherwise the kubeconfig context is read (kubectl's selection) and ``cert_file``/``token``
    replace its credentials. ``as_user``/``as_groups``/``as_uid`` replace the kubeconfig's impersonation.
    Raises ``IdentityError`` for unreadable input; an undecidable identity is a report with
    ``resolvable=False``.
    """
    opts = options or AuthenticatorOptions()
    now = now or datetime.now(UTC)
    if as_groups and not as_user:
        raise UsageError("--as-group requires --as (the API server refuses groups without a user)")
    cert_data = read_file_bytes(cert_file, "--cert") if cert_file else None
    if (cert_file or token) and not (kubeconfig or context):
        acc = _combine(cert_data, None, token, opts, opts.client_ca, False, now, need_key=False)
        sources = [s for s in (f"--cert {cert_file}" if cert_file else "", "--token" if token else "") if s]
        return _finish(acc, _impersonation_from(None, as_user, as_groups, as_uid), source=", ".join(sources))
    config = load_kubeconfig(kubeconfig, env)
    sel = select_context(config, context)
    acc = _from_user_entry(sel, opts, now, cert_data, token)
    return _finish(acc, _impersonation_from(sel.user, as_user, as_groups, as_uid), context=sel.name,
                   cluster=sel.cluster.name, server=str(sel.cluster.body.get("server") or ""),
                   namespace=sel.namespace, source=", ".join(config.files))


def audit_kubeconfig(kubeconfig: str | None = None, options: AuthenticatorOptions | None = None, *,
                     now: datetime | None = None, env: Mapping[str, str] | None = None) -> list[IdentityReport]:
    """One report per context of the (merged) kubeconfig; a broken context becomes a report, not an error."""
    opts = options or AuthenticatorOptions()
    now = now or datetime.now(UTC)
    config = load_kubeconfig(kubeconfig, env)
    out: list[IdentityReport] = []
    for name in config.contexts:
        try:
            sel = select_context(config, name)
            acc = _from_user_entry(sel, opts, now, None, None)
            out.append(_finish(acc, _impersonation_from(sel.user, None, (), None), context=name,
                               cluster=sel.cluster.name, server=str(sel.cluster.body.get("server") or ""),
                               namespace=sel.namespace, source=sel.user.source))
        except IdentityError as exc:
            problem = "dangling-reference" if "not defined" in str(exc) else "unreadable"
            out.append(IdentityReport(credential_type="none", resolvable=False, accepted=False, context=name,
                                      unresolvable_reason=str(exc), problems=(problem,)))
    return out
