"""Risk rules: the explicit catalog ``ALL_RULES`` and ``run_rules()`` that turns a policy into Findings."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from ..model import Finding
from . import (
    dangling_bindings,
    default_service_account,
    hygiene,
    missing_service_accounts,
    mounted_tokens,
    risky_permissions,
    system_groups,
)
from .base import Perm, RiskyPermission, Rule, RuleContext, Scope

__all__ = ["ALL_RULES", "RULES_BY_ID", "run_rules", "Rule", "RuleContext", "RiskyPermission", "Perm", "Scope"]

logger = logging.getLogger(__name__)

ALL_RULES: tuple[Rule, ...] = (
    *risky_permissions.RULES,
    dangling_bindings.RULE,
    missing_service_accounts.BINDING_RULE,
    missing_service_accounts.WORKLOAD_RULE,
    default_service_account.RULE,
    mounted_tokens.WORKLOAD_RULE,
    mounted_tokens.DAEMONSET_RULE,
    system_groups.ANONYMOUS_RULE,
    system_groups.AUTHENTICATED_RULE,
    system_groups.SERVICE_ACCOUNTS_RULE,
    hygiene.UNUSED_ROLE_RULE,
    hygiene.EMPTY_BINDING_RULE,
    hygiene.BUSY_SUBJECT_RULE,
)

RULES_BY_ID: dict[str, Rule] = {r.id: r for r in ALL_RULES}


def run_rules(ctx: RuleContext, rules: Iterable[Rule] | None = None) -> list[Finding]:
    """Run ``rules`` (default: all) over one context; findings in rule order, each rule's own order."""
    selected: Sequence[Rule] = tuple(rules) if rules is not None else ALL_RULES
    out: list[Finding] = []
    for i, rule in enumerate(selected, 1):
        found = rule.run(ctx)
        logger.debug("%s: %d finding(s)", rule.id, len(found))
        out.extend(found)
        if ctx.on_progress is not None:
            ctx.on_progress("audit rules", i, len(selected))
    return out
