"""The Analysis facade: load once, index once, answer every question the CLI and the dashboard ask."""

from __future__ import annotations

import copy
import dataclasses
import datetime
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

import graphviz
import networkx as nx

from . import queries
from .errors import UsageError
from .graph import DangerCache, build_graph, namespace_view, overview, subject_view, who_can_view
from .identity import impersonation_requests
from .loaders.manifests import Limits, load_manifests, load_texts
from .loaders.uploads import UploadLimits, read_uploads
from .model import (
    Decision,
    Exclusion,
    IdentityReport,
    Impersonation,
    Inventory,
    KubeObject,
    LoadIssue,
    Notice,
    Power,
    Report,
    Request,
    RulesReview,
    ServiceAccount,
    Subject,
    SubjectAccess,
    UserInfo,
    parse_subject_id,
)
from .model.access import AccessMatrix
from .render.dot import to_digraph
from .semantics import (
    PolicyIndex,
    ResourceCatalog,
    ResourceType,
    crd_resource_types,
    impersonated_user,
    subject_as_user,
)
from .workloads import Workload, extract_workloads

if TYPE_CHECKING:
    from .escalation import EscalationGraph
    from .model.paths import BlastRadius, EscalationPath, PolicyDiff
    from .rules import RuleContext

__all__ = ["Analysis", "Progress"]

Progress = Callable[[str, int, int], None]

logger = logging.getLogger(__name__)


