"""What RBAC means: the one place that knows the Kubernetes authorizer's semantics.

Everything else (queries, graph, rules, escalation, dashboard) asks these functions; nothing else
matches rules, subjects or URLs itself.
"""

from __future__ import annotations

from .aggregation import aggregate_cluster_roles, aggregated_rules, aggregation_sources, selector_matches
from .authorizer import Authorization, LocatedSubject, PolicyIndex
from .covers import breakdown_rule, covers, non_resource_url_covers, rule_covers
from .danger import (
    ADMIN,
    DANGERS,
    Danger,
    danger_severity,
    danger_titles,
    is_admin_equivalent,
    rule_dangers,
    rules_dangers,
)
from .describe import allowed_reason, denied_reason, describe_subject, go_quote, not_found_error
from .matching import (
    api_group_matches,
    non_resource_url_matches,
    resource_matches,
    resource_name_matches,
    rule_allows,
    verb_matches,
)
from .resources import BUILTIN_RESOURCES, POD_CONTROLLERS, ResourceCatalog, ResourceType, crd_resource_types
from .subjects import (
    ALL_SERVICE_ACCOUNTS,
    ANONYMOUS,
    AUTHENTICATED,
    SA_PREFIX,
    SYSTEM_MASTERS,
    UNAUTHENTICATED,
    applies_to,
    authenticated_user,
    impersonated_user,
    make_sa_username,
    sa_groups,
    sa_matches_username,
    sa_user_info,
    split_sa_username,
    subject_as_user,
    subject_matches,
)

__all__ = [
    "ADMIN", "ALL_SERVICE_ACCOUNTS", "ANONYMOUS", "DANGERS", "Danger", "aggregation_sources", "danger_severity",
    "danger_titles", "is_admin_equivalent", "rule_dangers", "rules_dangers", "AUTHENTICATED", "BUILTIN_RESOURCES", "POD_CONTROLLERS",
    "SA_PREFIX", "SYSTEM_MASTERS", "UNAUTHENTICATED",
    "Authorization", "LocatedSubject", "PolicyIndex", "ResourceCatalog", "ResourceType",
    "aggregate_cluster_roles", "aggregated_rules", "allowed_reason", "api_group_matches", "applies_to",
    "authenticated_user", "breakdown_rule", "covers", "crd_resource_types", "denied_reason",
    "describe_subject", "go_quote", "impersonated_user", "make_sa_username", "non_resource_url_covers",
    "non_resource_url_matches", "not_found_error", "resource_matches", "resource_name_matches",
    "rule_allows", "rule_covers", "sa_groups", "sa_matches_username", "sa_user_info", "selector_matches",
    "split_sa_username", "subject_as_user", "subject_matches", "verb_matches",
]
