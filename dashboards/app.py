"""The rbac-analyzer dashboard: explore a policy, ask who can / can I, read the audit. A view over ``Analysis``.

Run with ``rbac-analyzer dashboard [-f PATH ...]`` or ``streamlit run dashboards/app.py [-- PATH ...]``.

Caching: ``st.cache_resource`` holds only the sample policies, local paths and live sources, keyed by
plain strings (paths, context names); an upload's Analysis lives in that browser session's
``st.session_state`` and goes when the session ends. No credential is ever an argument of a cached
function (tests/test_dashboard.py checks it).
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import streamlit as st

from analyzer.api import Analysis
from analyzer.errors import AnalyzerError
from analyzer.model import Decision, Grant, NearMiss, Request, RulesReview, SubjectAccess, UserInfo

logger = logging.getLogger("rbac_analyzer.dashboard")

ROOT = Path(__file__).resolve().parent.parent
APP_TITLE = "rbac-analyzer"

SRC_SAMPLE = "Sample policies"
SRC_UPLOAD = "Upload files"
SRC_PATH = "Local path"
SRC_LIVE = "Live cluster"

PAGE_OVERVIEW = "Overview"
PAGE_WHO = "Who can"
PAGE_CAN = "Can I"
PAGE_SUBJECT = "Subject"
PAGE_FINDINGS = "Findings"
PAGE_IDENTITY = "Identity"
PAGES = (PAGE_OVERVIEW, PAGE_WHO, PAGE_CAN, PAGE_SUBJECT, PAGE_FINDINGS, PAGE_IDENTITY)

ALL_NAMESPACES = "(cluster-wide)"
VERBS = ("get", "list", "watch", "create", "update", "patch", "delete", "deletecollection", "bind", "escalate",
         "impersonate", "approve", "use", "*")
UPLOAD_TYPES = ["yaml", "yml", "json", "zip", "gz", "tgz", "tar"]
CUSTOM_USER = "Another user…"


# ---------------------------------------------------------------------------------------------------------
# Sources. Cached functions take plain strings only: never a credential, never uploaded bytes.
# ---------------------------------------------------------------------------------------------------------

def sample_dir() -> Path | None:
    """The demo cluster when present, else the whole sample_policies folder, else None."""
    for candidate in (ROOT / "sample_policies" / "demo-cluster", ROOT / "sample_policies"):
        if candidate.is_dir() and any(p.suffix in (".yaml", ".yml", ".json") for p in candidate.rglob("*")):
            return candidate
    return None


@dataclasses.dataclass(frozen=True, kw_only=True)
class CommandLine:
    """What ``rbac-analyzer dashboard`` passed after ``--``: paths, and a live context to open on."""

    paths: tuple[str, ...] = ()
    live: bool = False
    context: str = ""
    kubeconfig: str = ""


def command_line(argv: list[str] | None = None) -> CommandLine:
    """Parse ``-f P`` / bare ``P``, ``--live``, ``--context C``, ``--kubeconfig F`` given after ``--``."""
    argv = list(sys.argv if argv is None else argv)
    try:  # only our own command line: under a test runner argv belongs to someone else
        if not argv or Path(argv[0]).resolve() != Path(__file__).resolve():
            return CommandLine()
    except OSError:
        return CommandLine()
    paths: list[str] = []
    values = {"--context": "", "--kubeconfig": ""}
    live = False
    args = argv[1:]
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("-f", "--filename", *values) and i + 1 < len(args):
            if a in values:
                values[a] = args[i + 1]
            else:
                paths.append(args[i + 1])
            i += 2
            continue
        if a == "--live":
            live = True
        elif not a.startswith("-"):
            paths.append(a)
        i += 1
    return CommandLine(paths=tuple(paths), live=live, context=values["--context"], kubeconfig=values["--kubeconfig"])


@st.cache_resource(show_spinner="Loading the policy…", max_entries=8)
def load_paths(paths_key: str) -> Analysis:
    """One shared Analysis per set of local paths (newline-separated), samples included."""
    return Analysis.from_paths([p for p in paths_key.split("\n") if p])


def live_available() -> bool:
    """Live loading exists in this version (issue 8)."""
    return callable(getattr(Analysis, "from_sources", None))


@st.cache_resource(show_spinner="Reading the cluster…", max_entries=4, ttl=600)
def load_live(context: str, kubeconfig_path: str) -> Analysis:
    """One shared Analysis per (context name, kubeconfig path): names, never credentials. Exec plugins are
    not run from the dashboard."""
    if not live_available():
        raise AnalyzerError("live loading is not available in this version")
    return Analysis.from_sources(live=True, kubeconfig=kubeconfig_path or None, context=context or None)


def upload_analysis(files: list[Any]) -> Analysis:
    """The uploads' Analysis, kept in this browser session only (rebuilt when the uploads change)."""
    blobs = [(f.name, f.getvalue()) for f in files]
    digest = hashlib.sha256()
    for name, data in blobs:
        digest.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
    key = digest.hexdigest()
    held = st.session_state.get("_upload")
    if held is not None and held[0] == key:
        return held[1]
    st.session_state.pop("_upload", None)
    with st.spinner("Reading the uploads…"):
        analysis = Analysis.from_uploads(blobs)
    st.session_state["_upload"] = (key, analysis)
    return analysis


LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def served_locally() -> bool:
    """True when the server listens on loopback only, so whoever uses the browser is on this machine.

    Otherwise (``--address 0.0.0.0``, or ``streamlit run`` without an address, which listens everywhere)
    the dashboard does not let a visitor read other paths of this machine or use its kubeconfig: only
    what was given on the command line.
    """
    return (st.get_option("server.address") or "") in LOOPBACK


def choose_source() -> tuple[Analysis | None, str]:
    """Sidebar: pick and load a policy source. Returns (analysis or None, a one-line description)."""
    cmd = command_line()
    sample = sample_dir()
    local = served_locally()
    options = [SRC_SAMPLE, SRC_UPLOAD]
    options += [SRC_PATH] if local or cmd.paths else []
    options += [SRC_LIVE] if live_available() and (local or cmd.live) else []
    default = SRC_LIVE if cmd.live and live_available() else SRC_PATH if cmd.paths else SRC_SAMPLE
    st.sidebar.header("Policy")
    source = st.sidebar.radio("Source", options, index=options.index(default), key="source",
                              help="Where the RBAC policy comes from. Nothing is sent anywhere.")
    try:
        if source == SRC_SAMPLE:
            if sample is None:
                st.sidebar.warning("No sample policies in this installation: upload files or give a path.")
                return None, ""
            rel = sample.relative_to(ROOT)
            st.sidebar.caption(f"Reading `{rel}/`.")
            return load_paths(str(sample)), f"sample policies ({rel})"
        if source == SRC_UPLOAD:
            files = st.sidebar.file_uploader(
                "Manifests", type=UPLOAD_TYPES, accept_multiple_files=True, key="uploads",
                help="YAML or JSON manifests, or a .zip / .tar.gz of them. Read in memory, kept only for "
                     "this browser session.")
            if not files:
                st.sidebar.info("Upload one or more manifests or an archive.")
                return None, ""
            return upload_analysis(files), f"{len(files)} uploaded file(s)"
        if source == SRC_PATH:
            text = st.sidebar.text_area("Files or folders (one per line)", value="\n".join(cmd.paths), key="paths",
                                        disabled=not local,
                                        help="Paths on the machine running the dashboard; folders are read "
                                             "recursively.")
            if not local:  # a remote visitor must not read arbitrary files of this machine
                st.sidebar.caption("Reachable from other machines: only the paths given on the command line.")
                text = "\n".join(cmd.paths)
            paths = [p.strip() for p in text.splitlines() if p.strip()]
            if not paths:
                st.sidebar.info("Type a file or folder path.")
                return None, ""
            if st.sidebar.button("Reload from disk", help="Read the files again (they are cached)."):
                load_paths.clear()
            return load_paths("\n".join(paths)), ", ".join(paths)
        if source == SRC_LIVE:
            context = st.sidebar.text_input("Context", value=cmd.context, key="live_context", disabled=not local,
                                            help="kubeconfig context (empty: the current context)")
            kubeconfig = st.sidebar.text_input("Kubeconfig path", value=cmd.kubeconfig, key="live_kubeconfig",
                                               disabled=not local,
                                               help="empty: $KUBECONFIG or ~/.kube/config. Exec plugins are not run.")
            if not local:  # a remote visitor must not pick this machine's other contexts
                context, kubeconfig = cmd.context, cmd.kubeconfig
            if st.sidebar.button("Connect", key="live_connect"):
                st.session_state["_live_on"] = True
            if not (cmd.live or st.session_state.get("_live_on")):
                st.sidebar.info("Press Connect to read the cluster's RBAC policy (read-only list calls).")
                return None, ""
            if st.sidebar.button("Read again", key="live_reload", help="Forget the cached copy of the cluster."):
                load_live.clear()
            analysis = load_live(context.strip(), kubeconfig.strip())
            return analysis, f"the live cluster ({context.strip() or 'current context'})"
    except AnalyzerError as exc:
        st.sidebar.error(str(exc))
    return None, ""


# ---------------------------------------------------------------------------------------------------------
# Plain-string rows for tables
# ---------------------------------------------------------------------------------------------------------