class Analysis:
    """One loaded policy and every question about it. Immutable by convention; derived data is cached.

    Example::

        a = Analysis.from_paths(["sample_policies/"])
        a.who_can("get", "secrets", namespace="payments")
        a.can_i("alice", ["dev", "system:authenticated"], "create", "pods", namespace="dev")
    """

    def __init__(self, inventory: Inventory, *, super_user: str = "") -> None:
        self.inventory = inventory
        self.super_user = super_user

    # -- construction ----------------------------------------------------------------------------
    @classmethod
    def from_paths(cls, paths: Sequence[str], *, default_namespace: str = "default", limits: Limits | None = None,
                   on_progress: Progress | None = None) -> Analysis:
        """Load files, directories (recursively) or ``-`` (stdin)."""
        inv = load_manifests(paths, default_namespace=default_namespace, limits=limits, on_progress=on_progress)
        return cls(inv)

    @classmethod
    def from_texts(cls, texts: Iterable[tuple[str, str]], *, default_namespace: str = "default",
                   limits: Limits | None = None) -> Analysis:
        """Load in-memory (name, text) documents, e.g. uploads."""
        return cls(load_texts(texts, default_namespace=default_namespace, limits=limits))

    @classmethod
    def from_objects(cls, objects: Iterable[Mapping[str, Any]], *, default_namespace: str = "default",
                     source: str = "<objects>", super_user: str = "") -> Analysis:
        """Load already-parsed manifest dicts (tests, conformance vectors, live sources)."""
        from .loaders.manifests import ParseContext, finish, parse_objects
        from .model import SourceRef

        ctx = ParseContext(default_namespace=default_namespace)
        parse_objects(ctx, ((o, SourceRef(file=source, document=i + 1)) for i, o in enumerate(objects)))
        finish(ctx)
        return cls(ctx.inventory, super_user=super_user)

    # -- dashboard: uploads (issue 7) ------------------------------------------------------------
    @classmethod
    def from_uploads(cls, files: Iterable[tuple[str, bytes]], *, default_namespace: str = "default",
                     limits: UploadLimits | None = None) -> Analysis:
        """Load uploaded (file name, bytes): YAML/JSON, .gz, .zip, .tar(.gz), all in memory, never on disk.

        Refused archive members (path traversal, links, unreadable) become load issues; a size or count
        limit exceeded raises ``LimitExceeded``.
        """
        texts, issues = read_uploads(files, limits=limits)
        inv = load_texts(texts, default_namespace=default_namespace)
        inv.load_issues[:0] = issues
        return cls(inv)

    # -- what was loaded -------------------------------------------------------------------------
    @property
    def load_issues(self) -> list[LoadIssue]:
        return self.inventory.load_issues

    @cached_property
    def index(self) -> PolicyIndex:
        return PolicyIndex(self.inventory, super_user=self.super_user)

    @property
    def notices(self) -> list[Notice]:
        return [*self.inventory.notices, *self.index.aggregation_notices]

    @cached_property
    def workloads(self) -> list[Workload]:
        """Pods and controller pod templates with the ServiceAccount they run as."""
        return extract_workloads(self.inventory)

    @cached_property
    def catalog(self) -> ResourceCatalog:
        crds = [o.body for o in self.inventory.objects if o.kind == "CustomResourceDefinition"]
        return ResourceCatalog(crd_resource_types(crds))

    def summary(self) -> dict[str, Any]:
        """Counts per kind, aggregated roles, issues and notices by code."""
        codes: dict[str, int] = {}
        for n in self.notices:
            codes[n.code] = codes.get(n.code, 0) + 1
        aggregated = sorted(r.name for r in self.index.all_roles if r.kind == "ClusterRole"
                            and r.aggregation_rule is not None)
        return {
            "files": len(self.inventory.files),
            "objects": self.inventory.object_count,
            "kinds": self.inventory.kind_counts(),
            "namespaces": len(self.inventory.namespaces),
            "aggregatedClusterRoles": aggregated,
            "loadIssues": len(self.load_issues),
            "notices": dict(sorted(codes.items())),
        }

    # -- requests --------------------------------------------------------------------------------
    def request(self, verb: str, resource: str, *, namespace: str = "", api_group: str = "",
                subresource: str = "", name: str = "") -> Request:
        """A literal request; a ``resource`` starting with ``/`` is a non-resource URL."""
        if resource.startswith("/"):
            return Request(verb=verb, path=resource, resource_request=False)
        return Request(verb=verb, resource=resource, api_group=api_group, subresource=subresource, name=name,
                       namespace=namespace)

    def resolve_type(self, text: str) -> ResourceType:
        """kubectl-style type resolution: ``po``, ``Pod``, ``deployments.apps``, CRD names."""
        return self.catalog.resolve(text)

    def parse_request(self, verb: str, target: str, *, namespace: str | None = None, all_namespaces: bool = False,
                      subresource: str = "", api_group: str | None = None) -> Request:
        """Build a request from kubectl-shaped arguments (``VERB TYPE[/NAME]`` or ``VERB /url``).

        Namespace: ``-n NS`` → NS; ``-A`` → ""; neither → ``default`` for namespaced types, "" for
        cluster-scoped types and URLs. With ``api_group`` the type is taken literally.
        """
        if namespace is not None and all_namespaces:
            raise UsageError("use either -n/--namespace or -A/--all-namespaces, not both")
        if not verb:
            raise UsageError("a verb is required")
        if target.startswith("/"):
            if subresource:
                raise UsageError("--subresource makes no sense with a non-resource URL")
            return Request(verb=verb, path=target, resource_request=False)
        type_text, slash, name = target.partition("/")
        if slash and not name:
            raise UsageError(f"{target!r}: write TYPE/NAME")
        if api_group is not None or type_text == "*":
            # kubectl sends "*" literally in the core group; --api-group takes TYPE literally
            resource, group = type_text, api_group or ""
            namespaced = self.catalog.is_namespaced(group, resource)
        else:
            rt = self.resolve_type(type_text)
            resource, group, namespaced = rt.resource, rt.group, rt.namespaced
        if all_namespaces:
            ns = ""
        elif namespace is not None:
            ns = namespace if namespaced is not False else ""
        else:
            ns = "default" if namespaced is not False else ""
        return Request(verb=verb, resource=resource, api_group=group, subresource=subresource, name=name,
                       namespace=ns)

    # -- the questions ---------------------------------------------------------------------------
    def who_can(self, verb: str, resource: str, namespace: str = "", api_group: str = "", subresource: str = "",
                name: str = "") -> list[SubjectAccess]:
        """Every subject that can, once each with all its grants (literal: no short names).

        >>> # a.who_can("get", "secrets", namespace="kube-system")  # -> [SubjectAccess(...), ...]
        """
        req = self.request(verb, resource, namespace=namespace, api_group=api_group, subresource=subresource,
                           name=name)
        return self.who_can_request(req)[0]

    def who_can_request(self, request: Request) -> tuple[list[SubjectAccess], list[str]]:
        """who-can for a built request: (subjects, role lookup errors)."""
        return queries.who_can(self.index, request)

    def can_i(self, user: str, groups: Sequence[str], verb: str, resource: str, namespace: str = "",
              api_group: str = "", subresource: str = "", name: str = "") -> Decision:
        """Decision for a user with exactly these groups (as in a SubjectAccessReview), with evidence."""
        req = self.request(verb, resource, namespace=namespace, api_group=api_group, subresource=subresource,
                           name=name)
        return self.check(UserInfo(username=user, groups=tuple(groups)), req)

    def check(self, user: UserInfo, request: Request) -> Decision:
        return queries.check(self.index, user, request)

    def rules_for(self, user: str | UserInfo, groups: Sequence[str] = (), namespace: str = "") -> RulesReview:
        """Effective rules in ``namespace`` ("" = cluster-wide only), SubjectRulesReview-shaped."""
        info = user if isinstance(user, UserInfo) else UserInfo(username=user, groups=tuple(groups))
        return queries.permissions_of(self.index, info, namespace)

    def rules_everywhere(self, user: UserInfo) -> tuple[RulesReview, dict[str, RulesReview]]:
        """Cluster-wide rules, and the rules of every namespace where a RoleBinding gives the user more."""
        cluster = self.rules_for(user, namespace="")
        namespaces = sorted({b.namespace for b, _ in self.index.bindings_applying_anywhere(user)
                             if b.kind == "RoleBinding"})
        per_ns = {ns: self.rules_for(user, namespace=ns) for ns in namespaces}
        return cluster, per_ns

    # -- identities ------------------------------------------------------------------------------
    @staticmethod
    def impersonate(user: str, groups: Sequence[str] = (), uid: str = "",
                    extra: Mapping[str, Sequence[str]] | None = None) -> UserInfo:
        """The identity ``--as USER --as-group G`` builds, exactly as the API server's impersonation."""
        return impersonated_user(user, groups, uid, extra)

    @staticmethod
    def user_for_subject(subject: str | Subject) -> UserInfo:
        """``User:alice`` → alice with system:authenticated; ``ServiceAccount:ns/n`` → its user and groups;
        ``Group:g`` → a member holding only that group."""
        s = parse_subject_id(subject) if isinstance(subject, str) else subject
        return subject_as_user(s)

    # -- dashboard: pickers and the access matrix (issue 7) ----------------------------------------
    @cached_property
    def subject_ids(self) -> list[str]:
        """Every subject named by a binding, and every ServiceAccount, as sorted ``KIND:REST`` ids.

        A ServiceAccount written without a namespace in a RoleBinding is that namespace's.
        """
        ids: set[str] = {sa.id for sa in self.inventory.service_accounts}
        for b in self.inventory.bindings:
            for s in b.subjects:
                if s.kind not in ("User", "Group", "ServiceAccount"):
                    continue
                if s.kind == "ServiceAccount" and not s.namespace:
                    if b.kind != "RoleBinding":
                        continue
                    s = Subject(kind=s.kind, name=s.name, namespace=b.namespace)
                if s.name:
                    ids.add(s.id)
        order = {"User": 0, "Group": 1, "ServiceAccount": 2}
        return sorted(ids, key=lambda i: (order.get(i.partition(":")[0], 3), i))

    @cached_property
    def namespace_names(self) -> list[str]:
        """Every namespace the policy names, sorted."""
        return sorted(self.inventory.namespaces)

    @staticmethod
    def access_matrix(review: RulesReview) -> AccessMatrix:
        """The resources × verbs table of one namespace's effective rules (wildcards kept literal)."""
        return AccessMatrix.from_grants(review.grants)

    @staticmethod
    def identities_from_upload(name: str, data: bytes) -> tuple[list[IdentityReport], list[str]]:
        """An uploaded kubeconfig (every context), PEM client certificate or bearer token → (identity
        reports, warnings), resolved offline as the API server would; never runs exec plugins.

        The identity readers take file paths, so a certificate or kubeconfig is written, owner-only, into a
        fresh temporary directory that is deleted before this returns; a kubeconfig's own file references
        are dropped first (an upload never makes the server read its files). Nothing is kept.
        """
        import os
        import tempfile

        from .identity import audit_kubeconfig, resolve_identity
        from .loaders.uploads import read_credential_upload

        cred = read_credential_upload(name, data)
        if cred.kind == "token":
            return [resolve_identity(token=cred.text, env={})], list(cred.warnings)
        with tempfile.TemporaryDirectory(prefix="rbac-analyzer-upload-") as tmp:
            path = os.path.join(tmp, "kubeconfig" if cred.kind == "kubeconfig" else "client.crt")
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(cred.text)
            if cred.kind == "certificate":
                reports = [resolve_identity(cert_file=path, env={})]
            else:
                reports = audit_kubeconfig(path, env={})
        return reports, list(cred.warnings)

    # -- credentials: what can this identity do? (issue 3) ----------------------------------------
    def impersonation_checks(self, real: UserInfo, impersonation: Impersonation) -> list[Decision]:
        """One decision per ``impersonate`` check the API server makes for the real caller (§7.5)."""
        return [self.check(real, req) for req in impersonation_requests(impersonation)]

    def power_of(self, user: UserInfo) -> Power:
        """Cluster-admin equivalent? Admin in which namespaces? Secrets readable where? Asked of the policy."""
        allows = self.index.allows
        if allows(user, Request(verb="*", resource="*", api_group="*")):
            return Power(cluster_admin=True, has_permissions=True)
        applying = self.index.bindings_applying_anywhere(user)
        namespaces = sorted({b.namespace for b, _ in applying if b.kind == "RoleBinding"})
        # Admin of a namespace: everything there, or what the bootstrap 'admin' role is known for.
        markers = (Request(verb="create", resource="rolebindings", api_group="rbac.authorization.k8s.io"),
                   Request(verb="create", resource="pods"), Request(verb="get", resource="secrets"),
                   Request(verb="delete", resource="deployments", api_group="apps"))

        def admin_in(ns: str) -> bool:
            if allows(user, Request(verb="*", resource="*", api_group="*", namespace=ns)):
                return True
            return all(allows(user, dataclasses.replace(m, namespace=ns)) for m in markers)

        secrets_everywhere = allows(user, Request(verb="get", resource="secrets"))
        admin_everywhere = all(allows(user, m) for m in markers)  # cluster-wide: through ClusterRoleBindings
        return Power(
            admin_all_namespaces=admin_everywhere,
            admin_namespaces=() if admin_everywhere else tuple(ns for ns in namespaces if admin_in(ns)),
            secrets_cluster_wide=secrets_everywhere,
            secrets_namespaces=() if secrets_everywhere else tuple(
                ns for ns in namespaces if allows(user, Request(verb="get", resource="secrets", namespace=ns))),
            has_permissions=bool(applying),
        )
    # -- the permission graph and diagrams (issue 4) ----------------------------------------------------
    @cached_property
    def graph(self) -> nx.MultiDiGraph:
        """The whole policy as a MultiDiGraph (``analyzer.graph.build_graph``); built once."""
        g = build_graph(self.inventory, self.index, self.workloads)
        if self.inventory.incomplete:  # exports carry what a live read could not list
            g.graph["incomplete"] = ", ".join(self.inventory.incomplete)
        return g

    @cached_property
    def _danger(self) -> DangerCache:
        return DangerCache()

    @cached_property
    def _by_namespace(self) -> dict[str, tuple[list[ServiceAccount], list[KubeObject]]]:
        """Service accounts and other objects per namespace (one pass), so a namespace view reads only its own."""
        out: dict[str, tuple[list[ServiceAccount], list[KubeObject]]] = {}
        for sa in self.inventory.service_accounts:
            out.setdefault(sa.namespace, ([], []))[0].append(sa)
        for o in self.inventory.objects:
            if o.namespace:
                out.setdefault(o.namespace, ([], []))[1].append(o)
        return out

    def subject_graph(self, subject: str | Subject | UserInfo, *, explicit_groups: Sequence[str] = (),
                      namespace: str | None = None, max_nodes: int = 150) -> nx.MultiDiGraph:
        """What one subject can do, as a view graph. ``subject``: ``User:alice``, ``Group:dev``,
        ``ServiceAccount:ns/name``, or a UserInfo (e.g. from ``impersonate``; ``explicit_groups`` are the
        groups asked for, the others are drawn as implied)."""
        if isinstance(subject, UserInfo):
            return subject_view(self.index, subject, explicit_groups=explicit_groups, namespace=namespace,
                                max_nodes=max_nodes, danger=self._danger)
        s = parse_subject_id(subject) if isinstance(subject, str) else subject
        return subject_view(self.index, subject_as_user(s), subject=s, explicit_groups=explicit_groups,
                            namespace=namespace, max_nodes=max_nodes, danger=self._danger)

    def render_subject(self, subject: str | Subject | UserInfo, *, explicit_groups: Sequence[str] = (),
                       namespace: str | None = None, max_nodes: int = 150, legend: bool = True) -> graphviz.Digraph:
        """Diagram: subject → (implied) groups → bindings → roles → rules, one frame per namespace."""
        return to_digraph(self.subject_graph(subject, explicit_groups=explicit_groups, namespace=namespace,
                                             max_nodes=max_nodes), legend=legend)

    def who_can_graph(self, request: Request, *, max_nodes: int = 150) -> nx.MultiDiGraph:
        subjects, errors = self.who_can_request(request)
        return who_can_view(request, subjects, errors=errors, max_nodes=max_nodes, danger=self._danger)

    def render_who_can(self, request: Request, *, max_nodes: int = 150, legend: bool = True) -> graphviz.Digraph:
        """Diagram: every subject that can do ``request`` (``parse_request``), through bindings and roles."""
        return to_digraph(self.who_can_graph(request, max_nodes=max_nodes), legend=legend)

    def namespace_graph(self, namespace: str, *, max_nodes: int = 200) -> nx.MultiDiGraph:
        sas, objects = self._by_namespace.get(namespace, ([], []))
        if "workloads" in self.__dict__:  # already extracted for the whole policy
            workloads = [w for w in self.workloads if w.namespace == namespace]
        else:  # only this namespace's pods and templates: a focused view stays fast on a huge policy
            workloads = extract_workloads(Inventory(service_accounts=sas, objects=objects))
        return namespace_view(self.index, namespace, service_accounts=sas, workloads=workloads,
                              max_nodes=max_nodes, danger=self._danger)

    def render_namespace(self, namespace: str, *, max_nodes: int = 200, legend: bool = True) -> graphviz.Digraph:
        """Diagram: everything bound in one namespace, and the workloads running as its service accounts."""
        return to_digraph(self.namespace_graph(namespace, max_nodes=max_nodes), legend=legend)

    def overview_graph(self, *, max_nodes: int = 150) -> nx.MultiDiGraph:
        return overview(self.index, max_nodes=max_nodes, danger=self._danger)

    def render_overview(self, *, max_nodes: int = 150, legend: bool = True) -> graphviz.Digraph:
        """Diagram: the whole policy, collapsed (bootstrap system: roles grouped, "+N more", ``max_nodes``)."""
        return to_digraph(self.overview_graph(max_nodes=max_nodes), legend=legend)

    # -- the machine interface -------------------------------------------------------------------
    def review(self, sar: Mapping[str, Any]) -> dict[str, Any]:
        """Answer one SubjectAccessReview: a new dict, the input with ``status`` filled as the server does.

        A malformed review gets ``status: {allowed: false, evaluationError: why}``; the input is untouched.
        """
        out = copy.deepcopy(dict(sar)) if isinstance(sar, Mapping) else {}
        try:
            user, request = _parse_sar(sar)
        except UsageError as exc:
            out["status"] = {"allowed": False, "evaluationError": str(exc)}
            return out
        decision = queries.check(self.index, user, request, with_near_misses=False)
        status: dict[str, Any] = {"allowed": decision.allowed}
        if decision.reason:
            status["reason"] = decision.reason
        out["status"] = status
        return out

    # -- escalation paths, blast radius, diff (issue 6) -------------------------------------------
    @cached_property
    def escalation(self) -> EscalationGraph:
        """The escalation graph (edges computed on demand and cached), the one the audit uses too."""
        from .audit import escalation_graph

        return escalation_graph(self.rule_context)

    def _source(self, subject: str | Subject | UserInfo) -> tuple[str, UserInfo | None]:
        """Node id and (for a custom UserInfo) the identity it stands for."""
        from .model import node_id
        from .semantics import SA_PREFIX, split_sa_username

        if isinstance(subject, UserInfo):
            if subject.username.startswith(SA_PREFIX):
                ns, name = split_sa_username(subject.username)
                return node_id("ServiceAccount", name, ns), subject
            if not subject.username:
                raise UsageError("an identity without a user name cannot act (the API server needs a user)")
            return node_id("User", subject.username), subject
        s = parse_subject_id(subject) if isinstance(subject, str) else subject
        return s.id, None

    def paths_from(self, subject: str | Subject | UserInfo, *, to: str | None = None, max_depth: int = 6,
                   all_paths: bool = False) -> list[EscalationPath]:
        """Shortest escalation path from a subject (``User:alice``, an ``Identity``) to each sink it reaches.

        Example::

            a.paths_from("ServiceAccount:dev/ci", to="cluster-admin")
        """
        node, user = self._source(subject)
        return self.escalation.paths_from(node, user=user, to=to, max_depth=max_depth, all_paths=all_paths)

    def all_paths(self, *, to: str | None = None, max_depth: int = 6,
                  on_progress: Progress | None = None) -> list[EscalationPath]:
        """Every non-system subject's shortest paths to the sinks it reaches, ranked by hop count.

        ``on_progress(stage, done, total)`` hears how many subjects were visited (large policies take seconds)."""
        return self.escalation.all_paths(to=to, max_depth=max_depth, on_progress=on_progress)

    def blast_radius(self, subject: str | Subject | UserInfo, *, max_depth: int = 6) -> BlastRadius:
        """Identities a subject can become, namespaces it controls, pods carrying its token."""
        node, user = self._source(subject)
        return self.escalation.blast_radius(node, user=user, max_depth=max_depth)

    @staticmethod
    def paths_diagram(paths: Sequence[EscalationPath], *, title: str = "") -> Any:
        """A ``graphviz.Digraph`` of escalation paths (for ``st.graphviz_chart`` or ``-o dot|svg``)."""
        from .render.paths import paths_digraph

        return paths_digraph(paths, title=title)

    def effective_permissions(self) -> dict[str, frozenset[tuple[str, str, str, str, str]]]:
        """Per subject of the inputs: (scope, verb, group, resource, name/URL) tuples it holds."""
        from .escalation.diff import effective_permissions

        return effective_permissions(self.index, self.escalation.subjects())

    @staticmethod
    def diff(old: Analysis, new: Analysis, *, max_depth: int = 6) -> PolicyDiff:
        """Access gained and lost per subject, and escalation paths added and removed, from old to new."""
        from .escalation.diff import diff_policies

        return diff_policies(old.escalation, new.escalation, max_depth=max_depth)

    # -- live clusters and snapshots (issue 8) ---------------------------------------------------
    @classmethod
    def from_sources(cls, paths: Sequence[str] = (), *, live: bool = False, connection: Any = None,
                     kubeconfig: str | None = None, context: str | None = None, allow_exec: bool = False,
                     default_namespace: str = "default", limits: Limits | None = None,
                     on_progress: Progress | None = None, fetch_options: Any = None) -> Analysis:
        """The live cluster (``live=True`` or a ``connection``) and/or files, in one inventory.

        Cluster objects are read first; a file object with the same kind, namespace and name replaces
        the live one (a ``duplicate`` notice says so), so ``--live -f change.yaml`` answers "what if I
        applied this". Without ``live``/``connection`` nothing talks to a cluster.
        """
        from .loaders.cluster import add_cluster_objects, fetch_cluster
        from .loaders.manifests import ParseContext, finish

        ctx = ParseContext(default_namespace=default_namespace)
        if live or connection is not None:
            conn = connection if connection is not None else cls.live_connection(kubeconfig, context, allow_exec)
            add_cluster_objects(ctx, fetch_cluster(conn, options=fetch_options, on_progress=on_progress))
        if paths:
            load_manifests(paths, default_namespace=default_namespace, limits=limits, on_progress=on_progress,
                           context=ctx)
        else:
            finish(ctx)
        return cls(ctx.inventory)

    @staticmethod
    def live_connection(kubeconfig: str | None = None, context: str | None = None, allow_exec: bool = False) -> Any:
        """The API server connection of a kubeconfig context (``analyzer.identity.kubeconfig``), or the pod's
        own service account when no kubeconfig exists and it runs in a cluster (as client-go does).
        ``exec`` plugins and auth-providers run only with ``allow_exec``."""
        import os

        from .identity import kubeconfig as kc

        if kubeconfig is None and context is None:
            paths, _explicit = kc.kubeconfig_paths(None)
            if not any(os.path.exists(p) for p in paths):
                conn = kc.in_cluster_connection()
                if conn is not None:
                    return conn
        return kc.resolve_connection(kubeconfig, context, allow_exec=allow_exec)

    @staticmethod
    def server_user(connection: Any = None, *, kubeconfig: str | None = None, context: str | None = None,
                    allow_exec: bool = False) -> UserInfo:
        """Who the API server says the credential is (SelfSubjectReview)."""
        from .loaders.cluster import self_subject_review

        conn = connection if connection is not None else Analysis.live_connection(kubeconfig, context, allow_exec)
        return self_subject_review(conn)

    def snapshot(self) -> dict[str, Any]:
        """The inventory as one ``List`` with the ``rbacAnalyzer`` header (clusterVersion, capturedAt, ...)."""
        from .loaders.snapshot import snapshot_document

        return snapshot_document(self.inventory)

    def write_snapshot(self, path: str) -> str:
        """Write :meth:`snapshot` to ``path`` (.yaml, .yaml.gz or .json); returns the format written."""
        from .loaders.snapshot import write_snapshot

        return write_snapshot(self.snapshot(), path)

    # == audit: risk rules → Report (issue 5) ===================================================
    @cached_property
    def rule_context(self) -> RuleContext:
        """What the rules ask (policy index, catalog, workloads), with caches shared by every audit."""
        from .rules import RuleContext

        return RuleContext(inventory=self.inventory, index=self.index, catalog=self.catalog,
                           workloads=self.workloads)

    def audit(self, *, include_system: bool = False, exclusions: Sequence[Exclusion] = (),
              baseline: Iterable[str] = (), today: datetime.date | None = None,
              parallel: bool | None = None, on_progress: Progress | None = None) -> Report:
        """Run every rule (and other finding sources) → Report with user / platform / excluded sections.

        Cached per arguments. ``exclusions`` from ``audit.load_exclusions``; ``baseline``: finding ids of a
        previous report (``audit.load_baseline``) that are left out. ``parallel``: compute the escalation
        paths in a forked worker process while the rules run (``None``: for large policies, on Linux, when
        this process runs a single thread; the findings are the same either way). ``on_progress(stage,
        done, total)``: rules run and subjects visited (large policies take tens of seconds).

        Example::

            report = a.audit()
            [f.rule for f in report.user if f.severity == "critical"]
        """
        from .audit import build_report

        key = (include_system, tuple(exclusions), frozenset(baseline), today)
        cache: dict[tuple[Any, ...], Report] = self.__dict__.setdefault("_audit_cache", {})
        if key not in cache:
            cache[key] = build_report(self.rule_context, include_system=include_system, exclusions=key[1],
                                      baseline=key[2], today=today, inputs=tuple(self.inventory.files),
                                      parallel=parallel, on_progress=on_progress)
            if self.inventory.incomplete:  # say in every report what a live read could not list
                cache[key] = dataclasses.replace(cache[key], incomplete=tuple(self.inventory.incomplete))
        return cache[key]

    @staticmethod
    def load_exclusions(path: str) -> tuple[Exclusion, ...]:
        """Read an exclusions YAML file (``UsageError`` with a one-line message when it is unusable)."""
        from .audit import load_exclusions

        return load_exclusions(path)

    @staticmethod
    def load_baseline(path: str) -> frozenset[str]:
        """The finding ids of a previous ``audit -o json`` report."""
        from .audit import load_baseline

        return load_baseline(path)

    @staticmethod
    def rule_catalog() -> list[dict[str, Any]]:
        """Every rule's id, title, severity, description, remediation and references."""
        from .rules import ALL_RULES

        return [r.to_dict() for r in ALL_RULES]

    def subject_diagrams(self, subjects: Iterable[str]) -> dict[str, str]:
        """SVG diagrams of subjects (id → SVG text) for the HTML report: only when ``analyzer.render``
        provides ``Analysis.render_subject`` and Graphviz ``dot`` is installed; otherwise empty."""
        import shutil

        render = getattr(self, "render_subject", None)
        if render is None or shutil.which("dot") is None:
            return {}
        out: dict[str, str] = {}
        for sid in dict.fromkeys(subjects):
            try:
                graph = render(sid)
                svg = graph.pipe(format="svg") if hasattr(graph, "pipe") else graph
                out[sid] = svg.decode("utf-8") if isinstance(svg, bytes) else str(svg)
            except Exception as exc:  # a diagram is decoration: never fail the report for it
                logger.debug("no diagram for %s: %s", sid, exc)
        return out


