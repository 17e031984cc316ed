"""Assemble an audit Report: run every finding source, sort findings into user / platform / excluded.

Finding sources are listed in ``FINDING_SOURCES`` (today: the rule catalog). Another source, such as
escalation paths, is one more ``FindingSource`` entry: it yields ``Finding``s and documents its ids.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

import yaml

from .errors import UsageError
from .escalation import EscalationGraph
from .escalation import build_graph as build_escalation_graph
from .escalation.findings import escalation_catalog, escalation_findings
from .model import Binding, Exclusion, Finding, Inventory, Report, Role, Subject
from .rules import ALL_RULES, RULES_BY_ID, RuleContext, run_rules
from .runtime import can_fork_workers, gc_paused, run_concurrently

__all__ = [
    "FindingSource", "FINDING_SOURCES", "build_report", "classify", "is_platform_subject", "load_exclusions",
    "parse_exclusions", "load_baseline", "CONTROLLER_SERVICE_ACCOUNTS", "escalation_graph",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class FindingSource:
    """One producer of findings and the documentation of the ids it uses."""

    name: str
    produce: Callable[[RuleContext], Iterable[Finding]]
    catalog: Callable[[], Mapping[str, Mapping[str, Any]]]
    always_user: Callable[[str], bool] = lambda rule_id: False  # ids whose findings never go to "platform"


def _rule_catalog() -> dict[str, dict[str, Any]]:
    return {r.id: r.to_dict() for r in ALL_RULES}


def _rule_always_user(rule_id: str) -> bool:
    rule = RULES_BY_ID.get(rule_id)
    return bool(rule and rule.always_user)


RULES_SOURCE = FindingSource(name="rules", produce=run_rules, catalog=_rule_catalog, always_user=_rule_always_user)


ESCALATION_GRAPH_KEY = "escalation-graph"


def escalation_graph(ctx: RuleContext) -> EscalationGraph:
    """The escalation graph of the audited policy, built once per context and shared (``Analysis.escalation``
    is this one too, so ``paths`` after ``audit`` reuses every edge already computed)."""
    return ctx.memo(ESCALATION_GRAPH_KEY, lambda: build_escalation_graph(ctx.inventory, ctx.index, ctx.workloads))


def _escalation_findings(ctx: RuleContext) -> Iterable[Finding]:
    graph = escalation_graph(ctx)
    graph.full_graph(ctx.on_progress)  # the findings search it; built here to show progress
    return escalation_findings(ctx.inventory, ctx.index, ctx.workloads, graph=graph)


ESCALATION_SOURCE = FindingSource(name="escalation", produce=_escalation_findings, catalog=escalation_catalog)

# The hook for more producers.
FINDING_SOURCES: tuple[FindingSource, ...] = (RULES_SOURCE, ESCALATION_SOURCE)

# ServiceAccounts the kube-controller-manager runs its controllers as (bootstrap controller roles).
CONTROLLER_SERVICE_ACCOUNTS = frozenset({
    "attachdetach-controller", "bootstrap-signer", "certificate-controller", "clusterrole-aggregation-controller",
    "cronjob-controller", "daemon-set-controller", "deployment-controller", "disruption-controller",
    "endpoint-controller", "endpointslice-controller", "endpointslicemirroring-controller",
    "ephemeral-volume-controller", "expand-controller", "generic-garbage-collector", "horizontal-pod-autoscaler",
    "job-controller", "legacy-service-account-token-cleaner", "namespace-controller", "node-controller",
    "persistent-volume-binder", "pod-garbage-collector", "podcheckpoint-controller", "pv-protection-controller",
    "pvc-protection-controller", "replicaset-controller", "replication-controller", "resource-claim-controller",
    "resourcequota-controller", "root-ca-cert-publisher", "route-controller", "selinux-warning-controller",
    "service-account-controller", "service-cidrs-controller", "service-controller", "statefulset-controller",
    "token-cleaner", "ttl-after-finished-controller", "ttl-controller",
    "validatingadmissionpolicy-status-controller", "volumeattributesclass-protection-controller",
    # kubeadm's own kube-system identities (bound by kubeadm, without the bootstrap label)
    "kube-proxy", "coredns",
})

_CONTROL_PLANE_USERS = frozenset({
    "system:kube-controller-manager", "system:kube-scheduler", "system:kube-proxy", "system:volume-scheduler",
    "system:apiserver", "kube-apiserver-kubelet-client",
})


def is_platform_subject(subject: Subject | None) -> bool:
    """Kubernetes' own identities: nodes, control-plane components, controller ServiceAccounts."""
    if subject is None:
        return False
    if subject.kind == "Group":
        return subject.name == "system:nodes" or subject.name.startswith("system:bootstrappers")
    if subject.kind == "User":
        return subject.name in _CONTROL_PLANE_USERS or subject.name.startswith("system:node:")
    if subject.kind == "ServiceAccount":
        return subject.namespace == "kube-system" and subject.name in CONTROLLER_SERVICE_ACCOUNTS
    return False