def table(rows: list[dict[str, str]], *, empty: str = "Nothing to show.", height: int | None = None) -> None:
    if not rows:
        st.caption(empty)
        return
    kwargs: dict[str, Any] = {"hide_index": True, "width": "stretch"}
    if height is not None:
        kwargs["height"] = height
    st.dataframe(rows, **kwargs)


def short_path(text: str) -> str:
    """A source location without this checkout's (or the working directory's) absolute prefix."""
    for base in (str(ROOT), str(Path.cwd())):
        if text.startswith(base + "/"):
            return text[len(base) + 1:]
    return text


def _ns_name(namespace: str, name: str) -> str:
    return f"{namespace}/{name}" if namespace else name


def grant_row(g: Grant) -> dict[str, str]:
    b, r = g.binding, g.role
    return {
        "binding": f"{b.kind} {_ns_name(b.namespace, b.name)}",
        "role": f"{r.kind} {_ns_name(r.namespace, r.name)}" + (" (aggregated)" if r.aggregation_rule is not None else ""),
        "scope": f"namespace {g.namespace}" if g.namespace else "cluster-wide",
        "rule": f"#{g.rule_index + 1}: {g.rule.summary()}",
        "source": short_path(str(b.source)),
    }


def subject_label(kind: str, name: str, namespace: str = "") -> str:
    return f"{kind}:{namespace}/{name}" if kind == "ServiceAccount" else f"{kind}:{name}"


def who_can_rows(subjects: list[SubjectAccess]) -> list[dict[str, str]]:
    rows = []
    for s in subjects:
        base = {"subject": subject_label(s.subject.kind, s.subject.name, s.subject.namespace)}
        if s.authorizer:
            why = ("member of system:masters: allowed before RBAC is asked" if s.authorizer == "system:masters"
                   else f"{s.authorizer} (no binding needed)")
            rows.append(base | {"binding": why, "role": "", "scope": "", "rule": "", "source": ""})
            continue
        rows.extend(base | grant_row(g) for g in s.grants)
    return rows


def near_miss_row(m: NearMiss) -> dict[str, str]:
    b = m.binding
    return {
        "binding": f"{b.kind} {_ns_name(b.namespace, b.name)}",
        "role": f"{b.role_ref.kind} {b.role_ref.name}",
        "rule": m.rule.summary() if m.rule is not None else "",
        "why not": m.detail or ", ".join(m.reasons),
        "source": short_path(str(b.source)),
    }


def namespace_picker(analysis: Analysis, label: str, key: str, *, default: str = "default",
                     cluster_label: str = ALL_NAMESPACES, help: str = "") -> str:
    """A namespace selectbox; returns the namespace or "" for cluster-wide."""
    names = analysis.namespace_names
    options = [cluster_label, *names]
    if default not in names:
        default = names[0] if names else cluster_label
    choice = st.selectbox(label, options, index=options.index(default), key=key, help=help or None)
    return "" if choice == cluster_label else choice


def show_diagram(analysis: Analysis, method: str, *args: Any, **kwargs: Any) -> None:
    """Draw ``analysis.<method>(...)`` (a graphviz.Digraph) when the diagrams exist (issue 4)."""
    fn = getattr(analysis, method, None)
    if fn is None:
        st.caption("Diagrams are not available in this version yet.")
        return
    try:
        graph = fn(*args, **kwargs)
    except AnalyzerError as exc:
        st.warning(str(exc))
        return
    st.graphviz_chart(graph, width="stretch")


def user_label(user: UserInfo) -> str:
    """Markdown for a user: names in code spans, so e-mail-like names are not turned into links."""
    groups = ", ".join(f"`{g}`" for g in user.groups) or "none"
    return f"user `{user.username}` · groups: {groups}" if user.username else f"no user name · groups: {groups}"


# ---------------------------------------------------------------------------------------------------------
# Pages
# ---------------------------------------------------------------------------------------------------------