def _parse_sar(sar: Any) -> tuple[UserInfo, Request]:
    if not isinstance(sar, Mapping):
        raise UsageError("review is not a map")
    kind = sar.get("kind")
    if kind not in (None, "SubjectAccessReview"):
        raise UsageError(f"kind {kind!r} is not SubjectAccessReview")
    api_version = sar.get("apiVersion")
    if api_version not in (None, "authorization.k8s.io/v1", "authorization.k8s.io/v1beta1"):
        raise UsageError(f"apiVersion {api_version!r} is not authorization.k8s.io/v1")
    spec = sar.get("spec")
    if not isinstance(spec, Mapping):
        raise UsageError("spec: missing or not a map")
    user = spec.get("user", "")
    if not isinstance(user, str):
        raise UsageError("spec.user: must be a string")
    groups = spec.get("groups") or []
    if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
        raise UsageError("spec.groups: must be a list of strings")
    uid = spec.get("uid", "")
    if not isinstance(uid, str):
        raise UsageError("spec.uid: must be a string")
    extra_raw = spec.get("extra") or {}
    if not isinstance(extra_raw, Mapping) or not all(
            isinstance(v, list) and all(isinstance(x, str) for x in v) for v in extra_raw.values()):
        raise UsageError("spec.extra: must be a map of string lists")
    ra, nra = spec.get("resourceAttributes"), spec.get("nonResourceAttributes")
    if (ra is None) == (nra is None):
        raise UsageError("spec: exactly one of resourceAttributes and nonResourceAttributes must be present")
    if not user and not groups:
        raise UsageError("spec: at least one of user or groups must be specified")
    info = UserInfo(username=user, groups=tuple(groups), uid=uid,
                    extra={k: tuple(v) for k, v in extra_raw.items()})
    if ra is not None:
        if not isinstance(ra, Mapping):
            raise UsageError("spec.resourceAttributes: must be a map")
        fields = {}
        for key in ("namespace", "verb", "group", "version", "resource", "subresource", "name"):
            v = ra.get(key, "")
            if v is None:
                v = ""
            if not isinstance(v, str):
                raise UsageError(f"spec.resourceAttributes.{key}: must be a string")
            fields[key] = v
        return info, Request(verb=fields["verb"], resource=fields["resource"], api_group=fields["group"],
                             subresource=fields["subresource"], name=fields["name"], namespace=fields["namespace"])
    if not isinstance(nra, Mapping):
        raise UsageError("spec.nonResourceAttributes: must be a map")
    path, verb = nra.get("path", ""), nra.get("verb", "")
    if not isinstance(path, str) or not isinstance(verb, str):
        raise UsageError("spec.nonResourceAttributes: path and verb must be strings")
    return info, Request(verb=verb, path=path, resource_request=False)
