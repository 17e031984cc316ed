"""Who a credential is: IdentityReport (what the API server would make of it) and Impersonation.

Reports keep claims and fingerprints only, never a token, key or password, so their ``repr``, ``to_review()``
and every line built from them are safe to print.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .results import UserInfo

__all__ = ["Impersonation", "IdentityReport", "Power", "CREDENTIAL_TYPES"]

# credentialType values, in the words the report uses.
CREDENTIAL_TYPES = {
    "x509": "X.509 client certificate",
    "serviceaccount-token": "bound service-account token",
    "serviceaccount-token-legacy": "legacy (Secret-based) service-account token",
    "oidc-token": "OIDC ID token",
    "static-token": "static token (--token-auth-file)",
    "bootstrap-token": "bootstrap token",
    "token": "bearer token",
    "exec": "exec credential plugin",
    "auth-provider": "auth-provider",
    "basic-auth": "basic auth (username/password)",
    "none": "no credential",
}


@dataclass(frozen=True, kw_only=True)
class Impersonation:
    """What the client asks to act as (``as``, ``as-groups``, ``as-uid``, ``as-user-extra`` or ``--as``)."""

    user: str = ""
    groups: tuple[str, ...] = ()
    uid: str = ""
    extra: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    source: str = "kubeconfig"  # or "flags"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"user": self.user, "groups": list(self.groups)}
        if self.uid:
            out["uid"] = self.uid
        if self.extra:
            out["extra"] = {k: list(v) for k, v in self.extra.items()}
        out["source"] = self.source
        return out


@dataclass(frozen=True, kw_only=True)
class IdentityReport:
    """One credential as the API server would authenticate it.

    ``user_info`` (alias ``user``) is what the server puts in SelfSubjectReview ``status.userInfo`` (the
    impersonated identity when impersonating), shown even when the credential would be rejected;
    ``authenticated_as`` is the real identity under impersonation. It is None when the identity cannot be
    decided offline, or when nobody is authenticated (no CN, anonymous auth off).
    """

    credential_type: str
    resolvable: bool
    accepted: bool
    user_info: UserInfo | None = None
    authenticated_as: UserInfo | None = None
    rejected_because: tuple[str, ...] = ()
    unresolvable_reason: str = ""
    warnings: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()  # short tags for audits: expired, untrusted-ca, exec-plugin, ...
    fingerprint: str = ""
    facts: tuple[tuple[str, str], ...] = ()  # ordered (label, value) pairs for people: validity, issuer, ...
    impersonation: Impersonation | None = None
    context: str = ""
    cluster: str = ""
    server: str = ""
    namespace: str = ""
    source: str = ""  # which file(s) or flags the credential came from

    @property
    def user(self) -> UserInfo | None:
        return self.user_info

    @property
    def credential_description(self) -> str:
        return CREDENTIAL_TYPES.get(self.credential_type, self.credential_type)

    def analysis(self) -> dict[str, Any]:
        """The ``analysis`` object of ``whoami -o json``."""
        out: dict[str, Any] = {
            "credentialType": self.credential_type,
            "accepted": self.accepted,
            "rejectedBecause": list(self.rejected_because),
            "resolvable": self.resolvable,
            "authenticatedAs": self.authenticated_as.to_dict() if self.authenticated_as else None,
            "warnings": list(self.warnings),
        }
        if not self.resolvable:
            out["unresolvableBecause"] = self.unresolvable_reason
        if self.fingerprint:
            out["fingerprint"] = self.fingerprint
        if self.context:
            out["context"] = self.context
        if self.cluster:
            out["cluster"] = self.cluster
        if self.server:
            out["server"] = self.server
        if self.namespace:
            out["namespace"] = self.namespace
        if self.impersonation is not None:
            out["impersonation"] = self.impersonation.to_dict()
        if self.problems:
            out["problems"] = list(self.problems)
        if self.facts:
            out["details"] = {k: v for k, v in self.facts}
        return out

    def to_review(self) -> dict[str, Any]:
        """A SelfSubjectReview (``authentication.k8s.io/v1``) plus the top-level ``analysis`` object."""
        user_info = self.user.to_dict() if (self.user is not None and self.resolvable) else {}
        return {
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "SelfSubjectReview",
            "metadata": {"creationTimestamp": None},
            "status": {"userInfo": user_info},
            "analysis": self.analysis(),
        }

    def __repr__(self) -> str:
        who = self.user.username if self.user is not None else None
        return (f"IdentityReport(credential_type={self.credential_type!r}, user={who!r}, "
                f"accepted={self.accepted}, resolvable={self.resolvable}, fingerprint={self.fingerprint!r})")


@dataclass(frozen=True, kw_only=True)
class Power:
    """What an identity can do in a policy, in the few words an audit row needs (answers come from the policy)."""

    cluster_admin: bool = False
    admin_all_namespaces: bool = False  # the admin powers through ClusterRoleBindings
    admin_namespaces: tuple[str, ...] = ()
    secrets_cluster_wide: bool = False
    secrets_namespaces: tuple[str, ...] = ()
    has_permissions: bool = False

    def summary(self) -> str:
        if self.cluster_admin:
            return "cluster-admin equivalent"
        parts: list[str] = []
        if self.admin_all_namespaces:
            parts.append("admin in every namespace")
        elif self.admin_namespaces:
            parts.append(f"admin in {', '.join(self.admin_namespaces)}")
        if self.secrets_cluster_wide:
            parts.append("can read secrets cluster-wide")
        elif self.secrets_namespaces:
            parts.append(f"can read secrets in {', '.join(self.secrets_namespaces)}")
        if parts:
            return "; ".join(parts)
        return "limited permissions" if self.has_permissions else "nothing"

    def to_dict(self) -> dict[str, Any]:
        return {"summary": self.summary(), "clusterAdmin": self.cluster_admin,
                "adminAllNamespaces": self.admin_all_namespaces,
                "adminNamespaces": list(self.admin_namespaces), "secretsClusterWide": self.secrets_cluster_wide,
                "secretsNamespaces": list(self.secrets_namespaces), "hasPermissions": self.has_permissions}