def page_overview(analysis: Analysis, described: str) -> None:
    st.title("Overview")
    st.caption(f"What was loaded from {described}, and what could not be read.")
    summary = analysis.summary()
    c1, c2, c3, c4, c5 = st.columns(5)
    c1.metric("Files", summary["files"])
    c2.metric("Objects", summary["objects"])
    c3.metric("Namespaces", summary["namespaces"])
    c4.metric("Subjects", len(analysis.subject_ids))
    c5.metric("Load issues", summary["loadIssues"])
    if analysis.inventory.incomplete:
        st.warning("Incomplete: could not read " + ", ".join(analysis.inventory.incomplete))

    left, right = st.columns(2)
    with left:
        st.subheader("Objects per kind")
        table([{"kind": k, "count": str(n)} for k, n in summary["kinds"].items()], empty="No objects loaded.")
    findings_box = right.container()  # filled last: the audit of a big cluster takes a while the first time

    if getattr(analysis, "render_namespace", None) is not None and analysis.namespace_names:
        with st.expander("Diagram of one namespace", expanded=False):
            ns = st.selectbox("Namespace", analysis.namespace_names, key="ov_ns",
                              help="Everything bound in that namespace, and the workloads of its service accounts.")
            show_diagram(analysis, "render_namespace", ns)

    st.subheader("Load issues")
    st.caption("Documents that could not be read as their kind were dropped; everything else loaded.")
    table([{"file": short_path(i.file), "document": str(i.document or ""), "line": str(i.line or ""), "field": i.field,
            "problem": i.message} for i in analysis.load_issues], empty="None: every document loaded.")
    st.subheader("Notices")
    st.caption("Loaded as written, but the API server would reject or could not resolve them.")
    table([{"code": n.code, "where": short_path(f"{n.file}:{n.line}" if n.line else n.file), "message": n.message}
           for n in analysis.notices], empty="None.")

    with findings_box:
        st.subheader("Findings by severity")
        report = audit_report(analysis) if getattr(analysis, "audit", None) is not None else None
        if report is None:
            st.caption("The audit is not available in this version yet.")
            return
        st.caption("Your policy's findings (Kubernetes' own defaults left out); details on Findings.")
        table([{"severity": s, "findings": str(n)} for s, n in findings_by_severity(report).items()])
        st.subheader("Most powerful subjects")
        st.caption("Non-system subjects ranked by their most severe finding.")
        table(powerful_subjects(report), empty="No non-system subject holds a risky permission.")


def request_form(analysis: Analysis, key: str, *, default_verb: str = "get", default_resource: str = "secrets",
                 default_namespace: str = "kube-system") -> tuple[str, str, str, str, bool]:
    """Verb / resource / namespace / subresource inputs. Returns (verb, target, namespace, subresource, all_ns)."""
    c1, c2, c3, c4 = st.columns([1, 2, 2, 1])
    verb = c1.selectbox("Verb", VERBS, index=VERBS.index(default_verb), key=f"{key}_verb", accept_new_options=True,
                        help="Any verb; type one that is not listed.")
    target = c2.text_input("Resource", value=default_resource, key=f"{key}_resource",
                           help="kubectl-style: pods, deploy, secrets/NAME, widgets.example.com, or a URL like /metrics")
    with c3:
        namespace = namespace_picker(analysis, "Namespace", f"{key}_ns", default=default_namespace,
                                     help="(cluster-wide) asks cluster-wide, where only ClusterRoleBindings count")
    subresource = c4.text_input("Subresource", value="", key=f"{key}_sub", help="e.g. exec, log, status")
    return (verb or "").strip(), target.strip(), namespace, subresource.strip(), namespace == ""


def form_request(analysis: Analysis, verb: str, target: str, namespace: str, subresource: str,
                 all_ns: bool) -> Request | None:
    """The request a form describes, or None after showing why it is unusable."""
    try:
        return analysis.parse_request(verb, target, namespace=None if all_ns else namespace,
                                      all_namespaces=all_ns, subresource=subresource)
    except AnalyzerError as exc:
        st.error(str(exc))
        return None


def page_who_can(analysis: Analysis) -> None:
    st.title("Who can")
    st.caption("Every subject that can make the request, with the binding → role → rule that lets it. "
               "Groups are listed as groups: the policy does not know their members.")
    verb, target, namespace, subresource, all_ns = request_form(analysis, "who")
    if not verb or not target:
        st.info("Give a verb and a resource.")
        return
    request = form_request(analysis, verb, target, namespace, subresource, all_ns)
    if request is None:
        return
    subjects, errors = analysis.who_can_request(request)
    st.subheader(f"Who can {request.describe()}")
    rbac = [s for s in subjects if not s.authorizer]
    st.markdown(f"**{len(rbac)}** subject(s) through RBAC, plus members of `system:masters`.")
    table(who_can_rows(subjects), empty="Nobody (except system:masters).")
    for e in dict.fromkeys(errors):
        st.warning(f"A binding in scope refers to a missing role: {e}")
    if analysis.inventory.incomplete:
        st.warning("Incomplete: could not read " + ", ".join(analysis.inventory.incomplete))
    with st.expander("Diagram", expanded=False):
        show_diagram(analysis, "render_who_can", request)