class _Lookup:
    """Bindings and roles by node id, to read their bootstrap labels."""

    def __init__(self, inventory: Inventory, roles: Sequence[Role]) -> None:
        self.bindings: dict[str, Binding] = {b.id: b for b in inventory.bindings}
        self.roles: dict[str, Role] = {r.id: r for r in roles}


def classify(finding: Finding, lookup: _Lookup, always_user: bool) -> str:
    """"platform" when the finding is about Kubernetes' own defaults, else "user"."""
    if always_user:
        return "user"
    if is_platform_subject(finding.subject):
        return "platform"
    bindings = [lookup.bindings.get(e.binding) for e in finding.evidence if e.binding]
    if bindings:
        return "platform" if all(b is not None and b.is_bootstrap for b in bindings) else "user"
    obj = lookup.bindings.get(finding.object) or lookup.roles.get(finding.object)
    if obj is not None:
        return "platform" if obj.is_bootstrap else "user"
    roles = [lookup.roles.get(e.role) for e in finding.evidence if e.role]
    if roles and all(r is not None and r.is_bootstrap for r in roles):
        return "platform"
    return "user"


# Below this many bindings an audit takes seconds at most: not worth a worker process.
PARALLEL_FROM_BINDINGS = 5000


def _produce(source: FindingSource, ctx: RuleContext) -> list[Finding]:
    return list(source.produce(ctx))


@gc_paused()
def build_report(ctx: RuleContext, *, include_system: bool = False, exclusions: Sequence[Exclusion] = (),
                 baseline: frozenset[str] = frozenset(), today: _dt.date | None = None,
                 sources: Sequence[FindingSource] = FINDING_SOURCES, inputs: Sequence[str] = (),
                 parallel: bool | None = None, on_progress: Callable[[str, int, int], None] | None = None) -> Report:
    """Run every source; sort into sections; apply exclusions (unexpired) and the baseline (by id).

    ``include_system`` keeps Kubernetes' defaults in the user section. Findings whose id is in ``baseline``
    are dropped (counted in the summary). ``parallel``: run the sources after the first in forked worker
    processes meanwhile (same findings, sooner on several cores); ``None`` decides by itself (large
    policies, when ``runtime.can_fork_workers``). ``on_progress(stage, done, total)``: rules run, subjects
    visited by the escalation graph (not from a worker process: two processes would garble one line).
    """
    today = today or _dt.date.today()
    lookup = _Lookup(ctx.inventory, ctx.index.all_roles)
    active = [e for e in exclusions if not e.expired(today)]
    expired = tuple(e for e in exclusions if e.expired(today))
    used: set[int] = set()
    catalog: dict[str, Mapping[str, Any]] = {}
    findings: list[Finding] = []
    suppressed = 0
    seen: set[str] = set()
    if parallel is None:
        parallel = len(ctx.inventory.bindings) >= PARALLEL_FROM_BINDINGS and can_fork_workers()
    # copies sharing every cache, differing only in who hears progress
    loud, quiet = replace(ctx, on_progress=on_progress), replace(ctx, on_progress=None)
    produced = run_concurrently([partial(_produce, source, quiet if parallel and i else loud)
                                 for i, source in enumerate(sources)], parallel=parallel)
    for source, found in zip(sources, produced, strict=True):
        catalog.update(source.catalog())
        for f in found:
            if f.id in seen:
                continue  # the same fact reached twice (e.g. two sources) is reported once
            seen.add(f.id)
            if f.id in baseline:
                suppressed += 1
                continue
            section = "user" if include_system else classify(f, lookup, source.always_user(f.rule))
            match = next((i for i, e in enumerate(active) if e.matches(f)), None)
            if match is not None:
                used.add(match)
                findings.append(f.with_section("excluded", active[match]))
            else:
                findings.append(f.with_section(section))
    order = {"user": 0, "platform": 1, "excluded": 2}
    findings.sort(key=lambda f: (order[f.section], -f.severity.rank, f.rule,
                                 f.subject.id if f.subject else "", f.namespace, f.object))
    unused = tuple(e for i, e in enumerate(active) if i not in used)
    return Report(findings=tuple(findings), rules=catalog, expired_exclusions=expired, unused_exclusions=unused,
                  baseline_suppressed=suppressed, include_system=include_system, inputs=tuple(inputs))


