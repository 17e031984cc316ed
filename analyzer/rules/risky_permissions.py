"""The catalog of risky permissions ("who can VERB RESOURCE at SCOPE") and the one check that answers every row.

Each row names what must be allowed: ALL of ``requires``, each satisfied by ANY of its Perms, in the same
scope. The check asks the policy (``queries.who_can`` over ``PolicyIndex``) for each Perm; it never reads
a rule itself, so aggregation, wildcards, subresources and resourceNames are decided by ``semantics``.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

from ..model import Evidence, Finding, Severity, Subject
from .base import Holding, Perm, RiskyPermission, Rule, RuleContext, Scope, perms

__all__ = ["RISKY_PERMISSIONS", "RULES", "ADMIN_EQUIVALENT", "powerful_subjects", "satisfied"]

_GOOD_PRACTICES = "https://kubernetes.io/docs/concepts/security/rbac-good-practices/"
_PRIV_ESC = "https://kubernetes.io/docs/reference/access-authn-authz/rbac/#privilege-escalation-prevention-and-bootstrapping"
_IMPERSONATION = "https://kubernetes.io/docs/reference/access-authn-authz/authentication/#user-impersonation"
_CSR = "https://kubernetes.io/docs/reference/access-authn-authz/certificate-signing-requests/"

POD_CONTROLLERS: tuple[tuple[str, str], ...] = (
    ("", "pods"), ("apps", "deployments"), ("apps", "daemonsets"), ("apps", "statefulsets"),
    ("apps", "replicasets"), ("", "replicationcontrollers"), ("batch", "jobs"), ("batch", "cronjobs"),
)


def _on_controllers(verbs: tuple[str, ...]) -> tuple[Perm, ...]:
    return tuple(p for group, res in POD_CONTROLLERS for p in perms(verbs, (res,), group))


_EVERYTHING = (Perm(verb="*", resource="*", api_group="*"),)  # only an all-wildcard rule allows this request

_RBAC = "rbac.authorization.k8s.io"
_ADM = "admissionregistration.k8s.io"
_WRITE = ("create", "update", "patch")

ADMIN_EQUIVALENT = RiskyPermission(
    id="RBAC-101",
    title="Cluster-admin equivalent",
    severity=Severity.CRITICAL,
    description="A ClusterRoleBinding grants every verb on every resource of every API group: the subject "
                "controls the whole cluster (the same power as cluster-admin).",
    remediation="Bind a role listing the resources and verbs the subject needs; keep cluster-admin for "
                "break-glass identities.",
    requires=(_EVERYTHING,),
    scope=Scope.CLUSTER,
    references=(_GOOD_PRACTICES,),
    category="wildcards",
)

NAMESPACE_ADMIN = RiskyPermission(
    id="RBAC-102",
    title="Full control of a namespace (wildcard)",
    severity=Severity.HIGH,
    description="A RoleBinding grants every verb on every resource of every API group in one namespace: "
                "its secrets, its pods and every ServiceAccount of the namespace.",
    remediation="Replace the wildcard role with the resources and verbs actually needed (the built-in "
                "`edit` or `view` often suffice).",
    requires=(_EVERYTHING,),
    scope=Scope.NAMESPACE,
    references=(_GOOD_PRACTICES,),
    category="wildcards",
)

RISKY_PERMISSIONS: tuple[RiskyPermission, ...] = (
    ADMIN_EQUIVALENT,
    NAMESPACE_ADMIN,
    # -- secrets -------------------------------------------------------------------------------
    RiskyPermission(
        id="RBAC-110", title="Can read any Secret cluster-wide", severity=Severity.CRITICAL,
        description="`get secrets` through a ClusterRoleBinding reads every Secret of every namespace, "
                    "service-account tokens included.",
        remediation="Grant Secret access per namespace with a RoleBinding, ideally restricted by resourceNames.",
        requires=(perms(("get",), ("secrets",)),), scope=Scope.CLUSTER, references=(_GOOD_PRACTICES,),
        category="secrets"),
    RiskyPermission(
        id="RBAC-111", title="Can list or watch Secrets cluster-wide", severity=Severity.CRITICAL,
        description="`list`/`watch secrets` return the Secrets' contents, not just their names: every Secret "
                    "of every namespace.",
        remediation="Remove list/watch on secrets; grant get on named Secrets in one namespace instead.",
        requires=(perms(("list", "watch"), ("secrets",)),), scope=Scope.CLUSTER, references=(_GOOD_PRACTICES,),
        category="secrets"),
    RiskyPermission(
        id="RBAC-112", title="Can read Secrets in kube-system", severity=Severity.CRITICAL,
        description="kube-system's Secrets hold the tokens and keys of controllers and add-ons that are "
                    "usually cluster-admin equivalent.",
        remediation="Do not grant secret access in kube-system; use resourceNames for the one Secret needed.",
        requires=(perms(("get", "list", "watch"), ("secrets",)),), scope="kube-system",
        references=(_GOOD_PRACTICES,), category="secrets"),
    RiskyPermission(
        id="RBAC-113", title="Can read Secrets in a namespace", severity=Severity.MEDIUM,
        description="Reading a namespace's Secrets (get, or list/watch, which return contents) reveals its "
                    "credentials, service-account token Secrets included.",
        remediation="Restrict secret reads with resourceNames to the Secrets the subject needs.",
        requires=(perms(("get", "list", "watch"), ("secrets",)),), scope=Scope.NAMESPACE,
        skip_namespaces=("kube-system",), references=(_GOOD_PRACTICES,), category="secrets"),
    # -- workloads -----------------------------------------------------------------------------
    RiskyPermission(
        id="RBAC-120", title="Can create pods or pod controllers cluster-wide", severity=Severity.HIGH,
        description="Creating a pod (directly or through a Deployment, DaemonSet, StatefulSet, ReplicaSet, "
                    "ReplicationController, Job or CronJob) in any namespace runs code as any ServiceAccount "
                    "there and can mount hostPath volumes unless admission forbids it.",
        remediation="Grant workload creation per namespace, and enforce Pod Security admission.",
        requires=(_on_controllers(("create",)),), scope=Scope.CLUSTER, references=(_GOOD_PRACTICES,),
        category="workloads"),
    RiskyPermission(
        id="RBAC-121", title="Can create pods or pod controllers in kube-system", severity=Severity.CRITICAL,
        description="A pod in kube-system can run as any of its ServiceAccounts (controllers, add-ons) and "
                    "so gain their permissions.",
        remediation="Keep workload creation in kube-system to the cluster's own deployment tooling.",
        requires=(_on_controllers(("create",)),), scope="kube-system", references=(_GOOD_PRACTICES,),
        category="workloads"),
    RiskyPermission(
        id="RBAC-122", title="Can create pods or pod controllers in a namespace", severity=Severity.MEDIUM,
        description="Creating a pod or controller in a namespace runs code as any ServiceAccount of that "
                    "namespace: the subject holds the union of their permissions.",
        remediation="Limit which ServiceAccounts that namespace holds powers for, or move the workloads' "
                    "creation to a deployment pipeline.",
        requires=(_on_controllers(("create",)),), scope=Scope.NAMESPACE, skip_namespaces=("kube-system",),
        references=(_GOOD_PRACTICES,),
        category="workloads"),
    RiskyPermission(
        id="RBAC-123", title="Can update or patch pods or pod controllers cluster-wide", severity=Severity.HIGH,
        description="Changing a workload's image, command or serviceAccountName anywhere runs the subject's "
                    "code with that workload's identity.",
        remediation="Grant workload updates per namespace to the deployment pipeline only.",
        requires=(_on_controllers(("update", "patch")),), scope=Scope.CLUSTER, references=(_GOOD_PRACTICES,),
        category="workloads"),
    RiskyPermission(
        id="RBAC-124", title="Can update or patch pods or pod controllers in a namespace", severity=Severity.MEDIUM,
        description="Changing a workload's image, command or serviceAccountName runs the subject's code with "
                    "a ServiceAccount of that namespace.",
        remediation="Grant workload updates to the deployment pipeline only.",
        requires=(_on_controllers(("update", "patch")),), scope=Scope.NAMESPACE, references=(_GOOD_PRACTICES,),
        category="workloads"),
    RiskyPermission(
        id="RBAC-130", title="Can exec into pods", severity=Severity.HIGH,
        description="`pods/exec` runs commands in running containers: their files, tokens and network "
                    "(`get` suffices over WebSockets on older API servers).",
        remediation="Grant pods/exec only for debugging, in one namespace, time-boxed.",
        requires=(perms(("create", "get"), ("pods",), subresource="exec"),), scope=Scope.ANY,
        references=(_GOOD_PRACTICES,), category="workloads"),
    RiskyPermission(
        id="RBAC-131", title="Can attach to pods", severity=Severity.MEDIUM,
        description="`pods/attach` reads and writes a container's console streams.",
        remediation="Remove pods/attach unless interactive debugging requires it.",
        requires=(perms(("create", "get"), ("pods",), subresource="attach"),), scope=Scope.ANY,
        references=(_GOOD_PRACTICES,), category="workloads"),
    RiskyPermission(
        id="RBAC-132", title="Can add ephemeral containers to pods", severity=Severity.HIGH,
        description="`pods/ephemeralcontainers` injects a container (any image, shared process namespace) "
                    "into a running pod, with its ServiceAccount token.",
        remediation="Reserve ephemeral containers for break-glass debugging roles.",
        requires=(perms(("update", "patch"), ("pods",), subresource="ephemeralcontainers"),), scope=Scope.ANY,
        references=(_GOOD_PRACTICES,), category="workloads"),
    RiskyPermission(
        id="RBAC-133", title="Can port-forward to pods", severity=Severity.MEDIUM,
        description="`pods/portforward` reaches any port of a pod, bypassing NetworkPolicies and Services.",
        remediation="Remove pods/portforward or limit it to one namespace.",
        requires=(perms(("create", "get"), ("pods",), subresource="portforward"),), scope=Scope.ANY,
        references=(_GOOD_PRACTICES,), category="workloads"),
    # -- impersonation -------------------------------------------------------------------------
    RiskyPermission(
        id="RBAC-140", title="Can impersonate users", severity=Severity.CRITICAL,
        description="`impersonate users` acts as any user, including administrators.",
        remediation="Restrict impersonation with resourceNames to the identities really needed.",
        requires=(perms(("impersonate",), ("users",)),), scope=Scope.CLUSTER, references=(_IMPERSONATION,),
        category="impersonation"),
    RiskyPermission(
        id="RBAC-141", title="Can impersonate groups", severity=Severity.CRITICAL,
        description="`impersonate groups` acts as a member of any group, `system:masters` included.",
        remediation="Restrict impersonation with resourceNames; never allow it for system:masters.",
        requires=(perms(("impersonate",), ("groups",)),), scope=Scope.CLUSTER, references=(_IMPERSONATION,),
        category="impersonation"),
    RiskyPermission(
        id="RBAC-142", title="Can impersonate service accounts", severity=Severity.HIGH,
        description="`impersonate serviceaccounts` acts as any ServiceAccount in scope, with its permissions.",
        remediation="Restrict impersonation with resourceNames to the ServiceAccounts really needed.",
        requires=(perms(("impersonate",), ("serviceaccounts",)),), scope=Scope.ANY, references=(_IMPERSONATION,),
        category="impersonation"),
    RiskyPermission(
        id="RBAC-143", title="Can impersonate UIDs or user extras", severity=Severity.LOW,
        description="Impersonating UIDs or extra attributes (scopes, node names) changes how webhooks and "
                    "admission see the caller; combined with user impersonation it forges identities.",
        remediation="Remove impersonation of uids and userextras unless a proxy needs it.",
        requires=(perms(("impersonate",), ("uids",), "authentication.k8s.io")
                  + perms(("impersonate",), ("userextras",), "authentication.k8s.io", subresource="*"),),
        scope=Scope.CLUSTER, references=(_IMPERSONATION,), category="impersonation"),
    # -- RBAC writes ---------------------------------------------------------------------------
    RiskyPermission(
        id="RBAC-150", title="Can bind roles it does not hold", severity=Severity.HIGH,
        description="The `bind` verb on roles/clusterroles lets the subject create bindings to those roles "
                    "without holding their permissions.",
        remediation="Restrict bind with resourceNames to the roles the subject may hand out.",
        requires=(perms(("bind",), ("roles", "clusterroles"), _RBAC, namespaced_check=True),), scope=Scope.ANY,
        references=(_PRIV_ESC,), category="rbac"),
    RiskyPermission(
        id="RBAC-151", title="Can escalate roles", severity=Severity.HIGH,
        description="The `escalate` verb lets the subject write rules into roles beyond its own permissions.",
        remediation="Remove escalate; role authors should hold the permissions they write.",
        requires=(perms(("escalate",), ("roles", "clusterroles"), _RBAC, namespaced_check=True),), scope=Scope.ANY,
        references=(_PRIV_ESC,), category="rbac"),
    RiskyPermission(
        id="RBAC-152", title="Can write roles or cluster roles", severity=Severity.MEDIUM,
        description="Creating or changing roles changes what everyone bound to them can do (limited to the "
                    "writer's own permissions unless it also holds escalate).",
        remediation="Manage roles through reviewed GitOps changes, not standing permissions.",
        requires=(perms(_WRITE, ("roles", "clusterroles"), _RBAC),), scope=Scope.ANY, references=(_PRIV_ESC,),
        category="rbac"),
    RiskyPermission(
        id="RBAC-153", title="Can write role bindings or cluster role bindings", severity=Severity.MEDIUM,
        description="Creating or changing bindings hands the writer's permissions (or any role it may bind) "
                    "to other subjects.",
        remediation="Manage bindings through reviewed GitOps changes, not standing permissions.",
        requires=(perms(_WRITE, ("rolebindings", "clusterrolebindings"), _RBAC),), scope=Scope.ANY,
        references=(_PRIV_ESC,), category="rbac"),
    RiskyPermission(
        id="RBAC-154", title="Can grant itself any cluster role", severity=Severity.CRITICAL,
        description="Creating ClusterRoleBindings together with `bind` on clusterroles lets the subject bind "
                    "cluster-admin to itself.",
        remediation="Remove one of the two; restrict bind with resourceNames.",
        requires=(perms(("create",), ("clusterrolebindings",), _RBAC), perms(("bind",), ("clusterroles",), _RBAC)),
        scope=Scope.CLUSTER, references=(_PRIV_ESC,), category="rbac"),
    RiskyPermission(
        id="RBAC-155", title="Can grant itself any role in a namespace", severity=Severity.HIGH,
        description="Creating RoleBindings together with `bind` on roles or clusterroles lets the subject "
                    "bind admin (or any role) to itself in that namespace.",
        remediation="Remove one of the two; restrict bind with resourceNames.",
        requires=(perms(("create",), ("rolebindings",), _RBAC), perms(("bind",), ("roles", "clusterroles"), _RBAC, namespaced_check=True)),
        scope=Scope.NAMESPACE, references=(_PRIV_ESC,), category="rbac"),
    # -- tokens and certificates -----------------------------------------------------------------
    RiskyPermission(
        id="RBAC-160", title="Can create service-account tokens", severity=Severity.HIGH,
        description="`create serviceaccounts/token` mints a token for any ServiceAccount in scope.",
        remediation="Restrict serviceaccounts/token with resourceNames to the one ServiceAccount needed.",
        requires=(perms(("create",), ("serviceaccounts",), subresource="token"),), scope=Scope.ANY,
        references=(_GOOD_PRACTICES,), category="tokens"),
    RiskyPermission(
        id="RBAC-161", title="Can mint tokens through service-account token Secrets", severity=Severity.HIGH,
        description="Creating a Secret of type kubernetes.io/service-account-token and reading it back yields "
                    "a long-lived token of any ServiceAccount in scope.",
        remediation="Remove create on secrets, or read access to them, in namespaces with powerful "
                    "ServiceAccounts.",
        requires=(perms(("create",), ("secrets",)), perms(("get", "list", "watch"), ("secrets",))),
        scope=Scope.ANY, references=(_GOOD_PRACTICES,), category="tokens"),
    RiskyPermission(
        id="RBAC-170", title="Can issue client certificates for any user", severity=Severity.CRITICAL,
        description="Creating a CSR, approving it (`update certificatesigningrequests/approval`) and `approve` "
                    "on the kubernetes.io/kube-apiserver-client signer mints a client certificate for any user "
                    "or group (system:masters excepted by admission).",
        remediation="Separate CSR creation from approval; restrict approve to specific signers.",
        requires=(
            perms(("create",), ("certificatesigningrequests",), "certificates.k8s.io"),
            perms(("update", "patch"), ("certificatesigningrequests",), "certificates.k8s.io", subresource="approval"),
            perms(("approve",), ("signers",), "certificates.k8s.io", name="kubernetes.io/kube-apiserver-client")
            + perms(("approve",), ("signers",), "certificates.k8s.io", name="kubernetes.io/*"),
        ),
        scope=Scope.CLUSTER, references=(_CSR,), category="tokens"),
    # -- nodes -----------------------------------------------------------------------------------
    RiskyPermission(
        id="RBAC-180", title="Can reach the kubelet API (nodes/proxy)", severity=Severity.CRITICAL,
        description="`get nodes/proxy` is enough to run commands in any pod through the kubelet, bypassing "
                    "audit logs and admission.",
        remediation="Remove nodes/proxy; monitoring can read metrics via nodes/metrics or nodes/stats.",
        requires=(perms(("get", "create"), ("nodes",), subresource="proxy"),), scope=Scope.CLUSTER,
        references=(_GOOD_PRACTICES,), category="nodes"),
    RiskyPermission(
        id="RBAC-181", title="Can write node status", severity=Severity.MEDIUM,
        description="Writing nodes/status forges node conditions, capacity and addresses, steering the "
                    "scheduler and other clients.",
        remediation="Only kubelets (system:nodes, with the NodeRestriction admission) should write node status.",
        requires=(perms(("update", "patch"), ("nodes",), subresource="status"),), scope=Scope.CLUSTER,
        references=(_GOOD_PRACTICES,), category="nodes"),
    RiskyPermission(
        id="RBAC-182", title="Can write pod status", severity=Severity.MEDIUM,
        description="Writing pods/status forges readiness and pod IPs, redirecting Service traffic.",
        remediation="Only kubelets and controllers should write pod status.",
        requires=(perms(("update", "patch"), ("pods",), subresource="status"),), scope=Scope.ANY,
        references=(_GOOD_PRACTICES,), category="nodes"),
    RiskyPermission(
        id="RBAC-183", title="Can evict pods and cordon nodes", severity=Severity.HIGH,
        description="Deleting or evicting pods while cordoning nodes moves workloads onto a node the subject "
                    "controls, where their tokens and secrets can be read.",
        remediation="Keep node maintenance (cordon + drain) to cluster operators.",
        requires=(perms(("delete",), ("pods",)) + perms(("create",), ("pods",), subresource="eviction"),
                  perms(("patch", "update"), ("nodes",))),
        scope=Scope.ANY, references=(_GOOD_PRACTICES,), category="nodes"),
    # -- cluster configuration -------------------------------------------------------------------
    RiskyPermission(
        id="RBAC-190", title="Can write admission webhooks", severity=Severity.CRITICAL,
        description="A mutating or validating webhook configuration receives (and can change or block) "
                    "every matching API request, Secrets included.",
        remediation="Restrict webhook configuration writes to the cluster's own deployment tooling.",
        requires=(perms(_WRITE + ("delete",), ("mutatingwebhookconfigurations",
                                               "validatingwebhookconfigurations"), _ADM),),
        scope=Scope.CLUSTER, references=(_GOOD_PRACTICES,), category="cluster"),
    RiskyPermission(
        id="RBAC-191", title="Can write admission policies", severity=Severity.HIGH,
        description="ValidatingAdmissionPolicies and their bindings decide which requests are refused: "
                    "writing them lifts or adds cluster-wide guardrails.",
        remediation="Restrict admission policy writes to platform administrators.",
        requires=(perms(_WRITE + ("delete",), ("validatingadmissionpolicies", "validatingadmissionpolicybindings",
                                               "mutatingadmissionpolicies", "mutatingadmissionpolicybindings"),
                        _ADM),),
        scope=Scope.CLUSTER, references=(_GOOD_PRACTICES,), category="cluster"),
    RiskyPermission(
        id="RBAC-192", title="Can write CustomResourceDefinitions", severity=Severity.MEDIUM,
        description="Changing CRDs alters or deletes every custom resource of a type and its conversion "
                    "webhooks, which see those objects.",
        remediation="Restrict CRD writes to the cluster's deployment tooling.",
        requires=(perms(_WRITE + ("delete",), ("customresourcedefinitions",), "apiextensions.k8s.io"),),
        scope=Scope.CLUSTER, references=(_GOOD_PRACTICES,), category="cluster"),
    RiskyPermission(
        id="RBAC-193", title="Can create PersistentVolumes", severity=Severity.HIGH,
        description="A hostPath PersistentVolume mounts any directory of a node into a pod.",
        remediation="Let a provisioner create volumes; users should only create PersistentVolumeClaims.",
        requires=(perms(("create",), ("persistentvolumes",)),), scope=Scope.CLUSTER,
        references=(_GOOD_PRACTICES,), category="cluster"),
    RiskyPermission(
        id="RBAC-194", title="Can modify namespaces", severity=Severity.MEDIUM,
        description="Patching a Namespace changes its labels, which lifts its Pod Security level "
                    "(pod-security.kubernetes.io/enforce) and namespace-selected policies.",
        remediation="Keep namespace writes to platform administrators.",
        requires=(perms(("patch", "update"), ("namespaces",)),), scope=Scope.CLUSTER,
        references=(_GOOD_PRACTICES,), category="cluster"),
    RiskyPermission(
        id="RBAC-195", title="Can write the EKS aws-auth ConfigMap", severity=Severity.CRITICAL,
        description="kube-system/aws-auth maps IAM roles to Kubernetes users and groups: writing it can map "
                    "any IAM identity to system:masters.",
        remediation="Move to EKS access entries; restrict kube-system configmap writes.",
        requires=(perms(("update", "patch"), ("configmaps",), name="aws-auth"),), scope="kube-system",
        cluster_holders_reported_elsewhere=False,
        references=("https://docs.aws.amazon.com/eks/latest/userguide/auth-configmap.html",), category="cluster"),
    RiskyPermission(
        id="RBAC-196", title="Can delete any kind of object", severity=Severity.HIGH,
        description="delete or deletecollection on all resources of all API groups destroys workloads, data "
                    "and the policy itself.",
        remediation="List the resources that must be deletable instead of wildcards.",
        requires=(perms(("delete", "deletecollection"), ("*",), "*"),), scope=Scope.ANY,
        references=(_GOOD_PRACTICES,), category="wildcards"),
    RiskyPermission(
        id="RBAC-197", title="Can delete events", severity=Severity.LOW,
        description="Deleting Events hides traces of activity from operators.",
        remediation="Remove delete on events; only the API server's TTL should remove them.",
        requires=(perms(("delete", "deletecollection"), ("events",))
                  + perms(("delete", "deletecollection"), ("events",), "events.k8s.io"),),
        scope=Scope.ANY, references=(_GOOD_PRACTICES,), category="cluster"),
)


# -- the one generic check ------------------------------------------------------------------------
def satisfied(ctx: RuleContext, row: RiskyPermission, namespace: str) -> dict[str, list[list[Holding]]]:
    """Subjects that can do every requirement of ``row`` in ``namespace``, each requirement with the
    alternatives it is allowed (and their grants).

    With ``namespace=""``: cluster-wide (ClusterRoleBindings). With a namespace: only subjects that
    RoleBindings of that namespace grant part of the row, because for everyone else the answer is the
    cluster-wide one.
    """

    def compute() -> dict[str, list[list[Holding]]]:
        if namespace:
            candidates: set[str] = set()
            for alternatives in row.requires:
                for perm in alternatives:
                    candidates.update(ctx.subjects_added_in(perm, namespace))
            if not row.cluster_holders_reported_elsewhere:
                for perm in row.requires[0]:
                    candidates.update(ctx.holders(perm, ""))
        else:
            candidates = set()
            for perm in row.requires[0]:
                candidates.update(ctx.holders(perm, ""))
        result: dict[str, list[list[Holding]]] = {}
        for sid in sorted(candidates):
            held: list[list[Holding]] = []
            for alternatives in row.requires:  # a conjunction: every requirement in the same scope
                found = [h for perm in alternatives if (h := ctx.holding(perm, namespace, sid)) is not None]
                if not found:
                    break
                held.append(found)
            else:
                result[sid] = held
        return result

    return ctx.memo(("satisfied", row.id, namespace), compute)


def _admins(ctx: RuleContext, namespace: str) -> set[str]:
    """Subjects whose every-verb wildcard already makes every other row redundant in this scope."""
    def compute() -> set[str]:
        out = set(satisfied(ctx, ADMIN_EQUIVALENT, ""))
        if namespace:
            out |= set(satisfied(ctx, NAMESPACE_ADMIN, namespace))
        return out

    return ctx.memo(("admins", namespace), compute)


def _scopes(ctx: RuleContext, row: RiskyPermission) -> list[str]:
    """Cluster scope and/or the namespaces where RoleBindings grant some permission of the row (elsewhere a
    namespace sees only what ClusterRoleBindings grant, which the cluster scope already reports)."""
    if row.scope == Scope.CLUSTER:
        return [""]
    if row.scope not in (Scope.NAMESPACE, Scope.ANY):
        return [row.scope]
    granting: set[str] = set()
    for alternatives in row.requires:
        for perm in alternatives:
            granting |= ctx.namespaces_granting(perm)
    namespaces = sorted(granting - set(row.skip_namespaces))
    return namespaces if row.scope == Scope.NAMESPACE else ["", *namespaces]


def held_at(ctx: RuleContext, row: RiskyPermission) -> Iterator[tuple[str, str, list[list[Holding]]]]:
    """(scope namespace, subject id, holdings) for every subject the row finds, each scope reported once."""
    fixed = row.scope not in (Scope.CLUSTER, Scope.NAMESPACE, Scope.ANY)
    skip_cluster = row.scope != Scope.CLUSTER and (row.cluster_holders_reported_elsewhere or not fixed)
    cluster = satisfied(ctx, row, "") if skip_cluster else {}
    for ns in _scopes(ctx, row):
        found = satisfied(ctx, row, ns)
        for sid, holdings in found.items():
            if ns and sid in cluster:
                continue  # held cluster-wide: reported once, at cluster scope (or by the cluster row)
            yield ns, sid, holdings


def _check(row: RiskyPermission, ctx: RuleContext) -> Iterator[Finding]:
    for ns, sid, holdings in held_at(ctx, row):
        if row is not ADMIN_EQUIVALENT and row is not NAMESPACE_ADMIN and sid in _admins(ctx, ns):
            continue
        subject: Subject = holdings[0][0].subject
        evidence: list[Evidence] = []
        for alternatives in holdings:
            for h in alternatives[:3]:
                label = f"{h.perm.describe()} {'in ' + ns if ns else 'cluster-wide'}"
                evidence.extend(ctx.grant_evidence(g, label) for g in h.grants[:3])
        where = f"in namespace {ns}" if ns else "cluster-wide"
        needs = " and ".join(alternatives[0].perm.describe() for alternatives in holdings)
        yield ctx.finding(row, subject=subject, namespace=ns, evidence=evidence,
                          message=f"{subject.kind} {_subject_name(subject)} can {needs} {where}.")


def _subject_name(s: Subject) -> str:
    return f"{s.namespace}/{s.name}" if s.namespace else s.name


def _rule(row: RiskyPermission) -> Rule:
    return Rule(id=row.id, title=row.title, severity=row.severity, description=row.description,
                remediation=row.remediation, references=row.references, category=row.category,
                check=partial(_check, row))


RULES: tuple[Rule, ...] = tuple(_rule(row) for row in RISKY_PERMISSIONS)


def powerful_subjects(ctx: RuleContext, minimum: Severity = Severity.HIGH) -> dict[str, list[tuple[str, str]]]:
    """Subject id → [(row id, scope namespace)] of every catalog row at or above ``minimum`` it holds."""

    def compute() -> dict[str, list[tuple[str, str]]]:
        out: dict[str, list[tuple[str, str]]] = {}
        for row in RISKY_PERMISSIONS:
            if row.severity.rank < minimum.rank:
                continue
            for ns, sid, _ in held_at(ctx, row):
                if row not in (ADMIN_EQUIVALENT, NAMESPACE_ADMIN) and sid in _admins(ctx, ns):
                    continue  # the admin row says it all
                out.setdefault(sid, []).append((row.id, ns))
        return out

    return ctx.memo(("powerful", minimum), compute)