def subject_picker(analysis: Analysis, key: str, *, allow_custom: bool = True) -> UserInfo | None:
    """Pick a subject of the policy (or type a user and groups) → the UserInfo the API server would see."""
    uploaded: dict[str, UserInfo] = st.session_state.get("_identity_users", {})
    options = list(uploaded) + list(analysis.subject_ids) + ([CUSTOM_USER] if allow_custom else [])
    if not options:
        st.info("The policy names no subjects.")
        return None
    choice = st.selectbox("Subject", options, key=f"{key}_subject",
                          help="Users, groups and service accounts named by bindings, every service account, and "
                               "identities uploaded on the Identity page.")
    if choice == CUSTOM_USER:
        c1, c2 = st.columns(2)
        user = c1.text_input("User name", value="", key=f"{key}_user",
                             help="As --as: system:serviceaccount:NS:NAME for a service account")
        groups = c2.text_input("Groups (comma-separated)", value="", key=f"{key}_groups")
        if not user.strip():
            st.info("Type a user name.")
            return None
        try:
            return analysis.impersonate(user.strip(), [g.strip() for g in groups.split(",") if g.strip()])
        except AnalyzerError as exc:
            st.error(str(exc))
            return None
    if choice in uploaded:
        return uploaded[choice]
    try:
        return analysis.user_for_subject(choice)
    except AnalyzerError as exc:
        st.error(str(exc))
        return None


def decision_view(decision: Decision) -> None:
    if decision.allowed:
        st.success(f"**Yes** — {decision.request.describe()}")
    else:
        st.error(f"**No** — {decision.request.describe()}")
    st.markdown("Asked as " + user_label(decision.user))
    if decision.authorizer == "system:masters":
        st.info("Allowed by the system:masters group: the API server allows it before RBAC is asked.")
        return
    if decision.reason:
        st.caption(f"Reason (as the API server says it): {decision.reason}")
    if decision.allowed:
        st.subheader("Evidence")
        st.caption("Each row is one binding → role → rule that allows the request.")
        table([{"subject": subject_label(g.subject.kind, g.subject.name, g.subject.namespace or g.binding.namespace
                                         if g.subject.kind == "ServiceAccount" else "")} | grant_row(g)
               for g in decision.evidence])
    else:
        st.subheader("Near misses")
        st.caption("Rules of this subject's bindings that would allow it but for the reason shown.")
        table([near_miss_row(m) for m in decision.near_misses], empty="No binding of this subject comes close.")
    for e in decision.errors:
        st.warning(e)


def page_can_i(analysis: Analysis) -> None:
    st.title("Can I")
    st.caption("Pick a subject and a request: yes or no, exactly as the API server decides, with the evidence "
               "chain for a yes and the near misses for a no. A kubeconfig, certificate or token uploaded on the "
               "Identity page is offered first.")
    user = subject_picker(analysis, "can")
    verb, target, namespace, subresource, all_ns = request_form(analysis, "can", default_verb="create",
                                                                default_resource="pods", default_namespace="default")
    if user is None or not verb or not target:
        return
    request = form_request(analysis, verb, target, namespace, subresource, all_ns)
    if request is None:
        return
    decision_view(analysis.check(user, request))


def _review_rows(review: RulesReview) -> list[dict[str, str]]:
    return [grant_row(g) for g in review.grants]


def page_subject(analysis: Analysis) -> None:
    st.title("Subject")
    st.caption("Everything one subject can do: cluster-wide, and in each namespace where a RoleBinding gives it "
               "more. Implied groups (system:authenticated, system:serviceaccounts…) count.")
    user = subject_picker(analysis, "subj")
    if user is None:
        return
    st.markdown(user_label(user))
    cluster, per_ns = analysis.rules_everywhere(user)
    if cluster.all_powerful:
        st.error("Member of system:masters: every request is allowed, whatever RBAC says.")
    scopes = [ALL_NAMESPACES, *per_ns]
    # a namespace's view includes the cluster-wide grants, so the first namespace says the most
    scope = st.radio("Scope", scopes, index=1 if per_ns else 0, horizontal=True, key="subj_scope",
                     help="Namespaces listed are those where a RoleBinding applies to this subject. "
                          "Cluster-wide rules apply in every namespace too.")
    review = cluster if scope == ALL_NAMESPACES else per_ns[scope]
    where = "cluster-wide" if scope == ALL_NAMESPACES else f"in namespace {scope} (cluster-wide grants included)"
    st.subheader(f"Access matrix, {where}")
    matrix = analysis.access_matrix(review)
    st.caption("✓ = on every object of that resource; names: only those objects. Wildcards stay as written: "
               "a \\* verb column means every verb, a \\* resource row every resource (\\*.\\* in every API group).")
    table(matrix.rows(), empty="No permissions here.")
    with st.expander(f"Grants behind it ({len(review.grants)})"):
        table(_review_rows(review), empty="None.")
    if review.incomplete or review.evaluation_error:
        st.warning(f"Incomplete: {review.evaluation_error or 'a binding refers to a missing role'}")

    st.subheader("Escalation paths")
    paths_from = getattr(analysis, "paths_from", None)
    if paths_from is None:
        st.caption("Escalation paths are not available in this version yet.")
    else:
        escalation_view(analysis, user)
    st.subheader("Blast radius")
    if getattr(analysis, "blast_radius", None) is None:
        st.caption("Blast radius is not available in this version yet.")
    else:
        blast_radius_view(analysis, user)
    with st.expander("Diagram", expanded=False):
        show_diagram(analysis, "render_subject", user,
                     namespace=None if scope == ALL_NAMESPACES else scope)


