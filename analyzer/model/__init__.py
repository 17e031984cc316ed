"""What things are: frozen dataclasses for RBAC inputs, requests and results, and node ids.

Inputs live in ``model.rbac``, answers in ``model.results``; later layers add their own result modules
(e.g. ``model.findings``) beside them.
"""

from __future__ import annotations

from .findings import SECTIONS, Evidence, Exclusion, Finding, Report, finding_id, severity_from_text
from .identity import CREDENTIAL_TYPES, IdentityReport, Impersonation, Power
from .rbac import (
    RBAC_GROUP,
    Binding,
    Inventory,
    KubeObject,
    LabelRequirement,
    LabelSelector,
    LoadIssue,
    Notice,
    PolicyRule,
    Role,
    RoleRef,
    ServiceAccount,
    SourceRef,
    Subject,
    node_id,
    parse_subject_id,
)
from .results import (
    Decision,
    EdgeKind,
    Grant,
    NearMiss,
    Request,
    RulesReview,
    Severity,
    SubjectAccess,
    UserInfo,
)

__all__ = [
    "SECTIONS", "Evidence", "Exclusion", "Finding", "Report", "finding_id", "severity_from_text",
    "CREDENTIAL_TYPES", "IdentityReport", "Impersonation", "Power",
    "RBAC_GROUP", "Binding", "Decision", "EdgeKind", "Grant", "Inventory", "KubeObject", "LabelRequirement",
    "LabelSelector", "LoadIssue", "NearMiss", "Notice", "PolicyRule", "Request", "Role", "RoleRef", "RulesReview",
    "ServiceAccount", "Severity", "SourceRef", "Subject", "SubjectAccess", "UserInfo", "node_id", "parse_subject_id",
]
