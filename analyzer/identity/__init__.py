"""Who is this credential? Kubeconfigs, X.509 client certificates and bearer tokens → the API server's user.

Never touches the network, never runs a plugin unless asked (``allow_exec``), never keeps a raw secret.
"""

from __future__ import annotations

from .certificates import CertificateCheck, check_client_certificate
from .kubeconfig import Connection, in_cluster_connection, load_kubeconfig, resolve_connection, select_context
from .resolve import (
    AuthenticatorOptions,
    anonymous_user,
    audit_kubeconfig,
    impersonation_requests,
    read_token_argument,
    resolve_identity,
)
from .tokens import TokenCheck, TokenOptions, check_token, load_token_auth_file, load_verify_keys

__all__ = [
    "AuthenticatorOptions", "CertificateCheck", "Connection", "TokenCheck", "TokenOptions", "anonymous_user",
    "audit_kubeconfig", "check_client_certificate", "check_token", "impersonation_requests", "in_cluster_connection",
    "load_kubeconfig", "load_token_auth_file", "load_verify_keys", "read_token_argument", "resolve_connection",
    "resolve_identity", "select_context",
]