# -- pages over the audit (issue 5) and escalation paths (issue 6); each degrades to a one-line note ------

SEVERITY_ORDER = ("critical", "high", "medium", "low", "info")


def audit_report(analysis: Analysis, include_system: bool = False) -> Any | None:
    """The audit Report (issue 5) when this version has it; None otherwise. Cached on the Analysis."""
    fn = getattr(analysis, "audit", None)
    if fn is None:
        return None
    with st.spinner("Auditing the policy…"):
        return fn(include_system=include_system)


def _sev(f: Any) -> str:
    return str(getattr(f.severity, "value", f.severity))


def _subject_text(f: Any) -> str:
    s = f.subject
    return subject_label(s.kind, s.name, s.namespace) if s is not None else ""


def findings_by_severity(report: Any) -> dict[str, int]:
    counts = {s: 0 for s in SEVERITY_ORDER}
    for f in report.user:
        counts[_sev(f)] = counts.get(_sev(f), 0) + 1
    return counts


def powerful_subjects(report: Any, limit: int = 10) -> list[dict[str, str]]:
    """Non-system subjects ranked by their worst finding, then by how many they have (user section only)."""
    by_subject: dict[str, list[Any]] = {}
    for f in report.user:
        if f.subject is not None:
            by_subject.setdefault(_subject_text(f), []).append(f)

    def rank(item: tuple[str, list[Any]]) -> tuple[int, int, str]:
        worst = min(SEVERITY_ORDER.index(_sev(f)) if _sev(f) in SEVERITY_ORDER else 9 for f in item[1])
        return worst, -len(item[1]), item[0]

    rows = []
    for subject, fs in sorted(by_subject.items(), key=rank)[:limit]:
        worst = min((_sev(f) for f in fs), key=lambda v: SEVERITY_ORDER.index(v) if v in SEVERITY_ORDER else 9)
        rows.append({"subject": subject, "worst": worst, "findings": str(len(fs)),
                     "rules": ", ".join(sorted({f.rule for f in fs}))})
    return rows


def finding_row(f: Any) -> dict[str, str]:
    return f.as_row()


def finding_detail(f: Any) -> None:
    st.markdown(f"**{f.rule} · {f.title}** — {_sev(f)}")
    st.write(f.message)
    evidence = [{"evidence": e.describe(), "source": short_path(str(e.source)) if e.source is not None else ""}
                for e in f.evidence]
    table(evidence, empty="No evidence recorded.")
    if getattr(f, "blast_radius", ()):
        st.markdown("Pods and workloads carrying this subject's token: " +
                    ", ".join(f"`{w}`" for w in f.blast_radius))
    if f.remediation:
        st.info(f"Fix: {f.remediation}")


def page_findings(analysis: Analysis) -> None:
    st.title("Findings")
    st.caption("Risky permissions with their evidence. Filter them, open one, download them as Markdown, HTML, "
               "JSON or SARIF (what you see: the filters apply to the downloads).")
    if getattr(analysis, "audit", None) is None:
        st.info("The audit is not available in this version yet.")
        return
    include_system = st.toggle("Include Kubernetes' own defaults", value=False, key="find_system",
                               help="Findings about bootstrap roles, controllers and node identities (the "
                                    "platform section) are left out unless this is on.")
    report = audit_report(analysis, include_system)
    findings = [f for f in report.findings if f.section != "excluded" and (include_system or f.section == "user")]
    c1, c2, c3, c4 = st.columns(4)
    severities = [s for s in SEVERITY_ORDER if any(_sev(f) == s for f in findings)]
    chosen_sev = c1.multiselect("Severity", severities, default=severities, key="find_sev")
    chosen_rules = c2.multiselect("Rule", sorted({f.rule for f in findings}), key="find_rule",
                                  help="Empty: every rule")
    namespaces = sorted({f.namespace or ALL_NAMESPACES for f in findings})
    chosen_ns = c3.multiselect("Namespace", namespaces, key="find_ns", help="Empty: every namespace")
    subject_text = c4.text_input("Subject contains", key="find_subject", help="e.g. ServiceAccount:ci/")
    shown = [f for f in findings
             if _sev(f) in chosen_sev
             and (not chosen_rules or f.rule in chosen_rules)
             and (not chosen_ns or (f.namespace or ALL_NAMESPACES) in chosen_ns)
             and (not subject_text or subject_text.lower() in _subject_text(f).lower())]
    shown.sort(key=lambda f: (SEVERITY_ORDER.index(_sev(f)) if _sev(f) in SEVERITY_ORDER else 9, f.rule,
                              _subject_text(f)))
    st.markdown(f"**{len(shown)}** of {len(findings)} finding(s).")
    table([finding_row(f) for f in shown], empty="No findings match.")
    if shown:
        labels = [f"{_sev(f)} · {f.rule} · {_subject_text(f) or f.object or f.title} · "
                  f"{f.namespace or 'cluster-wide'}" for f in shown]
        pick = st.selectbox("Details of", range(len(shown)), format_func=lambda i: labels[i], key="find_pick")
        with st.container(border=True):
            finding_detail(shown[pick])
    download_buttons(report, shown)