# -- exclusions and baselines (read only when asked) ------------------------------------------------
_EXCLUSION_KEYS = {"rule", "subject", "namespace", "reason", "owner", "expires"}


def parse_exclusions(data: Any, source: str = "<exclusions>") -> tuple[Exclusion, ...]:
    """``{"exclusions": [...]}`` or a bare list of {rule, subject, namespace, reason, owner, expires}."""
    if isinstance(data, Mapping):
        data = data.get("exclusions")
    if data is None:
        return ()
    if not isinstance(data, list):
        raise UsageError(f"{source}: expected a list of exclusions (or a map with key 'exclusions')")
    out: list[Exclusion] = []
    for i, item in enumerate(data, 1):
        where = f"{source}: exclusion {i}"
        if not isinstance(item, Mapping):
            raise UsageError(f"{where}: expected a map")
        unknown = set(item) - _EXCLUSION_KEYS
        if unknown:
            raise UsageError(f"{where}: unknown key(s) {', '.join(sorted(map(str, unknown)))}")
        if not item.get("reason"):
            raise UsageError(f"{where}: 'reason' is required (say why the risk is accepted)")
        fields: dict[str, Any] = {}
        for key in ("rule", "subject", "namespace", "reason", "owner"):
            value = item.get(key)
            if value is None:
                continue
            if not isinstance(value, str):
                raise UsageError(f"{where}: '{key}' must be a string")
            fields[key] = value
        expires = item.get("expires")
        if isinstance(expires, _dt.datetime):
            expires = expires.date()
        elif isinstance(expires, str):
            try:
                expires = _dt.date.fromisoformat(expires)
            except ValueError:
                raise UsageError(f"{where}: 'expires' must be a date (YYYY-MM-DD)") from None
        elif expires is not None and not isinstance(expires, _dt.date):
            raise UsageError(f"{where}: 'expires' must be a date (YYYY-MM-DD)")
        out.append(Exclusion(**fields, expires=expires, source=f"{source}#{i}"))
    return tuple(out)


def load_exclusions(path: str) -> tuple[Exclusion, ...]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{path}: cannot read exclusions file ({exc.strerror or exc})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise UsageError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    return parse_exclusions(data, path)


def load_baseline(path: str) -> frozenset[str]:
    """The finding ids of a previous ``audit -o json`` report."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"{path}: cannot read baseline ({exc.strerror or exc})") from None
    except ValueError:
        raise UsageError(f"{path}: baseline is not JSON (write it with: audit -o json)") from None
    findings = data.get("findings") if isinstance(data, Mapping) else None
    if not isinstance(findings, list):
        raise UsageError(f"{path}: baseline has no 'findings' list (write it with: audit -o json)")
    return frozenset(f["id"] for f in findings if isinstance(f, Mapping) and isinstance(f.get("id"), str))
