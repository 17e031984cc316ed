"""rbac-analyzer: who can do what, where — exactly as the Kubernetes API server decides it."""

from __future__ import annotations

from .api import Analysis
from .errors import AnalyzerError, IdentityError, LimitExceeded, ManifestError, UsageError
from .identity import resolve_connection, resolve_identity
from .loaders.manifests import Limits, load_manifests, parse_rule
from .model import IdentityReport, PolicyRule, Request, Subject, UserInfo
from .semantics import (
    aggregate_cluster_roles,
    aggregated_rules,
    applies_to,
    covers,
    impersonated_user,
    make_sa_username,
    non_resource_url_covers,
    rule_allows,
    sa_matches_username,
    sa_user_info,
    split_sa_username,
)

__version__ = "0.1.0"

__all__ = [
    "Analysis", "AnalyzerError", "IdentityError", "IdentityReport", "LimitExceeded", "Limits", "ManifestError", "PolicyRule", "Request", "Subject",
    "UsageError", "UserInfo", "__version__", "aggregate_cluster_roles", "aggregated_rules", "applies_to",
    "covers", "impersonated_user", "load_manifests", "make_sa_username", "non_resource_url_covers",
    "parse_rule", "resolve_connection", "resolve_identity", "rule_allows", "sa_matches_username", "sa_user_info",
    "split_sa_username",
]