def download_buttons(report: Any, shown: list[Any]) -> None:
    try:
        import analyzer.report as formats
    except ImportError:
        st.caption("Report downloads are not available in this version yet.")
        return
    filtered = dataclasses.replace(report, findings=tuple(shown))
    st.subheader("Download")
    cols = st.columns(4)
    for col, (label, fn_name, file_name, mime) in zip(cols, (
            ("Markdown", "to_markdown", "rbac-audit.md", "text/markdown"),
            ("HTML", "to_html", "rbac-audit.html", "text/html"),
            ("JSON", "to_json", "rbac-audit.json", "application/json"),
            ("SARIF", "to_sarif", "rbac-audit.sarif", "application/sarif+json")), strict=True):
        fn = getattr(formats, fn_name, None)
        if fn is None:
            continue
        col.download_button(label, data=lambda fn=fn: fn(filtered), file_name=file_name, mime=mime,
                            key=f"dl_{fn_name}", on_click="ignore", width="stretch")


def escalation_view(analysis: Analysis, user: UserInfo) -> None:
    """Shortest path from this subject to each sink it reaches (issue 6)."""
    with st.spinner("Searching escalation paths…"):
        paths = analysis.paths_from(user)
    if not paths:
        st.success("No escalation path found from this subject to cluster-admin, system:masters, kube-system "
                   "secrets, nodes or another namespace's admin.")
        return
    for p in paths:
        potential = " (potential: depends on objects the input may lack)" if p.potential else ""
        st.markdown(f"→ **{p.sink}** in {p.hops} step(s){potential}")
        rows = []
        for step in p.steps:
            g = step.grant
            rows.append({"from": step.source, "technique": step.technique, "to": step.target,
                         "because": step.reason or step.detail,
                         "via": f"{g.binding.kind} {_ns_name(g.binding.namespace, g.binding.name)} → {g.role.kind} "
                                f"{g.role.name} → {g.rule.summary()}" if g is not None else "",
                         "potential": "yes" if step.potential else ""})
        table(rows)
    if getattr(analysis, "paths_diagram", None) is not None:
        with st.expander("Diagram of these paths", expanded=False):
            show_diagram(analysis, "paths_diagram", paths)


def blast_radius_view(analysis: Analysis, user: UserInfo) -> None:
    """Identities this subject can become, namespaces it controls, pods carrying its token (issue 6)."""
    with st.spinner("Measuring the blast radius…"):
        br = analysis.blast_radius(user)
    c1, c2, c3 = st.columns(3)
    c1.metric("Identities it can become", len(br.identities))
    c2.metric("Namespaces it controls", len(br.namespaces))
    c3.metric("Pods with its token", len(br.pods))
    if br.sinks:
        st.warning("Reaches: " + ", ".join(br.sinks))
    table([{"identity": i, "hops": str(h), "potential": "yes" if pot else ""} for i, h, pot in br.identities],
          empty="It cannot become any other identity.")
    if br.namespaces:
        st.markdown("Controls namespaces: " + ", ".join("every namespace" if n == "*" else f"`{n}`"
                                                         for n in br.namespaces))
    if br.pods:
        st.markdown("Its token is mounted in: " + ", ".join(f"`{p}`" for p in br.pods))


def identity_available() -> bool:
    return callable(getattr(Analysis, "identities_from_upload", None))


def uploaded_identities(file: Any) -> tuple[list[Any], list[str]]:
    """Reports for one uploaded credential, kept in this session only (claims and fingerprints, no secret)."""
    data = file.getvalue()
    key = hashlib.sha256(file.name.encode() + b"\0" + data).hexdigest()
    held = st.session_state.get("_identity")
    if held is not None and held[0] == key:
        return held[1], held[2]
    reports, warnings = Analysis.identities_from_upload(file.name, data)
    st.session_state["_identity"] = (key, reports, warnings)
    # Can I offers the resolved identities (user names and groups only) as subjects
    st.session_state["_identity_users"] = {
        f"{identity_label(r)} (uploaded)": r.user for r in reports if r.user is not None}
    return reports, warnings


def identity_label(r: Any) -> str:
    who = r.user.username if r.user is not None else "unresolved"
    return f"{r.context}: {who}" if r.context else who


def power_text(analysis: Analysis, user: UserInfo | None) -> str:
    if user is None:
        return ""
    fn = getattr(analysis, "power_of", None)
    if fn is None:
        return ""
    p = fn(user)
    return p.summary() if hasattr(p, "summary") else ""


def page_identity(analysis: Analysis) -> None:
    st.title("Identity")
    st.caption("Upload a kubeconfig, a client certificate (PEM) or a token: who the API server would take it for, "
               "its problems, and its power in this policy. Resolved offline (exec plugins are never run); "
               "uploads are read in memory, never stored, and forgotten when this browser tab closes.")
    if not identity_available():
        st.info("Identity resolution is not available in this version yet.")
        return
    file = st.file_uploader("Kubeconfig, certificate or token", key="identity_upload",
                            help="A kubeconfig (every context is shown; use embedded *-data, file references are "
                                 "not followed), a PEM client certificate, or a file holding a bearer token.")
    if file is None:
        st.info("Upload a credential to see who it is.")
        return
    try:
        reports, warnings = uploaded_identities(file)
    except AnalyzerError as exc:
        st.error(str(exc))
        return
    for w in warnings:
        st.warning(w)
    rows = []
    for r in reports:
        user = r.user
        rows.append({
            "context": r.context or file.name,
            "user": user.username if user is not None else "",
            "groups": ", ".join(user.groups) if user is not None else "",
            "credential": getattr(r, "credential_description", r.credential_type),
            "accepted": "yes" if r.accepted else ("unknown offline" if not r.resolvable else "no"),
            "problems": ", ".join(r.problems or r.rejected_because) or ("" if r.resolvable else r.unresolvable_reason),
            "power in this policy": power_text(analysis, user) if r.resolvable else "",
        })
    st.subheader("Identities")
    table(rows)
    pick = 0
    if len(reports) > 1:
        pick = st.selectbox("Details of", range(len(reports)), format_func=lambda i: rows[i]["context"],
                            key="identity_pick")
    r = reports[pick]
    with st.container(border=True):
        if r.user is not None:
            st.markdown(user_label(r.user))
        if not r.resolvable:
            st.warning(f"Cannot be decided offline: {r.unresolvable_reason}")
        elif r.accepted:
            st.success("The API server would accept this credential.")
        else:
            st.error("The API server would reject this credential: " + "; ".join(r.rejected_because))
        if r.authenticated_as is not None and r.user is not None and r.authenticated_as != r.user:
            st.markdown("Authenticates as " + user_label(r.authenticated_as) + ", then impersonates the user above.")
        facts = [{"detail": k, "value": v} for k, v in r.facts]
        if r.fingerprint:
            facts.append({"detail": "fingerprint", "value": r.fingerprint})
        if r.server:
            facts.append({"detail": "server", "value": r.server})
        table(facts, empty="")
        for w in r.warnings:
            st.caption(f"⚠ {w}")
        if r.user is not None and r.resolvable:
            st.caption("Pick it on the Can I page to ask what it may do, or see its escalation paths below.")
            if getattr(analysis, "paths_from", None) is not None:
                st.subheader("Escalation paths")
                escalation_view(analysis, r.user)


# ---------------------------------------------------------------------------------------------------------

def main() -> None:
    st.set_page_config(page_title=APP_TITLE, page_icon=":material/shield_lock:", layout="wide")
    st.sidebar.title("rbac-analyzer")
    st.sidebar.caption("Who can do what, where — decided as the Kubernetes API server decides it.")
    page = st.sidebar.radio("Page", PAGES, key="page")
    analysis, described = choose_source()
    if analysis is None:
        st.title(page)
        st.info("Choose a policy source in the sidebar.")
        return
    if analysis.load_issues:
        st.sidebar.warning(f"{len(analysis.load_issues)} document(s) could not be loaded (see Overview).")
    renderers: dict[str, Callable[[], None]] = {
        PAGE_OVERVIEW: lambda: page_overview(analysis, described),
        PAGE_WHO: lambda: page_who_can(analysis),
        PAGE_CAN: lambda: page_can_i(analysis),
        PAGE_SUBJECT: lambda: page_subject(analysis),
        PAGE_FINDINGS: lambda: page_findings(analysis),
        PAGE_IDENTITY: lambda: page_identity(analysis),
    }
    try:
        renderers[page]()
    except AnalyzerError as exc:
        st.error(str(exc))
    except Exception as exc:  # a view never shows a traceback; the log keeps it
        logger.exception("dashboard page %s failed", page)
        st.error(f"Something went wrong on this page ({type(exc).__name__}). The server log has the details.")


main()
